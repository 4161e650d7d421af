//! The parameters of a [`RigidMotionScattering`], checked by `build`.

use super::RigidMotionScattering;
use crate::common::{Averaging, Padding};
use crate::error::Result;
use scattering_engine::Real;
use scattering_filters::{Morlet2d, Wavelet2d};
use serde::Serialize;
use std::sync::Arc;

/// How the coefficients are averaged along the rotation angle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum AngularAveraging {
    /// The mean over all `L` angles: one value per path, invariant to rotations of the
    /// image by multiples of `2 pi / L` (about the origin of a periodic image).
    #[default]
    Global,
    /// A window: the angular low-pass, keeping the `L` angles (covariant to rotations).
    Window,
}

/// Parameters of a [`RigidMotionScattering`], set with builder methods and checked by
/// `build`.
///
/// ```
/// use scattering_transform::RigidMotionParams;
/// // 32 x 32 images, J = 3, L = 8 angles over [0, 2 pi), K = 2 angular scales.
/// let s = RigidMotionParams::new((32, 32), 3).l(8).k(2).build()?;
/// // 1 + J + J (J - 1) / 2 * (L / 2) * (2 K + 1) channels.
/// assert_eq!(s.output_shape(), (64, 4, 4));
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RigidMotionParams {
    /// Image size `(rows, columns)`.
    pub shape: (usize, usize),
    /// Number of spatial scales; outputs are subsampled by 2^J.
    pub j: usize,
    /// Number of angles over `[0, 2 pi)` (even; divisible by 4 for 90-degree invariance).
    pub l: usize,
    /// Number of angular wavelet scales (each with two spins), `0..=log2(L) - 1`.
    pub k: usize,
    /// Highest order (0, 1 or 2).
    pub max_order: usize,
    /// Boundary handling, as in [`crate::Scattering2dParams`].
    pub padding: Padding,
    /// Spatial averaging: `Local` (low-pass at 2^J, subsampled) or `Global` (the mean).
    pub average: Averaging,
    /// Averaging along the angle.
    pub angular: AngularAveraging,
    /// Sifre and Mallat's scale-invariant variant: every path is averaged over `j1` with the
    /// scale gap `j2 - j1` (order 2) fixed, and order 1 over all `j1`.
    pub scale_invariant: bool,
}

impl RigidMotionParams {
    /// Defaults: `L = 8`, `K = 2`, order 2, reflect padding, local spatial averaging,
    /// global angular averaging.
    pub fn new(shape: (usize, usize), j: usize) -> Self {
        Self {
            shape,
            j,
            l: 8,
            k: 2,
            max_order: 2,
            padding: Padding::Reflect,
            average: Averaging::Local,
            angular: AngularAveraging::Global,
            scale_invariant: false,
        }
    }
    /// Number of angles over `[0, 2 pi)`.
    pub fn l(mut self, l: usize) -> Self {
        self.l = l;
        self
    }
    /// Number of angular scales.
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Highest order.
    pub fn max_order(mut self, m: usize) -> Self {
        self.max_order = m;
        self
    }
    /// Boundary handling.
    pub fn padding(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }
    /// Spatial averaging.
    pub fn average(mut self, a: Averaging) -> Self {
        self.average = a;
        self
    }
    /// Angular averaging.
    pub fn angular(mut self, a: AngularAveraging) -> Self {
        self.angular = a;
        self
    }
    /// The scale-invariant variant.
    pub fn scale_invariant(mut self, on: bool) -> Self {
        self.scale_invariant = on;
        self
    }
    /// Builds the transform with Morlet wavelets, computing in `f64`.
    pub fn build(self) -> Result<RigidMotionScattering<f64>> {
        self.build_with_wavelet(Morlet2d)
    }
    /// Builds the transform with Morlet wavelets, computing in `f32`.
    pub fn build_f32(self) -> Result<RigidMotionScattering<f32>> {
        self.build_with_wavelet(Morlet2d)
    }
    /// Builds the transform with another spatial wavelet family, in the precision `T`.
    pub fn build_with_wavelet<T: Real>(
        self,
        wavelet: impl Wavelet2d + 'static,
    ) -> Result<RigidMotionScattering<T>> {
        RigidMotionScattering::new(self, Arc::new(wavelet))
    }
}
