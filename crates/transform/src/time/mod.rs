//! Time (1D) scattering: `S x = (x * phi, |x * psi1| * phi, ||x * psi1| * psi2| * phi)`,
//! with its backward pass (vector-Jacobian product).
//!
//! The algorithm is Kymatio's, written once for both passes: filters act in the Fourier
//! domain, every modulus is computed at the coarsest rate its wavelet allows (subsampling
//! = periodising the spectrum), and the low-pass output is subsampled by 2^log2(T).

use crate::common::checks::{check_batch_shape, check_finite};
use crate::error::Result;
use ndarray::parallel::prelude::*;
use ndarray::ArrayView2;
use scattering_engine::fourier1d::{Plans, SparseFilter};
use scattering_engine::pool::{Pool, Pooled};
use scattering_engine::{Cx, Real};
use scattering_filters::FilterBank1d;
use serde::Serialize;

mod backward;
mod blocked;
mod forward;
mod params;
pub(crate) mod plan;

pub use blocked::BlockedScattering1d;
pub use params::Scattering1dParams;

/// Label of one output channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMeta1d {
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

/// The former name of [`PathMeta1d`], kept so existing code builds.
pub type PathMeta = PathMeta1d;

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
    meta: Vec<PathMeta1d>,
    plans: Plans<T>,
    /// `psi1[n]` at level 0, `psi2[n][k]`, `phi[k]`, stored on their supports.
    psi1: Vec<SparseFilter<T>>,
    psi2: Vec<Vec<SparseFilter<T>>>,
    phi: Vec<SparseFilter<T>>,
    /// Reusable per-thread buffers.
    pool: Pool<Workspace1d<T>>,
    /// The caller's parallelism setting.
    exec: crate::common::parallel::Executor,
}

impl<T: Real> Scattering1d<T> {
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
    pub fn meta(&self) -> &[PathMeta1d] {
        &self.meta
    }

    fn check_input<A: Copy + Into<f64>>(&self, x: &ArrayView2<A>) -> Result<()> {
        check_batch_shape("input", x.shape(), &[self.params.n], None)?;
        check_finite(x)
    }

    /// A workspace from the pool (or a new one), returned to the pool when dropped, so
    /// repeated calls allocate nothing.
    fn workspace(&self, backward: bool) -> Pooled<'_, Workspace1d<T>> {
        let mut ws = self
            .pool
            .take(|| Workspace1d::new(self.params.n, self.n_pad, self.plans.scratch_len));
        if backward {
            ws.ensure_backward(self.n_pad);
        }
        ws
    }
}

/// The scratch buffers the averaging branch borrows from a [`Workspace1d`].
struct Scratch<'a, T> {
    half: &'a mut [Cx<T>],
    half_b: &'a mut [Cx<T>],
    real: &'a mut [T],
    scratch: &'a mut [Cx<T>],
}

/// Per-thread buffers, allocated once and reused for every signal and every call.
struct Workspace1d<T> {
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

impl<T: Real> Workspace1d<T> {
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

impl<T: Real> Scattering1d<T> {
    /// Shape of one input sample.
    fn sample_dims(&self) -> Vec<usize> {
        vec![self.params.n]
    }
    /// Shape of the coefficients of one sample.
    fn coefficient_dims(&self) -> Vec<usize> {
        let (c, t) = self.output_shape();
        vec![c, t]
    }
}

crate::common::transform::transform_impl!(Scattering1d, PathMeta1d, Ix2, Ix3);
