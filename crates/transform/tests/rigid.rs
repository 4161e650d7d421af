//! Rigid-motion scattering: exact invariance to rotations by 90 degrees, measured
//! invariance to other angles against translation scattering, gradients against finite
//! differences, precision, contractivity, shapes, labels and errors.

use ndarray::{s, Array2, Array3, Array4};
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use scattering_transform::{
    AngularAveraging, Averaging, Padding, RigidMotionParams, Scattering2dParams, Transform,
    TransformError,
};

fn noise(shape: (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array3::from_shape_fn(shape, |_| StandardNormal.sample(&mut rng))
}

/// Rotation by 90 degrees about pixel (0, 0) of a periodic image.
fn rot90(x: &Array3<f64>) -> Array3<f64> {
    let n = x.shape()[1];
    Array3::from_shape_fn(x.raw_dim(), |(b, i, j)| x[[b, j, (n - i) % n]])
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let n: f64 = b.iter().map(|y| y * y).sum();
    (d / n).sqrt()
}

#[test]
fn rotating_by_90_degrees_leaves_the_invariants_unchanged() {
    let x = noise((2, 32, 32), 1);
    let xr = rot90(&x);
    for k in [0, 1, 2] {
        let s = RigidMotionParams::new((32, 32), 3)
            .l(8)
            .k(k)
            .padding(Padding::Periodic)
            .average(Averaging::Global)
            .build()
            .unwrap();
        let (a, b) = (s.forward(x.view()).unwrap(), s.forward(xr.view()).unwrap());
        let e = rel(b.as_slice().unwrap(), a.as_slice().unwrap());
        assert!(e < 1e-12, "K = {k}: relative change {e:e}");
    }
    // With local averaging the output maps rotate with the image.
    let s = RigidMotionParams::new((32, 32), 3)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    let (a, b) = (s.forward(x.view()).unwrap(), s.forward(xr.view()).unwrap());
    let n = a.shape()[3];
    let a_rot = Array4::from_shape_fn(a.raw_dim(), |(bb, c, i, j)| a[[bb, c, j, (n - i) % n]]);
    let e = rel(b.as_slice().unwrap(), a_rot.as_slice().unwrap());
    assert!(e < 1e-12, "local averaging: relative change {e:e}");
    // Translation scattering is not invariant: the same check is a real test.
    let t = Scattering2dParams::new((32, 32), 3)
        .padding(Padding::Periodic)
        .average(Averaging::Global)
        .build()
        .unwrap();
    let (a, b) = (t.forward(x.view()).unwrap(), t.forward(xr.view()).unwrap());
    assert!(rel(b.as_slice().unwrap(), a.as_slice().unwrap()) > 1e-3);
}

/// Bilinear rotation by `angle` about the centre of `img`, keeping the central
/// `size x size` square (inside the rotated image for angles up to 45 degrees when
/// `size <= side / sqrt(2)`).
fn rotate_crop(img: &Array2<f64>, angle: f64, size: usize) -> Array2<f64> {
    let (m, n) = img.dim();
    let (cy, cx) = ((m as f64 - 1.0) / 2.0, (n as f64 - 1.0) / 2.0);
    let (c, s) = (angle.cos(), angle.sin());
    let off = (size as f64 - 1.0) / 2.0;
    Array2::from_shape_fn((size, size), |(i, j)| {
        let (y, x) = (i as f64 - off, j as f64 - off);
        // A radial window (Hann, radius size/2): rotations map its content onto itself.
        let r = (y * y + x * x).sqrt() / (size as f64 / 2.0);
        if r >= 1.0 {
            return 0.0;
        }
        let w = 0.5 * (1.0 + (std::f64::consts::PI * r).cos());
        let (sy, sx) = (cy + c * y - s * x, cx + s * y + c * x);
        let (y0, x0) = (sy.floor(), sx.floor());
        let (fy, fx) = (sy - y0, sx - x0);
        let at = |a: f64, b: f64| img[[a as usize, b as usize]];
        w * ((1.0 - fy) * ((1.0 - fx) * at(y0, x0) + fx * at(y0, x0 + 1.0))
            + fy * ((1.0 - fx) * at(y0 + 1.0, x0) + fx * at(y0 + 1.0, x0 + 1.0)))
    })
}

/// A committed texture, smoothed by a Gaussian of width `sigma` pixels (separable,
/// periodic) so that bilinear interpolation rotates it faithfully.
fn smooth_texture(name: &str, sigma: f64) -> Array2<f64> {
    let path = format!(
        "{}/../../data/textures/{name}.png",
        env!("CARGO_MANIFEST_DIR")
    );
    let img = image::open(path).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    let x = Array2::from_shape_fn((h as usize, w as usize), |(i, j)| {
        img.get_pixel(j as u32, i as u32)[0] as f64 / 255.0
    });
    let r = (4.0 * sigma).ceil() as i64;
    let k: Vec<f64> = (-r..=r)
        .map(|t| (-(t * t) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let ks: f64 = k.iter().sum();
    let (m, n) = x.dim();
    let blur = |x: &Array2<f64>, rows: bool| {
        Array2::from_shape_fn((m, n), |(i, j)| {
            (-r..=r)
                .map(|t| {
                    let v = if rows {
                        x[[(i as i64 + t).rem_euclid(m as i64) as usize, j]]
                    } else {
                        x[[i, (j as i64 + t).rem_euclid(n as i64) as usize]]
                    };
                    v * k[(t + r) as usize]
                })
                .sum::<f64>()
                / ks
        })
    };
    blur(&blur(&x, true), false)
}

/// Relative change of the order-1 and order-2 coefficients (order 0, the mean, is
/// invariant for both) when smoothed textures, seen through a radial window, are rotated by
/// angles on and off the transform's grid of `2 pi / 16`.
#[test]
fn arbitrary_rotations_change_rigid_motion_scattering_far_less() {
    let size = 128;
    let textures: Vec<Array2<f64>> = ["brick", "grass", "gravel"]
        .iter()
        .map(|n| smooth_texture(n, 1.0))
        .collect();
    let rotated = |deg: f64| {
        let v: Vec<Array2<f64>> = textures
            .iter()
            .map(|t| rotate_crop(t, deg.to_radians(), size))
            .collect();
        let views: Vec<_> = v.iter().map(|a| a.view()).collect();
        ndarray::stack(ndarray::Axis(0), &views).unwrap().into_dyn()
    };
    let change = |a: &ndarray::ArrayD<f64>, b: &ndarray::ArrayD<f64>| {
        let (a, b) = (
            a.slice_axis(ndarray::Axis(1), (1..).into()),
            b.slice_axis(ndarray::Axis(1), (1..).into()),
        );
        let d: f64 = a.iter().zip(b.iter()).map(|(p, q)| (p - q).powi(2)).sum();
        let nrm: f64 = a.iter().map(|p| p * p).sum();
        (d / nrm).sqrt()
    };
    let rigid = RigidMotionParams::new((size, size), 4)
        .l(16)
        .k(2)
        .average(Averaging::Global)
        .build()
        .unwrap();
    let trans = Scattering2dParams::new((size, size), 4)
        .l(8)
        .average(Averaging::Global)
        .build()
        .unwrap();
    let x = rotated(0.0);
    let (r0, t0) = (
        rigid.forward_batch(x.view()).unwrap(),
        trans.forward_batch(x.view()).unwrap(),
    );
    for deg in [22.5, 30.0, 45.0, 60.0] {
        let xr = rotated(deg);
        let r = change(&r0, &rigid.forward_batch(xr.view()).unwrap());
        let t = change(&t0, &trans.forward_batch(xr.view()).unwrap());
        eprintln!(
            "{deg} degrees: rigid-motion {r:.4}, translation {t:.4}, ratio {:.1}",
            t / r
        );
        assert!(
            t >= 5.0 * r,
            "{deg} degrees: rigid-motion {r:.4} against translation {t:.4}"
        );
    }
}

fn check_gradient(p: RigidMotionParams, seed: u64) {
    let (m, n) = p.shape;
    let s = p.build().unwrap();
    let x = noise((1, m, n), seed);
    let (c, a, b) = s.output_shape();
    let mut rng = StdRng::seed_from_u64(seed + 7);
    let g = Array4::from_shape_fn((1, c, a, b), |_| StandardNormal.sample(&mut rng));
    let grad = s.backward(x.view(), g.view()).unwrap();
    let dir = noise((1, m, n), seed + 13);
    let h = 1e-5;
    let f = |y: &Array3<f64>| -> f64 {
        let sy = s.forward(y.view()).unwrap();
        sy.iter().zip(g.iter()).map(|(p, q)| p * q).sum()
    };
    let fd = (f(&(&x + &(&dir * h))) - f(&(&x - &(&dir * h)))) / (2.0 * h);
    let an: f64 = grad.iter().zip(dir.iter()).map(|(p, q)| p * q).sum();
    let e = (fd - an).abs() / an.abs().max(1e-12);
    assert!(
        e < 1e-5,
        "{:?}: finite difference {fd}, backward {an}, relative {e:e}",
        s.params()
    );
}

#[test]
fn gradient_matches_finite_differences() {
    check_gradient(RigidMotionParams::new((16, 16), 2).k(1), 1);
    check_gradient(
        RigidMotionParams::new((16, 12), 3)
            .l(4)
            .k(1)
            .angular(AngularAveraging::Window),
        2,
    );
    check_gradient(
        RigidMotionParams::new((16, 16), 3)
            .l(8)
            .k(2)
            .padding(Padding::Periodic)
            .average(Averaging::Global)
            .scale_invariant(true),
        3,
    );
}

#[test]
fn gradient_is_finite_where_moduli_vanish() {
    let s = RigidMotionParams::new((16, 16), 2).build().unwrap();
    let x = Array3::<f64>::zeros((1, 16, 16));
    let (c, a, b) = s.output_shape();
    let g = Array4::<f64>::ones((1, c, a, b));
    let grad = s.backward(x.view(), g.view()).unwrap();
    assert!(grad.iter().all(|v| v.is_finite()));
}

#[test]
fn single_precision_follows_double() {
    let x = noise((3, 24, 24), 5);
    let p = RigidMotionParams::new((24, 24), 3).l(8).k(2);
    let (s64, s32) = (p.clone().build().unwrap(), p.build_f32().unwrap());
    let a = s64.forward(x.view()).unwrap();
    let b = s32.forward(x.mapv(|v| v as f32).view()).unwrap();
    let e = rel(
        &b.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        a.as_slice().unwrap(),
    );
    assert!(e < 1e-5, "f32 against f64: {e:e}");
}

#[test]
fn contractive_and_bounded_by_the_input_energy() {
    let s = RigidMotionParams::new((32, 32), 3)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    for seed in 0..4 {
        let (x, y) = (
            noise((1, 32, 32), seed),
            noise((1, 32, 32), seed + 100) * 0.5,
        );
        let (sx, sy) = (s.forward(x.view()).unwrap(), s.forward(y.view()).unwrap());
        // Coefficients are sampled every 2^J pixels: their energy counts 4^J times.
        let w = 4f64.powi(3);
        let ds: f64 = sx
            .iter()
            .zip(sy.iter())
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            * w;
        let dx: f64 = x.iter().zip(y.iter()).map(|(a, b)| (a - b).powi(2)).sum();
        assert!(
            ds <= dx,
            "seed {seed}: |Sx - Sy|^2 = {ds}, |x - y|^2 = {dx}"
        );
        let e: f64 = sx.iter().map(|a| a * a).sum::<f64>() * w;
        let ex: f64 = x.iter().map(|a| a * a).sum();
        assert!(e <= ex && e > 0.01 * ex, "energy {e} of {ex}");
    }
}

#[test]
fn shapes_labels_and_the_trait() {
    let s = RigidMotionParams::new((32, 32), 3)
        .l(8)
        .k(2)
        .build()
        .unwrap();
    assert_eq!(s.output_shape(), (64, 4, 4));
    let meta = s.meta();
    assert_eq!(meta.iter().filter(|p| p.order == 1).count(), 3);
    let second: Vec<_> = meta.iter().filter(|p| p.order == 2).collect();
    assert_eq!(second.len(), 3 * 4 * 5);
    assert_eq!((second[0].k, second[0].spin), (Some(2), 0));
    assert_eq!((second[1].k, second[1].spin), (Some(0), 1));
    assert!(second.iter().all(|p| p.j2 > p.j1 && p.theta2 < Some(4)));
    let w = RigidMotionParams::new((32, 32), 3)
        .angular(AngularAveraging::Window)
        .build()
        .unwrap();
    assert_eq!(w.output_shape().0, 1 + 8 * (3 + 60));
    let si = RigidMotionParams::new((32, 32), 3)
        .scale_invariant(true)
        .build()
        .unwrap();
    assert_eq!(si.output_shape().0, 1 + 1 + 2 * 4 * 5);
    assert!(si.meta().iter().all(|p| p.j1.is_none()));
    // The trait gives the same numbers as the inherent call, for any batch size.
    let x = noise((3, 32, 32), 9);
    let a = s.forward(x.view()).unwrap();
    let b = s.forward_batch(x.view().into_dyn()).unwrap();
    assert_eq!(a.into_dyn(), b);
    let one = s.forward(x.slice(s![0..1, .., ..])).unwrap();
    assert_eq!(one.as_slice().unwrap(), a_first(&s, &x).as_slice().unwrap());
}

fn a_first(s: &scattering_transform::RigidMotionScattering<f64>, x: &Array3<f64>) -> Array4<f64> {
    let all = s.forward(x.view()).unwrap();
    all.slice(s![0..1, .., .., ..]).to_owned()
}

#[test]
fn bad_parameters_and_inputs_are_typed_errors() {
    let bad = |p: RigidMotionParams| {
        assert!(
            matches!(
                p.clone().build(),
                Err(TransformError::InvalidParameter { .. }) | Err(TransformError::Filter(_))
            ),
            "{p:?} was accepted"
        )
    };
    bad(RigidMotionParams::new((32, 32), 0));
    bad(RigidMotionParams::new((32, 32), 3).l(7));
    bad(RigidMotionParams::new((32, 32), 3).l(8).k(3));
    bad(RigidMotionParams::new((32, 32), 3).max_order(3));
    bad(RigidMotionParams::new((32, 32), 3).average(Averaging::None));
    bad(RigidMotionParams::new((30, 32), 3).padding(Padding::Periodic));
    bad(RigidMotionParams::new((4, 32), 3));
    let s = RigidMotionParams::new((16, 16), 2).build().unwrap();
    let mut x = Array3::<f64>::zeros((1, 16, 16));
    assert!(s.forward(Array3::<f64>::zeros((1, 16, 15)).view()).is_err());
    x[[0, 3, 3]] = f64::NAN;
    assert!(s.forward(x.view()).is_err());
    let g = Array4::<f64>::zeros((1, 3, 4, 4));
    assert!(s
        .backward(Array3::<f64>::zeros((1, 16, 16)).view(), g.view())
        .is_err());
}
