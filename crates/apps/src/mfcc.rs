//! Mel-frequency cepstral coefficients, the baseline features of audio classification:
//! 25 ms Hann frames every 10 ms, the power spectrum on a mel filter bank, its logarithm,
//! and a DCT-II; with deltas, summarised by their mean and standard deviation over time.

use crate::AppError;
use realfft::RealFftPlanner;
use std::f64::consts::PI;

/// MFCC settings.
#[derive(Debug, Clone, Copy)]
pub struct MfccParams {
    /// Sample rate in Hz.
    pub sample_rate: f64,
    /// Coefficients kept (the first is the log energy's DC term).
    pub coefficients: usize,
    /// Mel filters.
    pub filters: usize,
    /// Frame and hop lengths in seconds.
    pub frame: f64,
    /// See `frame`.
    pub hop: f64,
}

impl MfccParams {
    /// 13 coefficients from 40 mel filters, 25 ms frames every 10 ms.
    pub fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate,
            coefficients: 13,
            filters: 40,
            frame: 0.025,
            hop: 0.010,
        }
    }
}

fn mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_inv(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

/// Triangular mel filters over the `bins` bins of an FFT of length `n_fft`.
fn mel_bank(p: &MfccParams, n_fft: usize) -> Vec<Vec<f64>> {
    let bins = n_fft / 2 + 1;
    let (lo, hi) = (mel(0.0), mel(p.sample_rate / 2.0));
    let edges: Vec<f64> = (0..p.filters + 2)
        .map(|i| mel_inv(lo + (hi - lo) * i as f64 / (p.filters + 1) as f64))
        .map(|f| f * n_fft as f64 / p.sample_rate)
        .collect();
    (0..p.filters)
        .map(|m| {
            let (a, b, c) = (edges[m], edges[m + 1], edges[m + 2]);
            (0..bins)
                .map(|k| {
                    let k = k as f64;
                    if k > a && k <= b {
                        (k - a) / (b - a)
                    } else if k > b && k < c {
                        (c - k) / (c - b)
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

/// The MFCC frames of `x`: `(frames, coefficients)`, row-major.
pub fn mfcc_frames(x: &[f64], p: &MfccParams) -> Result<Vec<Vec<f64>>, AppError> {
    let frame = (p.frame * p.sample_rate).round() as usize;
    let hop = (p.hop * p.sample_rate).round() as usize;
    if frame < 8 || hop == 0 || p.coefficients == 0 || p.coefficients > p.filters {
        return Err(AppError::Usage(format!(
            "MFCC needs frames of at least 8 samples and 1..=filters coefficients (frame {frame}, hop {hop})"
        )));
    }
    let n_fft = frame.next_power_of_two();
    let bank = mel_bank(p, n_fft);
    let window: Vec<f64> = (0..frame)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / frame as f64).cos())
        .collect();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut buf = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    // Short signals give one zero-padded frame.
    let frames = if x.len() <= frame {
        1
    } else {
        1 + (x.len() - frame) / hop
    };
    let dct: Vec<Vec<f64>> = (0..p.coefficients)
        .map(|k| {
            (0..p.filters)
                .map(|m| (PI * k as f64 * (m as f64 + 0.5) / p.filters as f64).cos())
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(frames);
    for f in 0..frames {
        buf.iter_mut().for_each(|v| *v = 0.0);
        for (i, w) in window.iter().enumerate() {
            buf[i] = x.get(f * hop + i).copied().unwrap_or(0.0) * w;
        }
        fft.process(&mut buf, &mut spec)
            .map_err(|e| AppError::Usage(format!("MFCC FFT: {e}")))?;
        let power: Vec<f64> = spec.iter().map(|c| c.norm_sqr()).collect();
        let logmel: Vec<f64> = bank
            .iter()
            .map(|h| (h.iter().zip(&power).map(|(a, b)| a * b).sum::<f64>() + 1e-10).ln())
            .collect();
        out.push(
            dct.iter()
                .map(|row| row.iter().zip(&logmel).map(|(a, b)| a * b).sum())
                .collect(),
        );
    }
    Ok(out)
}

/// Deltas of MFCC frames by the usual regression over `±2` frames (edges repeated).
fn deltas(frames: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = frames.len() as isize;
    let at = |i: isize| &frames[i.clamp(0, n - 1) as usize];
    (0..n)
        .map(|t| {
            (0..frames[0].len())
                .map(|k| {
                    (1..=2)
                        .map(|d| d as f64 * (at(t + d)[k] - at(t - d)[k]))
                        .sum::<f64>()
                        / 10.0
                })
                .collect()
        })
        .collect()
}

/// The clip-level MFCC features: mean and standard deviation over time of the
/// coefficients and their deltas, `4 * coefficients` values.
pub fn mfcc_summary(x: &[f64], p: &MfccParams) -> Result<Vec<f64>, AppError> {
    mfcc_segments(x, p, 1)
}

/// The MFCC features of `segments` equal parts of the clip, in order: for each part, the
/// mean and standard deviation over its frames of the coefficients and their deltas
/// (`4 * coefficients * segments` values). A part shorter than one frame takes the frame
/// nearest its centre, so short clips keep the same length of feature vector.
pub fn mfcc_segments(x: &[f64], p: &MfccParams, segments: usize) -> Result<Vec<f64>, AppError> {
    if segments == 0 {
        return Err(AppError::Usage("MFCC needs at least one segment".into()));
    }
    let frames = mfcc_frames(x, p)?;
    let d = deltas(&frames);
    let n = frames.len();
    let mut out = Vec::with_capacity(4 * p.coefficients * segments);
    for s in 0..segments {
        let (a, b) = segment_range(n, segments, s);
        for set in [&frames, &d] {
            let part = &set[a..b];
            let m = part.len() as f64;
            for k in 0..p.coefficients {
                let mean = part.iter().map(|r| r[k]).sum::<f64>() / m;
                let var = part.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / m;
                out.push(mean);
                out.push(var.sqrt());
            }
        }
    }
    Ok(out)
}

/// The items `a..b` of part `s` when `n >= 1` items in order are cut into `k` equal
/// parts; never empty (a part narrower than one item takes the item at its centre).
pub fn segment_range(n: usize, k: usize, s: usize) -> (usize, usize) {
    let a = s * n / k;
    let b = (s + 1) * n / k;
    if b > a {
        (a, b)
    } else {
        let c = (((2 * s + 1) * n) / (2 * k)).min(n.saturating_sub(1));
        (c, c + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_moves_only_the_first_coefficient() {
        // Scaling the signal by 10 adds 2 ln 10 to every log mel energy (up to the 1e-10
        // floor of empty filters): the DCT's first coefficient grows by filters x 2 ln 10,
        // the others stay.
        let p = MfccParams::new(8000.0);
        let x: Vec<f64> = (0..4000)
            .map(|t| (2.0 * PI * 1000.0 * t as f64 / 8000.0).sin())
            .collect();
        let a = mfcc_frames(&x, &p).unwrap();
        let y: Vec<f64> = x.iter().map(|v| v * 10.0).collect();
        let b = mfcc_frames(&y, &p).unwrap();
        let gain = (b[5][0] - a[5][0]) / (p.filters as f64);
        assert!((gain - 2.0 * 10f64.ln()).abs() < 1e-2, "{gain}");
        // Higher coefficients do not change with the level.
        assert!((b[5][3] - a[5][3]).abs() < 1e-1, "{} {}", b[5][3], a[5][3]);
        let s = mfcc_summary(&x, &p).unwrap();
        assert_eq!(s.len(), 52);
        // A stationary tone: the deltas average to zero.
        assert!(s[26].abs() < 1e-6 && s[28].abs() < 1e-6);
    }

    #[test]
    fn short_signals_and_bad_settings() {
        let p = MfccParams::new(8000.0);
        assert_eq!(mfcc_frames(&[0.1; 50], &p).unwrap().len(), 1);
        let bad = MfccParams {
            coefficients: 50,
            ..p
        };
        assert!(mfcc_frames(&[0.0; 400], &bad).is_err());
    }
}
