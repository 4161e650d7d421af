//! Every representation's backward pass against central finite differences, and the
//! microcanonical sampler on problems with known answers.

use rand::{rngs::StdRng, Rng, SeedableRng};
use scattering_models::{
    Concat, EnvelopeCorrelations2d, L1Norm, L2Norm, Marginal, Microcanonical, Pooled,
    PowerSpectrum, Quantiles, Representation, ScatteringMoments, ScatteringMoments1d,
    ScatteringMoments2d, Weighted,
};
use scattering_transform::{
    Averaging, Scattering1dParams, SolidHarmonicScattering3dParams, SpiralParams,
    TimeFrequencyParams,
};

/// Relative error between the VJP `(∂Φ/∂x)ᵀ v` and central differences of `v · Φ(x)`.
fn vjp_error(phi: &dyn Representation, seed: u64) -> f64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let x: Vec<f64> = (0..phi.input_len())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let v: Vec<f64> = (0..phi.output_len())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let g = phi.backward(&x, &v).unwrap();
    let f = |y: &[f64]| {
        phi.forward(y)
            .unwrap()
            .iter()
            .zip(&v)
            .map(|(a, b)| a * b)
            .sum::<f64>()
    };
    let h = 1e-5;
    // Directional derivative along a random direction d: g · d vs (f(x + h d) − f(x − h d)) / 2h.
    let d: Vec<f64> = (0..x.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let plus: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + h * b).collect();
    let minus: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a - h * b).collect();
    let fd = (f(&plus) - f(&minus)) / (2.0 * h);
    let an: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
    (fd - an).abs() / an.abs().max(1e-12)
}

#[test]
fn backward_passes_match_finite_differences() {
    let reps: Vec<(&str, Box<dyn Representation>)> = vec![
        ("l2", Box::new(L2Norm { n: 50 })),
        ("l1", Box::new(L1Norm { n: 50 })),
        ("marginal", Box::new(Marginal { n: 50 })),
        ("quantiles", Box::new(Quantiles::new(50, 7).unwrap())),
        ("power 1d", Box::new(PowerSpectrum::new((1, 48)).unwrap())),
        ("power 2d", Box::new(PowerSpectrum::new((12, 10)).unwrap())),
        (
            "scattering 1d",
            Box::new(ScatteringMoments1d::new(256, 4, 4).unwrap()),
        ),
        (
            "scattering 2d",
            Box::new(ScatteringMoments2d::new((32, 32), 3, 4).unwrap()),
        ),
        (
            "scattering 3d (any Transform)",
            Box::new(ScatteringMoments::from_transform(
                SolidHarmonicScattering3dParams::new((10, 10, 10), 1, 1)
                    .integral_powers(vec![1.0, 2.0])
                    .build()
                    .unwrap(),
            )),
        ),
        (
            "scattering 1d, local averaging (any Transform)",
            Box::new(ScatteringMoments::from_transform(
                Scattering1dParams::new(128, 3).t(16).build().unwrap(),
            )),
        ),
        (
            "envelope correlations 2d",
            Box::new(EnvelopeCorrelations2d::new((16, 24), 2, 4).unwrap()),
        ),
        (
            "concat",
            Box::new(
                Concat::new(vec![
                    Box::new(ScatteringMoments1d::new(64, 3, 2).unwrap()),
                    Box::new(L2Norm { n: 64 }),
                ])
                .unwrap(),
            ),
        ),
        (
            "weighted",
            Box::new(
                Weighted::new(
                    Box::new(ScatteringMoments1d::new(64, 3, 2).unwrap()),
                    (0..ScatteringMoments1d::new(64, 3, 2).unwrap().output_len())
                        .map(|k| 1.0 + k as f64)
                        .collect(),
                )
                .unwrap(),
            ),
        ),
        (
            "joint time-frequency moments (any Transform)",
            Box::new(ScatteringMoments::from_transform(
                TimeFrequencyParams::new(256, 4, 2)
                    .q((4, 1))
                    .average(Averaging::Global)
                    .build()
                    .unwrap(),
            )),
        ),
        (
            "spiral moments (any Transform)",
            Box::new(ScatteringMoments::from_transform(
                SpiralParams::new(256, 4)
                    .q((4, 1))
                    .average(Averaging::Global)
                    .build()
                    .unwrap(),
            )),
        ),
    ];
    for (name, phi) in &reps {
        for seed in 0..2 {
            let e = vjp_error(phi.as_ref(), seed);
            assert!(e < 1e-5, "{name}: relative VJP error {e}");
        }
    }
}

#[test]
fn power_spectrum_sums_to_the_energy() {
    // Parseval: sum_k |x̂_k|² / n = ||x||².
    let p = PowerSpectrum::new((6, 8)).unwrap();
    let x: Vec<f64> = (0..48).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
    let s: f64 = p.forward(&x).unwrap().iter().sum();
    assert!((s - x.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-9);
}

#[test]
fn sphere_sampling_projects_the_white_noise_start_radially() {
    // The gradient of (mean x² − 1)² is radial, so descent only rescales the start: the draw is
    // the Gaussian start's direction on the sphere, i.e. exactly uniform on it.
    let phi = L2Norm { n: 200 };
    let mc = Microcanonical {
        seed: 9,
        init_std: 3.0,
        ..Default::default()
    };
    let draw = mc.sample(&phi, &[1.0]).unwrap();
    assert!(draw.moment_rel_error < 1e-4, "{}", draw.moment_rel_error);
    let start = Microcanonical { max_iters: 0, ..mc }
        .sample(&phi, &[1.0])
        .unwrap()
        .x;
    let cos = draw.x.iter().zip(&start).map(|(a, b)| a * b).sum::<f64>()
        / (draw.x.iter().map(|a| a * a).sum::<f64>().sqrt()
            * start.iter().map(|a| a * a).sum::<f64>().sqrt());
    assert!((cos - 1.0).abs() < 1e-9, "direction changed: cos {cos}");
    assert!(draw.loss_curve.first() > draw.loss_curve.last());
}

#[test]
fn scattering_synthesis_matches_moments_and_keeps_sparsity() {
    // Target: a sparse spike train (very non-Gaussian). Its scattering moments pin down the
    // sparsity; a synthesis from white noise must match them and become spiky (high kurtosis).
    let n = 512;
    let mut rng = StdRng::seed_from_u64(4);
    let target: Vec<f64> = (0..n)
        .map(|_| {
            if rng.random_bool(0.02) {
                rng.random_range(2.0..4.0)
            } else {
                0.0
            }
        })
        .collect();
    let phi = ScatteringMoments1d::new(n, 5, 2).unwrap();
    let mu = phi.forward(&target).unwrap();
    let draw = Microcanonical {
        seed: 1,
        init_std: 0.3,
        max_iters: 300,
        ..Default::default()
    }
    .sample(&phi, &mu)
    .unwrap();
    assert!(
        draw.moment_rel_error < 0.02,
        "moment error {}",
        draw.moment_rel_error
    );
    let kurt = |x: &[f64]| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        let v = x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / x.len() as f64;
        x.iter().map(|a| (a - m).powi(4)).sum::<f64>() / x.len() as f64 / (v * v)
    };
    // The Gaussian model with the same power spectrum (a microcanonical draw of it) is the
    // baseline: its samples have kurtosis near 3, the spike train's is 37.
    let ps = PowerSpectrum::new((1, n)).unwrap();
    let gauss = Microcanonical {
        seed: 1,
        init_std: 0.3,
        max_iters: 300,
        ..Default::default()
    }
    .sample(&ps, &ps.forward(&target).unwrap())
    .unwrap();
    let (kt, ks, kg) = (kurt(&target), kurt(&draw.x), kurt(&gauss.x));
    assert!(kg < 3.6, "Gaussian-model kurtosis {kg}");
    assert!(
        ks > kg + 0.5,
        "scattering synthesis kurtosis {ks}, Gaussian model {kg}, target {kt}"
    );
}

#[test]
fn bad_inputs_are_errors() {
    let phi = L2Norm { n: 4 };
    assert!(phi.forward(&[1.0, 2.0]).is_err());
    assert!(phi.forward(&[1.0, f64::NAN, 0.0, 0.0]).is_err());
    assert!(Microcanonical::default().sample(&phi, &[1.0, 2.0]).is_err());
    assert!(PowerSpectrum::new((0, 4)).is_err());
    assert!(
        ScatteringMoments2d::new((30, 30), 3, 4).is_err(),
        "periodic needs sides divisible by 2^J"
    );
    assert!(Concat::new(vec![]).is_err());
    assert!(Concat::new(vec![Box::new(L2Norm { n: 4 }), Box::new(L1Norm { n: 5 })]).is_err());
    assert!(Weighted::new(Box::new(L2Norm { n: 4 }), vec![1.0, 2.0]).is_err());
    assert!(Weighted::new(Box::new(L2Norm { n: 4 }), vec![f64::INFINITY]).is_err());
    assert!(Weighted::relative(Box::new(L2Norm { n: 4 }), &[1.0], 0.0).is_err());
    assert!(Weighted::relative(Box::new(L2Norm { n: 4 }), &[f64::NAN], 1e-3).is_err());
}

#[test]
fn relative_weights_make_every_moment_count_the_same() {
    // Moments 100 and 0.01 off by 1% each: the weighted residuals are equal, and a zero
    // moment is weighted at the floor rather than infinitely.
    let phi = Weighted::relative(
        Box::new(Concat::new(vec![Box::new(L2Norm { n: 2 }), Box::new(L1Norm { n: 2 })]).unwrap()),
        &[100.0, 0.01],
        1e-6,
    )
    .unwrap();
    assert_eq!(phi.weights(), &[0.01, 100.0]);
    let z = Weighted::relative(Box::new(L2Norm { n: 2 }), &[0.0], 1e-3).unwrap();
    assert!(z.weights()[0].is_finite());
}

#[test]
fn envelope_correlations_change_sign_with_the_image_and_scattering_moments_do_not() {
    let shape = (32, 32);
    let mut rng = StdRng::seed_from_u64(4);
    // Bright sparse dots on a dark background: edges sit next to bright pixels.
    let x: Vec<f64> = (0..shape.0 * shape.1)
        .map(|_| if rng.random::<f64>() < 0.05 { 3.0 } else { 0.0 })
        .collect();
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let flipped: Vec<f64> = x.iter().map(|v| 2.0 * mean - v).collect();
    let env = EnvelopeCorrelations2d::new(shape, 3, 4).unwrap();
    let (a, b) = (env.forward(&x).unwrap(), env.forward(&flipped).unwrap());
    for (p, q) in a.iter().zip(&b) {
        assert!((p + q).abs() <= 1e-10 * p.abs().max(1e-12), "{p} vs {q}");
    }
    assert!(a.iter().all(|v| *v > 0.0), "{a:?}");
    let s = ScatteringMoments2d::new(shape, 3, 4).unwrap();
    let (c, d) = (s.forward(&x).unwrap(), s.forward(&flipped).unwrap());
    let diff: f64 = c.iter().zip(&d).map(|(p, q)| (p - q).abs()).sum();
    let norm: f64 = c.iter().map(|p| p.abs()).sum();
    assert!(
        diff < 1e-8 * norm,
        "scattering moments should not see the flip: {diff}"
    );
}

/// A synthesis is the same to the bit with one, two or three threads: the sampler, the
/// moments and the transform's backward pass sum in orders fixed by the problem alone.
#[test]
fn microcanonical_synthesis_is_bitwise_reproducible_across_thread_counts() {
    let phi = ScatteringMoments2d::new((32, 32), 2, 4).unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    let texture: Vec<f64> = (0..32 * 32).map(|_| rng.random_range(-1.0..1.0)).collect();
    let target = phi.forward(&texture).unwrap();
    let sampler = Microcanonical {
        seed: 3,
        max_iters: 25,
        ..Microcanonical::default()
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| sampler.sample(&phi, &target).unwrap())
    };
    let one = run(1);
    for threads in [2, 3, 2] {
        let other = run(threads);
        assert!(
            one.x
                .iter()
                .zip(&other.x)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{threads} threads changed the synthesis"
        );
        assert_eq!(one.iterations, other.iterations);
    }
}

#[test]
fn concat_forward_backward_equals_forward_then_backward() {
    let phi = Concat::new(vec![
        Box::new(scattering_models::ScatteringSpectra::new(256, 4).unwrap()),
        Box::new(Marginal { n: 256 }),
        // A later part with a pass of its own.
        Box::new(Quantiles::new(256, 16).unwrap()),
        Box::new(L1Norm { n: 256 }),
    ])
    .unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let x: Vec<f64> = (0..256).map(|_| rng.random_range(-1.0..1.0)).collect();
    let target: Vec<f64> = (0..phi.output_len()).map(|i| 0.01 * i as f64).collect();
    // The cotangent of ½‖Φx − t‖², which needs every part's moments.
    let (m, g) = phi
        .forward_backward(&x, &mut |m| {
            m.iter().zip(&target).map(|(a, b)| a - b).collect()
        })
        .unwrap();
    let m0 = phi.forward(&x).unwrap();
    assert_eq!(m.len(), phi.output_len());
    assert!(m
        .iter()
        .zip(&m0)
        .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())));
    let v: Vec<f64> = m0.iter().zip(&target).map(|(a, b)| a - b).collect();
    let g0 = phi.backward(&x, &v).unwrap();
    assert!(g
        .iter()
        .zip(&g0)
        .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())));
    // A cotangent of the wrong length is refused.
    assert!(phi.forward_backward(&x, &mut |_| vec![1.0]).is_err());
}

#[test]
fn marginal_moments_tell_two_values_from_a_gaussian() {
    let mut rng = StdRng::seed_from_u64(9);
    let n = 20000;
    let spins: Vec<f64> = (0..n)
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect();
    // Box-Muller Gaussian.
    let gauss: Vec<f64> = (0..n)
        .map(|_| {
            let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        })
        .collect();
    let phi = Marginal { n };
    let s = phi.forward(&spins).unwrap();
    let g = phi.forward(&gauss).unwrap();
    assert!(
        (s[1] - 1.0).abs() < 1e-12 && (s[3] - 1.0).abs() < 1e-12,
        "{s:?}"
    );
    assert!((g[3] / (g[1] * g[1]) - 3.0).abs() < 0.15, "{g:?}");
    assert!(phi.forward(&spins[..10]).is_err());
    assert!(phi.forward(&[f64::NAN; 20000]).is_err());
}

#[test]
fn quantile_means_hold_a_two_valued_histogram() {
    // 30% of the sites up: with 10 blocks, seven hold -1 and three +1, whatever the order.
    let n = 1000;
    let mut rng = StdRng::seed_from_u64(4);
    let mut spins: Vec<f64> = (0..n).map(|i| if i < 300 { 1.0 } else { -1.0 }).collect();
    for i in (1..n).rev() {
        spins.swap(i, rng.random_range(0..=i));
    }
    let phi = Quantiles::new(n, 10).unwrap();
    let q = phi.forward(&spins).unwrap();
    let want: Vec<f64> = (0..10).map(|b| if b < 7 { -1.0 } else { 1.0 }).collect();
    assert_eq!(q, want);
    // A monotone map of the values maps the quantile means of a one-per-block signal.
    let ramp: Vec<f64> = (0..10).rev().map(|i| i as f64).collect();
    let q = Quantiles::new(10, 10).unwrap().forward(&ramp).unwrap();
    assert_eq!(q, (0..10).map(|i| i as f64).collect::<Vec<_>>());
    assert!(Quantiles::new(10, 0).is_err() && Quantiles::new(10, 11).is_err());
    assert!(phi.forward(&spins[..10]).is_err());
    assert!(phi.backward(&spins, &[1.0]).is_err());
}

#[test]
fn pooled_moments_are_the_mean_over_the_signals_with_exact_gradients() {
    let inner = scattering_models::ScatteringSpectra::new(256, 4)
        .unwrap()
        .with_flatness();
    let phi = Pooled::new(Box::new(&inner), 3).unwrap();
    assert_eq!(
        (phi.input_len(), phi.output_len()),
        (768, inner.output_len())
    );
    let mut rng = StdRng::seed_from_u64(5);
    let x: Vec<f64> = (0..768).map(|_| rng.random_range(-1.0..1.0)).collect();
    // The mean of the three signals' moments.
    let m = phi.forward(&x).unwrap();
    let parts: Vec<Vec<f64>> = x.chunks(256).map(|c| inner.forward(c).unwrap()).collect();
    for (i, v) in m.iter().enumerate() {
        let mean = parts.iter().map(|p| p[i]).sum::<f64>() / 3.0;
        assert!((v - mean).abs() <= 1e-12 * (1.0 + mean.abs()), "moment {i}");
    }
    assert!(vjp_error(&phi, 2) < 1e-5);
    // One pass equals forward then backward, with a cotangent that needs the mean.
    let target: Vec<f64> = (0..phi.output_len()).map(|i| 0.01 * i as f64).collect();
    let (m1, g1) = phi
        .forward_backward(&x, &mut |m| {
            m.iter().zip(&target).map(|(a, b)| a - b).collect()
        })
        .unwrap();
    let v: Vec<f64> = m.iter().zip(&target).map(|(a, b)| a - b).collect();
    let g0 = phi.backward(&x, &v).unwrap();
    assert!(m1
        .iter()
        .zip(&m)
        .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())));
    assert!(g1
        .iter()
        .zip(&g0)
        .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())));
    // Each signal's gradient is its own: moving one signal moves only its slice.
    let only_first = phi.backward(&x, &v).unwrap();
    let alone = inner
        .backward(&x[..256], &v.iter().map(|c| c / 3.0).collect::<Vec<_>>())
        .unwrap();
    assert!(only_first[..256]
        .iter()
        .zip(&alone)
        .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())));
    // Bad input.
    assert!(Pooled::new(Box::new(&inner), 0).is_err());
    assert!(phi.forward(&x[..512]).is_err());
    assert!(phi.forward_backward(&x, &mut |_| vec![1.0]).is_err());
}
