//! The parameters of a [`Scattering1d`], checked by `build`.

use super::*;
use crate::common::padding::Padding;
use crate::common::Averaging;
use crate::error::Result;
use scattering_engine::Real;
use scattering_filters::{
    AndenLayout, FilterBank1d, FrequencyLayout, Morlet, Reduction, Wavelet1d,
};
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
    /// Bandwidth of the low-pass times T, and of the widest wavelets times 2^J (Kymatio: 0.1).
    pub sigma0: f64,
    /// Neighbouring wavelets meet at this fraction of their peak (Kymatio: sqrt(1/2)).
    pub r_psi: f64,
    /// Aliasing tolerance of the subsampling after each wavelet (Kymatio: 5).
    pub alpha: f64,
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
            sigma0: 0.1,
            r_psi: std::f64::consts::FRAC_1_SQRT_2,
            alpha: 5.0,
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
    /// Bank parameter `sigma0` (see the field).
    pub fn sigma0(mut self, sigma0: f64) -> Self {
        self.sigma0 = sigma0;
        self
    }
    /// Bank parameter `r_psi` (see the field).
    pub fn r_psi(mut self, r_psi: f64) -> Self {
        self.r_psi = r_psi;
        self
    }
    /// Bank parameter `alpha` (see the field).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Builds the transform with Morlet wavelets, computing in `f64`.
    pub fn build(self) -> Result<Scattering1d<f64>> {
        self.build_with_family(&Morlet, &AndenLayout)
    }
    /// Builds the transform with Morlet wavelets, computing in `f32`: about twice as fast,
    /// with relative errors around 1e-6 (filters are built in `f64`, then rounded).
    pub fn build_f32(self) -> Result<Scattering1d<f32>> {
        self.build_with_family(&Morlet, &AndenLayout)
    }
    /// Builds the transform with another wavelet family in Andén's layout, in the
    /// precision `T`.
    pub fn build_with_wavelet<T: Real>(self, wavelet: &dyn Wavelet1d) -> Result<Scattering1d<T>> {
        self.build_with_family(wavelet, &AndenLayout)
    }
    /// Builds the transform with a wavelet family and a frequency layout of the caller's.
    ///
    /// ```
    /// use scattering_filters::{AndenLayout, Gabor};
    /// use scattering_transform::Scattering1dParams;
    /// let s = Scattering1dParams::new(1024, 6)
    ///     .q((8, 1))
    ///     .build_with_family::<f64>(&Gabor, &AndenLayout)?;
    /// assert_eq!(s.bank().wavelet, "gabor");
    /// # Ok::<(), scattering_transform::TransformError>(())
    /// ```
    pub fn build_with_family<T: Real>(
        self,
        wavelet: &dyn Wavelet1d,
        layout: &dyn FrequencyLayout,
    ) -> Result<Scattering1d<T>> {
        Scattering1d::new(self, BankSource::Family(wavelet, layout))
    }
    /// Builds the transform on a prebuilt bank (for instance one loaded from disk or
    /// edited by hand). The bank must be at the padded length
    /// [`Scattering1dParams::padded_length`] gives, with every filter level the paths need
    /// (level `k` of length `n / 2^k`) and finite values; the path table follows its
    /// filters' `j`. The bank parameters of `self` (Q, sigma0, ...) are not used.
    pub fn build_with_bank<T: Real>(self, bank: FilterBank1d) -> Result<Scattering1d<T>> {
        Scattering1d::new(self, BankSource::Bank(bank))
    }
}

/// Where a transform's filters come from.
pub(super) enum BankSource<'a> {
    /// Built from a family and a layout.
    Family(&'a dyn Wavelet1d, &'a dyn FrequencyLayout),
    /// Given whole by the caller.
    Bank(FilterBank1d),
}
