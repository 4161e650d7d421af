//! The parameters of a [`SolidHarmonicScattering3d`], checked by `build`.

use super::*;
use crate::error::{invalid, Result};
use num_complex::Complex64;
use scattering_engine::Real;
use scattering_filters::solid_harmonic::SolidHarmonicRows;
use scattering_filters::{RadialProfile3d, SolidHarmonicBank};
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
    /// Builds the transform with the wavelets of another radial profile, in the precision
    /// `T`. The fast line-formed filters apply when the profile gives them
    /// ([`RadialProfile3d::rows`]) and they match the dense ones; every other filter is
    /// stored on its support.
    ///
    /// ```
    /// use scattering_filters::FnRadial3d;
    /// use scattering_transform::SolidHarmonicScattering3dParams;
    /// let narrow = FnRadial3d::new("gauss-l+2", |r: f64, s: f64, l: usize| {
    ///     (r * s).powi(l as i32 + 2) * (-0.5 * (r * s).powi(2)).exp()
    /// });
    /// let s = SolidHarmonicScattering3dParams::new((16, 16, 16), 2, 2)
    ///     .build_with_profile::<f64>(&narrow)?;
    /// assert_eq!(s.output_shape(), (6, 3, 3));
    /// # Ok::<(), scattering_transform::TransformError>(())
    /// ```
    pub fn build_with_profile<T: Real>(
        self,
        profile: &dyn RadialProfile3d,
    ) -> Result<SolidHarmonicScattering3d<T>> {
        SolidHarmonicScattering3d::with_filters(self, SolidSource::Profile(profile), true)
    }
    /// Builds the transform on a prebuilt bank: its shape, `J` and `L` must be the
    /// parameters', with `2l + 1` finite filters of the volume's size per `(l, j)`. Its
    /// filters are stored (no line form), and `sigma0` of the parameters is not used.
    pub fn build_with_bank<T: Real>(
        self,
        bank: &SolidHarmonicBank,
    ) -> Result<SolidHarmonicScattering3d<T>> {
        SolidHarmonicScattering3d::with_filters(self, SolidSource::Bank(bank), true)
    }
}

/// Where a 3D transform's wavelets come from.
#[derive(Clone, Copy)]
pub(super) enum SolidSource<'a> {
    /// Built from a radial profile at the widths `sigma0 2^j`.
    Profile(&'a dyn RadialProfile3d),
    /// Given whole.
    Bank(&'a SolidHarmonicBank),
}

impl SolidSource<'_> {
    /// The dense wavelets of `(l, j)` and, when the source has one, their line form.
    pub(super) fn filters(
        self,
        params: &SolidHarmonicScattering3dParams,
        l: usize,
        j: usize,
    ) -> Result<(Vec<Vec<Complex64>>, Option<SolidHarmonicRows>)> {
        match self {
            Self::Profile(p) => {
                let sigma = params.sigma0 * 2f64.powi(j as i32);
                Ok((
                    p.filters(params.shape, sigma, l)?,
                    p.rows(params.shape, sigma, l),
                ))
            }
            Self::Bank(b) => Ok((b.filters[l][j].clone(), None)),
        }
    }

    /// Checks a prebuilt bank against the parameters.
    pub(super) fn check(self, params: &SolidHarmonicScattering3dParams) -> Result<()> {
        let Self::Bank(b) = self else { return Ok(()) };
        let bad = |reason: String| Err(invalid("bank", reason));
        if (b.shape, b.j, b.l) != (params.shape, params.j, params.l) {
            return bad(format!(
                "bank has shape {:?}, J = {}, L = {}; the transform needs {:?}, J = {}, L = {}",
                b.shape, b.j, b.l, params.shape, params.j, params.l
            ));
        }
        let len = params.shape.0 * params.shape.1 * params.shape.2;
        if b.filters.len() != params.l + 1 {
            return bad(format!(
                "bank has {} orders, expected L + 1",
                b.filters.len()
            ));
        }
        for (l, per_l) in b.filters.iter().enumerate() {
            if per_l.len() != params.j + 1 {
                return bad(format!(
                    "order {l} has {} scales, expected J + 1",
                    per_l.len()
                ));
            }
            for (j, fs) in per_l.iter().enumerate() {
                if fs.len() != 2 * l + 1
                    || fs.iter().any(|f| {
                        f.len() != len || f.iter().any(|v| !(v.re.is_finite() && v.im.is_finite()))
                    })
                {
                    return bad(format!(
                        "(l, j) = ({l}, {j}) needs {} finite filters of {len} values",
                        2 * l + 1
                    ));
                }
            }
        }
        Ok(())
    }
}
