//! The parameters of a [`Scattering1d`], checked by `build`.

use super::*;
use crate::common::padding::Padding;
use crate::common::Averaging;
use crate::error::Result;
use scattering_engine::Real;
use scattering_filters::{Morlet, Reduction, Wavelet1d};
use serde::Serialize;

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
