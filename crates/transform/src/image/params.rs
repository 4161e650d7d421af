//! The parameters of a [`Scattering2d`], checked by `build`.

use super::*;
use crate::common::Averaging;
use crate::common::Padding;
use crate::error::Result;
use serde::Serialize;

/// Parameters of a [`Scattering2d`], set with builder methods and checked by `build`.
///
/// ```
/// use scattering_transform::Scattering2dParams;
/// let s = Scattering2dParams::new((32, 32), 2).l(8).build()?;
/// assert_eq!(s.output_shape(), (81, 8, 8));
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scattering2dParams {
    /// Image size `(rows, columns)`.
    pub shape: (usize, usize),
    /// Number of scales; outputs are subsampled by 2^J.
    pub j: usize,
    /// Number of orientations (Kymatio's default 8).
    pub l: usize,
    /// Highest order (0, 1 or 2).
    pub max_order: usize,
    /// Boundary handling: Kymatio's reflection (default), or periodic images (no padding;
    /// sides must be multiples of 2^J; output exactly `M / 2^J x N / 2^J`).
    pub padding: Padding,
    /// `Local`: low-pass at scale 2^J and subsample (Kymatio). `Global`: the mean of each
    /// modulus over the image, one value per channel (expected scattering).
    pub average: Averaging,
}

impl Scattering2dParams {
    /// Kymatio's defaults: L = 8, order 2, reflect padding.
    pub fn new(shape: (usize, usize), j: usize) -> Self {
        Self {
            shape,
            j,
            l: 8,
            max_order: 2,
            padding: Padding::Reflect,
            average: Averaging::Local,
        }
    }
    /// Local (Kymatio) or global averaging.
    pub fn average(mut self, a: Averaging) -> Self {
        self.average = a;
        self
    }
    /// Boundary handling.
    pub fn padding(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }
    /// Number of orientations.
    pub fn l(mut self, l: usize) -> Self {
        self.l = l;
        self
    }
    /// Highest order.
    pub fn max_order(mut self, m: usize) -> Self {
        self.max_order = m;
        self
    }
    /// Builds the transform, computing in `f64`.
    pub fn build(self) -> Result<Scattering2d<f64>> {
        Scattering2d::new(self)
    }
    /// Builds the transform, computing in `f32`.
    pub fn build_f32(self) -> Result<Scattering2d<f32>> {
        Scattering2d::new(self)
    }
}
