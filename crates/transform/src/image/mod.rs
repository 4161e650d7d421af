//! Image (2D) scattering: `S x = (x * phi_J, |x * psi_{j1,t1}| * phi_J,
//! ||x * psi_{j1,t1}| * psi_{j2,t2}| * phi_J)` with `j2 > j1`, Kymatio's `Scattering2D`,
//! and its backward pass (vector-Jacobian product).

use crate::common::checks::{check_batch_shape, check_finite};
use crate::common::padding::reflect_index;
use crate::error::Result;
use ndarray::parallel::prelude::*;
use ndarray::ArrayView3;
use scattering_engine::fourier2d::{Plans2d, SparseFilter2d};
use scattering_engine::lowpass2d::SpatialLowpass;
use scattering_engine::pool::{Pool, Pooled};
use scattering_engine::{Cx, Real};
use scattering_filters::FilterBank2d;
use serde::Serialize;

mod backward;
mod forward;
mod params;
mod plan;

pub use params::Scattering2dParams;

/// Label of one output channel of a [`Scattering2d`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMeta2d {
    /// Scattering order.
    pub order: usize,
    /// Wavelet indices `n = j * L + theta` at each order.
    pub n: Vec<usize>,
    /// Scales at each order.
    pub j: Vec<usize>,
    /// Orientation indices at each order.
    pub theta: Vec<usize>,
}

struct Child2 {
    n2: usize,
    j2: usize,
    channel: usize,
}

struct First2 {
    n1: usize,
    j1: usize,
    channel: usize,
    children: Vec<Child2>,
}

/// 2D scattering transform, built once for an image size and applied to batches.
pub struct Scattering2d<T: Real = f64> {
    params: Scattering2dParams,
    /// The family or bank the filters came from.
    source: params::FilterSource2d,
    /// Padded size and padding (top, left).
    mp: usize,
    np: usize,
    pad: (usize, usize),
    out: (usize, usize),
    /// Rows/columns dropped on each side of the subsampled output (1 with reflection).
    crop: usize,
    /// Global averaging: each channel is the mean of its modulus over the image.
    global: bool,
    first: Vec<First2>,
    /// Indices into `first` of one or two order-1 paths of the same scale, computed together.
    groups: Vec<Vec<usize>>,
    meta: Vec<PathMeta2d>,
    /// `psi[n][level]`, `phi[level]`, on their supports, in `T`.
    psi: Vec<Vec<SparseFilter2d<T>>>,
    phi: Vec<SparseFilter2d<T>>,
    /// `spatial[k]`: the low-pass of a level-`k` modulus in the image domain, for moduli
    /// whose spectrum is not needed (`None` with global averaging).
    spatial: Vec<Option<SpatialLowpass<T>>>,
    plans: Plans2d<T>,
    pool: Pool<Workspace2d<T>>,
    /// The caller's parallelism setting.
    exec: crate::common::parallel::Executor,
}

impl<T: Real> Scattering2d<T> {
    /// The parameters.
    pub fn params(&self) -> &Scattering2dParams {
        &self.params
    }
    /// The filter bank (f64, at the padded size), built anew from its family or cloned
    /// from the bank given: the transform keeps only its own copies of the filters, in its
    /// precision and on their supports.
    pub fn bank(&self) -> Result<FilterBank2d> {
        Ok(match &self.source {
            params::FilterSource2d::Family(w) => FilterBank2d::with_wavelet(
                self.mp,
                self.np,
                self.params.j,
                self.params.l,
                w.as_ref(),
            )?,
            params::FilterSource2d::Bank(b) => b.as_ref().clone(),
        })
    }
    /// `(channels, rows, columns)` of the output for one image:
    /// `1 + L J + L^2 J (J - 1) / 2` channels of size about `M / 2^J x N / 2^J`.
    pub fn output_shape(&self) -> (usize, usize, usize) {
        (self.meta.len(), self.out.0, self.out.1)
    }
    /// One label per output channel, in output order.
    pub fn meta(&self) -> &[PathMeta2d] {
        &self.meta
    }
    /// Padded size the filters act on.
    pub fn padded_shape(&self) -> (usize, usize) {
        (self.mp, self.np)
    }

    fn check_input<A: Copy + Into<f64>>(&self, x: &ArrayView3<A>) -> Result<()> {
        let (m, n) = self.params.shape;
        check_batch_shape("input", x.shape(), &[m, n], None)?;
        check_finite(x)
    }

    fn workspace(&self, backward: bool) -> Pooled<'_, Workspace2d<T>> {
        let mut ws = self
            .pool
            .take(|| Workspace2d::new(self.mp * self.np, self.plans.scratch_len));
        if backward {
            ws.ensure_backward(self.mp * self.np);
        }
        ws
    }
}

/// Per-thread buffers of a [`Scattering2d`].
struct Workspace2d<T> {
    img: Vec<T>,
    x: Vec<Cx<T>>,
    z1: Vec<Cx<T>>,
    u1: Vec<T>,
    u1c: Vec<Cx<T>>,
    z2: Vec<Cx<T>>,
    u2: Vec<T>,
    /// Packed pairs of moduli `a + i b` (orders 1 and 2) and the second split spectrum.
    pk1: Vec<Cx<T>>,
    pk2: Vec<Cx<T>>,
    s1b: Vec<Cx<T>>,
    buf: Vec<Cx<T>>,
    tmp: Vec<Cx<T>>,
    scratch: Vec<Cx<T>>,
    acc0: Vec<Cx<T>>,
    acc1: Vec<Cx<T>>,
    acc2: Vec<Cx<T>>,
    gu: Vec<T>,
}

impl<T: Real> Workspace2d<T> {
    fn new(len: usize, scratch_len: usize) -> Self {
        let z = Cx::new(T::zero(), T::zero());
        Self {
            img: Vec::new(),
            x: vec![z; len],
            z1: vec![z; len],
            u1: Vec::new(),
            u1c: vec![z; len],
            z2: Vec::new(),
            u2: Vec::new(),
            pk1: vec![z; len],
            pk2: vec![z; len],
            s1b: vec![z; len],
            buf: vec![z; len],
            tmp: vec![z; len],
            scratch: vec![z; scratch_len],
            acc0: Vec::new(),
            acc1: Vec::new(),
            acc2: Vec::new(),
            gu: Vec::new(),
        }
    }

    fn ensure_backward(&mut self, len: usize) {
        if self.acc0.len() != len {
            let z = Cx::new(T::zero(), T::zero());
            self.acc0 = vec![z; len];
            self.u1 = vec![T::zero(); len];
            self.z2 = vec![z; len];
            self.u2 = vec![T::zero(); len];
            self.acc1 = vec![z; len];
            self.acc2 = vec![z; len];
            self.gu = vec![T::zero(); len];
        }
    }
}

impl<T: Real> Scattering2d<T> {
    /// Shape of one input sample.
    fn sample_dims(&self) -> Vec<usize> {
        vec![self.params.shape.0, self.params.shape.1]
    }
    /// Shape of the coefficients of one sample.
    fn coefficient_dims(&self) -> Vec<usize> {
        let (c, a, b) = self.output_shape();
        vec![c, a, b]
    }
}

crate::common::transform::transform_impl!(Scattering2d, PathMeta2d, Ix3, Ix4);
