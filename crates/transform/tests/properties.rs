//! Properties of the time scattering transform that hold whatever the implementation:
//! energy, contractivity, invariance and covariance to shifts, analytic answers, and
//! typed errors on bad input.

mod common;
use common::{norm2, white_noise};
use ndarray::{s, Array2, Axis};
use rustfft::num_complex::Complex64;
use rustfft::FftPlanner;
use scattering_transform::{Averaging, Padding, Scattering1d, Scattering1dParams, TransformError};

/// ||S x||^2 scaled to the full-rate grid (each output sample stands for 2^log2(T) inputs).
fn energy(s: &Scattering1d, sx: &ndarray::Array3<f64>) -> f64 {
    let w = match s.params().average {
        Averaging::Local => (1usize << s.bank().params.log2_t()) as f64,
        Averaging::Global => s.params().n as f64,
        Averaging::None => 1.0,
    };
    w * norm2(sx.iter())
}

fn periodic(n: usize, j: usize, q: (usize, usize), avg: Averaging) -> Scattering1d {
    Scattering1dParams::new(n, j)
        .q(q)
        .average(avg)
        .padding(Padding::Periodic)
        .build()
        .unwrap()
}

#[test]
fn energy_of_white_noise_is_bounded_by_the_frame() {
    // Upper bound ||x||^2 (Littlewood-Paley sum <= 1); lower bound: analytic wavelets keep
    // about half of a real signal's energy at order 1, and orders <= 2 keep most of it.
    for (j, q) in [(6, (8, 1)), (4, (1, 1)), (8, (12, 2))] {
        let s = periodic(4096, j, q, Averaging::Local);
        let x = white_noise(4, 4096, 1);
        let sx = s.forward(x.view()).unwrap();
        let ratio = energy(&s, &sx) / norm2(x.iter());
        eprintln!("J={j} Q={q:?}: ||Sx||^2 / ||x||^2 = {ratio:.4}");
        assert!(ratio <= 1.0, "J={j}: {ratio}");
        assert!(ratio >= 0.35, "J={j}: {ratio}");
    }
}

#[test]
fn scalogram_energy_matches_littlewood_paley_average() {
    // Without averaging, order 0 is x itself and order 1 is |x * psi|: the order-1 energy of
    // white noise is the mean over frequencies of the wavelets' Littlewood-Paley sum (up to
    // the noise's finite-sample fluctuation).
    let s = periodic(4096, 6, (8, 1), Averaging::None);
    let s1 = Scattering1dParams::new(4096, 6)
        .q((8, 1))
        .max_order(1)
        .average(Averaging::None)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    let x = white_noise(8, 4096, 3);
    let psis: Vec<&[f64]> = s
        .bank()
        .psi1
        .iter()
        .map(|f| f.levels[0].as_slice())
        .collect();
    let lp = scattering_filters::littlewood_paley::littlewood_paley_real(&psis, None);
    let predicted = lp.iter().sum::<f64>() / lp.len() as f64;
    let u = s1.forward(x.view()).unwrap();
    let e1 = norm2(u.slice(s![.., 1.., ..]).iter()) / norm2(x.iter());
    eprintln!("order<=1 energy ratio {e1:.4}, LP mean {predicted:.4}");
    assert!((e1 - predicted).abs() < 0.02, "{e1} vs {predicted}");
    let u = s.forward(x.view()).unwrap();
    let e2 = norm2(u.slice(s![.., 1.., ..]).iter()) / norm2(x.iter());
    // Order 2 adds energy, and U1 + U2 stay below what the frame allows.
    assert!(e2 > e1 && e2 <= 1.0, "{e2}");
}

#[test]
fn contractive_on_random_pairs() {
    for avg in [Averaging::Local, Averaging::Global, Averaging::None] {
        let s = periodic(1024, 5, (4, 2), avg);
        for seed in 0..4 {
            let x = white_noise(1, 1024, 100 + seed);
            let y = if seed % 2 == 0 {
                white_noise(1, 1024, 200 + seed)
            } else {
                &x + &(white_noise(1, 1024, 300 + seed) * 0.01)
            };
            let mut d = s.forward(x.view()).unwrap() - s.forward(y.view()).unwrap();
            if avg == Averaging::None {
                // Without averaging, channel 0 is the signal itself (the identity is not
                // strictly contractive with the rest); the wavelet moduli are.
                d.slice_mut(s![.., 0, ..]).fill(0.0);
            }
            let lhs = energy(&s, &d);
            let rhs = norm2((&x - &y).iter());
            assert!(lhs <= rhs, "{avg:?} seed {seed}: {lhs} > {rhs}");
        }
    }
}

fn roll(x: &Array2<f64>, k: usize) -> Array2<f64> {
    let n = x.ncols();
    Array2::from_shape_fn(x.raw_dim(), |(b, t)| x[[b, (t + n - k) % n]])
}

#[test]
fn global_averaging_is_invariant_to_circular_shifts() {
    let s = periodic(1024, 5, (4, 2), Averaging::Global);
    let x = white_noise(2, 1024, 5);
    let sx = s.forward(x.view()).unwrap();
    let scale = sx.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    // Shifts by a multiple of the coarsest subsampling commute exactly.
    let exact = s.forward(roll(&x, 64).view()).unwrap();
    let e = (&exact - &sx).iter().fold(0.0f64, |m, v| m.max(v.abs())) / scale;
    assert!(e < 1e-12, "shift by 64: {e:e}");
    // Any other shift only through the (small) aliasing of the subsampled moduli.
    for k in [1, 3, 17, 500] {
        let sk = s.forward(roll(&x, k).view()).unwrap();
        let e = (&sk - &sx).iter().fold(0.0f64, |m, v| m.max(v.abs())) / scale;
        assert!(e < 2e-2, "shift by {k}: {e:e}");
    }
}

#[test]
fn local_averaging_is_covariant_to_shifts_by_the_stride() {
    let s = periodic(1024, 5, (4, 2), Averaging::Local);
    let x = white_noise(1, 1024, 8);
    let sx = s.forward(x.view()).unwrap();
    let sk = s.forward(roll(&x, 3 * 32).view()).unwrap();
    let t = sx.len_of(Axis(2));
    let want =
        ndarray::Array3::from_shape_fn(sx.raw_dim(), |(b, c, i)| sx[[b, c, (i + t - 3) % t]]);
    let e = (&sk - &want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(e < 1e-10, "{e:e}");
}

#[test]
fn zero_and_constant_inputs() {
    for pad in [Padding::Reflect, Padding::Periodic] {
        let s = Scattering1dParams::new(512, 4)
            .q((4, 2))
            .padding(pad)
            .build()
            .unwrap();
        let z = s.forward(Array2::<f64>::zeros((1, 512)).view()).unwrap();
        assert!(z.iter().all(|v| *v == 0.0));
        let c = s.forward(Array2::from_elem((1, 512), 2.5).view()).unwrap();
        // phi has unit DC gain; every wavelet has zero mean.
        assert!(
            c.slice(s![0, 0, ..])
                .iter()
                .all(|v| (v - 2.5).abs() < 1e-12),
            "{pad:?}"
        );
        assert!(
            c.slice(s![0, 1.., ..]).iter().all(|v| v.abs() < 1e-10),
            "{pad:?}"
        );
    }
}

fn ifft_real(h: &[f64]) -> Vec<f64> {
    let mut b: Vec<Complex64> = h.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    FftPlanner::new().plan_fft_inverse(h.len()).process(&mut b);
    b.iter().map(|c| c.re / h.len() as f64).collect()
}

#[test]
fn dirac_order0_is_the_sampled_low_pass() {
    let n = 512;
    let s = periodic(n, 4, (2, 1), Averaging::Local);
    let t0 = 37;
    let mut x = Array2::zeros((1, n));
    x[[0, t0]] = 1.0;
    let sx = s.forward(x.view()).unwrap();
    let phi = ifft_real(&s.bank().phi.levels[0]);
    let stride = 1 << s.bank().params.log2_t();
    for (i, v) in sx.slice(s![0, 0, ..]).iter().enumerate() {
        let want = phi[(i * stride + n - t0) % n];
        assert!((v - want).abs() < 1e-12, "t = {i}: {v} vs {want}");
    }
}

#[test]
fn cosine_first_order_is_half_the_wavelet_response() {
    let n = 2048;
    let s = periodic(n, 6, (8, 1), Averaging::Local);
    let k0 = 300; // frequency 300 / 2048 cycles per sample
    let x = Array2::from_shape_fn((1, n), |(_, t)| {
        (2.0 * std::f64::consts::PI * (k0 * t) as f64 / n as f64).cos()
    });
    let sx = s.forward(x.view()).unwrap();
    let first = sx.slice(s![0, 1..1 + s.bank().psi1.len(), ..]);
    let top = first.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (n1, psi) in s.bank().psi1.iter().enumerate() {
        let want = 0.5 * psi.levels[0][k0].abs();
        for v in first.row(n1) {
            assert!((v - want).abs() < 1e-6 * top, "psi1[{n1}]: {v} vs {want}");
        }
    }
    // |x * psi| is (nearly) constant, so order 2 sees nothing.
    let second = sx.slice(s![0, 1 + s.bank().psi1.len().., ..]);
    assert!(second.iter().all(|v| v.abs() < 1e-6 * top));
}

fn err(p: Scattering1dParams) -> TransformError {
    match p.build() {
        Err(e) => e,
        Ok(_) => panic!("expected an error"),
    }
}

#[test]
fn bad_parameters_are_typed_errors() {
    let cases = [
        (Scattering1dParams::new(32, 6), "N"),
        (Scattering1dParams::new(1024, 0), "J"),
        (Scattering1dParams::new(1024, 31), "J"),
        (Scattering1dParams::new(1024, 4).q((0, 1)), "Q"),
        (Scattering1dParams::new(1024, 4).q((8, 0)), "Q"),
        (Scattering1dParams::new(1024, 4).t(2048), "T"),
        (Scattering1dParams::new(1024, 4).t(0), "T"),
        (Scattering1dParams::new(1024, 4).max_order(3), "max_order"),
        (
            Scattering1dParams::new(1000, 4).padding(Padding::Periodic),
            "N",
        ),
    ];
    for (p, name) in cases {
        let e = err(p.clone());
        let msg = e.to_string();
        assert!(msg.contains(&format!("`{name}`")), "{p:?}: {msg}");
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let s = Scattering1dParams::new(256, 4).build().unwrap();
    let wrong_len = Array2::<f64>::zeros((2, 255));
    assert!(matches!(
        s.forward(wrong_len.view()),
        Err(TransformError::Shape { .. })
    ));
    let empty = Array2::<f64>::zeros((0, 256));
    assert!(matches!(
        s.forward(empty.view()),
        Err(TransformError::Shape { .. })
    ));
    let mut x = Array2::<f64>::zeros((2, 256));
    x[[1, 17]] = f64::NAN;
    match s.forward(x.view()) {
        Err(TransformError::NonFinite { batch, index, .. }) => assert_eq!((batch, index), (1, 17)),
        other => panic!("{other:?}"),
    }
    x[[1, 17]] = f64::INFINITY;
    assert!(s.forward(x.view()).is_err());
    let x = Array2::<f64>::zeros((2, 256));
    let (c, t) = s.output_shape();
    let g = ndarray::Array3::<f64>::zeros((2, c, t + 1));
    assert!(matches!(
        s.backward(x.view(), g.view()),
        Err(TransformError::Shape { .. })
    ));
    let mut g = ndarray::Array3::<f64>::zeros((2, c, t));
    g[[0, 1, 0]] = f64::NAN;
    assert!(matches!(
        s.backward(x.view(), g.view()),
        Err(TransformError::NonFinite { .. })
    ));
    assert!(s.forward_signal(&[0.0f32; 100]).is_err());
}

mod random_configurations {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// For any valid (N, J, Q, T): the output is finite with the announced shape, and
        /// S(a x) = a S(x) at order 0 (linear) and |a| S(x) above (the modulus is
        /// positively homogeneous).
        #[test]
        fn finite_shaped_and_homogeneous(
            j in 1usize..6,
            q1 in 1usize..6,
            q2 in 1usize..3,
            extra in 0usize..400,
            t_shift in 0usize..3,
            a in -3.0f64..3.0,
            seed in 0u64..1000,
        ) {
            let n = (1 << j) + extra;
            let s = Scattering1dParams::new(n, j)
                .q((q1, q2))
                .t(1 << (j - t_shift.min(j - 1)))
                .build()
                .unwrap();
            let x = white_noise(2, n, seed);
            let sx = s.forward(x.view()).unwrap();
            let (c, t) = s.output_shape();
            prop_assert_eq!(sx.dim(), (2, c, t));
            prop_assert!(sx.iter().all(|v| v.is_finite()));
            let sa = s.forward((&x * a).view()).unwrap();
            let top = sx.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for ((b, ch, i), v) in sa.indexed_iter() {
                let want = if ch == 0 { a * sx[[b, ch, i]] } else { a.abs() * sx[[b, ch, i]] };
                prop_assert!((v - want).abs() <= 1e-10 * top * a.abs().max(1.0));
            }
        }
    }
}
