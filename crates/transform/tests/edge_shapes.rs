//! Small and odd shapes: every accepted configuration runs forward and backward without
//! panicking and gives finite numbers.

use ndarray::{Array2, Array3, Array4};
use scattering_transform::{
    Scattering1dParams, Scattering2dParams, SolidHarmonicScattering3dParams,
};

#[test]
fn one_dimensional_small_and_odd_lengths() {
    for (n, j) in [(2, 1), (3, 1), (7, 2), (16, 4), (33, 5), (100, 3)] {
        let s = Scattering1dParams::new(n, j).q((2, 2)).build().unwrap();
        let x = Array2::from_shape_fn((2, n), |(b, t)| ((b + 1) * (t + 1)) as f64 % 5.0 - 2.0);
        let sx = s.forward(x.view()).unwrap();
        assert!(sx.iter().all(|v| v.is_finite()), "n={n} J={j}");
        let g = s.backward(x.view(), sx.view()).unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "n={n} J={j}");
    }
}

#[test]
fn two_dimensional_small_and_odd_shapes() {
    for ((m, n), j) in [
        ((4, 4), 2),
        ((5, 7), 2),
        ((8, 3), 1),
        ((2, 2), 1),
        ((17, 9), 3),
    ] {
        let s = Scattering2dParams::new((m, n), j).l(4).build().unwrap();
        let x = Array3::from_shape_fn((1, m, n), |(_, a, b)| ((a * 3 + b * 5) % 7) as f64);
        let sx = s.forward(x.view()).unwrap();
        assert!(sx.iter().all(|v| v.is_finite()), "{m}x{n} J={j}");
        let g = s.backward(x.view(), sx.view()).unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{m}x{n} J={j}");
    }
}

#[test]
fn three_dimensional_small_shapes() {
    for (shape, j) in [((2, 2, 2), 1), ((5, 6, 7), 2), ((8, 8, 4), 2)] {
        let s = SolidHarmonicScattering3dParams::new(shape, j, 1)
            .build()
            .unwrap();
        let x = Array4::from_shape_fn((1, shape.0, shape.1, shape.2), |(_, a, b, c)| {
            ((a + 2 * b + 3 * c) % 4) as f64
        });
        let sx = s.forward(x.view()).unwrap();
        assert!(sx.iter().all(|v| v.is_finite()), "{shape:?}");
        let g = s.backward(x.view(), sx.view()).unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{shape:?}");
    }
}
