//! 3D solid harmonic wavelets (Eickenberg et al.): a Gaussian times a solid harmonic
//! `r^l Y_l^m`, built in the Fourier domain exactly as Kymatio's `HarmonicScattering3D`,
//! including its angle convention (the polar angle is measured from the -z axis: latitude
//! plus pi/2), so that filters agree with it. Axis 0 of a volume is z, axis 2 is x.

use crate::error::{invalid, Result};
use num_complex::Complex64;
use rayon::prelude::*;
use std::f64::consts::PI;

/// Associated Legendre function `P_l^m(x)` for `0 <= m <= l`, with the Condon-Shortley
/// phase (scipy's `lpmv`).
pub fn legendre(l: usize, m: usize, x: f64) -> f64 {
    let mut pmm = 1.0;
    if m > 0 {
        let s = ((1.0 - x) * (1.0 + x)).max(0.0).sqrt();
        let mut fact = 1.0;
        for _ in 0..m {
            pmm *= -fact * s;
            fact += 2.0;
        }
    }
    if l == m {
        return pmm;
    }
    let mut pmmp1 = x * (2 * m + 1) as f64 * pmm;
    if l == m + 1 {
        return pmmp1;
    }
    let mut pll = 0.0;
    for ll in m + 2..=l {
        pll = ((2 * ll - 1) as f64 * x * pmmp1 - (ll + m - 1) as f64 * pmm) / (ll - m) as f64;
        pmm = pmmp1;
        pmmp1 = pll;
    }
    pll
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

/// Spherical harmonic `Y_l^m` in scipy's `sph_harm(m, l, theta, phi)` convention:
/// `theta` azimuthal, `phi` polar, orthonormal, Condon-Shortley phase.
pub fn sph_harm(m: i64, l: usize, theta: f64, phi: f64) -> Complex64 {
    let am = m.unsigned_abs() as usize;
    if am > l {
        return Complex64::new(0.0, 0.0);
    }
    let norm = ((2 * l + 1) as f64 / (4.0 * PI) * factorial(l - am) / factorial(l + am)).sqrt();
    let y = Complex64::from_polar(norm * legendre(l, am, phi.cos()), am as f64 * theta);
    if m >= 0 {
        y
    } else {
        // Y_l^{-m} = (-1)^m conj(Y_l^m)
        let sign = if am % 2 == 0 { 1.0 } else { -1.0 };
        y.conj() * sign
    }
}

/// Kymatio's normalisation of the order-`l` solid harmonic wavelet (before the Fourier
/// factor `(2 pi)^{3/2} (-i)^l`).
fn norm_factor(l: usize) -> f64 {
    if l % 2 == 0 {
        let double_fact: f64 = (1..=l + 1).step_by(2).map(|k| k as f64).product();
        1.0 / (2.0 * PI * (l as f64 + 0.5).sqrt() * double_fact)
    } else {
        1.0 / (2f64.powf(0.5 * (l + 3) as f64)
            * (PI * (2 * l + 1) as f64).sqrt()
            * factorial(l.div_ceil(2)))
    }
}

/// Frequency (radians per sample) of DFT bin `k` of an axis of length `n`, with numpy's
/// `ifftshift(mgrid[-n//2 : -n//2 + n])` layout.
fn freq(k: usize, n: usize) -> f64 {
    let kk = if k < n.div_ceil(2) {
        k as i64
    } else {
        k as i64 - n as i64
    };
    kk as f64 * 2.0 * PI / n as f64
}

/// The `2l + 1` wavelets of order `l` and width `sigma` (in space), in Fourier, each a
/// row-major `(m, n, o)` complex array.
pub fn solid_harmonic_3d(
    shape: (usize, usize, usize),
    sigma: f64,
    l: usize,
) -> Vec<Vec<Complex64>> {
    let (m0, n0, o0) = shape;
    let len = m0 * n0 * o0;
    let fourier = Complex64::new(0.0, -1.0).powu(l as u32) * (2.0 * PI).powf(1.5) * norm_factor(l);
    let mut out = vec![vec![Complex64::new(0.0, 0.0); len]; 2 * l + 1];
    for a in 0..m0 {
        let z = freq(a, m0);
        for b in 0..n0 {
            let y = freq(b, n0);
            for c in 0..o0 {
                let x = freq(c, o0);
                let r2 = x * x + y * y + z * z;
                let g = (-0.5 * r2 * sigma * sigma).exp();
                let idx = (a * n0 + b) * o0 + c;
                if l == 0 {
                    out[0][idx] = Complex64::new(g, 0.0);
                    continue;
                }
                let poly = r2.powi(l as i32).sqrt() * g * sigma.powi(l as i32);
                let azimuth = y.atan2(x);
                // Kymatio's "polar" angle: latitude + pi/2, i.e. measured from -z.
                let polar = z.atan2((x * x + y * y).sqrt()) + PI / 2.0;
                for (i, mm) in (-(l as i64)..=l as i64).enumerate() {
                    out[i][idx] = sph_harm(mm, l, azimuth, polar) * poly * fourier;
                }
            }
        }
    }
    out
}

/// The solid harmonic bank: `filters[l][j][m + l]`, `j = 0..=J`, width `sigma_0 2^j`.
#[derive(Debug, Clone, PartialEq)]
pub struct SolidHarmonicBank {
    /// Volume shape.
    pub shape: (usize, usize, usize),
    /// Largest scale index.
    pub j: usize,
    /// Largest order.
    pub l: usize,
    /// Width of the finest wavelet, in voxels.
    pub sigma0: f64,
    /// `filters[l][j][m + l]`: row-major complex spectra.
    pub filters: Vec<Vec<Vec<Vec<Complex64>>>>,
}

impl SolidHarmonicBank {
    /// Checks the parameters of a bank without building it.
    pub fn validate(shape: (usize, usize, usize), j: usize, l: usize, sigma0: f64) -> Result<()> {
        if shape.0 == 0 || shape.1 == 0 || shape.2 == 0 {
            return Err(invalid("shape", "volume sides must be positive"));
        }
        if j > 10 {
            return Err(invalid("J", format!("must be at most 10, got {j}")));
        }
        if l > 12 {
            return Err(invalid("L", format!("must be at most 12, got {l}")));
        }
        if !(sigma0.is_finite() && sigma0 > 0.0) {
            return Err(invalid(
                "sigma_0",
                format!("must be positive, got {sigma0}"),
            ));
        }
        Ok(())
    }

    /// Builds the bank (in parallel over `(l, j)`).
    pub fn new(shape: (usize, usize, usize), j: usize, l: usize, sigma0: f64) -> Result<Self> {
        Self::validate(shape, j, l, sigma0)?;
        let filters = (0..=l)
            .map(|ll| {
                (0..=j)
                    .into_par_iter()
                    .map(|jj| solid_harmonic_3d(shape, sigma0 * 2f64.powi(jj as i32), ll))
                    .collect()
            })
            .collect();
        Ok(Self {
            shape,
            j,
            l,
            sigma0,
            filters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spherical_harmonics_are_orthonormal() {
        // Midpoint quadrature on the sphere (theta azimuthal, phi polar).
        let (nt, np) = (96, 64);
        let mut gram = [[Complex64::new(0.0, 0.0); 5]; 5];
        for it in 0..nt {
            let th = (it as f64 + 0.5) * 2.0 * PI / nt as f64;
            for ip in 0..np {
                let ph = (ip as f64 + 0.5) * PI / np as f64;
                let w = ph.sin() * (2.0 * PI / nt as f64) * (PI / np as f64);
                let ys: Vec<_> = (-2..=2).map(|m| sph_harm(m, 2, th, ph)).collect();
                for a in 0..5 {
                    for b in 0..5 {
                        gram[a][b] += ys[a] * ys[b].conj() * w;
                    }
                }
            }
        }
        for (a, row) in gram.iter().enumerate() {
            for (b, v) in row.iter().enumerate() {
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((v - want).norm() < 1e-3, "({a}, {b}): {v}");
            }
        }
    }

    #[test]
    fn legendre_known_values() {
        assert!((legendre(2, 0, 0.5) - (-0.125)).abs() < 1e-15);
        assert!((legendre(1, 1, 0.6) + 0.8).abs() < 1e-15);
        assert!((legendre(3, 2, 0.5) - 15.0 * 0.5 * 0.75).abs() < 1e-12);
    }
}
