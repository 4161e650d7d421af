//! 2D wavelet families: the Fourier spectrum of the band-pass filter at each scale and
//! orientation, and the low-pass. [`FilterBank2d`](crate::FilterBank2d) asks its family for
//! one spectrum per `(j, theta)` and stores it at every resolution the transform needs.

use crate::error::{invalid, Result};
use crate::morlet2d::{gabor_2d, morlet_2d, real_fft2};
use std::f64::consts::PI;
use std::fmt;

/// A family of 2D band-pass filters, sampled in the Fourier domain.
///
/// Implementors return `m * n` real Fourier coefficients, row-major, DFT bin order on both
/// axes (bin `(a, b)` is frequency `(a / m, b / n)` cycles per pixel, upper halves holding
/// the negative frequencies). Filters must be real in Fourier, which the transforms' adjoints
/// rely on: a family defined in space takes the real part of its DFT, as Kymatio does.
pub trait Wavelet2d: Send + Sync {
    /// Short name, reported in errors and metadata.
    fn name(&self) -> &str;
    /// The wavelet of scale `j` (`0..J`, width about `2^j`) and angle `theta` (radians) in a
    /// bank of `l` orientations, on an `m x n` grid.
    fn band_pass(&self, m: usize, n: usize, j: usize, theta: f64, l: usize) -> Result<Vec<f64>>;
    /// The low-pass of a bank of `big_j` scales: Kymatio's Gaussian of width `0.8 2^(J-1)`
    /// unless overridden.
    fn low_pass(&self, m: usize, n: usize, big_j: usize) -> Result<Vec<f64>> {
        let sigma = 0.8 * 2f64.powi(big_j as i32 - 1);
        Ok(real_fft2(m, n, gabor_2d(m, n, sigma, 0.0, 0.0, 1.0)))
    }
}

impl fmt::Debug for dyn Wavelet2d + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Wavelet2d({})", self.name())
    }
}

/// Width in space of Kymatio's wavelet of scale `j`.
pub fn sigma_2d(j: usize) -> f64 {
    0.8 * 2f64.powi(j as i32)
}

/// Centre frequency (radians per pixel) of Kymatio's wavelet of scale `j`.
pub fn xi_2d(j: usize) -> f64 {
    3.0 / 4.0 * PI / 2f64.powi(j as i32)
}

/// Oriented Morlet wavelets (Kymatio's `Scattering2D` filters): Gabor atoms with the
/// zero-mean correction, slant `4 / L`. The default family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Morlet2d;

impl Wavelet2d for Morlet2d {
    fn name(&self) -> &str {
        "morlet"
    }
    fn band_pass(&self, m: usize, n: usize, j: usize, theta: f64, l: usize) -> Result<Vec<f64>> {
        let space = morlet_2d(m, n, sigma_2d(j), theta, xi_2d(j), 4.0 / l as f64);
        Ok(real_fft2(m, n, space))
    }
}

/// Oriented Gabor wavelets: the Morlet family without the zero-mean correction. Their
/// small DC response lets the low frequencies through the modulus (most at the coarsest
/// scale), which Morlet removes; offered for comparisons and for the published results
/// computed with Gabor filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gabor2d;

impl Wavelet2d for Gabor2d {
    fn name(&self) -> &str {
        "gabor"
    }
    fn band_pass(&self, m: usize, n: usize, j: usize, theta: f64, l: usize) -> Result<Vec<f64>> {
        let space = gabor_2d(m, n, sigma_2d(j), theta, xi_2d(j), 4.0 / l as f64);
        Ok(real_fft2(m, n, space))
    }
}

/// A user-defined family from a closure `(omega_y, omega_x, j, theta) -> amplitude` on the
/// Fourier grid (radians per pixel, in `[-pi, pi)`), with Kymatio's Gaussian low-pass.
///
/// ```
/// use scattering_filters::{FnWavelet2d, Wavelet2d};
/// // A log-polar Gaussian bump: one octave per scale, an angular width of pi / 8.
/// let w = FnWavelet2d::new("log-polar", |wy, wx, j, theta| {
///     let r = wy.hypot(wx);
///     if r == 0.0 { return 0.0; }
///     let radial = (-(r / (2.4 / 2f64.powi(j as i32))).log2().powi(2) * 2.0).exp();
///     let (s, c) = (wy.atan2(wx) - theta).sin_cos();
///     let d = s.atan2(c); // angle to the wavelet's direction, in (-pi, pi]
///     radial * (-(d / (std::f64::consts::PI / 8.0)).powi(2)).exp()
/// });
/// let h = w.band_pass(32, 32, 1, 0.0, 8)?;
/// assert_eq!(h.len(), 32 * 32);
/// assert_eq!(h[0], 0.0);
/// # Ok::<(), scattering_filters::FilterError>(())
/// ```
pub struct FnWavelet2d<F> {
    name: String,
    f: F,
}

impl<F: Fn(f64, f64, usize, f64) -> f64 + Send + Sync> FnWavelet2d<F> {
    /// Wraps `f(omega_y, omega_x, j, theta)`.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        Self {
            name: name.into(),
            f,
        }
    }
}

/// Frequency of bin `k` of an `n`-point DFT, in radians per sample, in `[-pi, pi)`.
fn omega(k: usize, n: usize) -> f64 {
    let signed = if k < n.div_ceil(2) {
        k as f64
    } else {
        k as f64 - n as f64
    };
    2.0 * PI * signed / n as f64
}

impl<F: Fn(f64, f64, usize, f64) -> f64 + Send + Sync> Wavelet2d for FnWavelet2d<F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn band_pass(&self, m: usize, n: usize, j: usize, theta: f64, _l: usize) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(m * n);
        for a in 0..m {
            let wy = omega(a, m);
            for b in 0..n {
                let v = (self.f)(wy, omega(b, n), j, theta);
                if !v.is_finite() {
                    return Err(invalid(
                        "wavelet",
                        format!("`{}` returned {v} at scale {j}, angle {theta}", self.name),
                    ));
                }
                out.push(v);
            }
        }
        Ok(out)
    }
}
