//! Statistics that judge a synthesis by something other than the loss it minimised: histogram
//! distances, spectra, structure-function exponents, Kolmogorov-Smirnov statistics, and the
//! Gaussian model with a given power spectrum (the baseline every synthesis is compared to).

use crate::error::{check_finite, check_len, ModelError, Result};
use num_complex::Complex64;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use scattering_engine::fourier2d::Fft2d;

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s
}

/// The leverage function `L(τ) = E[x(t) x(t + τ)²] / E[x²]²` of increments `x`, for
/// `τ = 1..=max_lag` (mean removed first): how a move predicts the volatility that follows
/// it. Zero for any process symmetric in time or under `x → -x`; negative for the skewed
/// MRW and for stock returns.
pub fn leverage(x: &[f64], max_lag: usize) -> Result<Vec<f64>> {
    if max_lag == 0 || x.len() <= max_lag {
        return Err(ModelError::Param(format!(
            "leverage needs 1 <= max_lag < the number of increments, got {max_lag} and {}",
            x.len()
        )));
    }
    if !x.iter().all(|v| v.is_finite()) {
        return Err(ModelError::NonFinite("increments"));
    }
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let c: Vec<f64> = x.iter().map(|v| v - m).collect();
    let var = c.iter().map(|v| v * v).sum::<f64>() / n;
    if var <= 0.0 {
        return Err(ModelError::Param("leverage of constant increments".into()));
    }
    Ok((1..=max_lag)
        .map(|tau| {
            let k = c.len() - tau;
            let s: f64 = (0..k).map(|t| c[t] * c[t + tau] * c[t + tau]).sum();
            s / k as f64 / (var * var)
        })
        .collect())
}

/// Wasserstein-1 distance between the empirical distributions of `a` and `b`:
/// `∫ |F_a⁻¹(u) − F_b⁻¹(u)| du`, evaluated at `max(len)` quantile midpoints.
pub fn wasserstein1(a: &[f64], b: &[f64]) -> Result<f64> {
    if a.is_empty() || b.is_empty() {
        return Err(ModelError::Param(format!(
            "the Wasserstein distance needs two non-empty samples, got {} and {} values",
            a.len(),
            b.len()
        )));
    }
    check_finite("sample", a)?;
    check_finite("sample", b)?;
    let (sa, sb) = (sorted(a), sorted(b));
    let m = sa.len().max(sb.len());
    let q = |s: &[f64], u: f64| s[((u * s.len() as f64) as usize).min(s.len() - 1)];
    Ok((0..m)
        .map(|i| {
            let u = (i as f64 + 0.5) / m as f64;
            (q(&sa, u) - q(&sb, u)).abs()
        })
        .sum::<f64>()
        / m as f64)
}

/// Kolmogorov-Smirnov statistic `sup |F_n − F|` of a sample against a continuous CDF.
pub fn ks_statistic(sample: &[f64], cdf: impl Fn(f64) -> f64) -> Result<f64> {
    if sample.is_empty() {
        return Err(ModelError::Param(
            "the Kolmogorov-Smirnov statistic needs a non-empty sample".into(),
        ));
    }
    check_finite("sample", sample)?;
    let s = sorted(sample);
    let n = s.len() as f64;
    Ok(s.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
        let f = cdf(x);
        d.max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs())
    }))
}

/// Power in logarithmically spaced bands of the radial frequency `|k|` (in cycles per
/// signal length), `B = bins_per_octave` bands per octave from `|k| = 1` up to the largest
/// radius of the grid, band `b` covering `[2^(b/B), 2^((b+1)/B))` and the last one closed
/// at the top; the zero frequency is left out, and so are empty bands. `shape = (1, n)`
/// for 1D signals. Band powers average many periodogram values, so they are stable enough
/// to compare two single realisations.
pub fn radial_spectrum(
    x: &[f64],
    shape: (usize, usize),
    bins_per_octave: usize,
) -> Result<Vec<f64>> {
    let (h, w) = shape;
    check_len("signal", x.len(), h * w)?;
    check_finite("signal", x)?;
    if h * w < 2 || bins_per_octave == 0 {
        return Err(ModelError::Param(
            "the spectrum needs at least 2 samples and 1 bin per octave".into(),
        ));
    }
    let fft = Fft2d::new(h, w);
    let mut a: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    fft.process(&mut a, false);
    let kmax = ((h / 2).pow(2) as f64 + (w / 2).pow(2) as f64).sqrt();
    // Position of `|k|` in bands; lattice radii that fall on an edge (|k| = √2 at 2 bands
    // per octave) go up whatever the rounding of the logarithm.
    let pos = |k: f64| k.log2() * bins_per_octave as f64 + 1e-9;
    // The last band is closed at `kmax`: the Nyquist frequency (1D) or the Fourier corner
    // (2D) would otherwise form a band of one or two bins, a single periodogram value
    // whose standard deviation is its mean.
    let bins = (pos(kmax) - 2e-9).ceil().max(1.0) as usize;
    let (mut sum, mut count) = (vec![0.0; bins], vec![0usize; bins]);
    for i in 0..h {
        for j in 0..w {
            let (ki, kj) = (i.min(h - i) as f64, j.min(w - j) as f64);
            let k = (ki * ki + kj * kj).sqrt();
            if k < 1.0 {
                continue;
            }
            let b = (pos(k) as usize).min(bins - 1);
            sum[b] += a[i * w + j].norm_sqr();
            count[b] += 1;
        }
    }
    Ok(sum
        .iter()
        .zip(&count)
        .filter(|(_, &c)| c > 0)
        .map(|(s, &c)| s / c as f64 / (h * w) as f64)
        .collect())
}

/// Mean relative error between two band spectra (see [`radial_spectrum`]):
/// `mean_b |P_b − R_b| / R_b` with `R` the reference, over the bands where `R` exceeds
/// `1e-10 max R` (dealiased or filtered-out bands would otherwise dominate).
pub fn spectrum_rel_error(reference: &[f64], other: &[f64]) -> Result<f64> {
    check_len("spectrum", other.len(), reference.len())?;
    let floor = 1e-10 * reference.iter().fold(0.0f64, |a, v| a.max(*v));
    let terms: Vec<f64> = reference
        .iter()
        .zip(other)
        .filter(|(r, _)| **r > floor && **r > 0.0)
        .map(|(r, o)| (o - r).abs() / r)
        .collect();
    if terms.is_empty() {
        return Err(ModelError::Param("the reference spectrum is zero".into()));
    }
    Ok(terms.iter().sum::<f64>() / terms.len() as f64)
}

/// A draw of the stationary Gaussian model with the periodogram of `x`: the Fourier moduli
/// of `x` with the phases of white noise (`shape = (1, n)` for 1D). The mean is kept.
pub fn gaussian_surrogate(
    x: &[f64],
    shape: (usize, usize),
    rng: &mut impl Rng,
) -> Result<Vec<f64>> {
    let (h, w) = shape;
    check_len("signal", x.len(), h * w)?;
    check_finite("signal", x)?;
    let fft = Fft2d::new(h, w);
    let mut a: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    let mut z: Vec<Complex64> = (0..h * w)
        .map(|_| Complex64::new(StandardNormal.sample(rng), 0.0))
        .collect();
    fft.process(&mut a, false);
    fft.process(&mut z, false);
    // White noise's phases are Hermitian-symmetric, so the product stays real. The zero
    // frequency keeps its own sign (the mean).
    for (k, (ai, zi)) in a.iter_mut().zip(&z).enumerate() {
        let r = zi.norm();
        if k > 0 && r > 0.0 {
            *ai *= zi / r;
        }
    }
    fft.process(&mut a, true);
    Ok(a.iter().map(|c| c.re).collect())
}

/// Scaling exponents `ζ(q)` of the structure functions `S_q(ℓ) = mean |x(t + ℓ) − x(t)|^q`
/// of a walk `x`, fitted by least squares of `log S_q` against `log ℓ` over `lags`.
/// Self-similar processes give `ζ(q) = qH`; multifractal ones a concave `ζ`.
pub fn structure_exponents(x: &[f64], qs: &[f64], lags: &[usize]) -> Result<Vec<f64>> {
    check_finite("signal", x)?;
    if lags.len() < 2 || lags.iter().any(|&l| l == 0 || l >= x.len()) {
        return Err(ModelError::Param(format!(
            "need at least two lags in 1..{}, got {lags:?}",
            x.len()
        )));
    }
    let lx: Vec<f64> = lags.iter().map(|&l| (l as f64).ln()).collect();
    let mx = lx.iter().sum::<f64>() / lx.len() as f64;
    let sxx: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
    Ok(qs
        .iter()
        .map(|&q| {
            let ly: Vec<f64> = lags
                .iter()
                .map(|&l| {
                    let n = x.len() - l;
                    ((0..n).map(|t| (x[t + l] - x[t]).abs().powf(q)).sum::<f64>() / n as f64).ln()
                })
                .collect();
            let my = ly.iter().sum::<f64>() / ly.len() as f64;
            lx.iter()
                .zip(&ly)
                .map(|(a, b)| (a - mx) * (b - my))
                .sum::<f64>()
                / sxx
        })
        .collect())
}

/// CDF of `Beta(a, b)` by Simpson's rule on the density (a ≥ 1, b ≥ 1, so the density is
/// bounded), accurate to about 1e-8 with the default 4,000 intervals.
pub fn beta_cdf(t: f64, a: f64, b: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    if t >= 1.0 {
        return 1.0;
    }
    let ln_beta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    let pdf = |u: f64| {
        if u <= 0.0 || u >= 1.0 {
            if (u <= 0.0 && a == 1.0) || (u >= 1.0 && b == 1.0) {
                (-ln_beta).exp()
            } else {
                0.0
            }
        } else {
            ((a - 1.0) * u.ln() + (b - 1.0) * (1.0 - u).ln() - ln_beta).exp()
        }
    };
    let m = 4000;
    let h = t / m as f64;
    let mut s = pdf(0.0) + pdf(t);
    for i in 1..m {
        s += pdf(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    (s * h / 3.0).clamp(0.0, 1.0)
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7), good to ~1e-13.
pub fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let s = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn wasserstein_of_shifted_samples_is_the_shift() {
        let a: Vec<f64> = (0..100).map(|i| i as f64 * 0.1).collect();
        let b: Vec<f64> = a.iter().rev().map(|v| v + 0.7).collect();
        assert!((wasserstein1(&a, &b).unwrap() - 0.7).abs() < 1e-12);
        // Unequal sizes: the same distribution sampled twice as densely.
        let c: Vec<f64> = (0..200).map(|i| (i / 2) as f64 * 0.1).collect();
        assert!(wasserstein1(&a, &c).unwrap() < 1e-12);
        assert!(wasserstein1(&[], &a).is_err());
    }

    #[test]
    fn ks_of_a_uniform_grid_and_of_a_wrong_law() {
        let u: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        assert!(ks_statistic(&u, |x| x).unwrap() <= 0.5e-3 + 1e-12);
        let d = ks_statistic(&u, |x| x * x).unwrap();
        assert!((d - 0.25).abs() < 1e-3, "{d}");
    }

    #[test]
    fn beta_cdf_matches_closed_forms() {
        // Beta(1, b): 1 − (1 − t)^b; Beta(2, 2): 3t² − 2t³.
        for &t in &[0.01, 0.2, 0.5, 0.9] {
            assert!((beta_cdf(t, 1.0, 30.0) - (1.0 - (1.0 - t).powi(30))).abs() < 1e-8);
            assert!((beta_cdf(t, 2.0, 2.0) - (3.0 * t * t - 2.0 * t * t * t)).abs() < 1e-10);
        }
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn radial_bands_close_at_the_corner_and_count_edge_radii_once() {
        // 8 x 8 at 2 bands per octave: |k| up to √32 = 2^2.5, so five bands, the corner
        // (4, 4) in the last one with the ring [2^2, 2^2.5); a cosine at (1, 1), |k| = √2,
        // falls on the edge between bands 0 and 1 and lands in band 1 only.
        let (h, w) = (8, 8);
        let tau = 2.0 * std::f64::consts::PI;
        let corner: Vec<f64> = (0..h * w)
            .map(|i| if (i / w + i % w) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let s = radial_spectrum(&corner, (h, w), 2).unwrap();
        assert_eq!(s.len(), 5);
        assert!(s[4] > 0.0 && s[..4].iter().all(|v| *v == 0.0), "{s:?}");
        let diag: Vec<f64> = (0..h * w)
            .map(|i| (tau * ((i / w + i % w) as f64) / 8.0).cos())
            .collect();
        let s = radial_spectrum(&diag, (h, w), 2).unwrap();
        let hit: Vec<usize> = (0..s.len()).filter(|&b| s[b] > 1e-20).collect();
        assert_eq!(hit, vec![1], "{s:?}");
        // 1D, 64 samples: |k| up to 32 = 2^5, ten bands less the empty [√2, 2); the
        // Nyquist frequency shares the last with 23..31.
        let nyquist: Vec<f64> = (0..64)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let s = radial_spectrum(&nyquist, (1, 64), 2).unwrap();
        assert_eq!(s.len(), 9);
        assert!(s[8] > 0.0 && s[..8].iter().all(|v| *v == 0.0), "{s:?}");
    }

    #[test]
    fn surrogate_keeps_the_spectrum_and_mean_but_not_the_signal() {
        let mut rng = StdRng::seed_from_u64(1);
        let (h, w) = (32, 48);
        let x: Vec<f64> = (0..h * w)
            .map(|i| 2.0 + ((i % w) as f64 * 0.4).sin() + if i % 7 == 0 { 3.0 } else { 0.0 })
            .collect();
        let g = gaussian_surrogate(&x, (h, w), &mut rng).unwrap();
        let (sx, sg) = (
            radial_spectrum(&x, (h, w), 4).unwrap(),
            radial_spectrum(&g, (h, w), 4).unwrap(),
        );
        assert!(spectrum_rel_error(&sx, &sg).unwrap() < 1e-10);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&x) - mean(&g)).abs() < 1e-10);
        let diff: f64 = x.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum();
        assert!(diff > 1.0);
        assert!(spectrum_rel_error(&sx, &vec![0.0; sx.len()]).unwrap() > 0.99);
    }

    #[test]
    fn structure_exponents_of_brownian_motion_are_q_over_two() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut x = vec![0.0];
        for _ in 0..1 << 16 {
            let z: f64 = StandardNormal.sample(&mut rng);
            x.push(x[x.len() - 1] + z);
        }
        let lags: Vec<usize> = (0..8).map(|k| 1 << k).collect();
        let z = structure_exponents(&x, &[1.0, 2.0, 3.0], &lags).unwrap();
        for (q, zq) in [1.0, 2.0, 3.0].iter().zip(&z) {
            assert!((zq - q / 2.0).abs() < 0.05, "ζ({q}) = {zq}");
        }
        assert!(structure_exponents(&x, &[1.0], &[1]).is_err());
    }
}
