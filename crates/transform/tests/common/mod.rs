//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ndarray::{Array2, ArrayD};
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
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
