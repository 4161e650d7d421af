//! Sound-texture statistics in the style of McDermott and Simoncelli (Neuron, 2011): a
//! cochlear filter bank (raised-cosine filters evenly spaced on the ERB scale), the
//! compressed envelope of each subband, and the statistics of those envelopes: their
//! mean, coefficient of variation and skewness, their modulation power in octave bands,
//! and the correlations between the envelopes of different subbands.
//!
//! ```
//! use scattering_apps::texture_stats::{StatsParams, TextureStats};
//!
//! // Noise whose amplitude is switched on and off 8 times a second in every band: sparse
//! // envelopes, strongly correlated across bands.
//! let sr = 8000.0;
//! let x: Vec<f64> = (0..8192)
//!     .map(|t| {
//!         let gate = if (t / 500) % 2 == 0 { 1.0 } else { 0.05 };
//!         gate * ((t * 7919 % 1013) as f64 / 506.5 - 1.0)
//!     })
//!     .collect();
//! let s = TextureStats::of(&x, &StatsParams::new(sr))?;
//! assert!(s.mean_correlation() > 0.5);
//! # Ok::<(), scattering_apps::AppError>(())
//! ```

use crate::AppError;
use ndarray::Array2;
use rustfft::num_complex::Complex64;
use rustfft::FftPlanner;
use serde::Serialize;

/// Settings of the statistics.
#[derive(Debug, Clone, Copy)]
pub struct StatsParams {
    /// Sample rate in Hz.
    pub sample_rate: f64,
    /// Cochlear subbands.
    pub bands: usize,
    /// Lowest and highest subband centres in Hz (the highest is capped at 0.45 times the
    /// sample rate).
    pub f_lo: f64,
    /// See `f_lo`.
    pub f_hi: f64,
    /// Envelope compression exponent (0.3 as in the paper).
    pub compression: f64,
}

impl StatsParams {
    /// 24 subbands from 50 Hz to 8 kHz (or 0.45 times the sample rate), compression 0.3.
    pub fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate,
            bands: 24,
            f_lo: 50.0,
            f_hi: 8000.0,
            compression: 0.3,
        }
    }
}

/// The statistics of one sound.
#[derive(Debug, Clone)]
pub struct TextureStats {
    /// Subband centre frequencies (Hz).
    pub centres: Vec<f64>,
    /// Mean of each compressed envelope.
    pub envelope_mean: Vec<f64>,
    /// Variance over squared mean of each envelope.
    pub envelope_cv2: Vec<f64>,
    /// Skewness of each envelope.
    pub envelope_skewness: Vec<f64>,
    /// Centres of the octave modulation bands (Hz).
    pub modulation_centres: Vec<f64>,
    /// Modulation power of each envelope in each modulation band, as a fraction of the
    /// envelope's variance: `(bands, modulation bands)`.
    pub modulation_power: Array2<f64>,
    /// Correlation coefficients between the envelopes: `(bands, bands)`.
    pub correlations: Array2<f64>,
}

/// How far one sound's statistics are from another's (the reference).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StatsDistance {
    /// Mean of the relative errors of the three envelope moments below.
    pub envelope_moments: f64,
    /// `‖m − m_ref‖ / ‖m_ref‖` of the envelope means.
    pub envelope_mean: f64,
    /// Same for the envelope coefficients of variation (squared).
    pub envelope_cv2: f64,
    /// Same for the envelope skewness.
    pub envelope_skewness: f64,
    /// Relative error of the modulation power matrix.
    pub modulation_power: f64,
    /// Root-mean-square difference of the cross-band correlation coefficients (all pairs
    /// of different bands).
    pub correlations: f64,
}

fn erb(f: f64) -> f64 {
    21.4 * (1.0 + 0.00437 * f).log10()
}

/// The raised-cosine cochlear filters on the `n`-point FFT grid (non-negative frequencies
/// only): `(centres, filters)`, each filter one value per bin `0..=n/2`. Adjacent filters
/// overlap by half, so their squares sum to one between the first and last centre.
fn cochlear_bank(p: &StatsParams, n: usize) -> Result<(Vec<f64>, Vec<Vec<f64>>), AppError> {
    let f_hi = p.f_hi.min(0.45 * p.sample_rate);
    if p.bands < 2
        || !(p.f_lo > 0.0 && p.f_lo < f_hi)
        || p.compression.is_nan()
        || p.compression <= 0.0
    {
        return Err(AppError::Usage(format!(
            "texture statistics need >= 2 bands and 0 < f_lo < f_hi, got {} bands, {} to {} Hz",
            p.bands, p.f_lo, f_hi
        )));
    }
    let (e_lo, e_hi) = (erb(p.f_lo), erb(f_hi));
    let step = (e_hi - e_lo) / (p.bands - 1) as f64;
    let centres_erb: Vec<f64> = (0..p.bands).map(|b| e_lo + step * b as f64).collect();
    let inv = |e: f64| (10f64.powf(e / 21.4) - 1.0) / 0.00437;
    let bins = n / 2 + 1;
    let e_of_bin: Vec<f64> = (0..bins)
        .map(|k| erb(k as f64 * p.sample_rate / n as f64))
        .collect();
    let filters = centres_erb
        .iter()
        .map(|&c| {
            e_of_bin
                .iter()
                .map(|&e| {
                    let d = (e - c) / step;
                    if d.abs() < 1.0 {
                        (std::f64::consts::FRAC_PI_2 * d).cos()
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    Ok((centres_erb.into_iter().map(inv).collect(), filters))
}

/// The compressed subband envelopes of `x`: `(bands, samples)`, and the band centres.
pub fn envelopes(x: &[f64], p: &StatsParams) -> Result<(Vec<f64>, Array2<f64>), AppError> {
    let n = x.len();
    if n < 64 {
        return Err(AppError::Usage(format!(
            "texture statistics need at least 64 samples, got {n}"
        )));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(AppError::Usage(
            "the sound has NaN or infinite samples".into(),
        ));
    }
    let (centres, bank) = cochlear_bank(p, n)?;
    let mut planner = FftPlanner::new();
    let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let mut spec: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    fwd.process(&mut spec);
    let mut env = Array2::zeros((bank.len(), n));
    let mut buf = vec![Complex64::new(0.0, 0.0); n];
    for (b, h) in bank.iter().enumerate() {
        // The analytic subband: positive frequencies doubled, negative ones dropped.
        buf.iter_mut().for_each(|c| *c = Complex64::new(0.0, 0.0));
        for (k, &w) in h.iter().enumerate().take(n / 2 + 1) {
            let scale = if k == 0 || 2 * k == n { 1.0 } else { 2.0 };
            buf[k] = spec[k] * (w * scale / n as f64);
        }
        inv.process(&mut buf);
        for (e, c) in env.row_mut(b).iter_mut().zip(&buf) {
            *e = c.norm().powf(p.compression);
        }
    }
    Ok((centres, env))
}

impl TextureStats {
    /// The statistics of `x` (at least 64 samples, finite).
    pub fn of(x: &[f64], p: &StatsParams) -> Result<Self, AppError> {
        let (centres, env) = envelopes(x, p)?;
        let (bands, n) = env.dim();
        let mut mean = vec![0.0; bands];
        let mut cv2 = vec![0.0; bands];
        let mut skew = vec![0.0; bands];
        let mut centred = Array2::zeros((bands, n));
        for b in 0..bands {
            let row = env.row(b);
            let m = row.sum() / n as f64;
            let var = row.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64;
            let m3 = row.iter().map(|v| (v - m).powi(3)).sum::<f64>() / n as f64;
            mean[b] = m;
            cv2[b] = var / (m * m).max(1e-300);
            skew[b] = m3 / var.max(1e-300).powf(1.5);
            centred
                .row_mut(b)
                .iter_mut()
                .zip(row)
                .for_each(|(c, v)| *c = v - m);
        }
        let norms: Vec<f64> = (0..bands)
            .map(|b| centred.row(b).iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect();
        let correlations = Array2::from_shape_fn((bands, bands), |(a, b)| {
            let d: f64 = centred.row(a).dot(&centred.row(b));
            d / (norms[a] * norms[b]).max(1e-300)
        });
        // Octave modulation bands centred on powers of two from the lowest frequency with
        // two periods in the signal up to 200 Hz (or a quarter of the sample rate).
        let sr = p.sample_rate;
        let f_min = 2.0 * sr / n as f64;
        let f_max = 200f64.min(sr / 4.0);
        let mut modc = Vec::new();
        let mut f = 2f64.powf((f_min * std::f64::consts::SQRT_2).log2().ceil());
        while f <= f_max {
            modc.push(f);
            f *= 2.0;
        }
        let mut planner = FftPlanner::new();
        let fwd = planner.plan_fft_forward(n);
        let mut modulation_power = Array2::zeros((bands, modc.len()));
        let mut buf = vec![Complex64::new(0.0, 0.0); n];
        for b in 0..bands {
            buf.iter_mut()
                .zip(centred.row(b))
                .for_each(|(c, &v)| *c = Complex64::new(v, 0.0));
            fwd.process(&mut buf);
            let power: Vec<f64> = buf[..n / 2 + 1].iter().map(|c| c.norm_sqr()).collect();
            let total = power[1..].iter().sum::<f64>().max(1e-300);
            for (m, &fc) in modc.iter().enumerate() {
                let (lo, hi) = (
                    fc / std::f64::consts::SQRT_2 * n as f64 / sr,
                    fc * std::f64::consts::SQRT_2 * n as f64 / sr,
                );
                let s: f64 = (lo.ceil() as usize..(hi.ceil() as usize).min(power.len()))
                    .map(|k| power[k])
                    .sum();
                modulation_power[[b, m]] = s / total;
            }
        }
        Ok(Self {
            centres,
            envelope_mean: mean,
            envelope_cv2: cv2,
            envelope_skewness: skew,
            modulation_centres: modc,
            modulation_power,
            correlations,
        })
    }

    /// The mean correlation between the envelopes of different bands.
    pub fn mean_correlation(&self) -> f64 {
        let b = self.centres.len();
        let s: f64 = (0..b)
            .flat_map(|i| (0..b).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| self.correlations[[i, j]])
            .sum();
        s / (b * (b - 1)).max(1) as f64
    }

    /// How far `self` is from `reference` (both from the same [`StatsParams`] and length).
    pub fn distance(&self, reference: &TextureStats) -> Result<StatsDistance, AppError> {
        if self.centres.len() != reference.centres.len()
            || self.modulation_centres.len() != reference.modulation_centres.len()
        {
            return Err(AppError::Usage(
                "texture statistics of different settings or lengths cannot be compared".into(),
            ));
        }
        let rel = |a: &[f64], b: &[f64]| {
            let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
            let r: f64 = b.iter().map(|y| y * y).sum();
            (d / r.max(1e-300)).sqrt()
        };
        let (em, ec, es) = (
            rel(&self.envelope_mean, &reference.envelope_mean),
            rel(&self.envelope_cv2, &reference.envelope_cv2),
            rel(&self.envelope_skewness, &reference.envelope_skewness),
        );
        let b = self.centres.len();
        let pairs: Vec<(usize, usize)> = (0..b)
            .flat_map(|i| (i + 1..b).map(move |j| (i, j)))
            .collect();
        let corr = (pairs
            .iter()
            .map(|&(i, j)| (self.correlations[[i, j]] - reference.correlations[[i, j]]).powi(2))
            .sum::<f64>()
            / pairs.len().max(1) as f64)
            .sqrt();
        Ok(StatsDistance {
            envelope_moments: (em + ec + es) / 3.0,
            envelope_mean: em,
            envelope_cv2: ec,
            envelope_skewness: es,
            modulation_power: rel(
                self.modulation_power.as_slice().unwrap_or(&[]),
                reference.modulation_power.as_slice().unwrap_or(&[]),
            ),
            correlations: corr,
        })
    }
}

/// A cochleagram for pictures: the (uncompressed) subband envelopes of `x` on `bands`
/// ERB-spaced bands, averaged over `frames` equal segments: `(bands, frames)`, low
/// frequencies in row 0; and the band centres.
pub fn cochleagram(
    x: &[f64],
    sample_rate: f64,
    bands: usize,
    frames: usize,
) -> Result<(Vec<f64>, Array2<f64>), AppError> {
    let p = StatsParams {
        bands,
        compression: 1.0,
        ..StatsParams::new(sample_rate)
    };
    let (centres, env) = envelopes(x, &p)?;
    let n = x.len();
    let frames = frames.clamp(1, n);
    let g = Array2::from_shape_fn((bands, frames), |(b, t)| {
        let (s, e) = (
            t * n / frames,
            ((t + 1) * n / frames).max(t * n / frames + 1),
        );
        (s..e).map(|i| env[[b, i]]).sum::<f64>() / (e - s) as f64
    });
    Ok((centres, g))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
    }

    #[test]
    fn the_bank_tiles_the_band_and_a_sine_lands_in_its_band() {
        let p = StatsParams::new(16000.0);
        let (centres, bank) = cochlear_bank(&p, 4096).unwrap();
        assert_eq!(centres.len(), 24);
        assert!((centres[0] - 50.0).abs() < 1e-6 && (centres[23] - 7200.0).abs() < 1e-6);
        // Squares sum to 1 between the first and last centres.
        for k in (20..1800).step_by(37) {
            let s: f64 = bank.iter().map(|h| h[k] * h[k]).sum();
            assert!((s - 1.0).abs() < 1e-9, "bin {k}: {s}");
        }
        // A 1 kHz sine: the largest envelope mean is in the band centred nearest 1 kHz.
        let x: Vec<f64> = (0..4096)
            .map(|t| (2.0 * std::f64::consts::PI * 1000.0 * t as f64 / 16000.0).sin())
            .collect();
        let s = TextureStats::of(&x, &p).unwrap();
        let top = (0..24)
            .max_by(|&a, &b| s.envelope_mean[a].total_cmp(&s.envelope_mean[b]))
            .unwrap();
        let nearest = (0..24)
            .min_by(|&a, &b| {
                (centres[a] - 1000.0)
                    .abs()
                    .total_cmp(&(centres[b] - 1000.0).abs())
            })
            .unwrap();
        assert_eq!(top, nearest);
        // A steady sine has a flat envelope: no variation, no modulation.
        assert!(s.envelope_cv2[top] < 1e-3, "{}", s.envelope_cv2[top]);
    }

    #[test]
    fn gated_noise_has_sparser_more_correlated_envelopes_than_noise() {
        let n = 16384;
        let w = noise(n, 1);
        // On for 1/8 of every 2048 samples, in every band at once.
        let gated: Vec<f64> = w
            .iter()
            .enumerate()
            .map(|(t, v)| if t % 2048 < 256 { 3.0 * v } else { 0.1 * v })
            .collect();
        let p = StatsParams::new(16000.0);
        let (sw, sg) = (
            TextureStats::of(&w, &p).unwrap(),
            TextureStats::of(&gated, &p).unwrap(),
        );
        assert!(sg.mean_correlation() > 0.6, "{}", sg.mean_correlation());
        assert!(sw.mean_correlation() < 0.2, "{}", sw.mean_correlation());
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean(&sg.envelope_cv2) > 3.0 * mean(&sw.envelope_cv2));
        assert!(mean(&sg.envelope_skewness) > mean(&sw.envelope_skewness) + 0.5);
        // The gate repeats at 16000 / 2048 = 7.8 Hz: its modulation band (8 Hz) holds more
        // of the gated envelopes' power than of the noise's.
        let m8 = sg
            .modulation_centres
            .iter()
            .position(|&f| f == 8.0)
            .unwrap();
        let col = |s: &TextureStats| mean(&s.modulation_power.column(m8).to_vec());
        assert!(col(&sg) > 3.0 * col(&sw));
        // Distances: zero to itself, and symmetric in what they measure.
        let d0 = sg.distance(&sg).unwrap();
        assert_eq!(d0.correlations, 0.0);
        assert_eq!(d0.envelope_moments, 0.0);
        let d = sw.distance(&sg).unwrap();
        assert!(d.correlations > 0.4 && d.envelope_moments > 0.3, "{d:?}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let p = StatsParams::new(8000.0);
        assert!(TextureStats::of(&[0.0; 10], &p).is_err());
        assert!(TextureStats::of(&[f64::NAN; 100], &p).is_err());
        let q = StatsParams { bands: 1, ..p };
        assert!(TextureStats::of(&[0.0; 100], &q).is_err());
        let a = TextureStats::of(&noise(1000, 0), &p).unwrap();
        let b = TextureStats::of(&noise(5000, 0), &p).unwrap();
        assert!(a.distance(&b).is_err());
    }
}
