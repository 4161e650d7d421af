//! A log-Gaussian Cox process on a periodic `l × l` grid: a Gaussian random field `g` with a
//! Gaussian-shaped spectrum (correlation length `ℓ` pixels) sets the intensity
//! `λ(x) = exp(μ + g(x))`, and each pixel receives a Poisson number of points.

use crate::error::{ModelError, Result};
use num_complex::Complex64;
use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

/// Largest mean number of points per pixel: far above any point pattern, and well below
/// the Poisson sampler's limit once the log-normal intensity multiplies it.
pub const MAX_MEAN: f64 = 1e6;
/// Largest standard deviation of the log-intensity: `exp(5 sigma)` must stay a sane factor.
pub const MAX_SIGMA: f64 = 3.0;
use scattering_engine::fourier2d::Fft2d;

/// Parameters of the log-Gaussian Cox process.
#[derive(Debug, Clone, Copy)]
pub struct Cox {
    /// Grid side (pixels).
    pub l: usize,
    /// Mean number of points per pixel.
    pub mean_per_pixel: f64,
    /// Standard deviation of the log-intensity field.
    pub sigma: f64,
    /// Correlation length of the log-intensity field, in pixels.
    pub corr_length: f64,
}

impl Cox {
    /// A stationary Gaussian field of variance `sigma²` (periodic), row-major.
    pub fn log_intensity(&self, rng: &mut impl Rng) -> Result<Vec<f64>> {
        self.check()?;
        let l = self.l;
        let fft = Fft2d::new(l, l);
        let mut a: Vec<Complex64> = (0..l * l)
            .map(|_| Complex64::new(StandardNormal.sample(rng), 0.0))
            .collect();
        fft.process(&mut a, false);
        // Amplitude filter exp(−|k|² ℓ² / 4): the field's spectrum is exp(−|k|² ℓ² / 2).
        for i in 0..l {
            for j in 0..l {
                let fi = (i.min(l - i) as f64) * 2.0 * std::f64::consts::PI / l as f64;
                let fj = (j.min(l - j) as f64) * 2.0 * std::f64::consts::PI / l as f64;
                a[i * l + j] *=
                    (-(fi * fi + fj * fj) * self.corr_length * self.corr_length / 4.0).exp();
            }
        }
        // The field is rescaled to standard deviation sigma below, so the FFT scale is moot.
        fft.process(&mut a, true);
        let g: Vec<f64> = a.iter().map(|c| c.re).collect();
        let m = g.iter().sum::<f64>() / g.len() as f64;
        let sd = (g.iter().map(|v| (v - m).powi(2)).sum::<f64>() / g.len() as f64).sqrt();
        Ok(g.iter()
            .map(|v| self.sigma * (v - m) / sd.max(f64::MIN_POSITIVE))
            .collect())
    }

    /// Point counts per pixel, row-major.
    pub fn sample(&self, rng: &mut impl Rng) -> Result<Vec<f64>> {
        let g = self.log_intensity(rng)?;
        // E exp(g) = exp(σ² / 2), so this μ gives the requested mean.
        let mu = self.mean_per_pixel.ln() - self.sigma * self.sigma / 2.0;
        g.iter()
            .map(|v| {
                let lam = (mu + v).exp();
                if lam <= 0.0 {
                    return Ok(0.0);
                }
                Poisson::new(lam)
                    .map(|p| p.sample(rng))
                    .map_err(|e| ModelError::Param(e.to_string()))
            })
            .collect()
    }

    fn check(&self) -> Result<()> {
        // Written as "valid" checks so that NaN parameters are rejected too; each names
        // the parameter and what it must be.
        let bad = |what: String| Err(ModelError::Param(format!("Cox process: {what}")));
        let num = |v: f64| {
            if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
                format!("{v}")
            } else {
                format!("{v:e}")
            }
        };
        if self.l < 2 {
            return bad(format!(
                "the side must be at least 2 pixels, got {}",
                self.l
            ));
        }
        if !(self.mean_per_pixel.is_finite()
            && self.mean_per_pixel > 0.0
            && self.mean_per_pixel <= MAX_MEAN)
        {
            return bad(format!(
                "the mean number of points per pixel must be in (0, {MAX_MEAN:e}], got {}",
                num(self.mean_per_pixel)
            ));
        }
        if !(0.0..=MAX_SIGMA).contains(&self.sigma) {
            return bad(format!(
                "the standard deviation of the log-intensity must be in [0, {MAX_SIGMA}], got {}",
                num(self.sigma)
            ));
        }
        if !(self.corr_length.is_finite() && self.corr_length > 0.0) {
            return bad(format!(
                "the correlation length must be positive, got {}",
                num(self.corr_length)
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn counts_have_the_requested_mean_and_cox_overdispersion() {
        // Var N = m + m² (e^{σ²} − 1) per pixel (Poisson noise plus intensity variance).
        let mut rng = StdRng::seed_from_u64(8);
        let c = Cox {
            l: 128,
            mean_per_pixel: 2.0,
            sigma: 0.7,
            corr_length: 4.0,
        };
        let (mut mean, mut var) = (0.0, 0.0);
        let reps = 8;
        for _ in 0..reps {
            let n = c.sample(&mut rng).unwrap();
            let m = n.iter().sum::<f64>() / n.len() as f64;
            mean += m / reps as f64;
            var += n.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n.len() as f64 / reps as f64;
        }
        let expected = 2.0 + 4.0 * ((0.49f64).exp() - 1.0);
        assert!((mean - 2.0).abs() < 0.1, "mean {mean}");
        assert!(
            (var / expected - 1.0).abs() < 0.15,
            "variance {var}, expected {expected}"
        );
        // A plain Poisson process (σ = 0) has variance = mean.
        let p = Cox { sigma: 0.0, ..c }.sample(&mut rng).unwrap();
        let m = p.iter().sum::<f64>() / p.len() as f64;
        let v = p.iter().map(|x| (x - m).powi(2)).sum::<f64>() / p.len() as f64;
        assert!((v / m - 1.0).abs() < 0.05);
        assert!(Cox { l: 1, ..c }.sample(&mut rng).is_err());
        // Each bad parameter is named, never printed as a Debug struct; huge intensities
        // are refused before the Poisson sampler would fail on them.
        for (bad, word) in [
            (
                Cox {
                    mean_per_pixel: 0.0,
                    ..c
                },
                "mean number",
            ),
            (
                Cox {
                    mean_per_pixel: 1e300,
                    ..c
                },
                "1e300",
            ),
            (Cox { sigma: 10.0, ..c }, "standard deviation"),
            (
                Cox {
                    sigma: f64::NAN,
                    ..c
                },
                "standard deviation",
            ),
            (
                Cox {
                    corr_length: -1.0,
                    ..c
                },
                "correlation length",
            ),
        ] {
            let e = bad.sample(&mut rng).unwrap_err().to_string();
            assert!(e.contains(word) && !e.contains("Cox {"), "{e}");
        }
    }
}
