//! Spiral scattering: the time layers equal time scattering's, gradients, and what the
//! spiral must see in Shepard tones and Shepard-Risset glissandos.

mod common;

use ndarray::{Array2, Array3, Axis};
use scattering_transform::{Averaging, Scattering1dParams, SpiralParams, SpiralScattering};
use std::f64::consts::PI;

fn noise(b: usize, n: usize, seed: u64) -> Array2<f64> {
    use rand::{rngs::StdRng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((b, n), |_| StandardNormal.sample(&mut rng))
}

/// Envelope over log2 frequency: a bell of `sigma` octaves centred inside the spiral.
fn envelope(f: f64, sigma: f64) -> f64 {
    (-(f.log2() - (0.02f64).log2()).powi(2) / (2.0 * sigma * sigma)).exp()
}

/// Stationary partials at the frequencies `fs` under the envelope.
fn tone(n: usize, fs: &[f64], sigma: f64) -> Array2<f64> {
    Array2::from_shape_fn((1, n), |(_, t)| {
        fs.iter()
            .map(|&f| envelope(f, sigma) * (2.0 * PI * f * t as f64).sin())
            .sum::<f64>()
    })
}

/// Shepard-Risset glissando moving at `v` octaves per sample (rising for `v > 0`):
/// partial k has frequency `f0 2^(k + v t)` and the envelope at that frequency.
fn glissando(n: usize, f0: f64, v: f64) -> Array2<f64> {
    Array2::from_shape_fn((1, n), |(_, t)| {
        let t = t as f64;
        (-2..12)
            .map(|k| {
                let f = f0 * 2f64.powf(k as f64 + v * t);
                let amp = if f < 0.45 { envelope(f, 1.5) } else { 0.0 };
                // The phase is 2 pi times the integral of the frequency.
                let c = 2.0 * PI * f0 * 2f64.powi(k) / (v * std::f64::consts::LN_2);
                amp * (c * (2f64.powf(v * t) - 1.0)).sin()
            })
            .sum::<f64>()
    })
}

/// Energy of the spiral channels `keep` selects.
fn energy_by(
    s: &SpiralScattering,
    sx: &Array3<f64>,
    keep: impl Fn(&scattering_transform::PathMetaSpiral) -> bool,
) -> f64 {
    s.meta()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.chroma.is_some() && keep(m))
        .map(|(c, _)| sx.index_axis(Axis(1), c).iter().map(|v| v * v).sum::<f64>())
        .sum()
}

#[test]
fn first_order_equals_time_scattering() {
    let x = noise(2, 3000, 1);
    let s = SpiralParams::new(3000, 7).q((8, 1)).build().unwrap();
    let t = Scattering1dParams::new(3000, 7)
        .q((8, 1))
        .max_order(1)
        .build()
        .unwrap();
    let a = s.forward(x.view()).unwrap();
    let b = t.forward(x.view()).unwrap();
    let k = b.shape()[1];
    let e = a
        .slice(ndarray::s![.., ..k, ..])
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (u, v)| m.max((u - v).abs()));
    assert!(e < 1e-12, "max difference {e:e}");
}

#[test]
fn shepard_tones_put_no_energy_on_octave_wavelets_beyond_their_envelope() {
    // Along octaves, a Shepard tone's scalogram is its envelope: constant for a flat one.
    // The octave wavelets' share of the first-order spiral energy then falls as the
    // envelope flattens, and stays far below that of partials 1.1 octaves apart, whose
    // chroma drifts from octave to octave.
    let n = 8192;
    let s = SpiralParams::new(n, 9).q((12, 1)).build().unwrap();
    let share = |x: &Array2<f64>| {
        let sx = s.forward(x.view()).unwrap();
        let wav = energy_by(&s, &sx, |m| m.order == 1 && m.spin_octave != 0);
        let low = energy_by(&s, &sx, |m| m.order == 1 && m.spin_octave == 0);
        wav / low
    };
    let partials = |ratio: f64| -> Vec<f64> {
        (0..14)
            .map(|k| 0.0011 * 2f64.powf(ratio * k as f64))
            .filter(|&f| f < 0.4)
            .collect()
    };
    let shepard: Vec<f64> = [1.2, 2.0, 3.0]
        .iter()
        .map(|&sigma| share(&tone(n, &partials(1.0), sigma)))
        .collect();
    let stretched = share(&tone(n, &partials(1.1), 3.0));
    eprintln!("octave-wavelet share: shepard {shepard:?} (envelopes 1.2, 2, 3 octaves), stretched {stretched:.3e}");
    assert!(
        shepard[0] > shepard[1] && shepard[1] > shepard[2],
        "{shepard:?}"
    );
    assert!(shepard[2] < 0.1, "{shepard:?}");
    assert!(shepard[2] < 0.1 * stretched, "{shepard:?} vs {stretched:e}");
}

/// For each chroma wavelet of spin `spin`: (its frequency in cycles per octave, the `xi2`
/// of the second-order channel with the most energy, the energy of that spin).
fn ridge(s: &SpiralScattering, sx: &Array3<f64>, spin: i8) -> (Vec<(f64, f64)>, f64) {
    let q1 = s.params().q.0 as f64;
    let mut peaks = Vec::new();
    let mut total = 0.0;
    for (ia, a) in s.chroma_bank().filters.iter().enumerate() {
        if a.spin != spin {
            continue;
        }
        let mut best = (0.0, 0.0);
        for (c, m) in s.meta().iter().enumerate() {
            if m.order == 2 && m.chroma == Some(ia) && m.spin_octave == 0 {
                let e: f64 = sx.index_axis(Axis(1), c).iter().map(|v| v * v).sum();
                total += e;
                if e > best.0 {
                    best = (e, m.xi.unwrap_or(0.0));
                }
            }
        }
        peaks.push((a.xi.abs() * q1, best.1));
    }
    (peaks, total)
}

#[test]
fn glissandos_peak_at_the_rate_their_speed_implies_on_the_spin_of_their_direction() {
    // A glissando at v octaves per sample moves along chroma: a chroma wavelet at k
    // cycles per octave sees an oscillation of v k cycles per sample, which the psi2
    // nearest that rate picks up. Rising glissandos fall on spin +1, falling on spin -1.
    let n = 1 << 14;
    let v = 1.0 / 2048.0;
    let s = SpiralParams::new(n, 11).q((12, 2)).build().unwrap();
    let rise = s.forward(glissando(n, 0.0005, v).view()).unwrap();
    let fall = s.forward(glissando(n, 0.0005, -v).view()).unwrap();
    let (peaks_up, up) = ridge(&s, &rise, 1);
    let (_, down) = ridge(&s, &rise, -1);
    let (peaks_fall, fall_down) = ridge(&s, &fall, -1);
    let (_, fall_up) = ridge(&s, &fall, 1);
    eprintln!("rising: {peaks_up:?}, spin energies +{up:.3e} -{down:.3e}");
    eprintln!("falling: {peaks_fall:?}, spin energies +{fall_up:.3e} -{fall_down:.3e}");
    assert!(up > 3.0 * down && fall_down > 3.0 * fall_up);
    // The peak rate never falls as the chroma frequency rises. It matches the prediction
    // where the glissando's chroma profile has its energy: its partials are about 1.5
    // chroma bins wide, so above 3 cycles per octave (a quarter of Q1 = 12) the wavelet's
    // band holds more of the neighbouring harmonics than of its own.
    for peaks in [&peaks_up, &peaks_fall] {
        assert!(peaks.windows(2).all(|w| w[0].1 >= w[1].1), "{peaks:?}");
    }
    for &(cycles, xi2) in peaks_up.iter().chain(&peaks_fall).filter(|p| p.0 <= 3.0) {
        let predicted = v * cycles;
        // Within the spacing of a few second-order wavelets (Q2 = 2).
        assert!(
            (xi2 / predicted).log2().abs() < 0.75,
            "chroma {cycles:.2} c/oct: peak at {xi2:.3e}, predicted {predicted:.3e}"
        );
    }
}

#[test]
fn gradients_match_finite_differences() {
    for avg in [Averaging::Local, Averaging::Global] {
        let s = SpiralParams::new(700, 5)
            .q((4, 2))
            .j_chroma(1)
            .j_octave(1)
            .average(avg)
            .build()
            .unwrap();
        let e = common::gradient_error(&s, 2);
        eprintln!("{avg:?}: {e:e}");
        assert!(e <= 1e-5, "{avg:?}: relative error {e:e}");
    }
}

#[test]
fn the_transform_is_non_expansive_and_homogeneous() {
    // Each output frame stands for 2^s input samples (local averaging), and reflect
    // padding at most triples the signal: 2^s ||S x - S y||^2 <= 3 ||x - y||^2.
    let n = 2048;
    let s = SpiralParams::new(n, 7).q((8, 2)).build().unwrap();
    let stride = s.stride() as f64;
    let mut worst = 0.0f64;
    for seed in 0..4 {
        let x = noise(1, n, 100 + seed);
        let y = &x + &(noise(1, n, 200 + seed) * 0.3);
        let d = &s.forward(x.view()).unwrap() - &s.forward(y.view()).unwrap();
        let num = stride * d.iter().map(|v| v * v).sum::<f64>();
        let den: f64 = (&x - &y).iter().map(|v| v * v).sum();
        worst = worst.max(num / den);
    }
    eprintln!("worst 2^s ||Sx - Sy||^2 / ||x - y||^2 = {worst:.3}");
    assert!(worst <= 3.0, "{worst}");
    let x = noise(1, n, 9);
    let a = s.forward(x.view()).unwrap();
    let b = s.forward((&x * 2.5).view()).unwrap();
    let e = (&b - &(&a * 2.5))
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(e < 1e-12 * a.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    // f32 agrees with f64.
    let s32 = SpiralParams::new(n, 7).q((8, 2)).build_f32().unwrap();
    let c = s32.forward(x.mapv(|v| v as f32).view()).unwrap();
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let e = a
        .iter()
        .zip(c.iter())
        .fold(0.0f64, |m, (u, v)| m.max((u - f64::from(*v)).abs()))
        / scale;
    assert!(e < 1e-4, "f32: {e:e}");
}

#[test]
fn bad_parameters_and_inputs_are_typed_errors() {
    use scattering_transform::TransformError;
    let p = || SpiralParams::new(2048, 7);
    assert!(p().build().is_ok());
    for bad in [
        p().q((2, 1)),
        p().q((100, 1)),
        p().j_chroma(0),
        p().j_chroma(4),
        p().j_octave(0),
        p().average(Averaging::None),
        p().stride(3),
        SpiralParams::new(100, 7),
        SpiralParams::new(2048, 1),
    ] {
        match bad.clone().build() {
            Err(TransformError::InvalidParameter { .. }) | Err(TransformError::Filter(_)) => {}
            other => panic!("{bad:?}: {:?}", other.err()),
        }
    }
    let s = p().build().unwrap();
    assert!(matches!(
        s.forward(noise(1, 2000, 0).view()),
        Err(TransformError::Shape { .. })
    ));
    let mut x = noise(1, 2048, 0);
    x[[0, 3]] = f64::INFINITY;
    assert!(matches!(
        s.forward(x.view()),
        Err(TransformError::NonFinite { .. })
    ));
}

#[test]
fn every_accepted_configuration_runs_and_refusals_are_errors() {
    use scattering_transform::TransformError;
    let mut built = 0;
    for &n in &[300usize, 2048] {
        let x = noise(1, n, 3);
        for j in [2usize, 5, 8] {
            for q in [(4usize, 1usize), (8, 2), (12, 1)] {
                for (jc, jo) in [(1usize, 1usize), (2, 2), (3, 3)] {
                    for avg in [Averaging::Local, Averaging::Global] {
                        let p = SpiralParams::new(n, j)
                            .q(q)
                            .j_chroma(jc)
                            .j_octave(jo)
                            .average(avg);
                        match p.clone().build() {
                            Ok(s) => {
                                let sx = s.forward(x.view()).unwrap();
                                assert_eq!(sx.shape()[1], s.meta().len(), "{p:?}");
                                assert!(sx.iter().all(|v| v.is_finite()), "{p:?}");
                                let g = s.backward(x.view(), sx.view()).unwrap();
                                assert!(g.iter().all(|v| v.is_finite()), "{p:?}");
                                built += 1;
                            }
                            Err(TransformError::InvalidParameter { .. })
                            | Err(TransformError::Filter(_)) => {}
                            Err(e) => panic!("{p:?}: {e:?}"),
                        }
                    }
                }
            }
        }
    }
    eprintln!("{built} configurations built and ran");
    assert!(built > 10);
}
