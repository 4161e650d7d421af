//! Image scattering: conformance with Kymatio's Scattering2D, gradients against finite
//! differences, rotation covariance, and errors.

mod common;
use common::{fixture, rel_err};
use ndarray::{Array3, Array4, Axis};
use ndarray_npy::read_npy;
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use scattering_transform::{Padding, Scattering2dParams, TransformError};

fn noise(shape: (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array3::from_shape_fn(shape, |_| StandardNormal.sample(&mut rng))
}

#[test]
fn matches_kymatio_scattering2d() {
    let x: Array3<f64> = read_npy(fixture("kymatio-0.3.0", "s2d_input.npy")).unwrap();
    let want: Array4<f64> = read_npy(fixture("kymatio-0.3.0", "s2d_output.npy")).unwrap();
    let s = Scattering2dParams::new((32, 32), 2).l(8).build().unwrap();
    assert_eq!(s.padded_shape(), (40, 40));
    let got = s.forward(x.view()).unwrap();
    let e = rel_err(&got.into_dyn(), &want.into_dyn());
    eprintln!("2D relative error {e:e}");
    assert!(e <= 1e-6, "relative error {e:e}");
    // Labels follow Kymatio's paths.
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("kymatio-0.3.0", "s2d_meta.json")).unwrap(),
    )
    .unwrap();
    for (c, p) in s.meta().iter().enumerate() {
        let want_n: Vec<usize> = meta["paths"][c]["n"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(p.n, want_n, "channel {c}");
    }
}

#[test]
fn float32_engine_and_input() {
    let x: Array3<f64> = read_npy(fixture("kymatio-0.3.0", "s2d_input.npy")).unwrap();
    let want: Array4<f64> = read_npy(fixture("kymatio-0.3.0", "s2d_output.npy")).unwrap();
    let s = Scattering2dParams::new((32, 32), 2).build_f32().unwrap();
    let got = s
        .forward(x.mapv(|v| v as f32).view())
        .unwrap()
        .mapv(f64::from);
    let e = rel_err(&got.into_dyn(), &want.into_dyn());
    assert!(e <= 1e-5, "relative error {e:e}");
}

#[test]
fn gradient_matches_finite_differences() {
    // Non-square, sizes not multiples of 2^J: padding and unpadding are exercised. Odd L
    // leaves unpaired paths in the forward pass (which packs two moduli per FFT) and
    // pairs whose second child is at the next scale; the backward pass packs nothing, so
    // this checks one against the other.
    for (shape, j, l) in [((13, 18), 2, 4), ((13, 18), 2, 3), ((17, 20), 3, 5)] {
        let s = Scattering2dParams::new(shape, j).l(l).build().unwrap();
        let x = noise((1, shape.0, shape.1), 3);
        let (c, a, b) = s.output_shape();
        let g = Array4::from_shape_fn((1, c, a, b), |(_, ch, i, j)| {
            ((ch * 7 + i * 3 + j) as f64 * 0.37).sin()
        });
        let grad = s.backward(x.view(), g.view()).unwrap();
        let f = |y: &Array3<f64>| -> f64 {
            s.forward(y.view())
                .unwrap()
                .iter()
                .zip(g.iter())
                .map(|(p, q): (&f64, &f64)| p * q)
                .sum()
        };
        let eps = 1e-5;
        let mut rng = StdRng::seed_from_u64(9);
        let mut worst = 0.0f64;
        for _ in 0..4 {
            let v = Array3::from_shape_fn(x.raw_dim(), |_| StandardNormal.sample(&mut rng));
            let fd = (f(&(&x + &(&v * eps))) - f(&(&x - &(&v * eps)))) / (2.0 * eps);
            let an: f64 = grad
                .iter()
                .zip(v.iter())
                .map(|(p, q): (&f64, &f64)| p * q)
                .sum();
            worst = worst.max((an - fd).abs() / an.abs().max(fd.abs()));
        }
        eprintln!("2D gradient relative error {worst:e} ({shape:?}, J={j}, L={l})");
        assert!(worst <= 1e-5, "{worst:e} ({shape:?}, J={j}, L={l})");
        // A zero image makes every modulus zero: finite gradient, no NaN.
        let z = Array3::<f64>::zeros((1, shape.0, shape.1));
        assert!(s
            .backward(z.view(), g.view())
            .unwrap()
            .iter()
            .all(|v| v.is_finite()));
    }
}

#[test]
fn rotating_by_90_degrees_permutes_orientations() {
    // A periodic image turned by 90 degrees about pixel (0, 0), so that the rotation maps
    // the subsampling grid onto itself: y[i, j] = x[j, -i mod N].
    let l = 8;
    let s = Scattering2dParams::new((32, 32), 2)
        .l(l)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    let x = noise((1, 32, 32), 5);
    let r = Array3::from_shape_fn((1, 32, 32), |(b, i, j)| x[[b, j, (32 - i) % 32]]);
    let sx = s.forward(x.view()).unwrap();
    let sr = s.forward(r.view()).unwrap();
    let (_, a, _) = s.output_shape();
    let rot = |t: usize| (t + l / 2) % l;
    let meta = s.meta();
    let scale = sx.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut worst = 0.0f64;
    for (c, p) in meta.iter().enumerate() {
        // The channel of the rotated image whose orientations are those of `p`, turned.
        let target: Vec<usize> = p.theta.iter().map(|&t| rot(t)).collect();
        let c2 = meta
            .iter()
            .position(|q| q.order == p.order && q.j == p.j && q.theta == target)
            .unwrap();
        for i in 0..a {
            for j in 0..a {
                let want = sx[[0, c, j, (a - i) % a]];
                worst = worst.max((sr[[0, c2, i, j]] - want).abs() / scale);
            }
        }
    }
    eprintln!("rotation covariance error {worst:e}");
    // Exact up to Kymatio's float32 rounding of cos and sin in the filter construction.
    assert!(worst < 1e-6, "{worst:e}");
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(Scattering2dParams::new((3, 32), 2).build().is_err());
    assert!(Scattering2dParams::new((32, 32), 0).build().is_err());
    assert!(Scattering2dParams::new((32, 32), 13).build().is_err());
    assert!(Scattering2dParams::new((32, 32), 2).l(0).build().is_err());
    let s = Scattering2dParams::new((16, 16), 2).build().unwrap();
    let x = Array3::<f64>::zeros((1, 16, 15));
    assert!(matches!(
        s.forward(x.view()),
        Err(TransformError::Shape { .. })
    ));
    let mut x = Array3::<f64>::zeros((2, 16, 16));
    x[[1, 2, 3]] = f64::NAN;
    assert!(matches!(
        s.forward(x.view()),
        Err(TransformError::NonFinite { batch: 1, .. })
    ));
    let _ = x.index_axis(Axis(0), 0);
}

#[test]
fn global_averaging_gradient_and_invariance() {
    use scattering_transform::Averaging;
    for pad in [Padding::Reflect, Padding::Periodic] {
        // Odd L on one of the two: an unpaired path in the packed forward pass.
        let s = Scattering2dParams::new((16, 16), 2)
            .l(if pad == Padding::Periodic { 3 } else { 4 })
            .padding(pad)
            .average(Averaging::Global)
            .build()
            .unwrap();
        let (c, a, b) = s.output_shape();
        assert_eq!((a, b), (1, 1));
        let x = noise((1, 16, 16), 8);
        let sx = s.forward(x.view()).unwrap();
        // Order 0 is the mean of the image.
        assert!((sx[[0, 0, 0, 0]] - x.mean().unwrap()).abs() < 1e-12);
        let g = Array4::from_shape_fn((1, c, 1, 1), |(_, ch, _, _)| ((ch * 3) as f64 * 0.7).cos());
        let grad = s.backward(x.view(), g.view()).unwrap();
        let f = |y: &Array3<f64>| -> f64 {
            s.forward(y.view())
                .unwrap()
                .iter()
                .zip(g.iter())
                .map(|(p, q): (&f64, &f64)| p * q)
                .sum()
        };
        let mut rng = StdRng::seed_from_u64(1);
        let v = Array3::from_shape_fn(x.raw_dim(), |_| StandardNormal.sample(&mut rng));
        let eps = 1e-5;
        let fd = (f(&(&x + &(&v * eps))) - f(&(&x - &(&v * eps)))) / (2.0 * eps);
        let an: f64 = grad
            .iter()
            .zip(v.iter())
            .map(|(p, q): (&f64, &f64)| p * q)
            .sum();
        assert!(
            (an - fd).abs() <= 1e-5 * an.abs().max(fd.abs()),
            "{pad:?}: {an} vs {fd}"
        );
        if pad == Padding::Periodic {
            // A periodic image shifted by a multiple of 2^J has the same invariants.
            let r = Array3::from_shape_fn((1, 16, 16), |(bb, i, j)| {
                x[[bb, (i + 4) % 16, (j + 8) % 16]]
            });
            let sr = s.forward(r.view()).unwrap();
            let e = (&sr - &sx).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(e < 1e-12, "{e:e}");
        }
    }
    assert!(Scattering2dParams::new((16, 16), 2)
        .average(Averaging::None)
        .build()
        .is_err());
}

#[test]
fn single_images_spread_over_threads_give_the_batch_results() {
    // A batch of one takes the path-parallel route, a batch of four the image-parallel one.
    use scattering_transform::Averaging;
    for avg in [Averaging::Local, Averaging::Global] {
        let s = Scattering2dParams::new((24, 20), 2)
            .l(4)
            .average(avg)
            .build()
            .unwrap();
        let x = noise((4, 24, 20), 12);
        let batch = s.forward(x.view()).unwrap();
        let (c, a, b) = s.output_shape();
        let g = Array4::from_shape_fn((4, c, a, b), |(i, ch, p, q)| {
            ((i + ch * 3 + p + q) as f64 * 0.3).sin()
        });
        let gb = s.backward(x.view(), g.view()).unwrap();
        for i in 0..4 {
            let xi = x.slice(ndarray::s![i..i + 1, .., ..]);
            let one = s.forward(xi).unwrap();
            assert!(
                (&one.index_axis(Axis(0), 0) - &batch.index_axis(Axis(0), i))
                    .iter()
                    .all(|v| v.abs() < 1e-12)
            );
            let gi = g.slice(ndarray::s![i..i + 1, .., .., ..]);
            let go = s.backward(xi, gi).unwrap();
            assert!((&go.index_axis(Axis(0), 0) - &gb.index_axis(Axis(0), i))
                .iter()
                .all(|v| v.abs() < 1e-12));
        }
    }
}
