//! Spiral scattering (Lostanlen and Mallat, "Wavelet scattering on the pitch spiral",
//! DAFx 2015), with its backward pass.
//!
//! First order is time scattering (`S0`, `S1` as [`crate::Scattering1d`] computes them on
//! Kymatio's filters). The first-order channels of the geometric (constant-Q) part of the
//! bank are rolled on the pitch spiral: channel `n1` sits at octave `n1 / Q1` and chroma
//! `n1 % Q1`. Second order filters `U1 * psi2` (complex, one grid per time sample) with
//! separable wavelets along chroma (periodic, `Q1` bins: one turn of the spiral) and along
//! octave (zero-padded), takes the modulus, averages it over the spiral and in time:
//!
//! ```text
//! S2[n2, a, b](t) = mean over (chroma, octave) of | U1 *_t psi2[n2] *_chroma h_a *_octave h_b | *_t phi_T
//! ```
//!
//! `h_a` and `h_b` run over [`FrequentialBank`]'s filters: the low-pass and Morlet
//! wavelets of both spins. Averaging over the whole spiral makes the coefficients
//! invariant to transposition; what remains is how the scalogram moves along chroma
//! (pitch, within the octave) and along octaves (the spectral envelope), jointly with
//! time. A Shepard tone, whose partials lie an octave apart, is constant along octaves
//! and has no energy on the octave wavelets; a Shepard-Risset glissando moves along chroma
//! at a fixed rate, which the pairs `(psi2, h_a)` pick up at `xi2 = speed x xi_a`.

use crate::common::parallel::Executor;
use crate::common::Averaging;
use crate::error::{invalid, Result};
use crate::joint::layer::{FirstBuffers, TimeLayer};
use scattering_engine::fourier1d::Plans;
use scattering_engine::{Cx, Real};
use scattering_filters::{FilterBank1d, FrequentialBank};
use serde::Serialize;

mod backward;
mod forward;

/// Label of one output channel of a [`SpiralScattering`]. Channels: order 0; order 1 time
/// scattering (`n1` set); order 1 spiral paths (`chroma`, `octave` set); order 2 by `n2`,
/// then chroma filter, then octave filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMetaSpiral {
    /// Scattering order (0, 1 or 2).
    pub order: usize,
    /// First-order wavelet (order 1).
    pub n1: Option<usize>,
    /// Second-order time wavelet (order 2).
    pub n2: Option<usize>,
    /// Chroma filter, index into [`SpiralScattering::chroma_bank`] (order 2).
    pub chroma: Option<usize>,
    /// Octave filter, index into [`SpiralScattering::octave_bank`] (order 2).
    pub octave: Option<usize>,
    /// Spins of the chroma and octave filters (`+1`, `-1`, 0 for a low-pass).
    pub spin_chroma: i8,
    /// See `spin_chroma`.
    pub spin_octave: i8,
    /// Centre frequency of the time wavelet, cycles per sample (`xi1` at order 1, `xi2`
    /// at order 2).
    pub xi: Option<f64>,
    /// Centre frequency of the chroma filter in cycles per octave (signed).
    pub xi_chroma: Option<f64>,
    /// Centre frequency of the octave filter in cycles per octave (signed).
    pub xi_octave: Option<f64>,
}

/// Parameters of a [`SpiralScattering`], set with builder methods and checked by `build`.
///
/// ```
/// use scattering_transform::SpiralParams;
/// let s = SpiralParams::new(4096, 8).q((12, 1)).build()?;
/// assert_eq!(s.chroma_bank().n, 12);
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpiralParams {
    /// Signal length.
    pub n: usize,
    /// Largest time scale `2^J`.
    pub j: usize,
    /// Wavelets per octave `(Q1, Q2)`; `Q1` is the number of chroma bins, at least 4.
    pub q: (usize, usize),
    /// Scales of the chroma wavelets (`2^J_chroma <= Q1`).
    pub j_chroma: usize,
    /// Scales of the octave wavelets.
    pub j_octave: usize,
    /// Width of the time averaging (`None`: `2^J`).
    pub t: Option<usize>,
    /// Time subsampling, a power of two (`None`: `2^floor(log2 T)`).
    pub stride: Option<usize>,
    /// Time averaging: `Local` or `Global`.
    pub average: Averaging,
}

impl SpiralParams {
    /// Defaults: `Q = (12, 1)`, `J_chroma = 2`, `J_octave = 2`, `T = 2^J`, local averaging.
    pub fn new(n: usize, j: usize) -> Self {
        Self {
            n,
            j,
            q: (12, 1),
            j_chroma: 2,
            j_octave: 2,
            t: None,
            stride: None,
            average: Averaging::Local,
        }
    }
    /// Wavelets per octave `(Q1, Q2)`.
    pub fn q(mut self, q: (usize, usize)) -> Self {
        self.q = q;
        self
    }
    /// Scales of the chroma wavelets.
    pub fn j_chroma(mut self, v: usize) -> Self {
        self.j_chroma = v;
        self
    }
    /// Scales of the octave wavelets.
    pub fn j_octave(mut self, v: usize) -> Self {
        self.j_octave = v;
        self
    }
    /// Width of the time averaging.
    pub fn t(mut self, t: usize) -> Self {
        self.t = Some(t);
        self
    }
    /// Time subsampling.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = Some(s);
        self
    }
    /// Time averaging mode.
    pub fn average(mut self, a: Averaging) -> Self {
        self.average = a;
        self
    }
    /// The transform in `f64`.
    pub fn build(self) -> Result<SpiralScattering<f64>> {
        SpiralScattering::new(self)
    }
    /// The transform in `f32`.
    pub fn build_f32(self) -> Result<SpiralScattering<f32>> {
        SpiralScattering::new(self)
    }
}

/// Spiral scattering, built once for a signal length and applied to batches. Input
/// `(B, N)`, output `(B, channels, time)`.
///
/// ```
/// use ndarray::Array2;
/// use scattering_transform::{SpiralParams, Transform};
/// let s = SpiralParams::new(2048, 6).q((8, 1)).build()?;
/// let x = Array2::from_shape_fn((1, 2048), |(_, t)| (t as f64 * 0.05).sin());
/// let sx = s.forward(x.view())?;
/// assert_eq!(sx.shape()[1], s.meta().len());
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
pub struct SpiralScattering<T: Real = f64> {
    params: SpiralParams,
    layer: TimeLayer<T>,
    chroma: FrequentialBank,
    octave: FrequentialBank,
    /// Octaves on the spiral, and the padded octave axis: octave `o` sits at
    /// `oct_left + o`, the rest mirrors it (`oct_src[position]` is the octave shown).
    n_oct: usize,
    n_oct_pad: usize,
    oct_left: usize,
    oct_src: Vec<usize>,
    /// Channels on the spiral (the whole octaves of the constant-Q part of the bank).
    n_geo: usize,
    /// Chroma filters `h_a / Q1` and octave filters `h_b / N_oct` (each with its inverse
    /// FFT's scale). A pair `(a, b)` is channel `a * n_octave_filters + b`.
    hc: Vec<Vec<T>>,
    ho: Vec<Vec<T>>,
    /// `psi2` indices with at least one spiral channel below them, and how many.
    groups: Vec<(usize, usize)>,
    meta: Vec<PathMetaSpiral>,
    plans_c: Plans<T>,
    plans_o: Plans<T>,
    exec: Executor,
}

impl<T: Real> SpiralScattering<T> {
    fn new(params: SpiralParams) -> Result<Self> {
        let q1 = params.q.0;
        if !(4..=64).contains(&q1) {
            return Err(invalid(
                "Q",
                format!("Q1 is the number of chroma bins: 4..=64, got {q1}"),
            ));
        }
        if params.j_chroma == 0 || (1usize << params.j_chroma.min(12)) > q1 {
            return Err(invalid(
                "J_chroma",
                format!(
                    "must be in 1..=log2(Q1) = {}, got {}",
                    usize::BITS - 1 - q1.leading_zeros(),
                    params.j_chroma
                ),
            ));
        }
        if params.j_octave == 0 || params.j_octave > 6 {
            return Err(invalid(
                "J_octave",
                format!("must be in 1..=6, got {}", params.j_octave),
            ));
        }
        let layer = TimeLayer::new(
            params.n,
            params.j,
            params.q,
            params.t,
            params.stride,
            params.average,
            "spiral scattering",
        )?;
        let bank = &layer.bank;
        // The arithmetic tail of Andén's layout has the smallest bandwidth exactly; the
        // geometric part, which the spiral rolls up, lies above it.
        let sigma_min = bank.params.sigma0 / (1u64 << params.j) as f64;
        let n_geo = bank
            .psi1
            .iter()
            .take_while(|p| p.sigma > sigma_min * (1.0 + 1e-9))
            .count();
        if n_geo < q1 {
            return Err(invalid(
                "J",
                format!("the bank spans less than one octave ({n_geo} constant-Q channels)"),
            ));
        }
        // Whole octaves only: the octave axis is extended by reflection, which needs every
        // octave complete.
        let n_oct = n_geo / q1;
        let n_geo = n_oct * q1;
        let n_oct_pad = (n_oct + (4usize << params.j_octave)).next_power_of_two();
        let oct_left = (n_oct_pad - n_oct) / 2;
        let oct_src = (0..n_oct_pad)
            .map(|o| crate::common::padding::reflect_index(o, oct_left, n_oct))
            .collect();
        let chroma = FrequentialBank::new(q1, params.j_chroma, 1)?;
        let octave = FrequentialBank::new(n_oct_pad, params.j_octave, 1)?;
        let cast = |h: &[f64], scale: f64| h.iter().map(|&v| T::of(v * scale)).collect();
        let hc = chroma
            .filters
            .iter()
            .map(|f| cast(&f.h, 1.0 / q1 as f64))
            .collect();
        let ho = octave
            .filters
            .iter()
            .map(|f| cast(&f.h, 1.0 / n_oct_pad as f64))
            .collect();
        let mut meta = vec![PathMetaSpiral {
            order: 0,
            n1: None,
            n2: None,
            chroma: None,
            octave: None,
            spin_chroma: 0,
            spin_octave: 0,
            xi: None,
            xi_chroma: None,
            xi_octave: None,
        }];
        for (n1, p) in bank.psi1.iter().enumerate() {
            meta.push(PathMetaSpiral {
                order: 1,
                n1: Some(n1),
                xi: Some(p.xi),
                ..meta[0].clone()
            });
        }
        for (ia, a) in chroma.filters.iter().enumerate() {
            for (ib, b) in octave.filters.iter().enumerate() {
                meta.push(PathMetaSpiral {
                    order: 1,
                    chroma: Some(ia),
                    octave: Some(ib),
                    spin_chroma: a.spin,
                    spin_octave: b.spin,
                    xi_chroma: Some(a.xi * q1 as f64),
                    xi_octave: Some(b.xi),
                    ..meta[0].clone()
                });
            }
        }
        let groups: Vec<(usize, usize)> = layer
            .psi2
            .iter()
            .enumerate()
            .map(|(n2, p)| (n2, p.n1_max.min(n_geo)))
            .filter(|&(_, m)| m > 0)
            .collect();
        for &(n2, _) in &groups {
            for (ia, a) in chroma.filters.iter().enumerate() {
                for (ib, b) in octave.filters.iter().enumerate() {
                    meta.push(PathMetaSpiral {
                        order: 2,
                        n1: None,
                        n2: Some(n2),
                        chroma: Some(ia),
                        octave: Some(ib),
                        spin_chroma: a.spin,
                        spin_octave: b.spin,
                        xi: Some(bank.psi2[n2].xi),
                        // Chroma bins are 1/Q1 octave apart, octave bins one octave.
                        xi_chroma: Some(a.xi * q1 as f64),
                        xi_octave: Some(b.xi),
                    });
                }
            }
        }
        Ok(Self {
            plans_c: Plans::new(q1, 0),
            plans_o: Plans::new(n_oct_pad, 0),
            params,
            layer,
            chroma,
            octave,
            n_oct,
            n_oct_pad,
            oct_left,
            oct_src,
            n_geo,
            hc,
            ho,
            groups,
            meta,
            exec: Executor::new(crate::Parallelism::Global)?,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &SpiralParams {
        &self.params
    }
    /// One label per output channel, in output order.
    pub fn meta(&self) -> &[PathMetaSpiral] {
        &self.meta
    }
    /// Per-sample output shape `[channels, time]`.
    pub fn output_shape(&self) -> Vec<usize> {
        vec![self.meta.len(), self.layer.t_out]
    }
    /// The time filter bank (at the padded length).
    pub fn bank(&self) -> &FilterBank1d {
        &self.layer.bank
    }
    /// The chroma filters (periodic axis of `Q1` bins).
    pub fn chroma_bank(&self) -> &FrequentialBank {
        &self.chroma
    }
    /// The octave filters (zero-padded axis).
    pub fn octave_bank(&self) -> &FrequentialBank {
        &self.octave
    }
    /// Octaves the spiral spans and the number of first-order channels on it.
    pub fn spiral_size(&self) -> (usize, usize) {
        (self.n_oct, self.n_geo)
    }
    /// Input samples between output frames.
    pub fn stride(&self) -> usize {
        1 << self.layer.s
    }

    /// Bytes of the buffers one thread holds while transforming a sample (forward pass;
    /// the backward pass holds about twice as much), to check a job's memory beforehand.
    pub fn workspace_bytes(&self) -> usize {
        let level = |k: usize| self.layer.n_pad >> k;
        let t_max = self.layer.t_max();
        let u1: usize = self.layer.psi1.iter().map(|p| level(p.k1)).sum();
        let reals = 2 * self.layer.n_pad                // x (complex)
            + 4 * u1                                    // z1, u1h (complex)
            + 2 * t_max * self.grid_len()               // the grids (complex)
            + t_max * self.n_pairs()                    // spiral means
            + self.meta.len() * self.layer.t_out        // coefficients
            + 6 * self.layer.n_pad; // line buffers
        reals * std::mem::size_of::<T>()
    }

    fn sample_dims(&self) -> Vec<usize> {
        vec![self.params.n]
    }
    fn coefficient_dims(&self) -> Vec<usize> {
        self.output_shape()
    }

    /// Number of (chroma filter, octave filter) pairs.
    fn n_pairs(&self) -> usize {
        self.hc.len() * self.ho.len()
    }

    /// Grid points `(chroma, octave)`.
    fn grid_len(&self) -> usize {
        self.params.q.0 * self.n_oct_pad
    }

    fn workspace(&self, backward: bool) -> Workspace<T> {
        let z = Cx::new(T::zero(), T::zero());
        let FirstBuffers {
            x,
            z1,
            u1h,
            gu1h,
            gu1,
        } = self.layer.buffers(backward);
        let t_max = self.layer.t_max();
        let per_path = |v: Vec<Cx<T>>| if backward { v } else { Vec::new() };
        Workspace {
            x,
            z1,
            u1h,
            gu1h,
            gu1,
            grid: vec![z; t_max * self.grid_len()],
            ggrid: per_path(vec![z; t_max * self.grid_len()]),
            zt: vec![z; self.ho.len() * self.n_oct * self.params.q.0],
            gzt: vec![z; self.ho.len() * self.n_oct * self.params.q.0],
            cell: vec![z; self.n_oct * self.params.q.0],
            gcell: vec![z; self.n_oct * self.params.q.0],
            gu: vec![T::zero(); self.n_oct * self.params.q.0],
            v: vec![T::zero(); t_max * self.n_pairs()],
            out: vec![T::zero(); self.meta.len() * self.layer.t_out],
            line: vec![z; self.layer.n_pad],
            line2: vec![z; self.layer.n_pad],
            rline: vec![T::zero(); self.layer.n_pad],
            rline2: vec![T::zero(); self.layer.n_pad],
            scratch: vec![
                z;
                self.layer
                    .plans
                    .scratch_len
                    .max(self.plans_c.scratch_len)
                    .max(self.plans_o.scratch_len)
            ],
        }
    }
}

/// Buffers of one sample.
struct Workspace<T> {
    x: Vec<Cx<T>>,
    z1: Vec<Vec<Cx<T>>>,
    u1h: Vec<Vec<Cx<T>>>,
    gu1h: Vec<Vec<Cx<T>>>,
    gu1: Vec<T>,
    /// The spiral grids of one `psi2`, `(t, chroma, octave)`, then their 2D spectra.
    grid: Vec<Cx<T>>,
    /// Backward: the gradient of the grid spectra.
    ggrid: Vec<Cx<T>>,
    /// One time's grid filtered along octave by each octave filter, on the spiral's
    /// octaves, `(b, octave, chroma frequency)`, and (backward) its gradient.
    zt: Vec<Cx<T>>,
    gzt: Vec<Cx<T>>,
    /// One pair's output on the spiral `(octave, chroma)`, and (backward) the gradient of
    /// its modulus.
    cell: Vec<Cx<T>>,
    gcell: Vec<Cx<T>>,
    gu: Vec<T>,
    /// Spiral means `(pair, t)` of one `psi2`, or their gradient.
    v: Vec<T>,
    /// The coefficients (or their gradient) of one sample, `(channel, t_out)`.
    out: Vec<T>,
    line: Vec<Cx<T>>,
    line2: Vec<Cx<T>>,
    rline: Vec<T>,
    rline2: Vec<T>,
    scratch: Vec<Cx<T>>,
}

crate::common::transform::transform_impl!(SpiralScattering, PathMetaSpiral, Ix2, Ix3);
