//! Wavelet scattering spectra: the backward pass against finite differences, block by block,
//! and the known values on Gaussian and intermittent processes.

use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::StandardNormal;
use scattering_models::{
    mrw, skewed_mrw, Representation, ScatteringSpectra1d, ScatteringSpectra2d, SpectraKind,
};

/// Relative error of the directional derivative of `v · Φ` (central differences) against
/// the VJP, with `v` nonzero only on the moments `keep` selects.
fn vjp_error(phi: &ScatteringSpectra1d, seed: u64, keep: impl Fn(SpectraKind) -> bool) -> f64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let v: Vec<f64> = phi
        .labels()
        .iter()
        .map(|l| {
            if keep(l.kind) {
                rng.random_range(-1.0..1.0)
            } else {
                0.0
            }
        })
        .collect();
    directional_error(phi, &v, &mut rng)
}

/// [`vjp_error`] for any representation and cotangent `v`, at a white-noise point.
fn directional_error(phi: &dyn Representation, v: &[f64], rng: &mut StdRng) -> f64 {
    let x: Vec<f64> = (0..phi.input_len())
        .map(|_| rng.sample(StandardNormal))
        .collect();
    let g = phi.backward(&x, v).unwrap();
    let f = |y: &[f64]| -> f64 {
        phi.forward(y)
            .unwrap()
            .iter()
            .zip(v)
            .map(|(a, b)| a * b)
            .sum()
    };
    let d: Vec<f64> = (0..x.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let h = 1e-5;
    let plus: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + h * b).collect();
    let minus: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a - h * b).collect();
    let fd = (f(&plus) - f(&minus)) / (2.0 * h);
    let an: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
    (fd - an).abs() / an.abs().max(1e-12)
}

/// The VJP of each kind of moment on its own, against finite differences.
fn assert_vjp_per_kind(phi: &ScatteringSpectra1d, seed: u64) {
    for kind in [
        SpectraKind::Mean,
        SpectraKind::Power,
        SpectraKind::Outside,
        SpectraKind::Sparsity,
        SpectraKind::PhaseModulus,
        SpectraKind::Modulus,
    ] {
        let e = vjp_error(phi, seed, |k| k == kind);
        assert!(e < 1e-5, "{kind:?}: relative error {e:e}");
    }
}

#[test]
fn backward_matches_finite_differences_for_every_kind_of_moment() {
    let phi = ScatteringSpectra1d::new(256, 5).unwrap();
    for (name, kind) in [
        ("mean", SpectraKind::Mean),
        ("power", SpectraKind::Power),
        ("sparsity", SpectraKind::Sparsity),
        ("phase-modulus", SpectraKind::PhaseModulus),
        ("modulus", SpectraKind::Modulus),
    ] {
        for seed in 0..3 {
            let e = vjp_error(&phi, seed, |k| k == kind);
            assert!(e < 1e-5, "{name}, seed {seed}: relative error {e:e}");
        }
    }
    let e = vjp_error(&phi, 9, |_| true);
    assert!(e < 1e-5, "all moments: relative error {e:e}");
}

fn white(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.sample(StandardNormal)).collect()
}

/// Mean of each moment over `k` realisations.
fn mean_moments(phi: &ScatteringSpectra1d, k: u64, draw: impl Fn(u64) -> Vec<f64>) -> Vec<f64> {
    let mut acc = vec![0.0; phi.output_len()];
    for s in 0..k {
        for (a, m) in acc.iter_mut().zip(phi.forward(&draw(s)).unwrap()) {
            *a += m / k as f64;
        }
    }
    acc
}

#[test]
fn white_noise_has_a_flat_spectrum_gaussian_sparsity_and_no_phase_modulus_correlation() {
    let n = 1 << 14;
    let phi = ScatteringSpectra1d::new(n, 8).unwrap();
    let m = mean_moments(&phi, 4, |s| white(n, s));
    let j = phi.octaves();
    let gauss = std::f64::consts::PI.sqrt() / 2.0;
    for (v, l) in m.iter().zip(phi.labels()) {
        match l.kind {
            SpectraKind::Mean => assert!(v.abs() < 0.05, "mean: {v}"),
            // The density of unit white noise is 1 in every band (the coarsest bands hold
            // fewer independent coefficients, hence the wider tolerance there).
            SpectraKind::Power => {
                let tol = if l.scales[0] + 2 >= j { 0.25 } else { 0.05 };
                assert!((v - 1.0).abs() < tol, "power {:?}: {v}", l.scales);
            }
            SpectraKind::Sparsity if l.scales[0] + 2 < j => {
                assert!((v - gauss).abs() < 0.02, "sparsity {:?}: {v}", l.scales)
            }
            SpectraKind::PhaseModulus if l.scales[1] + 2 < j => {
                assert!(v.abs() < 0.05, "phase-modulus {:?}: {v}", l.scales)
            }
            _ => {}
        }
    }
}

#[test]
fn an_intermittent_walk_is_sparse_and_its_envelopes_correlate_across_scales() {
    // Increments of an MRW (λ² = 0.04, integral scale n/4) against white noise: sparser in
    // every fine band, and the envelopes of two fine octaves vary together at a coarse one.
    let n = 1 << 14;
    let phi = ScatteringSpectra1d::new(n, 8).unwrap();
    let incr = |s: u64| {
        let mut rng = StdRng::seed_from_u64(100 + s);
        let w = mrw(n + 1, 0.04, n / 4, 1.0, &mut rng).unwrap();
        w.windows(2).map(|p| p[1] - p[0]).collect::<Vec<f64>>()
    };
    let m = mean_moments(&phi, 4, incr);
    let g = mean_moments(&phi, 4, |s| white(n, s));
    let at = |v: &[f64], kind, scales: &[usize], im: bool| {
        phi.labels()
            .iter()
            .position(|l| l.kind == kind && l.scales == scales && l.imaginary == im)
            .map(|i| v[i])
            .unwrap()
    };
    for j in 0..4 {
        let (a, b) = (
            at(&m, SpectraKind::Sparsity, &[j], false),
            at(&g, SpectraKind::Sparsity, &[j], false),
        );
        assert!(a < b - 0.05, "octave {j}: MRW sparsity {a} vs Gaussian {b}");
    }
    let (a, b) = (
        at(&m, SpectraKind::Modulus, &[0, 1, 5], false),
        at(&g, SpectraKind::Modulus, &[0, 1, 5], false),
    );
    assert!(
        a > 3.0 * b.abs(),
        "envelope correlation: MRW {a} vs Gaussian {b}"
    );
}

#[test]
fn bad_input_is_an_error() {
    assert!(ScatteringSpectra1d::new(64, 6).is_err());
    assert!(ScatteringSpectra1d::new(256, 0).is_err());
    let phi = ScatteringSpectra1d::new(256, 4).unwrap();
    assert!(phi.forward(&[0.0; 255]).is_err());
    let mut x = white(256, 1);
    x[3] = f64::NAN;
    assert!(phi.forward(&x).is_err());
    assert!(phi.backward(&white(256, 1), &[0.0; 3]).is_err());
    // A constant signal has no wavelet energy: finite moments and gradient, no NaN.
    let c = vec![1.0; 256];
    assert!(phi.forward(&c).unwrap().iter().all(|v| v.is_finite()));
    let v = vec![1.0; phi.output_len()];
    assert!(phi.backward(&c, &v).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn leverage_shows_in_the_imaginary_phase_modulus_cross_spectrum() {
    // Pochart and Bouchaud's skewed MRW (a falling walk raises the volatility that follows)
    // has a negative imaginary phase-modulus cross-spectrum at every pair of octaves; the
    // time-symmetric MRW has none (Morel, Rochette and Mallat 2023, section 4).
    let n = 1 << 14;
    let phi = ScatteringSpectra1d::new(n, 8).unwrap();
    let mean_im = |k0: f64| {
        let incr = |s: u64| {
            let mut rng = StdRng::seed_from_u64(300 + s);
            let w = skewed_mrw(n + 1, 0.04, n / 4, k0, 0.5, &mut rng).unwrap();
            w.windows(2).map(|p| p[1] - p[0]).collect::<Vec<f64>>()
        };
        let m = mean_moments(&phi, 4, incr);
        let im: Vec<f64> = m
            .iter()
            .zip(phi.labels())
            .filter(|(_, l)| l.kind == SpectraKind::PhaseModulus && l.imaginary && l.scales[1] <= 6)
            .map(|(v, _)| *v)
            .collect();
        im.iter().sum::<f64>() / im.len() as f64
    };
    let (skewed, symmetric) = (mean_im(0.1), mean_im(0.0));
    assert!(skewed < -0.02, "skewed MRW: {skewed}");
    assert!(symmetric.abs() < 0.01, "symmetric MRW: {symmetric}");
}

#[test]
fn every_frequency_up_to_nyquist_is_seen_by_a_power_moment() {
    // The wavelets and the low-pass cover [0, 1/2] (their squared responses sum to at least
    // 0.28 of the peak there), so no energy of a start can hide from the moments: a pure
    // tone at any bin, Nyquist and the lowest included, shows in some band power.
    let n = 1024;
    let phi = ScatteringSpectra1d::new(n, 7).unwrap();
    for k in [1, 7, n / 16, n / 4, 3 * n / 8, n / 2 - 1, n / 2] {
        let x: Vec<f64> = (0..n)
            .map(|t| (2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64).cos())
            .collect();
        let m = phi.forward(&x).unwrap();
        let top = m
            .iter()
            .zip(phi.labels())
            .filter(|(_, l)| l.kind == SpectraKind::Power)
            .fold(0.0f64, |a, (v, _)| a.max(*v));
        assert!(top > 0.1, "bin {k}: largest band density {top}");
    }
}

#[test]
fn spectra_2d_backward_matches_finite_differences_and_white_noise_is_flat() {
    let phi = ScatteringSpectra2d::new_2d((16, 16), 2, 4).unwrap();
    assert_vjp_per_kind(&phi, 4);
    // Labels carry an orientation per wavelet; the modulus pairs share one.
    for l in phi.labels() {
        match l.kind {
            SpectraKind::Modulus => assert_eq!(l.orientations[0], l.orientations[1]),
            SpectraKind::PhaseModulus => assert!(l.scales[0] < l.scales[1]),
            _ => {}
        }
    }
    // White noise: flat band densities and the Gaussian sparsity, at every orientation.
    let (m, n) = (128, 128);
    let phi = ScatteringSpectra2d::new_2d((m, n), 4, 4).unwrap();
    let v = mean_moments(&phi, 4, |s| white(m * n, s));
    let gauss = std::f64::consts::PI.sqrt() / 2.0;
    for (x, l) in v.iter().zip(phi.labels()) {
        match l.kind {
            SpectraKind::Power if l.scales[0] < 3 => {
                assert!(
                    (x - 1.0).abs() < 0.1,
                    "power {:?} {:?}: {x}",
                    l.scales,
                    l.orientations
                )
            }
            SpectraKind::Sparsity if l.scales[0] < 3 => {
                assert!((x - gauss).abs() < 0.03, "sparsity {:?}: {x}", l.scales)
            }
            _ => {}
        }
    }
    assert!(ScatteringSpectra2d::new_2d((18, 16), 2, 4).is_err());
    assert!(ScatteringSpectra2d::new_2d((16, 16), 0, 4).is_err());
}

#[test]
fn subsampled_fields_keep_the_backward_exact_and_forward_backward_agrees() {
    // At 64 x 64 with J = 4 the coarse octaves are computed on grids of 32² down to 8²:
    // the vector-Jacobian product must stay exact through the folds.
    let phi = ScatteringSpectra2d::new_2d((64, 64), 4, 4).unwrap();
    assert_vjp_per_kind(&phi, 11);
    // One call gives what forward and backward give apart.
    let x = white(64 * 64, 3);
    let m = phi.forward(&x).unwrap();
    let v: Vec<f64> = m.iter().map(|a| 0.5 * a - 0.1).collect();
    let g = phi.backward(&x, &v).unwrap();
    let (m2, g2) = phi
        .forward_backward(&x, &mut |m| m.iter().map(|a| 0.5 * a - 0.1).collect())
        .unwrap();
    let close = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .all(|(p, q)| (p - q).abs() <= 1e-12 * (1.0 + p.abs()))
    };
    assert!(close(&m, &m2) && close(&g, &g2));
    // A cotangent of the wrong length is an error, not a panic.
    assert!(phi.forward_backward(&x, &mut |_| vec![0.0; 3]).is_err());
    // Against the full-grid definition: the band power of white noise stays flat at the
    // coarse octaves too, and the low-pass sees the DC-free remainder.
    let phi = ScatteringSpectra1d::new(4096, 8).unwrap();
    let v = mean_moments(&phi, 8, |s| white(4096, s));
    for (x, l) in v.iter().zip(phi.labels()) {
        if l.kind == SpectraKind::Power && l.scales[0] < 6 {
            assert!((x - 1.0).abs() < 0.15, "power {:?}: {x}", l.scales);
        }
    }
}

#[test]
fn energy_the_wavelets_do_not_resolve_is_a_moment() {
    // The shells: half-octave rings below the low-pass scale, then the corners. The
    // checkerboard (-1)^(r+c) lives at the corner frequency (π, π), which the Morlet
    // wavelets barely reach; a tone of one cycle per side lives in the lowest ring, a
    // diagonal one (|k| = √2) in the next. White noise has the flat density in every shell.
    let (m, n) = (64, 64);
    let phi = ScatteringSpectra2d::new_2d((m, n), 4, 4).unwrap();
    let shells: Vec<usize> = phi
        .labels()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.kind == SpectraKind::Outside)
        .map(|(k, _)| k)
        .collect();
    // 64 / 2^4 = 4 cycles: rings [1, √2), [√2, 2), [2, 2√2) and [2√2, 4); then three
    // corner shells.
    assert_eq!(shells.len(), 7);
    let (lowest, corner) = (shells[0], shells[shells.len() - 1]);
    let board: Vec<f64> = (0..m * n)
        .map(|i| if (i / n + i % n) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let smooth: Vec<f64> = (0..m * n)
        .map(|i| (2.0 * std::f64::consts::PI * (i % n) as f64 / n as f64).cos())
        .collect();
    let diagonal: Vec<f64> = (0..m * n)
        .map(|i| (2.0 * std::f64::consts::PI * (i / n + i % n) as f64 / n as f64).cos())
        .collect();
    let b = phi.forward(&board).unwrap();
    let t = phi.forward(&smooth).unwrap();
    let d = phi.forward(&diagonal).unwrap();
    assert!(
        d[shells[1]] > 10.0 && d[lowest] < 1e-12,
        "diagonal tone: {} in [√2, 2), {} in [1, √2)",
        d[shells[1]],
        d[lowest]
    );
    assert!(b[corner] > 2.5, "checkerboard: {}", b[corner]);
    assert!(
        b[lowest] < 1e-12,
        "checkerboard in the lowest ring: {}",
        b[lowest]
    );
    assert!(
        t[corner] < 1e-12,
        "smooth tone in the corner: {}",
        t[corner]
    );
    assert!(
        t[lowest] > 10.0,
        "smooth tone in the lowest ring: {}",
        t[lowest]
    );
    let v = mean_moments(&phi, 8, |s| white(m * n, s));
    for &k in &shells {
        // The lowest rings hold 4 bins (2 independent): their densities fluctuate most.
        assert!(
            (v[k] - 1.0).abs() < 0.5,
            "white noise, {:?}: {}",
            phi.labels()[k],
            v[k]
        );
    }
    assert!(
        (v[corner] - 1.0).abs() < 0.15,
        "white noise, corner: {}",
        v[corner]
    );
}

#[test]
fn isotropic_spectra_ignore_rotations_by_multiples_of_the_orientation_step() {
    use scattering_models::{ReducedSpectra, Reduction};
    let s = 64;
    // A rough anisotropic image: a sum of oriented bars with noise.
    let mut rng = StdRng::seed_from_u64(21);
    let x: Vec<f64> = (0..s * s)
        .map(|i| {
            let (r, c) = (i / s, i % s);
            ((r + 2 * c) % 9) as f64 / 9.0 + 0.3 * rng.sample::<f64, _>(StandardNormal)
        })
        .collect();
    // Rotations by 90 degrees (two steps of L = 4, four of L = 8) and by 180 degrees, about
    // pixel (0, 0): (r, c) -> (c, -r) maps every subsampled grid the coarse octaves use
    // onto itself (about the image centre it would not, and their means would move by
    // about 1e-4).
    let rot90 = |x: &[f64]| -> Vec<f64> {
        (0..s * s)
            .map(|i| x[(i % s) * s + (s - i / s) % s])
            .collect()
    };
    for l in [4, 8] {
        let full = ScatteringSpectra2d::new_2d((s, s), 3, l).unwrap();
        let k_full = full.labels().len();
        let full_x = full.forward(&x).unwrap();
        let full_r = full.forward(&rot90(&x)).unwrap();
        // The full spectra do see the rotation.
        let moved = full_x
            .iter()
            .zip(&full_r)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            moved > 1e-3,
            "L = {l}: full spectra unchanged by a rotation"
        );
        let iso = ReducedSpectra::new(full, Reduction::Isotropic).unwrap();
        assert!(
            iso.output_len() * 2 < k_full,
            "L = {l}: {} of {k_full}",
            iso.output_len()
        );
        let a = iso.forward(&x).unwrap();
        for y in [rot90(&x), rot90(&rot90(&x))] {
            let b = iso.forward(&y).unwrap();
            for ((p, q), lab) in a.iter().zip(&b).zip(iso.labels()) {
                assert!(
                    (p - q).abs() <= 1e-8 * (1.0 + p.abs()),
                    "L = {l}, {lab:?}: {p} vs {q}"
                );
            }
        }
    }
}

#[test]
fn reduced_spectra_have_exact_gradients_and_refuse_what_they_cannot_reduce() {
    use scattering_models::{ReducedSpectra, Reduction};
    let phi = ReducedSpectra::new(
        ScatteringSpectra2d::new_2d((32, 32), 3, 4).unwrap(),
        Reduction::Both,
    )
    .unwrap();
    let mut rng = StdRng::seed_from_u64(6);
    let v: Vec<f64> = (0..phi.output_len())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let e = directional_error(&phi, &v, &mut rng);
    assert!(e < 1e-5, "relative error {e:e}");
    // With the wavelet flatness: one per scale after the rotation average.
    let flat = ReducedSpectra::new(
        ScatteringSpectra2d::new_2d((32, 32), 3, 4)
            .unwrap()
            .with_flatness(),
        Reduction::Isotropic,
    )
    .unwrap();
    let kinds = |k| flat.labels().iter().filter(|l| l.kind == k).count();
    assert_eq!(kinds(SpectraKind::Flatness), kinds(SpectraKind::Sparsity));
    assert_eq!(kinds(SpectraKind::Flatness), 3);
    let w: Vec<f64> = (0..flat.output_len())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let e = directional_error(&flat, &w, &mut rng);
    assert!(e < 1e-5, "with flatness: relative error {e:e}");
    let x = white(32 * 32, 5);
    let g = phi.backward(&x, &v).unwrap();
    let (m2, g2) = phi.forward_backward(&x, &mut |_| v.clone()).unwrap();
    assert_eq!(m2, phi.forward(&x).unwrap());
    assert!(g
        .iter()
        .zip(&g2)
        .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + a.abs())));
    assert!(phi.forward_backward(&x, &mut |_| vec![1.0]).is_err());
    assert!(phi.backward(&x, &[1.0]).is_err());
    // Dilation averages keep one power per octave and group the cross-spectra by offsets.
    let one_d = ScatteringSpectra1d::new(1024, 7).unwrap();
    let k = one_d.labels().len();
    let full_powers = one_d
        .labels()
        .iter()
        .filter(|l| l.kind == SpectraKind::Power)
        .count();
    let si = ReducedSpectra::new(one_d, Reduction::ScaleInvariant).unwrap();
    assert!(si.output_len() * 2 < k);
    let powers = si
        .labels()
        .iter()
        .filter(|l| l.kind == SpectraKind::Power)
        .count();
    assert_eq!(powers, full_powers, "one power per octave and the low-pass");
    // A rotation average of a 1D signal means nothing.
    assert!(ReducedSpectra::new(
        ScatteringSpectra1d::new(256, 4).unwrap(),
        Reduction::Isotropic
    )
    .is_err());
}

#[test]
fn wavelet_flatness_is_two_for_noise_larger_for_an_mrw_and_its_gradient_is_exact() {
    // Gradient, 1D and 2D, against finite differences; the other moments are unchanged.
    let plain = ScatteringSpectra1d::new(256, 5).unwrap();
    let phi = ScatteringSpectra1d::new(256, 5).unwrap().with_flatness();
    let nj = plain
        .labels()
        .iter()
        .filter(|l| l.kind == SpectraKind::Sparsity)
        .count();
    assert_eq!(phi.output_len(), plain.output_len() + nj);
    assert_eq!(phi.with_flatness().output_len(), plain.output_len() + nj);
    let phi = ScatteringSpectra1d::new(256, 5).unwrap().with_flatness();
    let x = white(256, 3);
    let (a, b) = (plain.forward(&x).unwrap(), phi.forward(&x).unwrap());
    assert_eq!(a[..], b[..a.len()]);
    for seed in 0..3 {
        let e = vjp_error(&phi, seed, |k| k == SpectraKind::Flatness);
        assert!(e < 1e-5, "flatness, seed {seed}: relative error {e:e}");
    }
    let e = vjp_error(&phi, 7, |_| true);
    assert!(e < 1e-5, "all moments with flatness: relative error {e:e}");
    let phi2 = ScatteringSpectra2d::new_2d((16, 16), 2, 4)
        .unwrap()
        .with_flatness();
    let e = vjp_error(&phi2, 5, |k| k == SpectraKind::Flatness);
    assert!(e < 1e-5, "2D flatness: relative error {e:e}");
    // Known values: E|W|⁴ / (E|W|²)² = 2 for circular complex Gaussian coefficients (the
    // analytic fine wavelets of white noise); an MRW's is larger and decays with the scale.
    let n = 1 << 14;
    let phi = ScatteringSpectra1d::new(n, 8).unwrap().with_flatness();
    let flat = |m: &[f64]| -> Vec<f64> {
        m.iter()
            .zip(phi.labels())
            .filter(|(_, l)| l.kind == SpectraKind::Flatness)
            .map(|(v, _)| *v)
            .collect()
    };
    let g = flat(&mean_moments(&phi, 4, |s| white(n, s)));
    for (j, v) in g.iter().take(5).enumerate() {
        assert!(
            (v - 2.0).abs() < 0.1,
            "white noise, octave {j}: flatness {v}"
        );
    }
    let m = flat(&mean_moments(&phi, 4, |s| {
        let mut rng = StdRng::seed_from_u64(200 + s);
        let w = mrw(n + 1, 0.04, n / 4, 1.0, &mut rng).unwrap();
        w.windows(2).map(|p| p[1] - p[0]).collect::<Vec<f64>>()
    }));
    assert!(m[0] > 3.0, "MRW finest flatness {}", m[0]);
    assert!(
        m[0] > m[4] && m[4] > g[4],
        "MRW flatness across scales {m:?}"
    );
}
