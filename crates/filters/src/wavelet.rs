//! Mother-wavelet families: the shape of each band-pass filter given its centre frequency
//! and bandwidth. A bank asks its family for one filter per `(xi, sigma)` pair, so any
//! family plugs into the same bank parameters (J, Q, T).

use crate::error::{FilterError, Result};
use crate::morlet1d;

/// A family of 1D band-pass filters, sampled in the Fourier domain.
///
/// Implementors return `n` real Fourier coefficients in DFT bin order (index `k` is
/// frequency `k / n` cycles per sample, the upper half holds negative frequencies).
/// Filters must be real in Fourier (symmetric envelopes), which the transforms rely on
/// for their adjoints.
pub trait Wavelet1d: Send + Sync {
    /// Short name, reported in errors and metadata.
    fn name(&self) -> &str;
    /// The band-pass filter centred on `xi` (cycles per sample) with bandwidth `sigma`.
    fn band_pass(&self, n: usize, xi: f64, sigma: f64) -> Result<Vec<f64>>;
    /// The low-pass filter of bandwidth `sigma`; a unit-DC Gaussian unless overridden.
    fn low_pass(&self, n: usize, sigma: f64) -> Result<Vec<f64>> {
        morlet1d::gauss_1d(n, sigma)
    }
}

/// Morlet wavelets: Gabor atoms corrected to exactly zero mean (Kymatio's choice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Morlet;

impl Wavelet1d for Morlet {
    fn name(&self) -> &str {
        "morlet"
    }
    fn band_pass(&self, n: usize, xi: f64, sigma: f64) -> Result<Vec<f64>> {
        morlet1d::morlet_1d(n, xi, sigma)
    }
}

/// Gabor wavelets: Gaussian windows centred on `xi`, without zero-mean correction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gabor;

impl Wavelet1d for Gabor {
    fn name(&self) -> &str {
        "gabor"
    }
    fn band_pass(&self, n: usize, xi: f64, sigma: f64) -> Result<Vec<f64>> {
        morlet1d::gabor_1d(n, xi, sigma)
    }
}

/// A user-defined family from a closure `(frequency, xi, sigma) -> amplitude`, evaluated
/// on numpy's `fftfreq(n)` grid and normalised to unit l1 norm in time like the others.
///
/// ```
/// use scattering_filters::{FnWavelet, Wavelet1d};
/// // A Gaussian bump in log-frequency, zero at DC and for negative frequencies.
/// let w = FnWavelet::new("log-gabor", |f, xi, sigma| {
///     if f <= 0.0 { 0.0 } else { (-(f / xi).ln().powi(2) / (2.0 * (sigma / xi).powi(2))).exp() }
/// });
/// let h = w.band_pass(256, 0.25, 0.05)?;
/// assert_eq!(h.len(), 256);
/// assert_eq!(h[0], 0.0);
/// # Ok::<(), scattering_filters::FilterError>(())
/// ```
pub struct FnWavelet<F> {
    name: String,
    f: F,
}

impl<F: Fn(f64, f64, f64) -> f64 + Send + Sync> FnWavelet<F> {
    /// Wraps `f(frequency, xi, sigma)`; frequencies are in cycles per sample, in [-0.5, 0.5).
    pub fn new(name: impl Into<String>, f: F) -> Self {
        Self {
            name: name.into(),
            f,
        }
    }
}

impl<F: Fn(f64, f64, f64) -> f64 + Send + Sync> Wavelet1d for FnWavelet<F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn band_pass(&self, n: usize, xi: f64, sigma: f64) -> Result<Vec<f64>> {
        let mut h: Vec<f64> = morlet1d::fft_frequencies(n)
            .into_iter()
            .map(|w| (self.f)(w, xi, sigma))
            .collect();
        if let Some(bad) = h.iter().find(|v| !v.is_finite()) {
            return Err(FilterError::Degenerate {
                xi,
                sigma,
                reason: format!("wavelet `{}` returned {bad}", self.name),
            });
        }
        morlet1d::normalize_l1(&mut h, xi, sigma)?;
        Ok(h)
    }
}
