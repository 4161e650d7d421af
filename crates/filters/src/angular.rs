//! Periodic wavelets on the rotation angle, for rigid-motion (roto-translation)
//! scattering: the second layer filters the first layer's moduli along the angle `theta`
//! of the spatial wavelets, sampled at `L` points of the circle `[0, 2 pi)`.
//!
//! The filters are defined by their `L` DFT coefficients (real, so each is its own
//! adjoint's mirror). Wavelet `k` (`0..K`) of spin `+1` is a Morlet bump centred at the
//! angular frequency `xi_k = (3 pi / 4) 2^-k` radians per sample with width
//! `sigma_k = xi_k / 3`, minus a multiple of a centred Gaussian so that its mean over the
//! circle is zero; spin `-1` is its mirror `psi(-m)` (the input along the angle is complex,
//! so both signs of frequency carry information). The low-pass is a Gaussian of width
//! `sigma_(K-1) / 2` at frequency zero. All are periodised over the `L` samples, then
//! divided by the square root of their Littlewood-Paley sum, so that
//! `|phi(m)|^2 + sum_(k, spin) |psi_(k, spin)(m)|^2 = 1` at every frequency `m`: the bank
//! is a tight frame on the circle (the angular step preserves energy exactly).
//!
//! ```
//! use scattering_filters::AngularBank;
//! let bank = AngularBank::new(8, 2)?;
//! assert_eq!(bank.psi.len(), 4); // K scales x 2 spins
//! let lp = bank.littlewood_paley();
//! assert!(lp.iter().all(|v| (v - 1.0).abs() < 1e-12));
//! assert!(bank.psi.iter().all(|f| f.hat[0].abs() < 1e-12)); // zero mean
//! # Ok::<(), scattering_filters::FilterError>(())
//! ```

use crate::error::{invalid, Result};
use num_complex::Complex64;
use std::f64::consts::PI;

/// One angular filter: its DFT over the `L` samples of the circle.
#[derive(Debug, Clone, PartialEq)]
pub struct AngularFilter {
    /// Scale index (`0` finest); the low-pass has `k = K`.
    pub k: usize,
    /// `+1` or `-1` for wavelets (the sign of their centre frequency), `0` for the low-pass.
    pub spin: i8,
    /// DFT coefficients, bin `m` = `m` cycles per turn (upper half: negative frequencies).
    pub hat: Vec<f64>,
}

impl AngularFilter {
    /// The filter on the circle: `h(t) = (1 / L) sum_m hat(m) e^(2 pi i m t / L)`, so that
    /// the circular convolution `(h * v)(t) = sum_s h(t - s) v(s)` multiplies the DFT of `v`
    /// by `hat`.
    pub fn kernel(&self) -> Vec<Complex64> {
        let l = self.hat.len();
        (0..l)
            .map(|t| {
                self.hat
                    .iter()
                    .enumerate()
                    .map(|(m, &h)| {
                        Complex64::from_polar(h, 2.0 * PI * (m * t % l) as f64 / l as f64)
                    })
                    .sum::<Complex64>()
                    / l as f64
            })
            .collect()
    }
}

/// Angular wavelets `psi_(k, spin)` for `k` in `0..K`, spins `+1, -1`, and the angular
/// low-pass, on `L` samples of `[0, 2 pi)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AngularBank {
    /// Samples of the circle.
    pub l: usize,
    /// Number of scales.
    pub k: usize,
    /// Wavelets in the order `(k = 0, +1), (k = 0, -1), (k = 1, +1), ...`.
    pub psi: Vec<AngularFilter>,
    /// The low-pass.
    pub phi: AngularFilter,
}

impl AngularBank {
    /// Builds the bank; `L >= 2` and `K` in `0..=log2(L) - 1` (each scale needs an octave of
    /// frequencies below the previous one; `K = 0` keeps only the low-pass, a constant).
    pub fn new(l: usize, k: usize) -> Result<Self> {
        if !(2..=1024).contains(&l) {
            return Err(invalid("L", format!("must be in 2..=1024, got {l}")));
        }
        let max_k = (usize::BITS - 1 - l.leading_zeros()) as usize - 1;
        if k > max_k {
            return Err(invalid(
                "K",
                format!("{l} angles hold at most {max_k} angular scales, got {k}"),
            ));
        }
        let gauss = |w: f64, c: f64, s: f64| (-(w - c).powi(2) / (2.0 * s * s)).exp();
        // Periodise over 2 pi: the bumps are narrow, five periods are plenty.
        let periodic = |f: &dyn Fn(f64) -> f64, m: usize| {
            let nu = if m <= l / 2 {
                m as f64
            } else {
                m as f64 - l as f64
            };
            let w = 2.0 * PI * nu / l as f64;
            (-2..=2).map(|p| f(w + 2.0 * PI * p as f64)).sum::<f64>()
        };
        let mut raw: Vec<(usize, i8, Vec<f64>)> = Vec::with_capacity(2 * k + 1);
        for kk in 0..k {
            let xi = 0.75 * PI / 2f64.powi(kk as i32);
            let sigma = xi / 3.0;
            // The correction is computed on the periodised bumps, so the mean is exactly 0.
            let bump: Vec<f64> = (0..l)
                .map(|m| periodic(&|w| gauss(w, xi, sigma), m))
                .collect();
            let centred: Vec<f64> = (0..l)
                .map(|m| periodic(&|w| gauss(w, 0.0, sigma), m))
                .collect();
            let beta = bump[0] / centred[0];
            let hat_up: Vec<f64> = bump
                .iter()
                .zip(&centred)
                .map(|(b, c)| b - beta * c)
                .collect();
            // Spin -1 is the mirror: hat(-m).
            let hat_down: Vec<f64> = (0..l).map(|m| hat_up[(l - m) % l]).collect();
            raw.push((kk, 1, hat_up));
            raw.push((kk, -1, hat_down));
        }
        let sigma_phi = if k == 0 {
            // No wavelets: the low-pass alone must cover everything it can, and the
            // normalisation below makes it the identity; a constant then needs `hat = 1`.
            f64::INFINITY
        } else {
            0.75 * PI / 2f64.powi(k as i32 - 1) / 6.0
        };
        let lp_fn = move |w: f64| {
            if sigma_phi.is_infinite() {
                0.2 // five periods summed: 1 everywhere
            } else {
                gauss(w, 0.0, sigma_phi)
            }
        };
        let phi_raw: Vec<f64> = (0..l).map(|m| periodic(&lp_fn, m)).collect();
        // Tight frame: divide by sqrt of the Littlewood-Paley sum.
        let mut lp = phi_raw.iter().map(|v| v * v).collect::<Vec<f64>>();
        for (_, _, h) in &raw {
            for (s, v) in lp.iter_mut().zip(h) {
                *s += v * v;
            }
        }
        if lp.iter().any(|&v| v < 1e-30 || !v.is_finite()) {
            return Err(invalid(
                "K",
                format!("the angular bank of L = {l}, K = {k} leaves a frequency uncovered"),
            ));
        }
        let norm =
            |h: Vec<f64>| -> Vec<f64> { h.iter().zip(&lp).map(|(v, s)| v / s.sqrt()).collect() };
        let psi = raw
            .into_iter()
            .map(|(kk, spin, h)| AngularFilter {
                k: kk,
                spin,
                hat: norm(h),
            })
            .collect();
        let phi = AngularFilter {
            k,
            spin: 0,
            hat: norm(phi_raw),
        };
        Ok(Self { l, k, psi, phi })
    }

    /// `|phi(m)|^2 + sum |psi(m)|^2` at every DFT bin: exactly 1 (a tight frame).
    pub fn littlewood_paley(&self) -> Vec<f64> {
        let mut lp: Vec<f64> = self.phi.hat.iter().map(|v| v * v).collect();
        for f in &self.psi {
            for (s, v) in lp.iter_mut().zip(&f.hat) {
                *s += v * v;
            }
        }
        lp
    }

    /// The low-pass first, then the wavelets: the order of the angular channels of
    /// rigid-motion scattering.
    pub fn filters(&self) -> impl Iterator<Item = &AngularFilter> {
        std::iter::once(&self.phi).chain(self.psi.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wavelets_peak_at_their_centre_and_have_zero_mean() {
        let bank = AngularBank::new(16, 3).unwrap();
        for f in &bank.psi {
            assert!(f.hat[0].abs() < 1e-12);
            let peak = (0..16)
                .max_by(|&a, &b| f.hat[a].abs().total_cmp(&f.hat[b].abs()))
                .unwrap();
            let nu = if peak <= 8 {
                peak as f64
            } else {
                peak as f64 - 16.0
            };
            let centre = 0.75 * 8.0 / 2f64.powi(f.k as i32) * f.spin as f64;
            assert!(
                (nu - centre).abs() <= 1.0,
                "k {} spin {}: peak at {nu}, centre {centre}",
                f.k,
                f.spin
            );
        }
        assert!(bank.phi.hat[0] > 0.99);
    }

    #[test]
    fn kernel_is_the_inverse_dft() {
        let bank = AngularBank::new(8, 2).unwrap();
        let f = &bank.psi[1];
        let h = f.kernel();
        for m in 0..8 {
            let back: Complex64 = (0..8)
                .map(|t| h[t] * Complex64::from_polar(1.0, -2.0 * PI * (m * t) as f64 / 8.0))
                .sum();
            assert!((back.re - f.hat[m]).abs() < 1e-12 && back.im.abs() < 1e-12);
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(AngularBank::new(1, 0).is_err());
        assert!(AngularBank::new(8, 3).is_err());
        let only_lowpass = AngularBank::new(8, 0).unwrap();
        assert!(only_lowpass.phi.hat.iter().all(|v| (v - 1.0).abs() < 1e-12));
    }
}
