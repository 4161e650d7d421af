//! The `Transform` trait, checked once for all three transforms: it agrees with each
//! transform's own methods, its backward pass is the gradient (finite differences), its
//! parallelism settings change nothing beyond rounding, f32 follows f64 (3D included),
//! and bad arrays are refused with typed errors.

mod common;
use common::{batch_shape, gradient_error, noise};
use ndarray::{ArrayD, IxDyn};
use scattering_transform::{
    Parallelism, Real, Scattering1dParams, Scattering2dParams, SolidHarmonicScattering3dParams,
    Transform, TransformError,
};

fn rel<T: Real>(a: &ArrayD<T>, b: &ArrayD<T>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let num: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.as_f64() - y.as_f64()).powi(2))
        .sum();
    let den: f64 = b.iter().map(|y| y.as_f64().powi(2)).sum();
    (num / den.max(1e-300)).sqrt()
}

/// Every generic property, for any transform in f64.
fn check_generic<S: Transform<Elem = f64>>(mut s: S, b: usize, name: &str) {
    // The gradient, through the trait alone.
    let e = gradient_error(&s, b);
    assert!(e < 1e-5, "{name}: gradient relative error {e:e}");

    // forward_into writes what forward_batch returns, and overwrites what was there.
    let x = noise::<f64>(&batch_shape(&s, b, true), 7);
    let sx = s.forward_batch(x.view()).unwrap();
    let mut out = ArrayD::from_elem(IxDyn(&batch_shape(&s, b, false)), 7.0);
    s.forward_into(x.view(), out.view_mut()).unwrap();
    assert_eq!(out, sx, "{name}: forward_into");
    assert_eq!(
        s.meta().len(),
        s.output_shape()[0],
        "{name}: one label per channel"
    );

    // Every parallelism setting gives the same numbers up to rounding.
    let g = noise::<f64>(sx.shape(), 8);
    let gx = s.backward_batch(x.view(), g.view()).unwrap();
    for p in [
        Parallelism::Sequential,
        Parallelism::Threads(3),
        Parallelism::Global,
    ] {
        s.set_parallelism(p).unwrap();
        assert_eq!(s.parallelism(), p);
        let e = rel(&s.forward_batch(x.view()).unwrap(), &sx);
        assert!(e < 1e-13, "{name}: forward under {p:?} differs by {e:e}");
        let mut gout = ArrayD::from_elem(x.raw_dim(), -3.0);
        s.backward_into(x.view(), g.view(), gout.view_mut())
            .unwrap();
        let e = rel(&gout, &gx);
        assert!(e < 1e-12, "{name}: backward under {p:?} differs by {e:e}");
    }
    assert!(matches!(
        s.set_parallelism(Parallelism::Threads(0)),
        Err(TransformError::InvalidParameter { .. })
    ));

    // Bad arrays: wrong rank, wrong sample shape, empty batch, wrong output buffer, NaN.
    let mut wrong = batch_shape(&s, b, true);
    *wrong.last_mut().unwrap() += 1;
    for shape in [wrong, s.input_shape(), batch_shape(&s, 0, true)] {
        let bad = ArrayD::<f64>::zeros(IxDyn(&shape));
        assert!(
            matches!(
                s.forward_batch(bad.view()),
                Err(TransformError::Shape { .. })
            ),
            "{name}: input of shape {shape:?} accepted"
        );
    }
    let mut small = ArrayD::zeros(IxDyn(&batch_shape(&s, b + 1, false)));
    assert!(matches!(
        s.forward_into(x.view(), small.view_mut()),
        Err(TransformError::Shape { what: "output", .. })
    ));
    let short_grad = ArrayD::zeros(IxDyn(&batch_shape(&s, b + 1, false)));
    assert!(matches!(
        s.backward_batch(x.view(), short_grad.view()),
        Err(TransformError::Shape {
            what: "output gradient",
            ..
        })
    ));
    let mut nan = x.clone();
    let last = nan.len() - 1;
    nan.as_slice_mut().unwrap()[last] = f64::NAN;
    let per: usize = s.input_shape().iter().product();
    match s.forward_batch(nan.view()) {
        Err(TransformError::NonFinite { batch, index, .. }) => {
            assert_eq!((batch, index), (b - 1, per - 1), "{name}: NaN located");
        }
        other => panic!("{name}: NaN input gave {other:?}"),
    }
    let mut ginf = g.clone();
    ginf.as_slice_mut().unwrap()[0] = f64::INFINITY;
    assert!(matches!(
        s.backward_batch(x.view(), ginf.view()),
        Err(TransformError::NonFinite {
            batch: 0,
            index: 0,
            ..
        })
    ));
}

#[test]
fn time_scattering_through_the_trait() {
    let s = Scattering1dParams::new(256, 4).q((4, 1)).build().unwrap();
    // The trait's forward is the transform's own.
    let x = noise::<f64>(&[3, 256], 11);
    let own = s.forward(x.view().into_dimensionality().unwrap()).unwrap();
    assert_eq!(s.forward_batch(x.view()).unwrap(), own.into_dyn());
    check_generic(s, 3, "1D");
}

#[test]
fn image_scattering_through_the_trait() {
    let s = Scattering2dParams::new((24, 20), 2).l(4).build().unwrap();
    let x = noise::<f64>(&[2, 24, 20], 12);
    let own = s.forward(x.view().into_dimensionality().unwrap()).unwrap();
    assert_eq!(s.forward_batch(x.view()).unwrap(), own.into_dyn());
    check_generic(s, 2, "2D");
}

#[test]
fn solid_harmonic_scattering_through_the_trait() {
    let s = SolidHarmonicScattering3dParams::new((12, 12, 12), 1, 1)
        .integral_powers(vec![1.0, 2.0])
        .build()
        .unwrap();
    let x = noise::<f64>(&[2, 12, 12, 12], 13);
    let own = s.forward(x.view().into_dimensionality().unwrap()).unwrap();
    assert_eq!(s.forward_batch(x.view()).unwrap(), own.into_dyn());
    check_generic(s, 2, "3D");
}

/// The f32 transform follows the f64 one to single precision, forward and backward.
fn check_f32<S64, S32>(s64: &S64, s32: &S32, b: usize, name: &str)
where
    S64: Transform<Elem = f64>,
    S32: Transform<Elem = f32>,
{
    assert_eq!(s64.output_shape(), s32.output_shape());
    let x = noise::<f64>(&batch_shape(s64, b, true), 21);
    let g = noise::<f64>(&batch_shape(s64, b, false), 22);
    let (x32, g32) = (x.mapv(|v| v as f32), g.mapv(|v| v as f32));
    let up = |a: ArrayD<f32>| a.mapv(f64::from);
    let e = rel(
        &up(s32.forward_batch(x32.view()).unwrap()),
        &s64.forward_batch(x.view()).unwrap(),
    );
    assert!(e < 1e-5, "{name}: f32 forward off by {e:e}");
    let e = rel(
        &up(s32.backward_batch(x32.view(), g32.view()).unwrap()),
        &s64.backward_batch(x.view(), g.view()).unwrap(),
    );
    assert!(e < 1e-4, "{name}: f32 backward off by {e:e}");
}

#[test]
fn f32_follows_f64_in_every_dimension() {
    let p1 = Scattering1dParams::new(256, 4).q((4, 1));
    check_f32(
        &p1.clone().build().unwrap(),
        &p1.build_f32().unwrap(),
        2,
        "1D",
    );
    let p2 = Scattering2dParams::new((16, 16), 2).l(4);
    check_f32(
        &p2.clone().build().unwrap(),
        &p2.build_f32().unwrap(),
        2,
        "2D",
    );
    // Powers below 1 are left out: the gradient of U^q then carries U^(q-1), which turns the
    // rounding of small moduli into errors near 1e-2 in f32.
    let p3 =
        SolidHarmonicScattering3dParams::new((10, 10, 10), 1, 1).integral_powers(vec![1.0, 2.0]);
    check_f32(
        &p3.clone().build().unwrap(),
        &p3.build_f32().unwrap(),
        2,
        "3D",
    );
}
