//! Reference processes generated in Rust: fractional Brownian motion and the multifractal
//! random walk. Both use circulant embedding (Davies & Harte, 1987) of a stationary Gaussian
//! covariance.

use crate::error::{ModelError, Result};
use num_complex::Complex64;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::FftPlanner;

/// A stationary Gaussian sequence of length `n` with autocovariance `cov(k)`, by circulant
/// embedding in length `2n`. Negative eigenvalues of the embedding (the covariance is not
/// always embeddable) are set to 0 and reported as the returned relative mass.
fn stationary_gaussian(
    n: usize,
    cov: impl Fn(usize) -> f64,
    rng: &mut impl Rng,
) -> (Vec<f64>, f64) {
    let m = 2 * n;
    let mut c: Vec<Complex64> = (0..m)
        .map(|k| Complex64::new(cov(k.min(m - k)), 0.0))
        .collect();
    let mut planner = FftPlanner::new();
    let fft = planner.plan_fft_forward(m);
    fft.process(&mut c);
    let total: f64 = c.iter().map(|v| v.re.abs()).sum();
    let negative: f64 = c.iter().map(|v| (-v.re).max(0.0)).sum();
    let mut w: Vec<Complex64> = c
        .iter()
        .map(|l| {
            let s = (l.re.max(0.0) / m as f64).sqrt();
            let (a, b): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
            Complex64::new(s * a, s * b)
        })
        .collect();
    fft.process(&mut w);
    (
        w[..n].iter().map(|v| v.re).collect(),
        negative / total.max(f64::MIN_POSITIVE),
    )
}

/// Fractional Brownian motion `B_H(0..n)` (unit increment variance, `B_H(0) = 0`) with Hurst
/// exponent `0 < h < 1`: `E|B(t + τ) − B(t)|² = τ^{2H}`.
pub fn fbm(n: usize, h: f64, rng: &mut impl Rng) -> Result<Vec<f64>> {
    if !(h > 0.0 && h < 1.0) || n < 2 {
        return Err(ModelError::Param(format!(
            "fBm needs 0 < H < 1 and n >= 2, got H = {h}, n = {n}"
        )));
    }
    // Fractional Gaussian noise autocovariance; its circulant embedding is non-negative.
    let g = |k: usize| {
        let k = k as f64;
        0.5 * ((k + 1.0).powf(2.0 * h) - 2.0 * k.powf(2.0 * h) + (k - 1.0).abs().powf(2.0 * h))
    };
    let (noise, _) = stationary_gaussian(n - 1, g, rng);
    let mut out = Vec::with_capacity(n);
    out.push(0.0);
    let mut acc = 0.0;
    for v in noise {
        acc += v;
        out.push(acc);
    }
    Ok(out)
}

/// The multifractal random walk of Bacry, Delour & Muzy (2001): increments `ε(t) e^{ω(t)}`
/// with `ε` white Gaussian of variance `sigma²` and `ω` Gaussian with covariance
/// `λ² ln(T / (|τ| + 1))` for `|τ| < T` (integral scale `T`), mean `−λ² ln T` so that
/// `E e^{2ω} = 1`. Its structure functions scale with `ζ(q) = (1/2 + λ²) q − λ² q² / 2`, so
/// the second log-cumulant is `c₂ = −λ²`. Returns the walk (cumulative sum, starting at 0).
pub fn mrw(
    n: usize,
    lambda2: f64,
    integral_scale: usize,
    sigma: f64,
    rng: &mut impl Rng,
) -> Result<Vec<f64>> {
    let valid = (0.0..0.5).contains(&lambda2)
        && (2..=n).contains(&integral_scale)
        && n >= 4
        && sigma.is_finite()
        && sigma > 0.0;
    if !valid {
        return Err(ModelError::Param(format!(
            "MRW needs 0 <= λ² < 0.5, 2 <= T <= n, sigma > 0; got λ² = {lambda2}, T = {integral_scale}, n = {n}, sigma = {sigma}"
        )));
    }
    let t = integral_scale as f64;
    let cov = |k: usize| {
        if k < integral_scale {
            lambda2 * (t / (k as f64 + 1.0)).ln()
        } else {
            0.0
        }
    };
    let (omega, _) = stationary_gaussian(n - 1, cov, rng);
    let mean = -lambda2 * t.ln();
    let mut out = Vec::with_capacity(n);
    out.push(0.0);
    let mut acc = 0.0;
    for w in omega {
        let e: f64 = StandardNormal.sample(rng);
        acc += sigma * e * (w + mean).exp();
        out.push(acc);
    }
    Ok(out)
}

/// The skewed multifractal random walk of Pochart and Bouchaud (2002): the MRW's log-volatility
/// `ω` minus a causal memory of past shocks, `ω̃(t) = ω(t) − Σ_{0<τ<T} K₀ τ^{−α} ε(t − τ)`,
/// increments `σ ε(t) e^{ω̃(t)}`. A negative shock raises the volatility that follows it
/// (leverage): `E[δx(t) δx(t + τ)²] < 0` for `0 < τ < T`, which a time-symmetric model cannot
/// hold. `k0 = 0` is [`mrw`]. Returns the walk (cumulative sum, starting at 0).
pub fn skewed_mrw(
    n: usize,
    lambda2: f64,
    integral_scale: usize,
    k0: f64,
    alpha: f64,
    rng: &mut impl Rng,
) -> Result<Vec<f64>> {
    let valid = (0.0..0.5).contains(&lambda2)
        && (2..=n).contains(&integral_scale)
        && n >= 4
        && k0.is_finite()
        && k0 >= 0.0
        && alpha.is_finite()
        && alpha > 0.0;
    if !valid {
        return Err(ModelError::Param(format!(
            "skewed MRW needs 0 <= λ² < 0.5, 2 <= T <= n, K0 >= 0, α > 0; got λ² = {lambda2}, T = {integral_scale}, n = {n}, K0 = {k0}, α = {alpha}"
        )));
    }
    let t = integral_scale as f64;
    let cov = |k: usize| {
        if k < integral_scale {
            lambda2 * (t / (k as f64 + 1.0)).ln()
        } else {
            0.0
        }
    };
    let m = n - 1;
    let (omega, _) = stationary_gaussian(m, cov, rng);
    let eps: Vec<f64> = (0..m).map(|_| StandardNormal.sample(rng)).collect();
    // The causal memory Σ K(τ) ε(t − τ), a linear convolution (zero-padded FFT).
    let len = (2 * m).next_power_of_two();
    let kernel = |tau: usize| {
        if tau >= 1 && tau < integral_scale {
            k0 * (tau as f64).powf(-alpha)
        } else {
            0.0
        }
    };
    let mut planner = FftPlanner::new();
    let (fwd, inv) = (planner.plan_fft_forward(len), planner.plan_fft_inverse(len));
    let mut a: Vec<Complex64> = (0..len)
        .map(|i| Complex64::new(if i < m { eps[i] } else { 0.0 }, 0.0))
        .collect();
    let mut k: Vec<Complex64> = (0..len)
        .map(|i| Complex64::new(if i < m { kernel(i) } else { 0.0 }, 0.0))
        .collect();
    fwd.process(&mut a);
    fwd.process(&mut k);
    a.iter_mut().zip(&k).for_each(|(x, y)| *x *= y);
    inv.process(&mut a);
    // E e^{2ω̃} = 1: the MRW's mean, and the memory's variance Σ K² taken off as well.
    let k2: f64 = (1..integral_scale.min(m))
        .map(|tau| kernel(tau).powi(2))
        .sum();
    let mean = -lambda2 * t.ln() - k2;
    let mut out = Vec::with_capacity(n);
    out.push(0.0);
    let mut acc = 0.0;
    for i in 0..m {
        let memory = a[i].re / len as f64;
        acc += eps[i] * (omega[i] - memory + mean).exp();
        out.push(acc);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    /// Least-squares slope of y against x.
    fn slope(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        sxy / sxx
    }

    #[test]
    fn fbm_variogram_scales_with_exponent_2h() {
        let mut rng = StdRng::seed_from_u64(1);
        for h in [0.3, 0.5, 0.8] {
            let lags: Vec<usize> = vec![1, 2, 4, 8, 16, 32, 64];
            let mut vario = vec![0.0; lags.len()];
            for _ in 0..20 {
                let b = fbm(4096, h, &mut rng).unwrap();
                for (v, &tau) in vario.iter_mut().zip(&lags) {
                    *v += (0..b.len() - tau)
                        .map(|t| (b[t + tau] - b[t]).powi(2))
                        .sum::<f64>()
                        / (b.len() - tau) as f64;
                }
            }
            let lx: Vec<f64> = lags.iter().map(|&t| (t as f64).ln()).collect();
            let ly: Vec<f64> = vario.iter().map(|v| (v / 20.0).ln()).collect();
            let s = slope(&lx, &ly);
            assert!(
                (s - 2.0 * h).abs() < 0.05,
                "H = {h}: variogram slope {s}, expected {}",
                2.0 * h
            );
            // Unit increment variance.
            assert!((vario[0] / 20.0 - 1.0).abs() < 0.05);
        }
    }

    /// Slope of Var ln|X(t + τ) − X(t)| against ln τ, averaged over realisations.
    fn log_variance_slope(lambda2: f64, rng: &mut StdRng) -> f64 {
        let lags: Vec<usize> = vec![4, 8, 16, 32, 64, 128, 256];
        let mut var = vec![0.0; lags.len()];
        let reps = 16;
        for _ in 0..reps {
            let x = mrw(1 << 15, lambda2, 4096, 1.0, rng).unwrap();
            for (v, &tau) in var.iter_mut().zip(&lags) {
                let l: Vec<f64> = (0..x.len() - tau)
                    .step_by(tau / 4)
                    .map(|t| (x[t + tau] - x[t]).abs().max(1e-300).ln())
                    .collect();
                let m = l.iter().sum::<f64>() / l.len() as f64;
                *v += l.iter().map(|a| (a - m).powi(2)).sum::<f64>() / l.len() as f64 / reps as f64;
            }
        }
        let lx: Vec<f64> = lags.iter().map(|&t| (t as f64).ln()).collect();
        slope(&lx, &var)
    }

    /// Mean over `1 <= τ <= lags` of `E[δx(t) δx(t + τ)²] / E[δx²]²`, over realisations.
    fn mean_leverage(k0: f64, rng: &mut StdRng) -> f64 {
        let mut acc = 0.0;
        for _ in 0..8 {
            let w = skewed_mrw(1 << 14, 0.04, 4096, k0, 0.5, rng).unwrap();
            let d: Vec<f64> = w.windows(2).map(|p| p[1] - p[0]).collect();
            acc += crate::stats::leverage(&d, 16).unwrap().iter().sum::<f64>() / 16.0 / 8.0;
        }
        acc
    }

    #[test]
    fn skewed_mrw_has_leverage_and_the_symmetric_one_none() {
        let mut rng = StdRng::seed_from_u64(5);
        let skewed = mean_leverage(0.1, &mut rng);
        let symmetric = mean_leverage(0.0, &mut rng);
        assert!(skewed < -0.05, "skewed MRW leverage {skewed}");
        assert!(symmetric.abs() < 0.03, "symmetric MRW leverage {symmetric}");
        assert!(crate::stats::leverage(&[1.0, 2.0], 2).is_err());
        assert!(crate::stats::leverage(&[1.0; 10], 2).is_err());
        assert!(crate::stats::leverage(&[1.0, f64::NAN, 0.0], 1).is_err());
    }

    #[test]
    fn mrw_second_log_cumulant_is_minus_lambda2() {
        // Var ln|X(t + τ) − X(t)| = −c₂ ln τ + const for τ below the integral scale, c₂ = −λ².
        let mut rng = StdRng::seed_from_u64(2);
        let c2 = log_variance_slope(0.05, &mut rng);
        assert!((c2 + 0.05).abs() < 0.015, "c2 = {c2}, expected -0.05");
        // Without intermittency (Brownian motion) the log-variance does not depend on τ.
        let flat = log_variance_slope(0.0, &mut rng);
        assert!(flat.abs() < 0.015, "λ² = 0 slope {flat}");
        assert!(mrw(100, 0.6, 50, 1.0, &mut rng).is_err());
        assert!(skewed_mrw(100, 0.04, 50, -0.1, 0.5, &mut rng).is_err());
        assert!(fbm(100, 1.0, &mut rng).is_err());
    }
}
