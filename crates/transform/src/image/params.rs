//! The parameters of a [`Scattering2d`], checked by `build`.

use super::*;
use crate::common::Averaging;
use crate::common::Padding;
use crate::error::{invalid, Result};
use scattering_engine::Real;
use scattering_filters::morlet2d::psi_levels;
use scattering_filters::{Filter2d, FilterBank2d, Morlet2d, Wavelet2d};
use serde::Serialize;
use std::sync::Arc;

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
    /// Builds the transform with Morlet wavelets, computing in `f64`.
    pub fn build(self) -> Result<Scattering2d<f64>> {
        self.build_with_wavelet(Morlet2d)
    }
    /// Builds the transform with Morlet wavelets, computing in `f32`.
    pub fn build_f32(self) -> Result<Scattering2d<f32>> {
        self.build_with_wavelet(Morlet2d)
    }
    /// Builds the transform with another wavelet family, in the precision `T`.
    ///
    /// ```
    /// use scattering_filters::Gabor2d;
    /// use scattering_transform::Scattering2dParams;
    /// let s = Scattering2dParams::new((32, 32), 2).build_with_wavelet::<f64>(Gabor2d)?;
    /// assert_eq!(s.bank()?.wavelet, "gabor");
    /// # Ok::<(), scattering_transform::TransformError>(())
    /// ```
    pub fn build_with_wavelet<T: Real>(
        self,
        wavelet: impl Wavelet2d + 'static,
    ) -> Result<Scattering2d<T>> {
        Scattering2d::new(self, FilterSource2d::Family(Arc::new(wavelet)))
    }
    /// Builds the transform on a prebuilt bank: of size [`Self::padded_shape`], with `J`
    /// and `L` equal to the parameters', `J L` wavelets each stored at the resolutions
    /// [`psi_levels`] gives and a low-pass at resolutions `0..J`, all finite.
    pub fn build_with_bank<T: Real>(self, bank: FilterBank2d) -> Result<Scattering2d<T>> {
        Scattering2d::new(self, FilterSource2d::Bank(Arc::new(bank)))
    }
}

/// Where a 2D transform's filters come from; kept so that [`Scattering2d::bank`] can give
/// them back.
#[derive(Clone)]
pub(super) enum FilterSource2d {
    /// A family, built at the padded size.
    Family(Arc<dyn Wavelet2d>),
    /// A bank the caller built.
    Bank(Arc<FilterBank2d>),
}

/// Checks a prebuilt bank against the sizes the transform needs.
pub(super) fn check_bank(
    bank: &FilterBank2d,
    mp: usize,
    np: usize,
    j: usize,
    l: usize,
) -> Result<()> {
    let bad = |reason: String| Err(invalid("bank", reason));
    if (bank.m, bank.n, bank.j, bank.l) != (mp, np, j, l) {
        return bad(format!(
            "bank is {}x{} with J = {}, L = {}; the transform needs {mp}x{np}, J = {j}, L = {l}",
            bank.m, bank.n, bank.j, bank.l
        ));
    }
    if bank.psi.len() != j * l {
        return bad(format!(
            "bank has {} wavelets, expected J L = {}",
            bank.psi.len(),
            j * l
        ));
    }
    let levels_ok = |f: &Filter2d, need: usize| {
        f.levels.len() >= need
            && f.levels.iter().enumerate().all(|(r, s)| {
                s.m == mp >> r
                    && s.n == np >> r
                    && s.data.len() == s.m * s.n
                    && s.data.iter().all(|v| v.is_finite())
            })
    };
    for (idx, f) in bank.psi.iter().enumerate() {
        if (f.j, f.theta) != (idx / l, idx % l) {
            return bad(format!(
                "wavelet {idx} has (j, theta) = ({}, {}), expected ({}, {})",
                f.j,
                f.theta,
                idx / l,
                idx % l
            ));
        }
        if !levels_ok(f, psi_levels(j, f.j)) {
            return bad(format!(
                "wavelet {idx} needs {} finite levels of sizes (M/2^r, N/2^r)",
                psi_levels(j, f.j)
            ));
        }
    }
    if !levels_ok(&bank.phi, j) {
        return bad(format!(
            "the low-pass needs {j} finite levels of sizes (M/2^r, N/2^r)"
        ));
    }
    Ok(())
}
