//! The parameters of a [`SolidHarmonicScattering3d`], checked by `build`.

use super::*;
use crate::error::Result;
use serde::Serialize;

/// Parameters of a [`SolidHarmonicScattering3d`].
///
/// ```
/// use scattering_transform::SolidHarmonicScattering3dParams;
/// let s = SolidHarmonicScattering3dParams::new((16, 16, 16), 2, 2).build()?;
/// assert_eq!(s.output_shape(), (6, 3, 3)); // paths, l = 0..=L, powers (0.5, 1, 2)
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolidHarmonicScattering3dParams {
    /// Volume shape `(z, y, x)`.
    pub shape: (usize, usize, usize),
    /// Largest scale index: widths `sigma_0 2^j`, `j = 0..=J`.
    pub j: usize,
    /// Largest harmonic order.
    pub l: usize,
    /// Width of the finest wavelet, in voxels (Kymatio: 1).
    pub sigma0: f64,
    /// Highest scattering order (1 or 2).
    pub max_order: usize,
    /// Exponents `q` of the integrals `sum U^q` (Kymatio: 0.5, 1, 2).
    pub integral_powers: Vec<f64>,
}

/// The former name of [`SolidHarmonicScattering3dParams`], kept so existing code builds.
pub type SolidScattering3dParams = SolidHarmonicScattering3dParams;

impl SolidHarmonicScattering3dParams {
    /// Kymatio's defaults: sigma_0 = 1, order 2, powers (0.5, 1, 2).
    pub fn new(shape: (usize, usize, usize), j: usize, l: usize) -> Self {
        Self {
            shape,
            j,
            l,
            sigma0: 1.0,
            max_order: 2,
            integral_powers: vec![0.5, 1.0, 2.0],
        }
    }
    /// Width of the finest wavelet.
    pub fn sigma0(mut self, s: f64) -> Self {
        self.sigma0 = s;
        self
    }
    /// Highest order (1 or 2).
    pub fn max_order(mut self, m: usize) -> Self {
        self.max_order = m;
        self
    }
    /// Exponents of the integrals.
    pub fn integral_powers(mut self, q: Vec<f64>) -> Self {
        self.integral_powers = q;
        self
    }
    /// Builds the transform, computing in `f64`.
    pub fn build(self) -> Result<SolidHarmonicScattering3d<f64>> {
        SolidHarmonicScattering3d::new(self)
    }
    /// Builds the transform, computing in `f32`.
    pub fn build_f32(self) -> Result<SolidHarmonicScattering3d<f32>> {
        SolidHarmonicScattering3d::new(self)
    }
}
