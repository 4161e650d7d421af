//! Quality metrics of the inverse-problem experiments: PSNR, SSIM and a sharpness statistic
//! for images, and the relative spectrogram error for 1D signals.

use crate::error::{InverseError, Result};
use crate::operator::check;
use ndarray::{Array2, ArrayView2};

fn same_shape(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Result<()> {
    check(a, b.dim(), "the estimate")?;
    check(b, b.dim(), "the reference")?;
    if a.is_empty() {
        return Err(InverseError::Param("the images are empty".into()));
    }
    Ok(())
}

/// Peak signal-to-noise ratio in dB, `10 log10(range² / MSE)` (infinite when equal).
pub fn psnr(estimate: ArrayView2<f64>, reference: ArrayView2<f64>, range: f64) -> Result<f64> {
    same_shape(estimate, reference)?;
    if !(range.is_finite() && range > 0.0) {
        return Err(InverseError::Param(format!(
            "the dynamic range must be positive, got {range}"
        )));
    }
    let mse = (&estimate - &reference)
        .mapv(|v| v * v)
        .mean()
        .unwrap_or(0.0);
    Ok(10.0 * (range * range / mse).log10())
}

/// Separable Gaussian filtering with a `2 r + 1` window, over the positions where the
/// window fits ("valid"), as in Wang et al.'s reference code.
fn gaussian_valid(x: &Array2<f64>, w: &[f64]) -> Array2<f64> {
    let k = w.len();
    let (m, n) = x.dim();
    let rows = Array2::from_shape_fn((m, n + 1 - k), |(i, j)| {
        (0..k).map(|t| w[t] * x[[i, j + t]]).sum::<f64>()
    });
    Array2::from_shape_fn((m + 1 - k, n + 1 - k), |(i, j)| {
        (0..k).map(|t| w[t] * rows[[i + t, j]]).sum::<f64>()
    })
}

/// The structural similarity index (Wang, Bovik, Sheikh and Simoncelli 2004) with the
/// standard settings: an 11 x 11 Gaussian window of standard deviation 1.5, `K1 = 0.01`,
/// `K2 = 0.03`, `L = range`, averaged over the positions where the window fits.
pub fn ssim(estimate: ArrayView2<f64>, reference: ArrayView2<f64>, range: f64) -> Result<f64> {
    same_shape(estimate, reference)?;
    let (m, n) = reference.dim();
    if m < 11 || n < 11 || !(range.is_finite() && range > 0.0) {
        return Err(InverseError::Param(format!(
            "SSIM needs images of at least 11 x 11 and a positive range, got {m} x {n} and {range}"
        )));
    }
    let g: Vec<f64> = (-5..=5).map(|t| (-(t * t) as f64 / 4.5).exp()).collect();
    let total: f64 = g.iter().sum();
    let w: Vec<f64> = g.iter().map(|v| v / total).collect();
    let (x, y) = (estimate.to_owned(), reference.to_owned());
    let (mx, my) = (gaussian_valid(&x, &w), gaussian_valid(&y, &w));
    let sxx = gaussian_valid(&(&x * &x), &w) - &mx * &mx;
    let syy = gaussian_valid(&(&y * &y), &w) - &my * &my;
    let sxy = gaussian_valid(&(&x * &y), &w) - &mx * &my;
    let (c1, c2) = ((0.01 * range).powi(2), (0.03 * range).powi(2));
    let map = ndarray::Zip::from(&mx)
        .and(&my)
        .and(&sxx)
        .and(&syy)
        .and(&sxy)
        .map_collect(|&a, &b, &vx, &vy, &cxy| {
            ((2.0 * a * b + c1) * (2.0 * cxy + c2)) / ((a * a + b * b + c1) * (vx + vy + c2))
        });
    Ok(map.mean().unwrap_or(0.0))
}

/// Sharpness: the Wasserstein-1 distance between the distributions of the gradient
/// magnitudes (forward differences) of the estimate and of the reference. A blurred
/// estimate has too many small gradients and scores high even at a good PSNR.
pub fn gradient_w1(estimate: ArrayView2<f64>, reference: ArrayView2<f64>) -> Result<f64> {
    same_shape(estimate, reference)?;
    let magnitudes = |a: ArrayView2<f64>| {
        let (gi, gj) = crate::regularise::gradient(a);
        let mut v: Vec<f64> = gi.iter().zip(&gj).map(|(p, q)| p.hypot(*q)).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (a, b) = (magnitudes(estimate), magnitudes(reference));
    // Equal sample sizes: W1 is the mean gap between sorted values.
    Ok(a.iter().zip(&b).map(|(p, q)| (p - q).abs()).sum::<f64>() / a.len() as f64)
}

/// The magnitude spectrogram of `x`: Hann windows of `window` samples every `window / 4`,
/// the signal extended periodically so every sample is covered equally; `(frames, bins)`.
fn spectrogram(x: &[f64], window: usize) -> Array2<f64> {
    let hop = (window / 4).max(1);
    let frames = x.len().div_ceil(hop);
    let bins = window / 2 + 1;
    let fft = realfft::RealFftPlanner::<f64>::new().plan_fft_forward(window);
    let hann: Vec<f64> = (0..window)
        .map(|k| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / window as f64).cos())
        .collect();
    let (mut buf, mut spec) = (fft.make_input_vec(), fft.make_output_vec());
    let mut out = Array2::zeros((frames, bins));
    for f in 0..frames {
        for (k, b) in buf.iter_mut().enumerate() {
            *b = hann[k] * x[(f * hop + k) % x.len()];
        }
        // Lengths match the plan, so the transform cannot fail.
        let _ = fft.process(&mut buf, &mut spec);
        for (o, c) in out.row_mut(f).iter_mut().zip(&spec) {
            *o = c.norm();
        }
    }
    out
}

/// The relative spectrogram error `‖ |STFT x~| − |STFT x| ‖ / ‖ |STFT x| ‖` of a 1D estimate
/// against its reference (Hann windows of `window` samples, hop `window / 4`, periodic
/// extension): blind to the sign and to the phase within each window, as the scattering
/// transform is, so it measures what a reconstruction from scattering can recover.
pub fn spectrogram_error(estimate: &[f64], reference: &[f64], window: usize) -> Result<f64> {
    if estimate.len() != reference.len() || reference.is_empty() {
        return Err(InverseError::Param(format!(
            "the estimate has {} samples and the reference {}: they must match and not be empty",
            estimate.len(),
            reference.len()
        )));
    }
    if window < 4 || window > reference.len() {
        return Err(InverseError::Param(format!(
            "the window must be between 4 and the signal length {}, got {window}",
            reference.len()
        )));
    }
    if estimate.iter().chain(reference).any(|v| !v.is_finite()) {
        return Err(InverseError::NonFinite("a signal"));
    }
    let (a, b) = (
        spectrogram(estimate, window),
        spectrogram(reference, window),
    );
    let den = b.iter().map(|v| v * v).sum::<f64>();
    if den == 0.0 {
        return Err(InverseError::Param(
            "the reference is zero: its spectrogram has no energy".into(),
        ));
    }
    let num = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>();
    Ok((num / den).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SSIM of two constant images is its luminance term alone,
    /// `(2 μ ν + C1) / (μ² + ν² + C1)`; of an image with itself, 1; and it falls with noise.
    #[test]
    fn ssim_matches_known_values() {
        let (a, b) = (
            Array2::from_elem((16, 16), 0.2),
            Array2::from_elem((16, 16), 0.6),
        );
        let c1 = 0.01f64.powi(2);
        let want = (2.0 * 0.2 * 0.6 + c1) / (0.04 + 0.36 + c1);
        let got = ssim(a.view(), b.view(), 1.0).unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        let x = Array2::from_shape_fn((32, 32), |(i, j)| ((i * 3 + j * 5) % 7) as f64 / 7.0);
        assert!((ssim(x.view(), x.view(), 1.0).unwrap() - 1.0).abs() < 1e-12);
        let noisy = Array2::from_shape_fn((32, 32), |(i, j)| {
            x[[i, j]] + if (i + j) % 2 == 0 { 0.1 } else { -0.1 }
        });
        let s = ssim(noisy.view(), x.view(), 1.0).unwrap();
        assert!(s < 0.95 && s > 0.0, "{s}");
        assert!(ssim(
            a.slice(ndarray::s![..8, ..]).view(),
            b.slice(ndarray::s![..8, ..]).view(),
            1.0
        )
        .is_err());
    }

    #[test]
    fn psnr_and_gradient_w1_known_values() {
        let a = Array2::zeros((8, 8));
        let b = Array2::from_elem((8, 8), 0.1);
        assert!((psnr(b.view(), a.view(), 1.0).unwrap() - 20.0).abs() < 1e-9);
        // A ramp against a flat image: every gradient magnitude is 1 against 0, except the
        // last column's forward difference (0).
        let ramp = Array2::from_shape_fn((8, 8), |(_, j)| j as f64);
        let w = gradient_w1(ramp.view(), a.view()).unwrap();
        assert!((w - 7.0 / 8.0).abs() < 1e-12, "{w}");
        assert!(psnr(a.view(), b.slice(ndarray::s![..4, ..]).view(), 1.0).is_err());
    }

    /// Zero against itself and its negative, about 1 against silence-shaped noise of another
    /// frequency, and errors on bad input.
    #[test]
    fn spectrogram_error_properties() {
        let n = 1024;
        let tone = |f: f64| -> Vec<f64> {
            (0..n)
                .map(|t| (2.0 * std::f64::consts::PI * f * t as f64 / n as f64).sin())
                .collect()
        };
        let a = tone(50.0);
        let neg: Vec<f64> = a.iter().map(|v| -v).collect();
        assert!(spectrogram_error(&a, &a, 128).unwrap() < 1e-12);
        assert!(spectrogram_error(&neg, &a, 128).unwrap() < 1e-12);
        // A tone of another frequency shares no bin: the error is sqrt(2).
        let e = spectrogram_error(&tone(300.0), &a, 128).unwrap();
        assert!((e - 2f64.sqrt()).abs() < 0.05, "{e}");
        // Half the amplitude: error one half.
        let half: Vec<f64> = a.iter().map(|v| 0.5 * v).collect();
        assert!((spectrogram_error(&half, &a, 128).unwrap() - 0.5).abs() < 1e-12);
        assert!(spectrogram_error(&a[..10], &a, 128).is_err());
        assert!(spectrogram_error(&a, &a, 2).is_err());
        assert!(spectrogram_error(&vec![0.0; n], &vec![0.0; n], 128).is_err());
        let mut bad = a.clone();
        bad[3] = f64::NAN;
        assert!(spectrogram_error(&bad, &a, 128).is_err());
    }
}
