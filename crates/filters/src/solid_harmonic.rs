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
        let sign = if am.is_multiple_of(2) { 1.0 } else { -1.0 };
        y.conj() * sign
    }
}

/// Kymatio's normalisation of the order-`l` solid harmonic wavelet (before the Fourier
/// factor `(2 pi)^{3/2} (-i)^l`).
fn norm_factor(l: usize) -> f64 {
    if l.is_multiple_of(2) {
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
    let fourier = fourier_factor(l);
    let mut out = vec![vec![Complex64::new(0.0, 0.0); len]; 2 * l + 1];
    let mut part = vec![Complex64::new(0.0, 0.0); 2 * l + 1];
    for a in 0..m0 {
        let z = freq(a, m0);
        for b in 0..n0 {
            let y = freq(b, n0);
            for c in 0..o0 {
                let x = freq(c, o0);
                let g = (-0.5 * (x * x + y * y + z * z) * sigma * sigma).exp();
                let idx = (a * n0 + b) * o0 + c;
                harmonic_part(x, y, z, sigma, l, fourier, &mut part);
                for (o, p) in out.iter_mut().zip(&part) {
                    o[idx] = p * g;
                }
            }
        }
    }
    out
}

/// The wavelets of [`solid_harmonic_3d`] in a form separable along the last axis: along
/// each line `(a, b)` of the volume, the solid harmonic `r^l Y_l^m` is a polynomial of
/// degree `l` in the last coordinate `x`, and the Gaussian factors into one term per axis,
/// so `psi_m(a, b, c) = sum_d coef[m + l][(a n + b)(l + 1) + d] basis[d][c]`. A transform can
/// then form filter values on the fly (a few multiply-adds a value) instead of streaming
/// the dense filters from memory.
#[derive(Debug, Clone, PartialEq)]
pub struct SolidHarmonicRows {
    /// Volume shape `(m, n, o)`.
    pub shape: (usize, usize, usize),
    /// Order of the harmonics.
    pub l: usize,
    /// `basis[d][c] = t^d exp(-sigma^2 x^2 / 2)` with `x` the frequency of bin `c` of the
    /// last axis and `t = x / pi`, for `d = 0..=l`.
    pub basis: Vec<Vec<f64>>,
    /// `coef[m + l][(a n + b)(l + 1) + d]`: the coefficients of line `(a, b)`, with the
    /// Gaussian of its other two coordinates and every constant folded in.
    pub coef: Vec<Vec<Complex64>>,
}

impl SolidHarmonicRows {
    /// The value of wavelet `m` (`-l..=l`) at `(a, b, c)`.
    pub fn value(&self, m: i64, a: usize, b: usize, c: usize) -> Complex64 {
        let terms = self.l + 1;
        let row = (a * self.shape.1 + b) * terms;
        let k = &self.coef[(m + self.l as i64) as usize][row..row + terms];
        k.iter()
            .zip(&self.basis)
            .map(|(k, basis)| k * basis[c])
            .sum()
    }
}

/// Kymatio's constant of the order-`l` wavelet in Fourier, `(-i)^l (2 pi)^{3/2}` times its
/// normalisation.
fn fourier_factor(l: usize) -> Complex64 {
    Complex64::new(0.0, -1.0).powu(l as u32) * (2.0 * PI).powf(1.5) * norm_factor(l)
}

/// `r^l Y_l^m` at frequency `(x, y, z)` times `sigma^l` and `fourier` ([`fourier_factor`]),
/// for `m = -l..=l`: the factor of the wavelets besides the Gaussian (1 for `l = 0`, as in
/// Kymatio).
fn harmonic_part(
    x: f64,
    y: f64,
    z: f64,
    sigma: f64,
    l: usize,
    fourier: Complex64,
    out: &mut [Complex64],
) {
    let r2 = x * x + y * y + z * z;
    let poly = r2.powi(l as i32).sqrt() * sigma.powi(l as i32);
    let azimuth = y.atan2(x);
    let polar = z.atan2((x * x + y * y).sqrt()) + PI / 2.0;
    for (o, mm) in out.iter_mut().zip(-(l as i64)..=l as i64) {
        *o = if l == 0 {
            Complex64::new(1.0, 0.0)
        } else {
            sph_harm(mm, l, azimuth, polar) * poly * fourier
        };
    }
}

/// Inverse of the `n x n` Vandermonde matrix `V[i][d] = t_i^d` on the Chebyshev nodes of
/// `[-1, 1]` (well conditioned for the small degrees of the harmonics), row-major, with
/// the nodes.
fn chebyshev_vandermonde_inverse(n: usize) -> (Vec<f64>, Vec<f64>) {
    let nodes: Vec<f64> = (0..n)
        .map(|i| ((2 * i + 1) as f64 * PI / (2 * n) as f64).cos())
        .collect();
    // Gauss-Jordan with partial pivoting on [V | I].
    let w = 2 * n;
    let mut a = vec![0.0; n * w];
    for i in 0..n {
        for d in 0..n {
            a[i * w + d] = nodes[i].powi(d as i32);
        }
        a[i * w + n + i] = 1.0;
    }
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&p, &q| a[p * w + col].abs().total_cmp(&a[q * w + col].abs()))
            .unwrap_or(col);
        for k in 0..w {
            a.swap(col * w + k, piv * w + k);
        }
        let d = a[col * w + col];
        for k in 0..w {
            a[col * w + k] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = a[r * w + col];
                for k in 0..w {
                    a[r * w + k] -= f * a[col * w + k];
                }
            }
        }
    }
    let inv = (0..n * n).map(|t| a[(t / n) * w + n + t % n]).collect();
    (inv, nodes)
}

/// [`solid_harmonic_3d`]`(shape, sigma, l)` as [`SolidHarmonicRows`]: each line's polynomial
/// is interpolated from `l + 1` samples at Chebyshev nodes, exact up to rounding.
pub fn solid_harmonic_rows(
    shape: (usize, usize, usize),
    sigma: f64,
    l: usize,
) -> SolidHarmonicRows {
    let (m0, n0, o0) = shape;
    let terms = l + 1;
    let (vinv, nodes) = chebyshev_vandermonde_inverse(terms);
    let fourier = fourier_factor(l);
    let basis = (0..terms)
        .map(|d| {
            (0..o0)
                .map(|c| {
                    let x = freq(c, o0);
                    (x / PI).powi(d as i32) * (-0.5 * x * x * sigma * sigma).exp()
                })
                .collect()
        })
        .collect();
    let mut coef = vec![vec![Complex64::new(0.0, 0.0); m0 * n0 * terms]; 2 * l + 1];
    let mut samples = vec![vec![Complex64::new(0.0, 0.0); 2 * l + 1]; terms];
    for a in 0..m0 {
        let z = freq(a, m0);
        for b in 0..n0 {
            let y = freq(b, n0);
            let g = (-0.5 * (y * y + z * z) * sigma * sigma).exp();
            for (t, s) in nodes.iter().zip(samples.iter_mut()) {
                harmonic_part(t * PI, y, z, sigma, l, fourier, s);
            }
            let row = (a * n0 + b) * terms;
            for (mi, cm) in coef.iter_mut().enumerate() {
                for d in 0..terms {
                    let v: Complex64 = (0..terms)
                        .map(|i| samples[i][mi] * vinv[d * terms + i])
                        .sum();
                    cm[row + d] = v * g;
                }
            }
        }
    }
    SolidHarmonicRows {
        shape,
        l,
        basis,
        coef,
    }
}

/// A family of solid harmonic wavelets given by its radial profile in the Fourier domain:
/// `psi_{l,m}(omega) = (-i)^l sqrt(4 pi / (2l + 1)) Y_l^m(omega / |omega|) R(|omega|, sigma, l)`.
///
/// The angular factor is normalised so that `sum_m |psi_{l,m}(omega)|^2 = R(|omega|)^2`:
/// the modulus `sqrt(sum_m |x * psi_{l,m}|^2)` of the transform is then invariant to
/// rotations whatever the profile. For `l > 0` the profile must vanish at the origin, where
/// the harmonic has no direction. Frequencies are in radians per voxel (Kymatio's grid).
///
/// A family may also give its wavelets in line form ([`Self::rows`]); the transform checks
/// them against the dense filters and falls back to stored values where they differ.
pub trait RadialProfile3d: Send + Sync {
    /// Short name, reported in errors.
    fn name(&self) -> &str;
    /// The profile `R(r, sigma, l)` at radius `r` (radians per voxel) for width `sigma`.
    fn radial(&self, r: f64, sigma: f64, l: usize) -> f64;
    /// The `2l + 1` wavelets of order `l` and width `sigma`, row-major `(m, n, o)` complex
    /// spectra, built from [`Self::radial`] unless overridden.
    fn filters(
        &self,
        shape: (usize, usize, usize),
        sigma: f64,
        l: usize,
    ) -> Result<Vec<Vec<Complex64>>> {
        profile_filters(shape, l, |r| self.radial(r, sigma, l), self.name())
    }
    /// The wavelets in the line form of [`SolidHarmonicRows`], if the family has one.
    fn rows(
        &self,
        _shape: (usize, usize, usize),
        _sigma: f64,
        _l: usize,
    ) -> Option<SolidHarmonicRows> {
        None
    }
}

impl std::fmt::Debug for dyn RadialProfile3d + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RadialProfile3d({})", self.name())
    }
}

/// The Gaussian solid harmonic wavelets of Eickenberg et al. and Kymatio, the default:
/// `R(r) = c_l (r sigma)^l exp(-r^2 sigma^2 / 2)` (`c_0 = 1`), with a line form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GaussianHarmonic;

impl RadialProfile3d for GaussianHarmonic {
    fn name(&self) -> &str {
        "gaussian"
    }
    fn radial(&self, r: f64, sigma: f64, l: usize) -> f64 {
        let g = (-0.5 * r * r * sigma * sigma).exp();
        if l == 0 {
            return g;
        }
        let c = (2.0 * PI).powf(1.5) * norm_factor(l) * ((2 * l + 1) as f64 / (4.0 * PI)).sqrt();
        c * (r * sigma).powi(l as i32) * g
    }
    fn filters(
        &self,
        shape: (usize, usize, usize),
        sigma: f64,
        l: usize,
    ) -> Result<Vec<Vec<Complex64>>> {
        Ok(solid_harmonic_3d(shape, sigma, l))
    }
    fn rows(
        &self,
        shape: (usize, usize, usize),
        sigma: f64,
        l: usize,
    ) -> Option<SolidHarmonicRows> {
        Some(solid_harmonic_rows(shape, sigma, l))
    }
}

/// A user-defined profile from a closure `(r, sigma, l) -> R`.
///
/// ```
/// use scattering_filters::{FnRadial3d, RadialProfile3d};
/// // A Gaussian derivative of order l + 2: a narrower band than the default.
/// let p = FnRadial3d::new("gauss-l+2", |r, sigma, l| {
///     (r * sigma).powi(l as i32 + 2) * (-0.5 * (r * sigma).powi(2)).exp()
/// });
/// let psi = p.filters((8, 8, 8), 1.0, 1)?;
/// assert_eq!(psi.len(), 3);
/// # Ok::<(), scattering_filters::FilterError>(())
/// ```
pub struct FnRadial3d<F> {
    name: String,
    f: F,
}

impl<F: Fn(f64, f64, usize) -> f64 + Send + Sync> FnRadial3d<F> {
    /// Wraps `f(r, sigma, l)`.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        Self {
            name: name.into(),
            f,
        }
    }
}

impl<F: Fn(f64, f64, usize) -> f64 + Send + Sync> RadialProfile3d for FnRadial3d<F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn radial(&self, r: f64, sigma: f64, l: usize) -> f64 {
        (self.f)(r, sigma, l)
    }
}

/// The wavelets of order `l` for the profile `radial` (see [`RadialProfile3d`]).
fn profile_filters(
    shape: (usize, usize, usize),
    l: usize,
    radial: impl Fn(f64) -> f64,
    name: &str,
) -> Result<Vec<Vec<Complex64>>> {
    let (m0, n0, o0) = shape;
    let len = m0 * n0 * o0;
    let at0 = radial(0.0);
    if !at0.is_finite() || (l > 0 && at0 != 0.0) {
        return Err(invalid(
            "profile",
            format!(
                "`{name}` gives {at0} at r = 0 for l = {l}; it must be finite, and 0 for l > 0"
            ),
        ));
    }
    let phase = Complex64::new(0.0, -1.0).powu(l as u32) * (4.0 * PI / (2 * l + 1) as f64).sqrt();
    let mut out = vec![vec![Complex64::new(0.0, 0.0); len]; 2 * l + 1];
    for a in 0..m0 {
        let z = freq(a, m0);
        for b in 0..n0 {
            let y = freq(b, n0);
            for c in 0..o0 {
                let x = freq(c, o0);
                let r = (x * x + y * y + z * z).sqrt();
                let rad = radial(r);
                if !rad.is_finite() {
                    return Err(invalid(
                        "profile",
                        format!("`{name}` gives {rad} at r = {r} for l = {l}"),
                    ));
                }
                let idx = (a * n0 + b) * o0 + c;
                if l == 0 {
                    out[0][idx] = Complex64::new(rad, 0.0);
                    continue;
                }
                if rad == 0.0 {
                    continue;
                }
                let azimuth = y.atan2(x);
                let polar = z.atan2((x * x + y * y).sqrt()) + PI / 2.0;
                for (o, mm) in out.iter_mut().zip(-(l as i64)..=l as i64) {
                    o[idx] = sph_harm(mm, l, azimuth, polar) * phase * rad;
                }
            }
        }
    }
    Ok(out)
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
        // Outside this range the wavelets are all DC (wider than the volume) or vanish
        // (narrower than a hundredth of a voxel): finite numbers that mean nothing.
        let widest = sigma0 * 2f64.powi(j as i32);
        let side = shape.0.max(shape.1).max(shape.2) as f64;
        if sigma0 < 0.01 || widest > side {
            let num = |v: f64| {
                if (1e-3..1e6).contains(&v) {
                    format!("{v}")
                } else {
                    format!("{v:e}")
                }
            };
            return Err(invalid(
                "sigma_0",
                format!(
                    "the wavelets' widths sigma_0 2^j run from {} to {} voxels; they must \
                     stay between 0.01 and the largest side, {side}",
                    num(sigma0),
                    num(widest)
                ),
            ));
        }
        Ok(())
    }

    /// Builds the Gaussian bank (in parallel over `j`).
    pub fn new(shape: (usize, usize, usize), j: usize, l: usize, sigma0: f64) -> Result<Self> {
        Self::with_profile(shape, j, l, sigma0, &GaussianHarmonic)
    }

    /// Builds the bank of another radial profile.
    pub fn with_profile(
        shape: (usize, usize, usize),
        j: usize,
        l: usize,
        sigma0: f64,
        profile: &dyn RadialProfile3d,
    ) -> Result<Self> {
        Self::validate(shape, j, l, sigma0)?;
        let filters = (0..=l)
            .map(|ll| {
                (0..=j)
                    .into_par_iter()
                    .map(|jj| profile.filters(shape, sigma0 * 2f64.powi(jj as i32), ll))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
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
    fn separable_rows_equal_the_dense_wavelets() {
        for (shape, sigma) in [((8, 6, 10), 0.8), ((5, 7, 9), 1.6), ((16, 16, 16), 4.0)] {
            for l in 0..=4 {
                let dense = solid_harmonic_3d(shape, sigma, l);
                let rows = solid_harmonic_rows(shape, sigma, l);
                let peak = dense.iter().flatten().fold(0.0f64, |m, v| m.max(v.norm()));
                let (m0, n0, o0) = shape;
                let mut worst = 0.0f64;
                for (mi, f) in dense.iter().enumerate() {
                    for a in 0..m0 {
                        for b in 0..n0 {
                            for c in 0..o0 {
                                let v = rows.value(mi as i64 - l as i64, a, b, c);
                                worst = worst.max((v - f[(a * n0 + b) * o0 + c]).norm());
                            }
                        }
                    }
                }
                assert!(
                    worst <= 1e-12 * peak,
                    "{shape:?} sigma {sigma} l {l}: {worst:e}"
                );
                assert!(peak > 0.0);
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
