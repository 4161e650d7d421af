//! Joint time-frequency scattering (Andén, Lostanlen and Mallat, "Joint time-frequency
//! scattering", IEEE TSP 2019), equal to Kymatio's `TimeFrequencyScattering` (main branch,
//! commit 11552ed5) in both output formats, with its backward pass.
//!
//! First order in time is Kymatio's `Scattering1D`: `U1 = |x * psi1|`, `S1 = U1 * phi_T`.
//! The scalogram is then scattered jointly along time and log-frequency (the first-order
//! channel index `n1`, zero-padded to `N_fr`):
//!
//! ```text
//! first order:   | S1  *_n1 psi_fr |            *_n1 phi_F
//! second order:  | U1 *_t psi2 *_n1 psi_fr | *_t phi_T *_n1 phi_F
//! ```
//!
//! with `psi_fr` the frequential filters of [`FrequentialBank`] (a low-pass and Morlet
//! wavelets of both spins; first order keeps spins 0 and `+1`, since `S1` is real). Every
//! convolution is a product in the Fourier domain followed by subsampling (folding the
//! spectrum), at the rates Kymatio uses, so coefficients agree with it to rounding.
//! docs/architecture.md ("Joint time-frequency") gives the subsampling rules.

use crate::common::parallel::Executor;
use crate::common::Averaging;
use crate::error::{invalid, Result};
use crate::time::plan::floor_log2;
use layer::{log2_exact, FirstBuffers, TimeLayer};
use scattering_engine::fourier1d::{Plans, SparseFilter};
use scattering_engine::{Cx, Real};
use scattering_filters::frequential::frequential_lowpass;
use scattering_filters::{FilterBank1d, FrequentialBank};
use serde::Serialize;

mod backward;
mod forward;
pub(crate) mod layer;
mod params;

pub use params::{JointFormat, TimeFrequencyParams};

/// Label of one output channel of a [`TimeFrequencyScattering`].
///
/// In [`JointFormat::Joint`] a channel is a joint path: `(n_fr)` at order 1, `(n2, n_fr)`
/// at order 2, and its rows are log-frequencies `n1 = row * n1_stride`. In
/// [`JointFormat::Time`] a channel is one row of a path (`n1`, `row` set), after the
/// zeroth order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMetaJoint {
    /// Scattering order (0, 1 or 2).
    pub order: usize,
    /// Second-order time wavelet index (order 2).
    pub n2: Option<usize>,
    /// Frequential filter index in [`FrequentialBank::filters`] order (orders 1 and 2).
    pub n_fr: Option<usize>,
    /// `+1` (rising), `-1` (falling), 0 (the frequential low-pass, and order 0).
    pub spin: i8,
    /// Kymatio's label of the row: `row * n1_stride` (time format).
    pub n1: Option<usize>,
    /// The row of the joint path this channel is (time format).
    pub row: Option<usize>,
    /// The first-order channel the row is centred on, `row * 2^(log-frequency
    /// subsampling)`: it differs from `n1` only in Kymatio's spin-0 quirk (`F < 2^J_fr`).
    pub n1_sampled: Option<usize>,
    /// The joint channel the row comes from (time format).
    pub joint_channel: Option<usize>,
    /// Number of first-order channels the path sees (`j1 < j2` at order 2).
    pub n1_max: Option<usize>,
    /// Spacing, in first-order channels, of the path's rows as Kymatio labels them.
    pub n1_stride: Option<usize>,
    /// Centre frequency, bandwidth and scale of the first-order wavelet at `n1` (time
    /// format, when `n1` is a wavelet and not zero padding).
    pub xi1: Option<f64>,
    /// See `xi1`.
    pub sigma1: Option<f64>,
    /// See `xi1`.
    pub j1: Option<usize>,
    /// Centre frequency, bandwidth and scale of the second-order wavelet (order 2).
    pub xi2: Option<f64>,
    /// See `xi2`.
    pub sigma2: Option<f64>,
    /// See `xi2`.
    pub j2: Option<usize>,
    /// Centre frequency (signed), bandwidth and scale of the frequential filter.
    pub xi_fr: Option<f64>,
    /// See `xi_fr`.
    pub sigma_fr: Option<f64>,
    /// See `xi_fr`.
    pub j_fr: Option<usize>,
}

/// A frequential filter: spectrum on the `N_fr` axis, the subsampling after it.
struct FrFilter<T> {
    h: SparseFilter<T>,
    /// The filter-and-fold of one row, with the inverse FFT's `1 / N_fr`.
    fold: FoldMap<T>,
    spin: i8,
    k_fr: usize,
}

/// Filtering a short spectrum and folding it by `2^k`, as a list of the bins that matter:
/// frequential rows are short (tens to hundreds of bins) and many (one per time sample),
/// so a flat loop beats [`SparseFilter::fold`]'s run bookkeeping.
struct FoldMap<T> {
    /// `(source bin, destination bin, weight)`.
    entries: Vec<(u32, u32, T)>,
}

impl<T: Real> FoldMap<T> {
    fn new(h: &[f64], m_out: usize, scale: f64) -> Self {
        let peak = h.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let entries = h
            .iter()
            .enumerate()
            .filter(|(_, v)| v.abs() > peak * 1e-14)
            .map(|(i, &v)| (i as u32, (i % m_out) as u32, T::of(v * scale)))
            .collect();
        Self { entries }
    }

    /// `dst[i] = sum_f src[i + f m] h[i + f m] scale`.
    fn apply(&self, src: &[Cx<T>], dst: &mut [Cx<T>]) {
        dst.iter_mut()
            .for_each(|c| *c = Cx::new(T::zero(), T::zero()));
        for &(s, d, w) in &self.entries {
            dst[d as usize] += src[s as usize] * w;
        }
    }
}

/// One joint path (a channel of the joint format).
#[derive(Debug, Clone)]
struct Path {
    /// `None` at order 1, the index into `groups` at order 2.
    group: Option<usize>,
    n_fr: usize,
    n1_max: usize,
    n1_stride: usize,
    /// Log-frequency rows of the output (after frequential averaging).
    rows: usize,
    /// Offset of its `rows x t_out` block in the per-sample path buffer.
    offset: usize,
}

/// The second-order paths of one `psi2`: the `n1` with `j1 < j2` (a prefix).
#[derive(Debug, Clone)]
struct Group {
    n2: usize,
    n1_max: usize,
    /// Indices into `paths`.
    paths: std::ops::Range<usize>,
}

/// Joint time-frequency scattering, built once for a signal length and applied to
/// batches. Input `(B, N)`; output `(B, channels, rows, time)` ([`JointFormat::Joint`]) or
/// `(B, channels, time)` ([`JointFormat::Time`]).
///
/// ```
/// use ndarray::Array2;
/// use scattering_transform::{Transform, TimeFrequencyParams};
/// let s = TimeFrequencyParams::new(1024, 5, 2).q((8, 2)).build()?;
/// let x = Array2::from_shape_fn((2, 1024), |(b, t)| ((t * t) as f64 * 1e-4 * (b + 1) as f64).sin());
/// let sx = s.forward(x.view())?;
/// assert_eq!(sx.shape()[1], s.meta().len());
/// // The gradient of <S x, g> for g = S x.
/// let g = s.backward(x.view(), sx.view())?;
/// assert_eq!(g.shape(), &[2, 1024]);
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
pub struct TimeFrequencyScattering<T: Real = f64> {
    params: TimeFrequencyParams,
    layer: TimeLayer<T>,
    fr_bank: FrequentialBank,
    s_fr: usize,
    n_fr: usize,
    fr: Vec<FrFilter<T>>,
    /// Frequential averaging low-pass at levels `0..` (sum of folds).
    phi_f: Vec<SparseFilter<T>>,
    paths: Vec<Path>,
    groups: Vec<Group>,
    /// Per output channel: `(path, row)`, `row = None` for a whole joint path; the zeroth
    /// order is `None`.
    channels: Vec<Option<(usize, Option<usize>)>>,
    path_len: usize,
    meta: Vec<PathMetaJoint>,
    plans_fr: Plans<T>,
    exec: Executor,
}

impl<T: Real> TimeFrequencyScattering<T> {
    fn new(params: TimeFrequencyParams) -> Result<Self> {
        let (j, j_fr) = (params.j, params.j_fr);
        if j_fr == 0 || j_fr > 12 {
            return Err(invalid("J_fr", format!("must be in 1..=12, got {j_fr}")));
        }
        let layer = TimeLayer::new(
            params.n,
            j,
            params.q,
            params.t,
            params.stride,
            params.average,
            "joint scattering (Kymatio's T = 0 gives no array output)",
        )?;
        let bank = &layer.bank;

        // Log-frequency axis.
        let n_in_fr = (j + 1) * params.q.0;
        let f = match params.average_fr {
            Averaging::Local => params.f.unwrap_or(1 << j_fr),
            Averaging::Global | Averaging::None => 1 << j_fr,
        };
        if f == 0 || f > n_in_fr {
            return Err(invalid(
                "F",
                format!("must be in 1..=(J + 1) Q1 = {n_in_fr}, got {f}"),
            ));
        }
        let log2_f = floor_log2(f);
        let s_fr = match params.stride_fr {
            Some(v) => log2_exact("stride_fr", v)?,
            None => log2_f,
        };
        let unit = 1usize << j_fr;
        let n_fr = (n_in_fr + 8 * f.min(unit)) / unit * unit;
        if n_fr < bank.psi1.len() {
            return Err(invalid(
                "Q",
                format!(
                    "{} first-order wavelets do not fit the log-frequency axis of {n_fr}",
                    bank.psi1.len()
                ),
            ));
        }
        if !n_fr.is_multiple_of(1 << s_fr) {
            return Err(invalid(
                "stride_fr",
                format!("2^{s_fr} does not divide the log-frequency axis of {n_fr} channels"),
            ));
        }
        let fr_bank = FrequentialBank::new(n_fr, j_fr, params.q_fr)?;
        let k_fr_of = |jf: usize| match params.average_fr {
            Averaging::Local => jf.min(s_fr),
            _ => jf,
        };
        let max_level_fr = fr_bank
            .filters
            .iter()
            .map(|f| k_fr_of(f.j))
            .max()
            .unwrap_or(0)
            .max(s_fr);
        let phi_f_filter = frequential_lowpass(n_fr, f, max_level_fr)?;

        let mut groups: Vec<Group> = layer
            .psi2
            .iter()
            .enumerate()
            .filter(|(_, p)| p.n1_max > 0)
            .map(|(n2, p)| Group {
                n2,
                n1_max: p.n1_max,
                paths: 0..0,
            })
            .collect();
        let t_out = layer.t_out;

        // Frequential filters and the rows each path keeps.
        let fr: Vec<FrFilter<T>> = fr_bank
            .filters
            .iter()
            .map(|f| FrFilter {
                h: SparseFilter::of(&f.h),
                fold: FoldMap::new(&f.h, n_fr >> k_fr_of(f.j), 1.0 / n_fr as f64),
                spin: f.spin,
                k_fr: k_fr_of(f.j),
            })
            .collect();
        let rows_of = |f: &FrFilter<T>| -> usize {
            if f.spin == 0 {
                return n_fr >> f.k_fr;
            }
            match params.average_fr {
                Averaging::Local => n_fr >> s_fr,
                Averaging::Global => 1,
                Averaging::None => n_fr >> f.k_fr,
            }
        };
        let stride_of = |f: &FrFilter<T>, jf: usize, n1_max: usize| -> usize {
            if f.spin == 0 {
                return 1 << jf;
            }
            match params.average_fr {
                Averaging::Local => 1 << s_fr,
                Averaging::Global => n1_max,
                Averaging::None => 1 << jf,
            }
        };
        let mut paths: Vec<Path> = Vec::new();
        let mut offset = 0;
        let mut push =
            |paths: &mut Vec<Path>, group: Option<usize>, n_fr_i: usize, n1_max: usize| {
                let f = &fr[n_fr_i];
                let rows = rows_of(f);
                paths.push(Path {
                    group,
                    n_fr: n_fr_i,
                    n1_max,
                    n1_stride: stride_of(f, fr_bank.filters[n_fr_i].j, n1_max),
                    rows,
                    offset,
                });
                offset += rows * t_out;
            };
        let n_psi1 = layer.psi1.len();
        for (i, f) in fr.iter().enumerate() {
            if f.spin >= 0 {
                push(&mut paths, None, i, n_psi1);
            }
        }
        for (g, group) in groups.iter_mut().enumerate() {
            let start = paths.len();
            for i in 0..fr.len() {
                push(&mut paths, Some(g), i, group.n1_max);
            }
            group.paths = start..paths.len();
        }
        let path_len = offset;

        // Output channels.
        let mut channels = Vec::new();
        match params.format {
            JointFormat::Joint => {
                if params.average_fr == Averaging::None {
                    return Err(invalid(
                        "F",
                        "the joint format needs frequential averaging (Kymatio refuses F = 0 \
                         with format='joint')",
                    ));
                }
                let rows = paths[0].rows;
                if paths.iter().any(|p| p.rows != rows) {
                    return Err(invalid(
                        "F",
                        format!(
                            "the joint format needs every path to keep the same number of \
                             log-frequency rows: use local averaging with F <= 2^J_fr = {unit} \
                             and stride_fr <= 2^J_fr, or the time format"
                        ),
                    ));
                }
                channels.extend((0..paths.len()).map(|p| Some((p, None))));
            }
            JointFormat::Time => {
                channels.push(None);
                for (p, path) in paths.iter().enumerate() {
                    let count = path.n1_max.div_ceil(path.n1_stride);
                    if count > path.rows {
                        return Err(invalid(
                            "F",
                            format!(
                                "a path keeps {} log-frequency rows but its labels ask for {count}",
                                path.rows
                            ),
                        ));
                    }
                    channels.extend((0..count).map(|r| Some((p, Some(r)))));
                }
            }
        }
        let mut s_plan = Self {
            plans_fr: Plans::new(n_fr, max_level_fr),
            phi_f: phi_f_filter
                .levels
                .iter()
                .map(|h| SparseFilter::of(h))
                .collect(),
            params,
            layer,
            fr_bank,
            s_fr,
            n_fr,
            fr,
            paths,
            groups,
            channels,
            path_len,
            meta: Vec::new(),
            exec: Executor::new(crate::Parallelism::Global)?,
        };
        if s_plan.phi_f.len() <= max_level_fr {
            return Err(invalid(
                "F",
                format!(
                    "the log-frequency axis of {n_fr} cannot be subsampled by 2^{max_level_fr}"
                ),
            ));
        }
        s_plan.meta = s_plan.labels();
        Ok(s_plan)
    }

    /// Labels of the output channels.
    fn labels(&self) -> Vec<PathMetaJoint> {
        let b = &self.layer.bank;
        self.channels
            .iter()
            .map(|ch| {
                let mut m = PathMetaJoint {
                    order: 0,
                    n2: None,
                    n_fr: None,
                    spin: 0,
                    n1: None,
                    row: None,
                    n1_sampled: None,
                    joint_channel: None,
                    n1_max: None,
                    n1_stride: None,
                    xi1: None,
                    sigma1: None,
                    j1: None,
                    xi2: None,
                    sigma2: None,
                    j2: None,
                    xi_fr: None,
                    sigma_fr: None,
                    j_fr: None,
                };
                let Some((p, row)) = *ch else {
                    return m;
                };
                let path = &self.paths[p];
                let f = &self.fr_bank.filters[path.n_fr];
                m.order = if path.group.is_some() { 2 } else { 1 };
                m.n_fr = Some(path.n_fr);
                m.spin = f.spin;
                m.xi_fr = Some(f.xi);
                m.sigma_fr = Some(f.sigma);
                m.j_fr = Some(f.j);
                m.n1_max = Some(path.n1_max);
                m.n1_stride = Some(path.n1_stride);
                if let Some(g) = path.group {
                    let n2 = self.groups[g].n2;
                    m.n2 = Some(n2);
                    m.xi2 = Some(b.psi2[n2].xi);
                    m.sigma2 = Some(b.psi2[n2].sigma);
                    m.j2 = Some(b.psi2[n2].j);
                }
                if let Some(r) = row {
                    let n1 = r * path.n1_stride;
                    let sub = self.n_fr / path.rows.max(1);
                    m.row = Some(r);
                    m.n1 = Some(n1);
                    m.n1_sampled = Some(r * sub);
                    m.joint_channel = Some(p);
                    if let Some(p1) = b.psi1.get(n1) {
                        m.xi1 = Some(p1.xi);
                        m.sigma1 = Some(p1.sigma);
                        m.j1 = Some(p1.j);
                    }
                }
                m
            })
            .collect()
    }

    /// The parameters.
    pub fn params(&self) -> &TimeFrequencyParams {
        &self.params
    }
    /// One label per output channel, in output order.
    pub fn meta(&self) -> &[PathMetaJoint] {
        &self.meta
    }
    /// Per-sample output shape: `[channels, rows, time]` (joint) or `[channels, time]`.
    pub fn output_shape(&self) -> Vec<usize> {
        match self.params.format {
            JointFormat::Joint => vec![self.channels.len(), self.paths[0].rows, self.layer.t_out],
            JointFormat::Time => vec![self.channels.len(), self.layer.t_out],
        }
    }
    /// The time filter bank (at the padded length).
    pub fn bank(&self) -> &FilterBank1d {
        &self.layer.bank
    }
    /// The frequential filter bank (at the log-frequency length `N_fr`).
    pub fn frequential_bank(&self) -> &FrequentialBank {
        &self.fr_bank
    }
    /// The padded time length and the left padding.
    pub fn padding(&self) -> (usize, usize) {
        (self.layer.n_pad, self.layer.pad_left)
    }
    /// Length of the zero-padded log-frequency axis.
    pub fn n_fr(&self) -> usize {
        self.n_fr
    }

    /// Bytes of the buffers one thread holds while transforming a sample (forward pass;
    /// the backward pass holds about twice as much), to check a job's memory beforehand.
    pub fn workspace_bytes(&self) -> usize {
        let t_max = self.layer.t_max();
        let u1: usize = self
            .layer
            .psi1
            .iter()
            .map(|p| self.layer.n_pad >> p.k1)
            .sum();
        let reals = 2 * self.layer.n_pad                      // x (complex)
            + 4 * u1                                    // z1, u1h (complex)
            + self.layer.t_out + self.path_len                // s0, path blocks
            + 6 * t_max * self.n_fr                     // stack, y (complex), u, w
            + 4 * self.layer.n_pad.max(self.n_fr); // line buffers
        reals * std::mem::size_of::<T>()
    }

    fn sample_dims(&self) -> Vec<usize> {
        vec![self.params.n]
    }
    fn coefficient_dims(&self) -> Vec<usize> {
        self.output_shape()
    }
}

/// Buffers of one sample.
struct Workspace<T> {
    /// Padded signal, then its spectrum (level 0).
    x: Vec<Cx<T>>,
    /// `z1[n1]`: `x * psi1` at level `k1` (time domain).
    z1: Vec<Vec<Cx<T>>>,
    /// `u1h[n1]`: spectrum of `U1 = |z1|`.
    u1h: Vec<Vec<Cx<T>>>,
    /// The zeroth order (time format).
    s0: Vec<T>,
    /// Every path's `rows x t_out` coefficients (or their gradient).
    paths: Vec<T>,
    /// Backward only: the gradient of `u1h`, and of one `U1`.
    gu1h: Vec<Vec<Cx<T>>>,
    gu1: Vec<T>,
    lines: Lines<T>,
}

/// Buffers of one group of joint paths.
struct Lines<T> {
    /// Stack over `n1` along the log-frequency axis, time-major `(t, N_fr)`, then its
    /// spectrum along `n1`.
    stack: Vec<Cx<T>>,
    /// Frequential filter outputs `(t, rows)` (complex), their modulus, the time average.
    y: Vec<Cx<T>>,
    u: Vec<T>,
    w: Vec<T>,
    /// Line buffers for the time and frequency low-passes.
    line: Vec<Cx<T>>,
    line2: Vec<Cx<T>>,
    rline: Vec<T>,
    scratch: Vec<Cx<T>>,
    /// Backward only (empty in the forward pass): the gradient of the stack's spectrum,
    /// of the time-averaged and of the modulus coefficients.
    gstack: Vec<Cx<T>>,
    gw: Vec<T>,
    gu: Vec<T>,
}

impl<T: Real> TimeFrequencyScattering<T> {
    fn lines(&self, backward: bool) -> Lines<T> {
        let z = Cx::new(T::zero(), T::zero());
        // The longest time axis a stack holds: first order at level s, second order at
        // level j2.
        let t_max = self.layer.t_max();
        let len = t_max * self.n_fr;
        Lines {
            stack: vec![z; len],
            y: vec![z; len],
            // Rows padded by `forward::row_stride`.
            u: vec![T::zero(); len + 8 * self.n_fr],
            w: vec![T::zero(); len],
            line: vec![z; self.layer.n_pad.max(self.n_fr)],
            line2: vec![z; self.layer.n_pad.max(self.n_fr)],
            rline: vec![T::zero(); self.layer.n_pad],
            scratch: vec![z; self.layer.plans.scratch_len.max(self.plans_fr.scratch_len)],
            gstack: if backward { vec![z; len] } else { Vec::new() },
            gw: if backward {
                vec![T::zero(); len]
            } else {
                Vec::new()
            },
            gu: if backward {
                vec![T::zero(); len]
            } else {
                Vec::new()
            },
        }
    }

    fn workspace(&self, backward: bool) -> Workspace<T> {
        let FirstBuffers {
            x,
            z1,
            u1h,
            gu1h,
            gu1,
        } = self.layer.buffers(backward);
        Workspace {
            x,
            z1,
            u1h,
            s0: vec![T::zero(); self.layer.t_out],
            paths: vec![T::zero(); self.path_len],
            gu1h,
            gu1,
            lines: self.lines(backward),
        }
    }
}

crate::common::transform::transform_impl!(TimeFrequencyScattering, PathMetaJoint, Ix2, IxDyn);
