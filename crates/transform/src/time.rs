//! Time (1D) scattering: `S x = (x * phi, |x * psi1| * phi, ||x * psi1| * psi2| * phi)`,
//! with its backward pass (vector-Jacobian product).
//!
//! The algorithm is Kymatio's, written once for both passes: filters act in the Fourier
//! domain, every modulus is computed at the coarsest rate its wavelet allows (subsampling
//! = periodising the spectrum), and the low-pass output is subsampled by 2^log2(T).

use crate::error::{invalid, Result, TransformError};
use crate::fourier::{
    filter_fold, half_to_real, modulus, modulus_backward, real_to_full, tile_filter_add, Plans,
};
use crate::padding::{pad_reflect, pad_reflect_adjoint, Padding};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, Axis};
use num_complex::Complex64 as C64;
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
    /// Builds the transform with Morlet wavelets.
    pub fn build(self) -> Result<Scattering1d> {
        Scattering1d::new(self, &Morlet)
    }
    /// Builds the transform with another wavelet family.
    pub fn build_with_wavelet(self, wavelet: &dyn Wavelet1d) -> Result<Scattering1d> {
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
pub struct Scattering1d {
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
    plans: Plans,
}

fn ceil_log2(m: usize) -> usize {
    (usize::BITS - (m.max(1) - 1).leading_zeros()) as usize
}

fn floor_log2(m: usize) -> usize {
    (usize::BITS - 1 - m.leading_zeros()) as usize
}

impl Scattering1d {
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

        // Subsampling of every path.
        let (k1_of, k2_of, out_level): (
            Box<dyn Fn(usize) -> usize>,
            Box<dyn Fn(usize, usize) -> usize>,
            usize,
        ) = match params.average {
            Averaging::Local => (
                Box::new(move |j1| j1.min(log2_t)),
                Box::new(move |j2, k1| j2.min(log2_t).saturating_sub(k1)),
                log2_t,
            ),
            Averaging::Global => (
                Box::new(|j1| j1),
                Box::new(|j2, k1| j2.saturating_sub(k1)),
                0,
            ),
            Averaging::None => (Box::new(|_| 0), Box::new(|_, _| 0), 0),
        };
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
        // The transform needs these filter levels; the bank builds them whenever the
        // length allows, so their absence is a length problem.
        for f in &first {
            for c in &f.children {
                if bank.psi2[c.n2].level(f.k1).is_none() {
                    return Err(invalid("N", format!("length {n_pad} too short for J")));
                }
            }
        }
        if params.average == Averaging::Local && bank.phi.level(max_level).is_none() {
            return Err(invalid("N", format!("length {n_pad} too short for T")));
        }

        // Unpadding indices at each level (ceil at each halving, as Kymatio).
        let mut ind_start = vec![pad_left];
        let mut ind_end = vec![pad_left + n];
        for k in 1..=max_level {
            ind_start.push(ind_start[k - 1].div_ceil(2));
            ind_end.push(ind_end[k - 1].div_ceil(2));
        }
        let t_out = match params.average {
            Averaging::Global => 1,
            _ => ind_end[out_level] - ind_start[out_level],
        };
        let plans = Plans::new(n_pad, max_level);
        Ok(Self {
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
            plans,
        })
    }

    /// The parameters, with `t` resolved.
    pub fn params(&self) -> &Scattering1dParams {
        &self.params
    }
    /// The averaging scale T actually used.
    pub fn t(&self) -> usize {
        self.t
    }
    /// The filter bank.
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
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView2<A>) -> Result<Array3<f64>> {
        self.check_input(&x)?;
        let (c, t) = self.output_shape();
        let mut out = Array3::zeros((x.nrows(), c, t));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .for_each_init(
                || Workspace::new(self, false),
                |ws, (o, row)| {
                    ws.load(row.iter().map(|&v| v.into()));
                    self.forward_one(ws, o);
                },
            );
        Ok(out)
    }

    /// Scattering coefficients of one signal, as `(channel, time)`.
    pub fn forward_signal<A: Copy + Into<f64> + Sync>(&self, x: &[A]) -> Result<Array2<f64>> {
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
        grad: ArrayView3<f64>,
    ) -> Result<Array2<f64>> {
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
                value: *v,
            });
        }
        let mut out = Array2::zeros((x.nrows(), self.params.n));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .zip(grad.axis_iter(Axis(0)).into_par_iter())
            .for_each_init(
                || Workspace::new(self, true),
                |ws, ((o, row), g)| {
                    ws.load(row.iter().map(|&v| v.into()));
                    self.backward_one(ws, g, o);
                },
            );
        Ok(out)
    }

    /// Writes the padded signal and its spectrum into the workspace.
    fn prepare(&self, ws: &mut Workspace) {
        match self.params.padding {
            Padding::Reflect => pad_reflect(&ws.x, self.pad_left, &mut ws.u0),
            Padding::Periodic => ws.u0.copy_from_slice(&ws.x),
        }
        ws.real[..self.n_pad].copy_from_slice(&ws.u0);
        real_to_full(
            &self.plans.levels[0],
            &mut ws.real[..self.n_pad],
            &mut ws.half,
            &mut ws.scratch,
            &mut ws.xf,
        );
    }

    /// Low-pass branch: `phi` applied to the full spectrum `src` (at level `ks`), subsampled
    /// to the output level; the unpadded result goes to `out`.
    fn lowpass_forward(
        &self,
        ws_half: &mut [C64],
        ws_real: &mut [f64],
        scratch: &mut [C64],
        src: &[C64],
        ks: usize,
        mut out: ArrayViewMut1<f64>,
    ) {
        let lo = self.out_level;
        let mo = self.n_pad >> lo;
        let ms = self.n_pad >> ks;
        let phi = self.bank.phi.levels[ks].as_slice();
        let h = mo / 2 + 1;
        filter_fold(&src[..ms], phi, mo, 1.0 / ms as f64, &mut ws_half[..h]);
        half_to_real(&self.plans.levels[lo], ws_half, scratch, ws_real);
        let s = self.ind_start[lo];
        for (o, v) in out.iter_mut().zip(&ws_real[s..s + self.t_out]) {
            *o = *v;
        }
    }

    /// Adjoint of [`Self::lowpass_forward`]: adds the gradient with respect to the signal
    /// at level `ks` (time domain, length N / 2^ks) to `acc`.
    #[allow(clippy::too_many_arguments)]
    fn lowpass_backward(
        &self,
        half_a: &mut [C64],
        half_b: &mut [C64],
        real: &mut [f64],
        scratch: &mut [C64],
        g: &[f64],
        ks: usize,
        acc: &mut [f64],
    ) {
        let lo = self.out_level;
        let mo = self.n_pad >> lo;
        let ms = self.n_pad >> ks;
        let s = self.ind_start[lo];
        real[..mo].iter_mut().for_each(|v| *v = 0.0);
        real[s..s + g.len()].copy_from_slice(g);
        let plan = &self.plans.levels[lo];
        let _ = plan
            .r2c
            .process_with_scratch(&mut real[..mo], &mut half_a[..mo / 2 + 1], scratch);
        let phi = self.bank.phi.levels[ks].as_slice();
        let scale = 1.0 / ms as f64;
        for (i, hb) in half_b[..ms / 2 + 1].iter_mut().enumerate() {
            let k = i % mo;
            let gk = if k <= mo / 2 {
                half_a[k]
            } else {
                half_a[mo - k].conj()
            };
            *hb = gk * (phi[i] * scale);
        }
        half_to_real(&self.plans.levels[ks], half_b, scratch, &mut real[..ms]);
        for (a, v) in acc[..ms].iter_mut().zip(&real[..ms]) {
            *a += v;
        }
    }

    /// `z = ifft(fold(src * h))` at level `k_out`, then `u = |z|`.
    fn wavelet_modulus(
        &self,
        src: &[C64],
        h: &[f64],
        k_out: usize,
        z: &mut [C64],
        u: &mut [f64],
        scratch: &mut [C64],
    ) {
        let m = self.n_pad >> k_out;
        filter_fold(src, h, m, 1.0 / src.len() as f64, &mut z[..m]);
        self.plans.levels[k_out]
            .inv
            .process_with_scratch(&mut z[..m], scratch);
        modulus(&z[..m], &mut u[..m]);
    }

    fn unpadded_mean(&self, u: &[f64], level: usize) -> f64 {
        let r = &u[self.ind_start[level]..self.ind_end[level]];
        r.iter().sum::<f64>() / r.len() as f64
    }

    /// Averaging of a modulus `u` at level `k` (spectrum in `uf` for local averaging).
    fn average_into(&self, ws: &mut AvgScratch, uf: &[C64], u: &[f64], k: usize, mut out: ArrayViewMut1<f64>) {
        match self.params.average {
            Averaging::Local => self.lowpass_forward(ws.half, ws.real, ws.scratch, uf, k, out),
            Averaging::Global => out[0] = self.unpadded_mean(u, k),
            Averaging::None => {
                let s = self.ind_start[k];
                for (o, v) in out.iter_mut().zip(&u[s..s + self.t_out]) {
                    *o = *v;
                }
            }
        }
    }

    /// Adjoint of [`Self::average_into`]: adds the gradient with respect to `u` to `acc`.
    fn average_backward(&self, ws: &mut AvgScratch, g: &[f64], k: usize, acc: &mut [f64]) {
        match self.params.average {
            Averaging::Local => {
                self.lowpass_backward(ws.half, ws.half_b, ws.real, ws.scratch, g, k, acc)
            }
            Averaging::Global => {
                let r = self.ind_start[k]..self.ind_end[k];
                let w = g[0] / r.len() as f64;
                acc[r].iter_mut().for_each(|a| *a += w);
            }
            Averaging::None => {
                let s = self.ind_start[k];
                for (a, v) in acc[s..s + g.len()].iter_mut().zip(g) {
                    *a += v;
                }
            }
        }
    }

    fn forward_one(&self, ws: &mut Workspace, mut out: ArrayViewMut2<f64>) {
        self.prepare(ws);
        let need_u1_spectrum =
            self.params.average == Averaging::Local || self.params.max_order >= 2;
        let Workspace {
            u0,
            xf,
            z1,
            u1,
            u1f,
            z2,
            u2,
            u2f,
            half,
            half_b,
            real,
            scratch,
            ..
        } = ws;
        let mut avg = AvgScratch {
            half,
            half_b,
            real,
            scratch,
        };
        self.average_into(&mut avg, xf, u0, 0, out.index_axis_mut(Axis(0), 0));
        for f in &self.first {
            let m1 = self.n_pad >> f.k1;
            self.wavelet_modulus(xf, &self.bank.psi1[f.n1].levels[0], f.k1, z1, u1, avg.scratch);
            if need_u1_spectrum {
                u2[..m1].copy_from_slice(&u1[..m1]); // r2c consumes its input
                real_to_full(&self.plans.levels[f.k1], &mut u2[..m1], avg.half, avg.scratch, u1f);
            }
            self.average_into(&mut avg, &u1f[..m1], u1, f.k1, out.index_axis_mut(Axis(0), f.channel));
            for c in &f.children {
                let k = f.k1 + c.k2;
                let m2 = self.n_pad >> k;
                let h = self.bank.psi2[c.n2].levels[f.k1].as_slice();
                self.wavelet_modulus(&u1f[..m1], h, k, z2, u2, avg.scratch);
                if self.params.average == Averaging::Local {
                    avg.real[..m2].copy_from_slice(&u2[..m2]);
                    real_to_full(&self.plans.levels[k], &mut avg.real[..m2], avg.half, avg.scratch, u2f);
                }
                self.average_into(&mut avg, &u2f[..m2], u2, k, out.index_axis_mut(Axis(0), c.channel));
            }
        }
    }

    fn backward_one(&self, ws: &mut Workspace, g: ArrayView2<f64>, mut out: ArrayViewMut1<f64>) {
        self.prepare(ws);
        let n = self.n_pad;
        let Workspace {
            x,
            xf,
            z1,
            u1,
            u1f,
            z2,
            u2,
            half,
            half_b,
            real,
            scratch,
            gu0,
            gu1,
            gu2,
            gz,
            acc0,
            acc1,
            grow,
            ..
        } = ws;
        let mut avg = AvgScratch {
            half,
            half_b,
            real,
            scratch,
        };
        gu0.iter_mut().for_each(|v| *v = 0.0);
        acc0.iter_mut().for_each(|v| *v = C64::new(0.0, 0.0));
        self.average_backward(&mut avg, grad_row(&g, 0, grow), 0, gu0);
        for f in &self.first {
            let m1 = n >> f.k1;
            self.wavelet_modulus(xf, &self.bank.psi1[f.n1].levels[0], f.k1, z1, u1, avg.scratch);
            gu1[..m1].iter_mut().for_each(|v| *v = 0.0);
            self.average_backward(&mut avg, grad_row(&g, f.channel, grow), f.k1, gu1);
            if !f.children.is_empty() {
                u2[..m1].copy_from_slice(&u1[..m1]);
                real_to_full(&self.plans.levels[f.k1], &mut u2[..m1], avg.half, avg.scratch, u1f);
                acc1[..m1].iter_mut().for_each(|v| *v = C64::new(0.0, 0.0));
                for c in &f.children {
                    let k = f.k1 + c.k2;
                    let m2 = n >> k;
                    let h = self.bank.psi2[c.n2].levels[f.k1].as_slice();
                    self.wavelet_modulus(&u1f[..m1], h, k, z2, u2, avg.scratch);
                    gu2[..m2].iter_mut().for_each(|v| *v = 0.0);
                    self.average_backward(&mut avg, grad_row(&g, c.channel, grow), k, gu2);
                    modulus_backward(&z2[..m2], &gu2[..m2], &mut gz[..m2]);
                    self.plans.levels[k]
                        .fwd
                        .process_with_scratch(&mut gz[..m2], avg.scratch);
                    tile_filter_add(&gz[..m2], &h[..m1], &mut acc1[..m1]);
                }
                self.plans.levels[f.k1]
                    .inv
                    .process_with_scratch(&mut acc1[..m1], avg.scratch);
                let s = 1.0 / m1 as f64;
                for (g1, a) in gu1[..m1].iter_mut().zip(&acc1[..m1]) {
                    *g1 += a.re * s;
                }
            }
            modulus_backward(&z1[..m1], &gu1[..m1], &mut gz[..m1]);
            self.plans.levels[f.k1]
                .fwd
                .process_with_scratch(&mut gz[..m1], avg.scratch);
            tile_filter_add(&gz[..m1], &self.bank.psi1[f.n1].levels[0], acc0);
        }
        if !self.first.is_empty() {
            self.plans.levels[0].inv.process_with_scratch(acc0, avg.scratch);
            let s = 1.0 / n as f64;
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
    }
}

/// Row `c` of an output gradient as a slice, copied only if it is not contiguous.
fn grad_row<'a>(g: &'a ArrayView2<'_, f64>, c: usize, buf: &'a mut Vec<f64>) -> &'a [f64] {
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
struct AvgScratch<'a> {
    half: &'a mut [C64],
    half_b: &'a mut [C64],
    real: &'a mut [f64],
    scratch: &'a mut [C64],
}

/// Per-thread buffers, allocated once per worker and reused for every signal.
struct Workspace {
    x: Vec<f64>,
    u0: Vec<f64>,
    xf: Vec<C64>,
    z1: Vec<C64>,
    u1: Vec<f64>,
    u1f: Vec<C64>,
    z2: Vec<C64>,
    u2: Vec<f64>,
    u2f: Vec<C64>,
    half: Vec<C64>,
    half_b: Vec<C64>,
    real: Vec<f64>,
    scratch: Vec<C64>,
    gu0: Vec<f64>,
    gu1: Vec<f64>,
    gu2: Vec<f64>,
    gz: Vec<C64>,
    acc0: Vec<C64>,
    acc1: Vec<C64>,
    grow: Vec<f64>,
}

impl Workspace {
    fn new(s: &Scattering1d, backward: bool) -> Self {
        let n = s.n_pad;
        let z = C64::new(0.0, 0.0);
        let b = if backward { n } else { 0 };
        Self {
            x: vec![0.0; s.params.n],
            u0: vec![0.0; n],
            xf: vec![z; n],
            z1: vec![z; n],
            u1: vec![0.0; n],
            u1f: vec![z; n],
            z2: vec![z; n],
            u2: vec![0.0; n],
            u2f: vec![z; n],
            half: vec![z; n / 2 + 1],
            half_b: vec![z; n / 2 + 1],
            real: vec![0.0; n],
            scratch: vec![z; s.plans.scratch_len],
            gu0: vec![0.0; b],
            gu1: vec![0.0; b],
            gu2: vec![0.0; b],
            gz: vec![z; b],
            acc0: vec![z; b],
            acc1: vec![z; b],
            grow: Vec::with_capacity(s.t_out),
        }
    }

    fn load(&mut self, x: impl Iterator<Item = f64>) {
        for (d, v) in self.x.iter_mut().zip(x) {
            *d = v;
        }
    }
}
