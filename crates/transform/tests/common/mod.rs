//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ndarray::{Array2, ArrayD, IxDyn};
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use scattering_transform::{Real, Transform};
use std::path::PathBuf;

pub fn fixture(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/fixtures")
        .join(dir)
        .join(name)
}

/// max |a - b| / max |b|
pub fn rel_err(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

pub fn white_noise(batch: usize, n: usize, seed: u64) -> Array2<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((batch, n), |_| StandardNormal.sample(&mut rng))
}

pub fn norm2<'a>(it: impl Iterator<Item = &'a f64>) -> f64 {
    it.map(|v| v * v).sum()
}

pub fn noise<T: Real>(shape: &[usize], seed: u64) -> ArrayD<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| T::of(StandardNormal.sample(&mut rng)))
}

pub fn batch_shape<S: Transform>(s: &S, b: usize, input: bool) -> Vec<usize> {
    let per = if input {
        s.input_shape()
    } else {
        s.output_shape()
    };
    std::iter::once(b).chain(per).collect()
}

pub fn dot<T: Real>(a: &ArrayD<T>, b: &ArrayD<T>) -> f64 {
    a.iter().zip(b).map(|(x, y)| x.as_f64() * y.as_f64()).sum()
}

/// `<backward(x, g), v>` against the central difference of `<S x, g>` along `v`.
pub fn gradient_error<S: Transform<Elem = f64>>(s: &S, b: usize) -> f64 {
    let x = noise::<f64>(&batch_shape(s, b, true), 1);
    let g = noise::<f64>(&batch_shape(s, b, false), 2);
    let grad = s.backward_batch(x.view(), g.view()).unwrap();
    let mut worst = 0.0f64;
    for seed in 3..6 {
        let v = noise::<f64>(x.shape(), seed);
        let h = 1e-5;
        let f = |t: f64| dot(&s.forward_batch((&x + &(&v * t)).view()).unwrap(), &g);
        let fd = (f(h) - f(-h)) / (2.0 * h);
        let an = dot(&grad, &v);
        worst = worst.max((fd - an).abs() / an.abs().max(1e-8));
    }
    worst
}
