//! The backward pass against central finite differences, in every averaging and padding
//! mode: relative error <= 1e-5 in f64.

mod common;
use common::white_noise;
use ndarray::{Array2, Array3};
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use scattering_transform::{Averaging, Padding, Scattering1d, Scattering1dParams};

fn inner(a: &Array3<f64>, b: &Array3<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

/// Checks <grad, v> against the central difference of <S x, g> along v, per coordinate
/// for a few samples and along random directions.
fn check(s: &Scattering1d, x: &Array2<f64>, seed: u64) -> f64 {
    let (c, t) = s.output_shape();
    let mut rng = StdRng::seed_from_u64(seed);
    let g = Array3::from_shape_fn((x.nrows(), c, t), |_| StandardNormal.sample(&mut rng));
    let grad = s.backward(x.view(), g.view()).unwrap();
    let f = |y: &Array2<f64>| inner(&s.forward(y.view()).unwrap(), &g);
    let eps = 1e-5;
    let mut worst = 0.0f64;
    let n = x.ncols();
    let mut dirs: Vec<Array2<f64>> = (0..3)
        .map(|_| Array2::from_shape_fn(x.raw_dim(), |_| StandardNormal.sample(&mut rng)))
        .collect();
    for idx in [0, 1, n / 3, n / 2, n - 1] {
        let mut e = Array2::zeros(x.raw_dim());
        e[[0, idx]] = 1.0;
        dirs.push(e);
    }
    for v in dirs {
        let fd = (f(&(x + &(&v * eps))) - f(&(x - &(&v * eps)))) / (2.0 * eps);
        let an: f64 = grad.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
        let scale = an
            .abs()
            .max(fd.abs())
            .max(1e-3 * grad.iter().map(|v| v.abs()).sum::<f64>() / n as f64);
        worst = worst.max((an - fd).abs() / scale);
    }
    worst
}

#[test]
fn gradients_match_finite_differences_in_every_mode() {
    let x = white_noise(2, 256, 7);
    for avg in [Averaging::Local, Averaging::Global, Averaging::None] {
        for pad in [Padding::Reflect, Padding::Periodic] {
            let s = Scattering1dParams::new(256, 4)
                .q((4, 2))
                .average(avg)
                .padding(pad)
                .build()
                .unwrap();
            let e = check(&s, &x, 11);
            eprintln!("{avg:?} {pad:?}: {e:e}");
            assert!(e <= 1e-5, "{avg:?} {pad:?}: relative error {e:e}");
        }
    }
}

#[test]
fn gradients_with_t_smaller_than_2j_and_odd_length() {
    let x = white_noise(1, 300, 3);
    let s = Scattering1dParams::new(300, 5)
        .q((2, 1))
        .t(8)
        .build()
        .unwrap();
    let e = check(&s, &x, 5);
    assert!(e <= 1e-5, "relative error {e:e}");
}

#[test]
fn gradients_of_first_order_only_transform() {
    let x = white_noise(1, 128, 9);
    let s = Scattering1dParams::new(128, 3)
        .q((8, 1))
        .max_order(1)
        .build()
        .unwrap();
    let e = check(&s, &x, 2);
    assert!(e <= 1e-5, "relative error {e:e}");
}

#[test]
fn gradient_at_zero_modulus_is_finite() {
    // x = 0 makes every modulus exactly zero: the subgradient 0 is used, never NaN.
    let s = Scattering1dParams::new(128, 3).q((2, 1)).build().unwrap();
    let x = Array2::<f64>::zeros((1, 128));
    let (c, t) = s.output_shape();
    let g = Array3::from_elem((1, c, t), 1.0);
    let grad = s.backward(x.view(), g.view()).unwrap();
    assert!(grad.iter().all(|v| v.is_finite()));
    // Only order 0 (a linear low-pass with unit DC gain) contributes at x = 0.
    assert!(grad.iter().any(|v| *v != 0.0));
}

#[test]
fn backward_of_loss_decreases_it() {
    // A gradient step on 0.5 ||S x - S y||^2 lowers the loss: the use models make of it.
    let s = Scattering1dParams::new(256, 4).q((4, 1)).build().unwrap();
    let y = white_noise(1, 256, 1);
    let mut x = white_noise(1, 256, 2);
    let sy = s.forward(y.view()).unwrap();
    let loss = |x: &Array2<f64>| {
        let d = s.forward(x.view()).unwrap() - &sy;
        0.5 * d.iter().map(|v| v * v).sum::<f64>()
    };
    let l0 = loss(&x);
    let d = s.forward(x.view()).unwrap() - &sy;
    let g = s.backward(x.view(), d.view()).unwrap();
    let gn2: f64 = g.iter().map(|v| v * v).sum();
    x = &x - &(&g * (1e-3 * l0 / gn2));
    assert!(loss(&x) < l0);
}

#[test]
fn single_signals_spread_over_threads_give_the_batch_results() {
    // A batch of one takes the path-parallel route, a batch of four the signal-parallel one.
    for avg in [Averaging::Local, Averaging::Global, Averaging::None] {
        let s = Scattering1dParams::new(300, 4)
            .q((4, 2))
            .average(avg)
            .build()
            .unwrap();
        let x = white_noise(4, 300, 21);
        let batch = s.forward(x.view()).unwrap();
        let g = batch.mapv(|v| v.sin());
        let gb = s.backward(x.view(), g.view()).unwrap();
        for i in 0..4 {
            let xi = x.slice(ndarray::s![i..i + 1, ..]);
            let one = s.forward(xi).unwrap();
            let d = &one.index_axis(ndarray::Axis(0), 0) - &batch.index_axis(ndarray::Axis(0), i);
            assert!(d.iter().all(|v| v.abs() < 1e-12), "{avg:?}");
            let go = s
                .backward(xi, g.slice(ndarray::s![i..i + 1, .., ..]))
                .unwrap();
            let d = &go.index_axis(ndarray::Axis(0), 0) - &gb.index_axis(ndarray::Axis(0), i);
            assert!(d.iter().all(|v| v.abs() < 1e-12), "{avg:?}");
        }
    }
}
