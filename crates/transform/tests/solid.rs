//! Solid harmonic scattering: conformance with Kymatio's HarmonicScattering3D, the analytic
//! Gaussian oracle, rotation invariance, gradients, errors.

mod common;
use common::fixture;
use ndarray::{Array4, Axis};
use ndarray_npy::read_npy;
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use scattering_transform::{SolidHarmonicScattering3dParams, TransformError};

#[test]
fn matches_kymatio_harmonic_scattering3d() {
    let x: Array4<f64> = read_npy(fixture("kymatio-0.3.0", "s3d_input.npy")).unwrap();
    let want: Array4<f32> = read_npy(fixture("kymatio-0.3.0", "s3d_output.npy")).unwrap();
    let s = SolidHarmonicScattering3dParams::new((32, 32, 32), 2, 2)
        .integral_powers(vec![0.5, 1.0, 2.0, 3.0])
        .build()
        .unwrap();
    let got = s.forward(x.view()).unwrap();
    assert_eq!(got.shape(), want.shape());
    // Kymatio stores float32 and uses float32 filters: compare each entry relatively.
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(want.iter()) {
        worst = worst.max((g - *w as f64).abs() / (*w as f64).abs());
    }
    eprintln!("3D relative error {worst:e}");
    assert!(worst <= 1e-5, "{worst:e}");
}

fn gaussian_volume(n: usize, sigma: f64, center: [f64; 3]) -> Array4<f64> {
    Array4::from_shape_fn((1, n, n, n), |(_, a, b, c)| {
        let d2 = (a as f64 - center[0]).powi(2)
            + (b as f64 - center[1]).powi(2)
            + (c as f64 - center[2]).powi(2);
        (-d2 / (2.0 * sigma * sigma)).exp()
    })
}

#[test]
fn gaussian_oracle_first_order() {
    // For x = exp(-|u|^2 / (2 s_g^2)) and a wavelet of width s_w, the Fourier transform of
    // x * psi_{l,m} is c_l (2 pi)^3 s_g^3 (s_w |w|)^l Y_lm exp(-s^2 |w|^2 / 2), s^2 = s_w^2 +
    // s_g^2: the same harmonic at the combined width s, scaled by k^l, k = s_w / s. By
    // Parseval the energies (q = 2) of orders l and 0 at the same j are in the ratio
    //   E_l / E_0 = C_l k^(2l),  C_l = |c_l|^2 (2 pi)^3 (2l + 1) Gamma(l + 3/2)
    //                                  / (4 pi Gamma(3/2)),
    // with c_l Kymatio's normalisation: C_1 = 3 pi / 16, C_2 = 5 / 12.
    let n = 48;
    let sg = 2.0;
    let x = gaussian_volume(n, sg, [24.0, 24.0, 24.0]);
    let s = SolidHarmonicScattering3dParams::new((n, n, n), 1, 2)
        .max_order(1)
        .integral_powers(vec![2.0])
        .build()
        .unwrap();
    let sx = s.forward(x.view()).unwrap();
    // The same transform of a Gaussian of width sqrt(s_w^2 + s_g^2) seen through
    // l = 0: its integrals give the radial factor; the l-dependence must be k^(2l).
    for j in 0..=1usize {
        let sw = 2f64.powi(j as i32);
        let k = sw / (sw * sw + sg * sg).sqrt();
        let e0 = sx[[0, j, 0, 0]];
        for l in 1..=2usize {
            let ratio = sx[[0, j, l, 0]] / e0;
            let c_l = [1.0, 3.0 * std::f64::consts::PI / 16.0, 5.0 / 12.0][l];
            let want = c_l * k.powi(2 * l as i32);
            eprintln!("j={j} l={l}: ratio {ratio:.8e}, predicted {want:.8e}");
            assert!((ratio - want).abs() < 1e-5 * want, "j={j} l={l}");
        }
    }
}

#[test]
fn rotation_of_a_point_cloud_changes_invariants_little() {
    // A molecule-like cloud of Gaussians, rotated by a random rotation.
    let n = 40;
    let atoms = [
        ([0.0, 0.0, 0.0], 1.0),
        ([3.1, 0.4, -0.8], 0.7),
        ([-1.5, 2.7, 0.9], 0.5),
        ([0.6, -2.2, 2.4], 0.9),
    ];
    let mut rng = StdRng::seed_from_u64(4);
    // Random rotation from a random unit quaternion.
    let q: Vec<f64> = (0..4).map(|_| StandardNormal.sample(&mut rng)).collect();
    let qn = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    let (w, x, y, z) = (q[0] / qn, q[1] / qn, q[2] / qn, q[3] / qn);
    let r = [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - z * w),
            2.0 * (x * z + y * w),
        ],
        [
            2.0 * (x * y + z * w),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - x * w),
        ],
        [
            2.0 * (x * z - y * w),
            2.0 * (y * z + x * w),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ];
    let render = |rot: bool| {
        Array4::from_shape_fn((1, n, n, n), |(_, a, b, c)| {
            let u = [a as f64 - 20.0, b as f64 - 20.0, c as f64 - 20.0];
            atoms
                .iter()
                .map(|(p, wgt)| {
                    let p = if rot {
                        [0, 1, 2].map(|i| r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2])
                    } else {
                        *p
                    };
                    let d2: f64 = (0..3).map(|i| (u[i] - p[i]).powi(2)).sum();
                    wgt * (-d2 / (2.0 * 1.5 * 1.5)).exp()
                })
                .sum()
        })
    };
    let s = SolidHarmonicScattering3dParams::new((n, n, n), 2, 2)
        .build()
        .unwrap();
    let a = s.forward(render(false).view()).unwrap();
    let b = s.forward(render(true).view()).unwrap();
    let mut worst = 0.0f64;
    for (u, v) in a.iter().zip(b.iter()) {
        worst = worst.max((u - v).abs() / u.abs());
    }
    eprintln!("rotation: max relative change {worst:e}");
    assert!(worst < 1e-3, "{worst:e}");
}

#[test]
fn gradient_matches_finite_differences_and_is_finite_at_zero() {
    // The forward pass carries pairs of real m = 0 outputs and pairs of U1 in one FFT
    // (J >= 1); the backward pass does not, so the finite differences of the one check the
    // other. An odd side breaks the mirror symmetry and takes the unpacked forward path.
    // The default powers (0.5, 1, 2) have closed-form derivatives; 1.5 goes through powf.
    let default = vec![0.5, 1.0, 2.0];
    for (shape, j, l, powers) in [
        ((12, 12, 12), 1, 1, default.clone()),
        ((12, 12, 12), 2, 2, default.clone()),
        ((11, 12, 10), 2, 1, default),
        ((10, 10, 10), 1, 1, vec![1.5, 3.0]),
    ] {
        gradient_case(shape, j, l, powers);
    }
}

fn gradient_case(shape: (usize, usize, usize), j: usize, lmax: usize, powers: Vec<f64>) {
    let (n0, n1, n2) = shape;
    let s = SolidHarmonicScattering3dParams::new(shape, j, lmax)
        .integral_powers(powers)
        .build()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(2);
    let x = Array4::from_shape_fn((1, n0, n1, n2), |_| StandardNormal.sample(&mut rng));
    let (p, l, q) = s.output_shape();
    let g = Array4::from_shape_fn((1, p, l, q), |(_, a, b, c)| {
        ((a * 5 + b * 3 + c) as f64 * 0.41).cos()
    });
    let grad = s.backward(x.view(), g.view()).unwrap();
    let f = |y: &Array4<f64>| -> f64 {
        s.forward(y.view())
            .unwrap()
            .iter()
            .zip(g.iter())
            .map(|(a, b): (&f64, &f64)| a * b)
            .sum()
    };
    // U^0.5 is steep where U is small: a small step keeps the O(eps^2) error down.
    let eps = 1e-6;
    let mut worst = 0.0f64;
    for _ in 0..3 {
        let v = Array4::from_shape_fn(x.raw_dim(), |_| StandardNormal.sample(&mut rng));
        let fd = (f(&(&x + &(&v * eps))) - f(&(&x - &(&v * eps)))) / (2.0 * eps);
        let an: f64 = grad
            .iter()
            .zip(v.iter())
            .map(|(a, b): (&f64, &f64)| a * b)
            .sum();
        worst = worst.max((an - fd).abs() / an.abs().max(fd.abs()));
    }
    eprintln!("3D gradient relative error {worst:e} ({shape:?}, J={j}, L={lmax})");
    assert!(worst <= 1e-5, "{worst:e} ({shape:?}, J={j}, L={lmax})");
    // Kymatio issue #1070: at x = 0 every modulus is 0 and q = 0.5 has an infinite slope;
    // the gradient is defined as 0 there, never NaN.
    let z = Array4::<f64>::zeros((1, n0, n1, n2));
    assert!(s
        .backward(z.view(), g.view())
        .unwrap()
        .iter()
        .all(|v| v.is_finite()));
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(SolidHarmonicScattering3dParams::new((8, 8, 8), 4, 2)
        .build()
        .is_err());
    assert!(SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 2)
        .max_order(3)
        .build()
        .is_err());
    assert!(SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 2)
        .integral_powers(vec![])
        .build()
        .is_err());
    assert!(SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 2)
        .sigma0(-1.0)
        .build()
        .is_err());
    // Wavelets wider than the volume (all DC) or far below a voxel (zero): refused, where
    // they used to give finite numbers that meant nothing.
    for sigma0 in [1e300, 5.0, 1e-3] {
        let e = SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 2)
            .sigma0(sigma0)
            .build()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("sigma_0"), "sigma0 = {sigma0}: {e}");
    }
    assert!(SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 2)
        .sigma0(4.0)
        .build()
        .is_ok());
    let e = SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 2)
        .integral_powers(vec![-0.5, 1.0])
        .build()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("each positive"), "{e}");
    let s = SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 1)
        .build()
        .unwrap();
    let x = Array4::<f64>::zeros((1, 8, 8, 7));
    assert!(matches!(
        s.forward(x.view()),
        Err(TransformError::Shape { .. })
    ));
    let mut x = Array4::<f64>::zeros((1, 8, 8, 8));
    x[[0, 1, 2, 3]] = f64::NAN;
    assert!(matches!(
        s.forward(x.view()),
        Err(TransformError::NonFinite { .. })
    ));
    let _ = x.index_axis(Axis(0), 0);
}

#[test]
fn single_precision_engine_agrees_with_double() {
    let x: Array4<f64> = read_npy(fixture("kymatio-0.3.0", "s3d_input.npy")).unwrap();
    let p = SolidHarmonicScattering3dParams::new((32, 32, 32), 2, 2);
    let a = p.clone().build().unwrap().forward(x.view()).unwrap();
    let b = p.build_f32().unwrap().forward(x.view()).unwrap();
    let worst = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (u, v)| m.max((u - v).abs() / u.abs()));
    assert!(worst < 1e-4, "{worst:e}");
}

#[test]
fn packed_scales_equal_each_scale_alone() {
    // A wavelet of scale j depends only on sigma_0 2^j, so the transform with J = 3 (which
    // pairs scales 0-1 and 2-3 in its forward pass) must give, for path j, what a J = 0
    // transform with sigma_0 = 2^j gives, and for path (j, j + 1) what a J = 1 transform
    // with sigma_0 = 2^j gives for its path (0, 1).
    let n = 16;
    let mut rng = StdRng::seed_from_u64(5);
    let x = Array4::from_shape_fn((1, n, n, n), |_| StandardNormal.sample(&mut rng));
    let big = SolidHarmonicScattering3dParams::new((n, n, n), 3, 2)
        .build()
        .unwrap();
    let sb = big.forward(x.view()).unwrap();
    let path = |meta: &[scattering_transform::solid::PathMeta3d], js: &[usize]| {
        meta.iter().position(|p| p.j == js).unwrap()
    };
    let mut worst = 0.0f64;
    let mut compare = |a: ndarray::ArrayView2<f64>, b: ndarray::ArrayView2<f64>| {
        for (u, v) in a.iter().zip(b.iter()) {
            worst = worst.max((u - v).abs() / v.abs().max(1e-300));
        }
    };
    for j in 0..=3usize {
        let sigma0 = (1usize << j) as f64;
        let one = SolidHarmonicScattering3dParams::new((n, n, n), 0, 2)
            .sigma0(sigma0)
            .build()
            .unwrap();
        let so = one.forward(x.view()).unwrap();
        compare(
            sb.slice(ndarray::s![0, path(big.meta(), &[j]), .., ..]),
            so.slice(ndarray::s![0, 0, .., ..]),
        );
        if j < 3 {
            let two = SolidHarmonicScattering3dParams::new((n, n, n), 1, 2)
                .sigma0(sigma0)
                .build()
                .unwrap();
            let st = two.forward(x.view()).unwrap();
            compare(
                sb.slice(ndarray::s![0, path(big.meta(), &[j, j + 1]), .., ..]),
                st.slice(ndarray::s![0, path(two.meta(), &[0, 1]), .., ..]),
            );
        }
    }
    eprintln!("packed against single scales: worst relative difference {worst:e}");
    assert!(worst < 1e-10, "{worst:e}");
}
