//! Time (1D) scattering: `S x = (x * phi, |x * psi1| * phi, ||x * psi1| * psi2| * phi)`,
//! with its backward pass (vector-Jacobian product).
//!
//! The algorithm is Kymatio's, written once for both passes: filters act in the Fourier
//! domain, every modulus is computed at the coarsest rate its wavelet allows (subsampling
//! = periodising the spectrum), and the low-pass output is subsampled by 2^log2(T).

use crate::error::{invalid, Result, TransformError};
use crate::padding::{pad_reflect, pad_reflect_adjoint, Padding};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, Axis};
use scattering_engine::fourier1d::{modulus, modulus_backward, Plans, SparseFilter};
use scattering_engine::pool::{Pool, Pooled};
use scattering_engine::{Cx, Real};
use scattering_filters::morlet1d::{gauss_1d, temporal_support};
use scattering_filters::{Bank1dParams, FilterBank1d, Morlet, Reduction, Wavelet1d};
use serde::Serialize;

/// How scattering coefficients are averaged in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Averaging {
    /// Low-pass filter at scale T and subsample by 2^floor(log2 T) (Kymatio's default).
    #[default]
    Local,
    /// Mean over the whole signal: one value per channel, invariant to translations.
    Global,
    /// No averaging: the modulus coefficients `U` at full rate (stride 1), the scalogram.
    None,
}

/// Parameters of a [`Scattering1d`], set with builder methods and checked by `build`.
///
/// ```
/// use scattering_transform::{Averaging, Scattering1dParams};
/// let s = Scattering1dParams::new(1024, 6).q((8, 1)).average(Averaging::Local).build()?;
/// assert_eq!(s.output_shape(), (126, 16));
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scattering1dParams {
    /// Signal length.
    pub n: usize,
    /// Number of octaves (log2 of the largest wavelet scale).
    pub j: usize,
    /// Wavelets per octave at orders 1 and 2.
    pub q: (usize, usize),
    /// Averaging scale; `None` means 2^J.
    pub t: Option<usize>,
    /// Highest scattering order, 0, 1 or 2.
    pub max_order: usize,
    /// Local, global or no averaging.
    pub average: Averaging,
    /// Boundary extension.
    pub padding: Padding,
    /// Folding of subsampled filters (sum: Kymatio main; mean: Kymatio 0.3.0).
    pub reduction: Reduction,
}

impl Scattering1dParams {
    /// Kymatio's defaults for signals of length `n` and `j` octaves: Q = (1, 1), T = 2^J,
    /// order 2, local averaging, reflect padding, sum-of-folds filters.
    pub fn new(n: usize, j: usize) -> Self {
        Self {
            n,
            j,
            q: (1, 1),
            t: None,
            max_order: 2,
            average: Averaging::Local,
            padding: Padding::Reflect,
            reduction: Reduction::Sum,
        }
    }
    /// Wavelets per octave `(Q1, Q2)`.
    pub fn q(mut self, q: (usize, usize)) -> Self {
        self.q = q;
        self
    }
    /// Averaging scale T in samples (1 <= T <= N).
    pub fn t(mut self, t: usize) -> Self {
        self.t = Some(t);
        self
    }
    /// Highest order (0, 1 or 2).
    pub fn max_order(mut self, m: usize) -> Self {
        self.max_order = m;
        self
    }
    /// Averaging mode.
    pub fn average(mut self, a: Averaging) -> Self {
        self.average = a;
        self
    }
    /// Boundary extension.
    pub fn padding(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }
    /// Filter folding at subsampled levels.
    pub fn reduction(mut self, r: Reduction) -> Self {
        self.reduction = r;
        self
    }
    /// Builds the transform with Morlet wavelets, computing in `f64`.
    pub fn build(self) -> Result<Scattering1d<f64>> {
        Scattering1d::new(self, &Morlet)
    }
    /// Builds the transform with Morlet wavelets, computing in `f32`: about twice as fast,
    /// with relative errors around 1e-6 (filters are built in `f64`, then rounded).
    pub fn build_f32(self) -> Result<Scattering1d<f32>> {
        Scattering1d::new(self, &Morlet)
    }
    /// Builds the transform with another wavelet family, in the precision `T`.
    pub fn build_with_wavelet<T: Real>(self, wavelet: &dyn Wavelet1d) -> Result<Scattering1d<T>> {
        Scattering1d::new(self, wavelet)
    }
}

/// Label of one output channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMeta {
    /// Scattering order (0, 1, 2).
    pub order: usize,
    /// Index of the wavelet at each order (`psi1[n[0]]`, `psi2[n[1]]`); Kymatio's `key`.
    pub n: Vec<usize>,
    /// Maximal dyadic subsampling `j` of each wavelet.
    pub j: Vec<usize>,
    /// Centre frequency (cycles per sample) of each wavelet.
    pub xi: Vec<f64>,
    /// Bandwidth (cycles per sample) of each wavelet.
    pub sigma: Vec<f64>,
}

struct Child {
    n2: usize,
    k2: usize,
    channel: usize,
}

struct First {
    n1: usize,
    k1: usize,
    channel: usize,
    children: Vec<Child>,
}

/// 1D scattering transform, built once for a signal length and applied to batches.
/// `T` is the precision of the computation (`f64` by default, or `f32`).
///
/// ```
/// use ndarray::Array2;
/// use scattering_transform::Scattering1dParams;
/// let s = Scattering1dParams::new(2000, 5).q((4, 2)).t(16).build()?;
/// let x = Array2::from_shape_fn((3, 2000), |(b, t)| ((b + 1) as f64 * 0.01 * t as f64).sin());
/// let sx = s.forward(x.view())?;              // (batch, channel, time)
/// assert_eq!(sx.dim(), (3, s.meta().len(), 125));
/// let g = s.backward(x.view(), sx.view())?;   // gradient of ||Sx||^2 / 2
/// assert_eq!(g.dim(), (3, 2000));
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
pub struct Scattering1d<T: Real = f64> {
    params: Scattering1dParams,
    t: usize,
    bank: FilterBank1d,
    n_pad: usize,
    pad_left: usize,
    ind_start: Vec<usize>,
    ind_end: Vec<usize>,
    out_level: usize,
    t_out: usize,
    first: Vec<First>,
    meta: Vec<PathMeta>,
    plans: Plans<T>,
    /// `psi1[n]` at level 0, `psi2[n][k]`, `phi[k]`, stored on their supports.
    psi1: Vec<SparseFilter<T>>,
    psi2: Vec<Vec<SparseFilter<T>>>,
    phi: Vec<SparseFilter<T>>,
    /// Reusable per-thread buffers.
    pool: Pool<Workspace<T>>,
}

fn ceil_log2(m: usize) -> usize {
    (usize::BITS - (m.max(1) - 1).leading_zeros()) as usize
}

fn floor_log2(m: usize) -> usize {
    (usize::BITS - 1 - m.leading_zeros()) as usize
}

impl<T: Real> Scattering1d<T> {
    fn new(params: Scattering1dParams, wavelet: &dyn Wavelet1d) -> Result<Self> {
        let n = params.n;
        if params.j == 0 || params.j > scattering_filters::bank1d::MAX_J {
            return Err(invalid(
                "J",
                format!(
                    "must be in 1..={}, got {}",
                    scattering_filters::bank1d::MAX_J,
                    params.j
                ),
            ));
        }
        if n < (1 << params.j) {
            return Err(invalid(
                "N",
                format!(
                    "signal length {n} is shorter than 2^J = {}; lower J or use longer signals",
                    1usize << params.j
                ),
            ));
        }
        if params.max_order > 2 {
            return Err(invalid(
                "max_order",
                format!("must be 0, 1 or 2, got {}", params.max_order),
            ));
        }
        let t = params.t.unwrap_or(1 << params.j);
        if t == 0 || t > n {
            return Err(invalid(
                "T",
                format!("averaging scale must be in 1..=N = {n}, got {t}"),
            ));
        }
        let mut bank_params = Bank1dParams::new(params.j, params.q, Some(t))?;
        bank_params.reduction = params.reduction;
        let log2_t = bank_params.log2_t();

        // Padded length: Kymatio's rule (3 low-pass supports on each side, power of two,
        // at most 3N - 2 so the mirror never wraps).
        let (n_pad, pad_left) = match params.padding {
            Padding::Reflect => {
                let phi = gauss_1d(n, bank_params.sigma_low())?;
                let min_to_pad = 3 * temporal_support(&phi, 1e-3);
                let jp = ceil_log2(n + 2 * min_to_pad).min(floor_log2(3 * n - 2));
                let n_pad = 1usize << jp;
                (n_pad, (n_pad - n) / 2)
            }
            Padding::Periodic => (n, 0),
        };
        let bank = FilterBank1d::with_wavelet(n_pad, &bank_params, wavelet)?;

        // Subsampling of every path: k1 after psi1, k2 more after psi2; `out_level` is
        // the subsampling of the averaged output.
        let avg = params.average;
        let k1_of = |j1: usize| match avg {
            Averaging::Local => j1.min(log2_t),
            Averaging::Global => j1,
            Averaging::None => 0,
        };
        let k2_of = |j2: usize, k1: usize| match avg {
            Averaging::Local => j2.min(log2_t).saturating_sub(k1),
            Averaging::Global => j2.saturating_sub(k1),
            Averaging::None => 0,
        };
        let out_level = if avg == Averaging::Local { log2_t } else { 0 };
        let mut first = Vec::new();
        let mut meta = vec![PathMeta {
            order: 0,
            n: vec![],
            j: vec![],
            xi: vec![],
            sigma: vec![],
        }];
        let mut max_level = out_level;
        if params.max_order >= 1 {
            for (n1, f1) in bank.psi1.iter().enumerate() {
                let k1 = k1_of(f1.j);
                max_level = max_level.max(k1);
                first.push(First {
                    n1,
                    k1,
                    channel: 1 + n1,
                    children: vec![],
                });
                meta.push(PathMeta {
                    order: 1,
                    n: vec![n1],
                    j: vec![f1.j],
                    xi: vec![f1.xi],
                    sigma: vec![f1.sigma],
                });
            }
        }
        if params.max_order >= 2 {
            let mut channel = 1 + bank.psi1.len();
            for f in first.iter_mut() {
                let f1 = &bank.psi1[f.n1];
                for (n2, f2) in bank.psi2.iter().enumerate() {
                    if f2.j <= f1.j {
                        continue;
                    }
                    let k2 = k2_of(f2.j, f.k1);
                    max_level = max_level.max(f.k1 + k2);
                    f.children.push(Child { n2, k2, channel });
                    channel += 1;
                    meta.push(PathMeta {
                        order: 2,
                        n: vec![f.n1, n2],
                        j: vec![f1.j, f2.j],
                        xi: vec![f1.xi, f2.xi],
                        sigma: vec![f1.sigma, f2.sigma],
                    });
                }
            }
        }
        if n_pad % (1 << max_level) != 0 {
            return Err(invalid(
                "N",
                format!(
                    "with periodic padding the length must be divisible by 2^{max_level} = {}, got {n}",
                    1usize << max_level
                ),
            ));
        }
        // The bank builds every level the length allows, so a missing one is a length
        // problem.
        let missing_psi2 = first.iter().any(|f| {
            f.children
                .iter()
                .any(|c| bank.psi2[c.n2].level(f.k1).is_none())
        });
        if missing_psi2 || (avg == Averaging::Local && bank.phi.level(max_level).is_none()) {
            return Err(invalid(
                "N",
                format!("padded length {n_pad} is too short for J and T"),
            ));
        }

        // Unpadding indices at each level (ceil at each halving, as Kymatio).
        let mut ind_start = vec![pad_left];
        let mut ind_end = vec![pad_left + n];
        for k in 1..=max_level {
            ind_start.push(ind_start[k - 1].div_ceil(2));
            ind_end.push(ind_end[k - 1].div_ceil(2));
        }
        let t_out = match avg {
            Averaging::Global => 1,
            _ => ind_end[out_level] - ind_start[out_level],
        };
        let sparse = |levels: &[Vec<f64>]| -> Vec<SparseFilter<T>> {
            levels.iter().map(|l| SparseFilter::of(l)).collect()
        };
        Ok(Self {
            psi1: bank
                .psi1
                .iter()
                .map(|f| SparseFilter::of(&f.levels[0]))
                .collect(),
            psi2: bank.psi2.iter().map(|f| sparse(&f.levels)).collect(),
            phi: sparse(&bank.phi.levels),
            plans: Plans::new(n_pad, max_level),
            pool: Pool::new(2),
            params,
            t,
            bank,
            n_pad,
            pad_left,
            ind_start,
            ind_end,
            out_level,
            t_out,
            first,
            meta,
        })
    }

    /// The parameters it was built from (`t: None` means T = 2^J, see [`Self::t`]).
    pub fn params(&self) -> &Scattering1dParams {
        &self.params
    }
    /// The averaging scale T actually used.
    pub fn t(&self) -> usize {
        self.t
    }
    /// The filter bank (in `f64`, at the padded length).
    pub fn bank(&self) -> &FilterBank1d {
        &self.bank
    }
    /// Length of the padded signal the filters act on.
    pub fn padded_len(&self) -> usize {
        self.n_pad
    }
    /// `(channels, time)` of the output for one signal.
    pub fn output_shape(&self) -> (usize, usize) {
        (self.meta.len(), self.t_out)
    }
    /// One label per output channel, in output order (Kymatio's channel order).
    pub fn meta(&self) -> &[PathMeta] {
        &self.meta
    }

    fn check_input<A: Copy + Into<f64>>(&self, x: &ArrayView2<A>) -> Result<()> {
        if x.ncols() != self.params.n || x.nrows() == 0 {
            return Err(TransformError::Shape {
                what: "input",
                expected: format!("(batch >= 1, {})", self.params.n),
                got: format!("{:?}", x.shape()),
            });
        }
        for ((b, i), v) in x.indexed_iter() {
            let v: f64 = (*v).into();
            if !v.is_finite() {
                return Err(TransformError::NonFinite {
                    batch: b,
                    index: i,
                    value: v,
                });
            }
        }
        Ok(())
    }

    /// Scattering coefficients of a batch `(batch, N)`, as `(batch, channel, time)`.
    /// Rows are transformed in parallel.
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView2<A>) -> Result<Array3<T>> {
        self.check_input(&x)?;
        let (c, t) = self.output_shape();
        let mut out = Array3::zeros((x.nrows(), c, t));
        if x.nrows() < rayon::current_num_threads() {
            // Too few signals to occupy every thread: spread each signal's paths instead.
            let mut ws = self.workspace(false);
            for (o, row) in out.axis_iter_mut(Axis(0)).zip(x.axis_iter(Axis(0))) {
                ws.load(row.iter().map(|&v| T::of(v.into())));
                self.forward_one(&mut ws, o, true);
            }
            return Ok(out);
        }
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .for_each_init(
                || self.workspace(false),
                |ws, (o, row)| {
                    ws.load(row.iter().map(|&v| T::of(v.into())));
                    self.forward_one(ws, o, false);
                },
            );
        Ok(out)
    }

    /// Scattering coefficients of one signal, as `(channel, time)`.
    pub fn forward_signal<A: Copy + Into<f64> + Sync>(&self, x: &[A]) -> Result<Array2<T>> {
        let view = ArrayView2::from_shape((1, x.len()), x).map_err(|_| TransformError::Shape {
            what: "input",
            expected: format!("({},)", self.params.n),
            got: format!("({},)", x.len()),
        })?;
        Ok(self.forward(view)?.index_axis_move(Axis(0), 0))
    }

    /// Vector-Jacobian product: for each row of `x`, the gradient with respect to `x` of
    /// `<S x, grad>`, where `grad` has the output's shape `(batch, channel, time)`.
    /// With `grad = S x - S y` it is the gradient of `||S x - S y||^2 / 2`.
    pub fn backward<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        grad: ArrayView3<T>,
    ) -> Result<Array2<T>> {
        self.check_input(&x)?;
        let (c, t) = self.output_shape();
        if grad.dim() != (x.nrows(), c, t) {
            return Err(TransformError::Shape {
                what: "output gradient",
                expected: format!("({}, {c}, {t})", x.nrows()),
                got: format!("{:?}", grad.shape()),
            });
        }
        if let Some(((b, ch, i), v)) = grad.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(TransformError::NonFinite {
                batch: b,
                index: ch * t + i,
                value: v.as_f64(),
            });
        }
        let mut out = Array2::zeros((x.nrows(), self.params.n));
        if x.nrows() < rayon::current_num_threads() {
            let mut ws = self.workspace(true);
            let rows = out.axis_iter_mut(Axis(0)).zip(x.axis_iter(Axis(0)));
            for ((o, row), g) in rows.zip(grad.axis_iter(Axis(0))) {
                ws.load(row.iter().map(|&v| T::of(v.into())));
                self.backward_one(&mut ws, g, o, true);
            }
            return Ok(out);
        }
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .zip(grad.axis_iter(Axis(0)).into_par_iter())
            .for_each_init(
                || self.workspace(true),
                |ws, ((o, row), g)| {
                    ws.load(row.iter().map(|&v| T::of(v.into())));
                    self.backward_one(ws, g, o, false);
                },
            );
        Ok(out)
    }

    /// A workspace from the pool (or a new one), returned to the pool when dropped, so
    /// repeated calls allocate nothing.
    fn workspace(&self, backward: bool) -> Pooled<'_, Workspace<T>> {
        let mut ws = self
            .pool
            .take(|| Workspace::new(self.params.n, self.n_pad, self.plans.scratch_len));
        if backward {
            ws.ensure_backward(self.n_pad);
        }
        ws
    }

    /// Pads the signal into `u0` and writes its half spectrum into `xh`.
    fn prepare(&self, ws: &mut Workspace<T>) {
        match self.params.padding {
            Padding::Reflect => pad_reflect(&ws.x, self.pad_left, &mut ws.u0),
            Padding::Periodic => ws.u0.copy_from_slice(&ws.x),
        }
        ws.real[..self.n_pad].copy_from_slice(&ws.u0);
        self.plans.levels[0].real_to_half(&mut ws.real, &mut ws.xh, &mut ws.scratch);
    }

    /// `z = ifft(fold(src * h))` at level `k_out`, then `u = |z|`; `src` is the half
    /// spectrum of a real signal at level `ks`.
    #[allow(clippy::too_many_arguments)]
    fn wavelet_modulus(
        &self,
        src: &[Cx<T>],
        ks: usize,
        h: &SparseFilter<T>,
        k_out: usize,
        z: &mut [Cx<T>],
        u: &mut [T],
        scratch: &mut [Cx<T>],
    ) {
        let m = self.n_pad >> k_out;
        let scale = T::of(1.0 / (self.n_pad >> ks) as f64);
        h.fold_half(src, m, scale, &mut z[..m]);
        self.plans.levels[k_out]
            .inv
            .process_with_scratch(&mut z[..m], scratch);
        modulus(&z[..m], &mut u[..m]);
    }

    /// Averaging of a modulus at level `k`, given in time (`u`) and, for local averaging,
    /// by its half spectrum (`uh`).
    fn average_into(
        &self,
        sc: &mut Scratch<T>,
        uh: &[Cx<T>],
        u: &[T],
        k: usize,
        mut out: ArrayViewMut1<T>,
    ) {
        match self.params.average {
            Averaging::Local => {
                let lo = self.out_level;
                let mo = self.n_pad >> lo;
                let scale = T::of(1.0 / (self.n_pad >> k) as f64);
                self.phi[k].fold_half(uh, mo, scale, &mut sc.half[..mo / 2 + 1]);
                self.plans.levels[lo].half_to_real(sc.half, sc.scratch, sc.real);
                let s = self.ind_start[lo];
                for (o, v) in out.iter_mut().zip(&sc.real[s..s + self.t_out]) {
                    *o = *v;
                }
            }
            Averaging::Global => {
                let r = &u[self.ind_start[k]..self.ind_end[k]];
                let sum: f64 = r.iter().map(|v| v.as_f64()).sum();
                out[0] = T::of(sum / r.len() as f64);
            }
            Averaging::None => {
                let s = self.ind_start[k];
                for (o, v) in out.iter_mut().zip(&u[s..s + self.t_out]) {
                    *o = *v;
                }
            }
        }
    }

    /// Adjoint of [`Self::average_into`]: adds the gradient with respect to the modulus
    /// at level `k` (in time) to `acc`.
    fn average_backward(&self, sc: &mut Scratch<T>, g: &[T], k: usize, acc: &mut [T]) {
        match self.params.average {
            Averaging::Local => {
                // Zero-insertion upsampling of the gradient, then the (symmetric) low-pass.
                let lo = self.out_level;
                let mo = self.n_pad >> lo;
                let ms = self.n_pad >> k;
                let s = self.ind_start[lo];
                sc.real[..mo].iter_mut().for_each(|v| *v = T::zero());
                sc.real[s..s + g.len()].copy_from_slice(g);
                self.plans.levels[lo].real_to_half(sc.real, sc.half, sc.scratch);
                let scale = T::of(1.0 / ms as f64);
                self.phi[k].tile_half(sc.half, mo, scale, sc.half_b);
                self.plans.levels[k].half_to_real(sc.half_b, sc.scratch, sc.real);
                for (a, v) in acc[..ms].iter_mut().zip(&sc.real[..ms]) {
                    *a += *v;
                }
            }
            Averaging::Global => {
                let r = self.ind_start[k]..self.ind_end[k];
                let w = g[0] / T::of(r.len() as f64);
                acc[r].iter_mut().for_each(|a| *a += w);
            }
            Averaging::None => {
                let s = self.ind_start[k];
                for (a, v) in acc[s..s + g.len()].iter_mut().zip(g) {
                    *a += *v;
                }
            }
        }
    }

    /// The order-1 path `f` and its order-2 children, from the half spectrum `xh` of
    /// the padded signal: the order-1 row goes to `out[slot(0)]`, child `k` to
    /// `out[slot(1 + k)]`.
    fn first_order_forward(
        &self,
        xh: &[Cx<T>],
        f: &First,
        ws: &mut Workspace<T>,
        out: &mut ArrayViewMut2<T>,
        slot: &dyn Fn(usize) -> usize,
    ) {
        let local = self.params.average == Averaging::Local;
        let need_u1_spectrum = local || self.params.max_order >= 2;
        let Workspace {
            z1,
            u1,
            u1h,
            z2,
            u2,
            u2h,
            half,
            half_b,
            real,
            scratch,
            ..
        } = ws;
        let mut sc = Scratch {
            half,
            half_b,
            real,
            scratch,
        };
        let m1 = self.n_pad >> f.k1;
        let plan1 = &self.plans.levels[f.k1];
        self.wavelet_modulus(xh, 0, &self.psi1[f.n1], f.k1, z1, u1, sc.scratch);
        if need_u1_spectrum {
            if local {
                // U1 itself is not needed afterwards: let the r2c consume it.
                plan1.real_to_half(u1, u1h, sc.scratch);
            } else {
                sc.real[..m1].copy_from_slice(&u1[..m1]);
                plan1.real_to_half(sc.real, u1h, sc.scratch);
            }
        }
        self.average_into(&mut sc, u1h, u1, f.k1, out.index_axis_mut(Axis(0), slot(0)));
        for (i, c) in f.children.iter().enumerate() {
            let k = f.k1 + c.k2;
            self.wavelet_modulus(u1h, f.k1, &self.psi2[c.n2][f.k1], k, z2, u2, sc.scratch);
            if local {
                self.plans.levels[k].real_to_half(u2, u2h, sc.scratch);
            }
            self.average_into(
                &mut sc,
                u2h,
                u2,
                k,
                out.index_axis_mut(Axis(0), slot(1 + i)),
            );
        }
    }

    /// One signal; `parallel` spreads its first-order paths over threads (small batches).
    fn forward_one(&self, ws: &mut Workspace<T>, mut out: ArrayViewMut2<T>, parallel: bool) {
        self.prepare(ws);
        {
            let Workspace {
                u0,
                xh,
                half,
                half_b,
                real,
                scratch,
                ..
            } = ws;
            let mut sc = Scratch {
                half,
                half_b,
                real,
                scratch,
            };
            self.average_into(&mut sc, xh, u0, 0, out.index_axis_mut(Axis(0), 0));
        }
        let xh = std::mem::take(&mut ws.xh);
        if parallel {
            let blocks: Vec<Array2<T>> = self
                .first
                .par_iter()
                .map_init(
                    || self.workspace(false),
                    |w, f| {
                        let mut block = Array2::zeros((1 + f.children.len(), self.t_out));
                        self.first_order_forward(&xh, f, w, &mut block.view_mut(), &|k| k);
                        block
                    },
                )
                .collect();
            for (f, block) in self.first.iter().zip(&blocks) {
                out.index_axis_mut(Axis(0), f.channel)
                    .assign(&block.index_axis(Axis(0), 0));
                for (i, c) in f.children.iter().enumerate() {
                    out.index_axis_mut(Axis(0), c.channel)
                        .assign(&block.index_axis(Axis(0), 1 + i));
                }
            }
        } else {
            for f in &self.first {
                let slot = |k: usize| {
                    if k == 0 {
                        f.channel
                    } else {
                        f.children[k - 1].channel
                    }
                };
                self.first_order_forward(&xh, f, ws, &mut out, &slot);
            }
        }
        ws.xh = xh;
    }

    /// Adds to `acc0` (full-resolution spectrum) the gradient through the order-1 path
    /// `f` and its children.
    fn first_order_backward(
        &self,
        xh: &[Cx<T>],
        f: &First,
        g: &ArrayView2<T>,
        ws: &mut Workspace<T>,
        acc0: &mut [Cx<T>],
    ) {
        let n = self.n_pad;
        let zero = Cx::new(T::zero(), T::zero());
        let Workspace {
            z1,
            u1,
            u1h,
            z2,
            u2,
            half,
            half_b,
            real,
            scratch,
            gu1,
            gu2,
            gz,
            acc1,
            grow,
            ..
        } = ws;
        let mut sc = Scratch {
            half,
            half_b,
            real,
            scratch,
        };
        let m1 = n >> f.k1;
        let plan1 = &self.plans.levels[f.k1];
        self.wavelet_modulus(xh, 0, &self.psi1[f.n1], f.k1, z1, u1, sc.scratch);
        gu1[..m1].iter_mut().for_each(|v| *v = T::zero());
        self.average_backward(&mut sc, grad_row(g, f.channel, grow), f.k1, gu1);
        if !f.children.is_empty() {
            plan1.real_to_half(u1, u1h, sc.scratch);
            acc1[..m1].iter_mut().for_each(|v| *v = zero);
            for c in &f.children {
                let k = f.k1 + c.k2;
                let m2 = n >> k;
                let h = &self.psi2[c.n2][f.k1];
                self.wavelet_modulus(u1h, f.k1, h, k, z2, u2, sc.scratch);
                gu2[..m2].iter_mut().for_each(|v| *v = T::zero());
                self.average_backward(&mut sc, grad_row(g, c.channel, grow), k, gu2);
                modulus_backward(&z2[..m2], &gu2[..m2], &mut gz[..m2]);
                self.plans.levels[k]
                    .fwd
                    .process_with_scratch(&mut gz[..m2], sc.scratch);
                h.tile_add(&gz[..m2], &mut acc1[..m1]);
            }
            plan1.inv.process_with_scratch(&mut acc1[..m1], sc.scratch);
            let s = T::of(1.0 / m1 as f64);
            for (g1, a) in gu1[..m1].iter_mut().zip(&acc1[..m1]) {
                *g1 += a.re * s;
            }
        }
        modulus_backward(&z1[..m1], &gu1[..m1], &mut gz[..m1]);
        plan1.fwd.process_with_scratch(&mut gz[..m1], sc.scratch);
        self.psi1[f.n1].tile_add(&gz[..m1], acc0);
    }

    /// Gradient for one signal; `parallel` spreads its first-order paths over threads.
    fn backward_one(
        &self,
        ws: &mut Workspace<T>,
        g: ArrayView2<T>,
        mut out: ArrayViewMut1<T>,
        parallel: bool,
    ) {
        self.prepare(ws);
        let n = self.n_pad;
        let zero = Cx::new(T::zero(), T::zero());
        let xh = std::mem::take(&mut ws.xh);
        let mut acc0 = std::mem::take(&mut ws.acc0);
        acc0.iter_mut().for_each(|v| *v = zero);
        {
            let Workspace {
                half,
                half_b,
                real,
                scratch,
                gu0,
                grow,
                ..
            } = ws;
            let mut sc = Scratch {
                half,
                half_b,
                real,
                scratch,
            };
            gu0.iter_mut().for_each(|v| *v = T::zero());
            self.average_backward(&mut sc, grad_row(&g, 0, grow), 0, gu0);
        }
        if parallel {
            let parts: Vec<Vec<Cx<T>>> = self
                .first
                .par_iter()
                .fold(
                    || (self.workspace(true), vec![zero; n]),
                    |(mut w, mut acc), f| {
                        self.first_order_backward(&xh, f, &g, &mut w, &mut acc);
                        (w, acc)
                    },
                )
                .map(|(_, acc)| acc)
                .collect();
            for part in parts {
                acc0.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
        } else {
            for f in &self.first {
                self.first_order_backward(&xh, f, &g, ws, &mut acc0);
            }
        }
        let Workspace {
            x, gu0, scratch, ..
        } = ws;
        if !self.first.is_empty() {
            self.plans.levels[0]
                .inv
                .process_with_scratch(&mut acc0, scratch);
            let s = T::of(1.0 / n as f64);
            for (g0, a) in gu0.iter_mut().zip(acc0.iter()) {
                *g0 += a.re * s;
            }
        }
        match self.params.padding {
            Padding::Reflect => pad_reflect_adjoint(gu0, self.pad_left, x),
            Padding::Periodic => x.copy_from_slice(gu0),
        }
        for (o, v) in out.iter_mut().zip(x.iter()) {
            *o = *v;
        }
        ws.xh = xh;
        ws.acc0 = acc0;
    }
}

/// Row `c` of an output gradient as a slice, copied only if it is not contiguous.
fn grad_row<'a, T: Real>(g: &'a ArrayView2<'_, T>, c: usize, buf: &'a mut Vec<T>) -> &'a [T] {
    let r = g.index_axis(Axis(0), c);
    match r.to_slice() {
        Some(s) => s,
        None => {
            buf.clear();
            buf.extend(r.iter());
            buf.as_slice()
        }
    }
}

/// The scratch buffers the averaging branch borrows from a [`Workspace`].
struct Scratch<'a, T> {
    half: &'a mut [Cx<T>],
    half_b: &'a mut [Cx<T>],
    real: &'a mut [T],
    scratch: &'a mut [Cx<T>],
}

/// Per-thread buffers, allocated once and reused for every signal and every call.
struct Workspace<T> {
    x: Vec<T>,
    u0: Vec<T>,
    xh: Vec<Cx<T>>,
    z1: Vec<Cx<T>>,
    u1: Vec<T>,
    u1h: Vec<Cx<T>>,
    z2: Vec<Cx<T>>,
    u2: Vec<T>,
    u2h: Vec<Cx<T>>,
    half: Vec<Cx<T>>,
    half_b: Vec<Cx<T>>,
    real: Vec<T>,
    scratch: Vec<Cx<T>>,
    gu0: Vec<T>,
    gu1: Vec<T>,
    gu2: Vec<T>,
    gz: Vec<Cx<T>>,
    acc0: Vec<Cx<T>>,
    acc1: Vec<Cx<T>>,
    grow: Vec<T>,
}

impl<T: Real> Workspace<T> {
    fn new(n_in: usize, n: usize, scratch_len: usize) -> Self {
        let z = Cx::new(T::zero(), T::zero());
        let h = n / 2 + 1;
        Self {
            x: vec![T::zero(); n_in],
            u0: vec![T::zero(); n],
            xh: vec![z; h],
            z1: vec![z; n],
            u1: vec![T::zero(); n],
            u1h: vec![z; h],
            z2: vec![z; n],
            u2: vec![T::zero(); n],
            u2h: vec![z; h],
            half: vec![z; h],
            half_b: vec![z; h],
            real: vec![T::zero(); n],
            scratch: vec![z; scratch_len],
            gu0: Vec::new(),
            gu1: Vec::new(),
            gu2: Vec::new(),
            gz: Vec::new(),
            acc0: Vec::new(),
            acc1: Vec::new(),
            grow: Vec::new(),
        }
    }

    fn ensure_backward(&mut self, n: usize) {
        if self.acc0.len() != n {
            let z = Cx::new(T::zero(), T::zero());
            self.gu0 = vec![T::zero(); n];
            self.gu1 = vec![T::zero(); n];
            self.gu2 = vec![T::zero(); n];
            self.gz = vec![z; n];
            self.acc0 = vec![z; n];
            self.acc1 = vec![z; n];
        }
    }

    fn load(&mut self, x: impl Iterator<Item = T>) {
        for (d, v) in self.x.iter_mut().zip(x) {
            *d = v;
        }
    }
}
