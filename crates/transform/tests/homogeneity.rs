//! Scattering is positively homogeneous, S(a x) = a S(x) for a > 0, and its Jacobian does
//! not depend on a: both hold, with finite coefficients, for inputs of any finite
//! magnitude (1e-300 to 1e300 in f64, 1e-37 to 1e37 in f32), where the squares of the
//! modulus would overflow or underflow. The 3D integrals of `U^q` are homogeneous of
//! degree `q`, checked wherever the answer is representable.

mod common;
use common::noise;
use ndarray::ArrayD;
use scattering_transform::{
    Averaging, Padding, Real, Scattering1dParams, Scattering2dParams, Transform,
};

fn rel<T: Real>(a: &ArrayD<T>, b: &ArrayD<f64>) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x.as_f64() - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// `S(a x) / a` against `S(x)` and `backward(a x, g)` against `backward(x, g)`.
fn check<S: Transform>(s: &S, b: usize, scales: &[f64], tol: f64, name: &str) {
    let shape: Vec<usize> = std::iter::once(b).chain(s.input_shape()).collect();
    let gshape: Vec<usize> = std::iter::once(b).chain(s.output_shape()).collect();
    let x = noise::<f64>(&shape, 1).mapv(S::Elem::of);
    let g = noise::<f64>(&gshape, 2).mapv(S::Elem::of);
    let up = |a: &ArrayD<S::Elem>| a.mapv(|v| v.as_f64());
    let sx = up(&s.forward_batch(x.view()).unwrap());
    let gx = up(&s.backward_batch(x.view(), g.view()).unwrap());
    for &a in scales {
        let ax = x.mapv(|v| v.as_f64() * a);
        let sa = forward_f64(s, &ax).mapv(|v| v.as_f64() / a);
        assert!(
            sa.iter().all(|v| v.is_finite()),
            "{name}: a = {a:e} gave non-finite output"
        );
        let e = rel(&sa.mapv(S::Elem::of), &sx);
        assert!(e <= tol, "{name}: a = {a:e}: S(a x) / a off by {e:e}");
        let ga = backward_f64(s, &ax, &g);
        let e = rel(&ga, &gx);
        assert!(e <= tol, "{name}: a = {a:e}: gradient off by {e:e}");
    }
}

fn forward_f64<S: Transform>(s: &S, x: &ArrayD<f64>) -> ArrayD<S::Elem> {
    s.forward_batch(x.mapv(S::Elem::of).view()).unwrap()
}

fn backward_f64<S: Transform>(s: &S, x: &ArrayD<f64>, g: &ArrayD<S::Elem>) -> ArrayD<f64> {
    s.backward_batch(x.mapv(S::Elem::of).view(), g.view())
        .unwrap()
        .mapv(|v| v.as_f64())
}

const F64_SCALES: [f64; 8] = [1e-300, 1e-200, 1e-151, 1e-20, 1e20, 1e152, 1e200, 1e300];

#[test]
fn time_scattering_is_homogeneous_over_the_f64_range() {
    for avg in [Averaging::Local, Averaging::Global, Averaging::None] {
        let s = Scattering1dParams::new(512, 5)
            .q((4, 2))
            .average(avg)
            .build()
            .unwrap();
        check(&s, 2, &F64_SCALES, 1e-12, &format!("1D {avg:?}"));
    }
}

#[test]
fn image_scattering_is_homogeneous_over_the_f64_range() {
    let s = Scattering2dParams::new((24, 20), 2).l(4).build().unwrap();
    check(&s, 2, &F64_SCALES, 1e-12, "2D");
    let s = Scattering2dParams::new((16, 16), 2)
        .l(4)
        .average(Averaging::Global)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    check(&s, 1, &F64_SCALES, 1e-12, "2D global");
}

#[test]
fn f32_transforms_take_any_f32_magnitude() {
    let s = Scattering1dParams::new(512, 5)
        .q((4, 2))
        .build_f32()
        .unwrap();
    check(&s, 2, &[1e-37, 1e-20, 1e20, 1e37], 2e-5, "1D f32");
    let s2 = Scattering2dParams::new((24, 20), 2)
        .l(4)
        .build_f32()
        .unwrap();
    check(&s2, 2, &[1e-37, 1e-20, 1e20, 1e37], 2e-5, "2D f32");
}

/// 3D: the integral of `U^q` is homogeneous of degree `q`, and its gradient of degree
/// `q - 1`, over the f64 range wherever the answer is representable.
#[test]
fn solid_harmonic_integrals_are_homogeneous_of_their_degree() {
    use scattering_transform::SolidHarmonicScattering3dParams;
    let cases: [(Vec<f64>, Vec<f64>); 2] = [
        (vec![0.5, 1.0, 2.0], vec![1e-152, 1e-60, 1e60, 1e151]),
        (vec![0.5, 1.0], vec![1e-300, 1e-200, 1e200, 1e300]),
    ];
    for (powers, scales) in cases {
        let s = SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 1)
            .integral_powers(powers.clone())
            .build()
            .unwrap();
        let x = noise::<f64>(&[1, 8, 8, 8], 5);
        let g = noise::<f64>(&[1, 3, 2, powers.len()], 6);
        let sx = s.forward_batch(x.view()).unwrap();
        let gx = s.backward_batch(x.view(), g.view()).unwrap();
        let per_power = |a: &ArrayD<f64>, f: &dyn Fn(usize, f64) -> f64| {
            let mut b = a.clone();
            for (i, v) in b.indexed_iter_mut() {
                *v = f(i[3], *v);
            }
            b
        };
        for a in scales {
            let ax = x.mapv(|v| v * a);
            let sa = s.forward_batch(ax.view()).unwrap();
            let sa = per_power(&sa, &|k, v| v / a.powf(powers[k]));
            assert!(sa.iter().all(|v| v.is_finite()), "a = {a:e}: {sa:?}");
            let e = rel(&sa, &sx);
            assert!(e <= 1e-12, "3D {powers:?}, a = {a:e}: S off by {e:e}");
            let ga = per_power(&g, &|k, v| v * a.powf(1.0 - powers[k]));
            let e = rel(&s.backward_batch(ax.view(), ga.view()).unwrap(), &gx);
            assert!(
                e <= 1e-11,
                "3D {powers:?}, a = {a:e}: gradient off by {e:e}"
            );
        }
    }
}
