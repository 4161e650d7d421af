//! 1D Morlet, Gabor and Gaussian filters sampled in the Fourier domain.
//!
//! The construction follows Kymatio exactly, so that banks agree with it to rounding:
//! the continuous Gaussians are evaluated on `2P - 1` periods of the frequency axis and
//! folded back (sampling in time is periodising in frequency), the Morlet correction
//! `kappa` makes the DC coefficient exactly zero, and every filter is normalised to unit
//! l1 norm in time.

use crate::error::{FilterError, Result};
use num_complex::Complex64;
use rustfft::FftPlanner;

/// Amplitude below which a Gaussian tail is neglected when choosing how many periods to fold.
const FOLD_EPS: f64 = 1e-7;
/// Kymatio never folds more than this many periods on each side.
const MAX_PERIODS: usize = 5;

/// Number of periods `P` so that the Gaussian of width `sigma` is below `1e-7` at the
/// edges of `[1 - P, P)`, capped at 5 (Kymatio's `adaptive_choice_P`).
pub fn fold_periods(sigma: f64) -> usize {
    let val = (-2.0 * sigma * sigma * FOLD_EPS.ln()).sqrt();
    let p = (val + 1.0).ceil() as usize;
    p.clamp(1, MAX_PERIODS)
}

/// numpy's `fftfreq(n)`: `k / n` in DFT bin order, negative frequencies in the upper half.
pub fn fft_frequencies(n: usize) -> Vec<f64> {
    let step = 1.0 / n as f64;
    let n_pos = (n - 1) / 2 + 1;
    (0..n)
        .map(|k| {
            let kk = if k < n_pos {
                k as f64
            } else {
                k as f64 - n as f64
            };
            kk * step
        })
        .collect()
}

/// Evaluates `f` on the frequencies of `2P - 1` periods and averages the folds.
fn folded(n: usize, p: usize, low: bool, f: impl Fn(f64) -> f64) -> Vec<f64> {
    if p == 1 && low {
        // One period: centre it on zero so the low-pass is continuous there.
        return fft_frequencies(n).into_iter().map(f).collect();
    }
    let periods = 2 * p - 1;
    let start = -((p as i64 - 1) * n as i64);
    let mut acc = vec![0.0; n];
    for r in 0..periods {
        for (k, a) in acc.iter_mut().enumerate() {
            let idx = start + (r * n + k) as i64;
            *a += f(idx as f64 / n as f64);
        }
    }
    let div = periods as f64;
    acc.iter_mut().for_each(|a| *a /= div);
    acc
}

fn gaussian(center: f64, sigma: f64) -> impl Fn(f64) -> f64 {
    let two_s2 = 2.0 * (sigma * sigma);
    move |w| {
        let d = w - center;
        let a = (d * d) / two_s2;
        // exp(-50) ~ 2e-22 is below f64 resolution next to the unit peak: skip the call.
        if a > 50.0 {
            0.0
        } else {
            (-a).exp()
        }
    }
}

thread_local! {
    // Plans are cached per length, so a bank of many filters plans its FFT once.
    static PLANNER: std::cell::RefCell<FftPlanner<f64>> = std::cell::RefCell::new(FftPlanner::new());
}

/// `|c|` without `hypot`'s overflow guards (8x faster; values here are O(1)).
fn abs(c: &Complex64) -> f64 {
    (c.re * c.re + c.im * c.im).sqrt()
}

fn inverse_fft(h: &[f64]) -> Vec<Complex64> {
    let mut buf: Vec<Complex64> = h.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    let plan = PLANNER.with(|p| p.borrow_mut().plan_fft_inverse(h.len()));
    plan.process(&mut buf);
    buf
}

/// Divides `h` (a spectrum) by the l1 norm of its inverse DFT.
pub(crate) fn normalize_l1(h: &mut [f64], xi: f64, sigma: f64) -> Result<()> {
    let n = h.len();
    let buf = inverse_fft(h);
    let l1: f64 = buf.iter().map(abs).sum::<f64>() / n as f64;
    if !l1.is_finite() || l1 < 1e-7 {
        return Err(FilterError::Degenerate {
            xi,
            sigma,
            reason: format!("its l1 norm in time is {l1:e}"),
        });
    }
    h.iter_mut().for_each(|v| *v /= l1);
    Ok(())
}

fn check(n: usize, sigma: f64) -> Result<()> {
    if n == 0 {
        return Err(crate::error::invalid("N", "filter length must be positive"));
    }
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(crate::error::invalid(
            "sigma",
            format!("bandwidth must be positive and finite, got {sigma}"),
        ));
    }
    Ok(())
}

/// Morlet wavelet of centre frequency `xi` (cycles per sample, in (0, 0.5]) and bandwidth
/// `sigma`, as `n` real Fourier coefficients in DFT bin order: a Gabor atom minus the
/// multiple of the Gaussian that gives it exactly zero mean, with unit l1 norm in time.
pub fn morlet_1d(n: usize, xi: f64, sigma: f64) -> Result<Vec<f64>> {
    check(n, sigma)?;
    let p = fold_periods(sigma);
    let low = folded(n, p, true, gaussian(0.0, sigma));
    let gabor = folded(n, p, false, gaussian(xi, sigma));
    let kappa = gabor[0] / low[0];
    let mut h: Vec<f64> = gabor.iter().zip(&low).map(|(g, l)| g - kappa * l).collect();
    normalize_l1(&mut h, xi, sigma)?;
    Ok(h)
}

/// Gabor wavelet (a Gaussian window centred on `xi`, without the zero-mean correction),
/// with unit l1 norm in time. Its DC coefficient is small but not zero.
pub fn gabor_1d(n: usize, xi: f64, sigma: f64) -> Result<Vec<f64>> {
    check(n, sigma)?;
    let p = fold_periods(sigma);
    let mut h = folded(n, p, false, gaussian(xi, sigma));
    normalize_l1(&mut h, xi, sigma)?;
    Ok(h)
}

/// Gaussian low-pass filter of bandwidth `sigma`, unit l1 norm (so unit DC gain).
pub fn gauss_1d(n: usize, sigma: f64) -> Result<Vec<f64>> {
    check(n, sigma)?;
    let p = fold_periods(sigma);
    let mut h = folded(n, p, true, gaussian(0.0, sigma));
    normalize_l1(&mut h, 0.0, sigma)?;
    Ok(h)
}

/// Periodises a spectrum by `factor` with the SUM of the folds: the spectrum of the
/// filter `factor * h(factor * t)` on the grid subsampled by `factor`, so that filtering a
/// subsampled signal with it approximates subsampling the full-rate filtered signal.
/// `Reduction::Mean` divides by `factor` (Kymatio 0.3.0 behaviour).
pub fn periodize(h: &[f64], factor: usize, reduction: crate::Reduction) -> Vec<f64> {
    let m = h.len() / factor;
    let mut out = h[..m].to_vec();
    for f in 1..factor {
        for (o, v) in out.iter_mut().zip(&h[f * m..(f + 1) * m]) {
            *o += v;
        }
    }
    if reduction == crate::Reduction::Mean {
        out.iter_mut().for_each(|v| *v /= factor as f64);
    }
    out
}

/// Half temporal support of a filter given by its spectrum: the smallest `t` such that
/// the l1 mass of the filter beyond `[-t, t]` is at most `criterion` (Kymatio's
/// `compute_temporal_support`, used to size the padding).
pub fn temporal_support(h_f: &[f64], criterion: f64) -> usize {
    let n = h_f.len();
    let buf = inverse_fft(h_f);
    let half = n / 2;
    // Residual l1 mass from index i to the middle; the first index where it is small enough.
    let mut residual = vec![0.0; half];
    let mut acc = 0.0;
    for i in (0..half).rev() {
        acc += abs(&buf[i]) / n as f64;
        residual[i] = acc;
    }
    residual
        .iter()
        .position(|&r| r <= criterion)
        .map_or(half, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fftfreq_matches_numpy_layout() {
        assert_eq!(fft_frequencies(4), vec![0.0, 0.25, -0.5, -0.25]);
        assert_eq!(fft_frequencies(5), vec![0.0, 0.2, 0.4, -0.4, -0.2]);
    }

    #[test]
    fn morlet_has_zero_mean_and_unit_l1() {
        let h = morlet_1d(256, 0.3, 0.05).unwrap();
        assert!(h[0].abs() < 1e-14);
        let peak = h.iter().cloned().fold(0.0, f64::max);
        assert!(peak > 0.5 && peak <= 1.0 + 1e-12, "peak {peak}");
    }

    #[test]
    fn gauss_has_unit_dc_gain() {
        let h = gauss_1d(512, 0.01).unwrap();
        assert!((h[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn degenerate_and_bad_parameters_are_errors() {
        assert!(morlet_1d(0, 0.3, 0.1).is_err());
        assert!(morlet_1d(64, 0.3, -1.0).is_err());
        assert!(gauss_1d(64, f64::NAN).is_err());
    }

    #[test]
    fn periodize_sum_and_mean() {
        let h = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(periodize(&h, 2, crate::Reduction::Sum), vec![4.0, 6.0]);
        assert_eq!(periodize(&h, 2, crate::Reduction::Mean), vec![2.0, 3.0]);
    }
}
