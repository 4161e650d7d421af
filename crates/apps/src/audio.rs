//! Synthetic sounds with a known structure on the pitch spiral: Shepard tones (partials an
//! octave apart under a bell-shaped spectral envelope), Shepard-Risset glissandos (the same
//! partials gliding at a constant speed in octaves per second, the envelope fixed, so the
//! sound seems to rise or fall for ever) and Shepard scales (semitone steps).

use std::f64::consts::{LN_2, PI};

/// A Shepard sound's spectral envelope: a Gaussian bell over log2 frequency.
#[derive(Debug, Clone, Copy)]
pub struct Envelope {
    /// Centre frequency in Hz.
    pub centre_hz: f64,
    /// Width in octaves (standard deviation over log2 frequency).
    pub octaves: f64,
}

impl Envelope {
    /// Amplitude of a partial at `f` Hz.
    pub fn at(&self, f: f64) -> f64 {
        let d = (f / self.centre_hz).log2();
        (-d * d / (2.0 * self.octaves * self.octaves)).exp()
    }
}

/// The partials `f0 2^k` (for every integer `k`) below `nyquist` and above `lowest`.
fn octave_partials(f0: f64, lowest: f64, nyquist: f64) -> Vec<f64> {
    let mut k = (lowest / f0).log2().floor() as i32;
    let mut out = Vec::new();
    loop {
        let f = f0 * 2f64.powi(k);
        if f >= nyquist {
            break;
        }
        if f >= lowest {
            out.push(f);
        }
        k += 1;
    }
    out
}

/// A Shepard tone of `n` samples at `sample_rate`: partials `f0 2^k` under `env`.
pub fn shepard_tone(n: usize, sample_rate: f64, f0: f64, env: Envelope) -> Vec<f64> {
    stationary(
        n,
        sample_rate,
        &octave_partials(f0, 10.0, 0.45 * sample_rate),
        env,
    )
}

/// A tone of fixed partials `freqs` (Hz) under `env`.
pub fn stationary(n: usize, sample_rate: f64, freqs: &[f64], env: Envelope) -> Vec<f64> {
    (0..n)
        .map(|t| {
            let t = t as f64 / sample_rate;
            freqs
                .iter()
                .map(|&f| env.at(f) * (2.0 * PI * f * t).sin())
                .sum()
        })
        .collect()
}

/// A Shepard-Risset glissando: partials `f0 2^(k + v t)` (`v` octaves per second, negative
/// to fall) under the fixed envelope `env`, each partial fading in at the bottom and out at
/// the top.
pub fn shepard_risset(n: usize, sample_rate: f64, f0: f64, speed: f64, env: Envelope) -> Vec<f64> {
    let nyquist = 0.45 * sample_rate;
    let duration = n as f64 / sample_rate;
    // Every partial that is in band at some time.
    let drift = (speed * duration).abs().ceil() as i32 + 1;
    let base = octave_partials(f0, 10.0, nyquist);
    let (lo_k, hi_k) = (-drift - 1, base.len() as i32 + drift + 1);
    let low = (10.0 / f0).log2().floor() as i32;
    (0..n)
        .map(|t| {
            let t = t as f64 / sample_rate;
            (lo_k..hi_k)
                .map(|k| {
                    let k = low + k;
                    let f = f0 * 2f64.powf(k as f64 + speed * t);
                    if !(10.0..nyquist).contains(&f) {
                        return 0.0;
                    }
                    // Phase: 2 pi times the integral of f from 0 to t.
                    let phase = if speed == 0.0 {
                        2.0 * PI * f * t
                    } else {
                        2.0 * PI * f0 * 2f64.powi(k) * (2f64.powf(speed * t) - 1.0) / (speed * LN_2)
                    };
                    env.at(f) * phase.sin()
                })
                .sum()
        })
        .collect()
}

/// A Shepard scale: `steps` Shepard tones a semitone apart (rising for `up`), each
/// `step_seconds` long with 10 ms raised-cosine ramps, starting from `f0`.
pub fn shepard_scale(
    sample_rate: f64,
    f0: f64,
    steps: usize,
    step_seconds: f64,
    up: bool,
    env: Envelope,
) -> Vec<f64> {
    let len = (step_seconds * sample_rate).round() as usize;
    let ramp = ((0.01 * sample_rate) as usize).clamp(1, len / 2);
    let mut out = Vec::with_capacity(len * steps);
    for s in 0..steps {
        let semis = if up { s as f64 } else { -(s as f64) };
        let tone = shepard_tone(len, sample_rate, f0 * 2f64.powf(semis / 12.0), env);
        for (i, v) in tone.into_iter().enumerate() {
            let edge = i.min(len - 1 - i);
            let g = if edge < ramp {
                0.5 - 0.5 * (PI * edge as f64 / ramp as f64).cos()
            } else {
                1.0
            };
            out.push(v * g);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_are_octaves_apart_and_in_band() {
        let p = octave_partials(55.0, 20.0, 1800.0);
        assert_eq!(p, vec![27.5, 55.0, 110.0, 220.0, 440.0, 880.0, 1760.0]);
    }

    #[test]
    fn a_glissando_returns_to_itself_after_one_octave() {
        // After 1 / v seconds every partial has moved to the next one's place: the
        // instantaneous spectrum is the same (the phases differ, the envelope does not).
        let sr = 2000.0;
        let env = Envelope {
            centre_hz: 200.0,
            octaves: 1.0,
        };
        let x = shepard_risset(4000, sr, 50.0, 1.0, env);
        assert!(x.iter().all(|v| v.is_finite()));
        let power = |a: &[f64]| a.iter().map(|v| v * v).sum::<f64>() / a.len() as f64;
        let (p0, p1) = (power(&x[..400]), power(&x[2000..2400]));
        assert!((p0 / p1 - 1.0).abs() < 0.2, "{p0} {p1}");
    }

    #[test]
    fn a_scale_has_the_requested_length() {
        let env = Envelope {
            centre_hz: 300.0,
            octaves: 1.5,
        };
        let x = shepard_scale(1000.0, 40.0, 12, 0.25, true, env);
        assert_eq!(x.len(), 12 * 250);
        assert_eq!(x[0], 0.0);
    }
}
