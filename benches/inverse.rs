//! Criterion benchmarks of the inverse-problem tools (issue 21): the Radon transform of a
//! 256 x 256 image at 180 angles, its adjoint and filtered back-projection; one gradient of
//! the scattering regulariser `½‖S x − t‖²` on 128 x 128 (J = 4, L = 8, order 2, local
//! averaging); and a whole 128 x 128 reconstruction from those coefficients (100 L-BFGS
//! iterations from white noise).

use criterion::{criterion_group, criterion_main, Criterion};
use scattering_inverse::{phantom, LinearOperator, Radon, RampFilter, ScatteringSolver};
use scattering_models::{Representation, ScatteringMoments};
use scattering_transform::{Averaging, Padding, Scattering2dParams};
use std::time::Duration;

fn radon(c: &mut Criterion) {
    let mut g = c.benchmark_group("radon");
    g.sample_size(10).measurement_time(Duration::from_secs(6));
    let x = phantom::shepp_logan(256);
    let op = Radon::uniform((256, 256), 180).unwrap();
    let y = op.apply(x.view()).unwrap();
    g.bench_function("forward_256_180", |b| {
        b.iter(|| op.apply(x.view()).unwrap())
    });
    g.bench_function("adjoint_256_180", |b| {
        b.iter(|| op.adjoint(y.view()).unwrap())
    });
    g.bench_function("fbp_256_180", |b| {
        b.iter(|| op.fbp(y.view(), RampFilter::RamLak).unwrap())
    });
    g.finish();
}

fn scattering(c: &mut Criterion) {
    let mut g = c.benchmark_group("scattering_regulariser");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let s = Scattering2dParams::new((128, 128), 4)
        .l(8)
        .average(Averaging::Local)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    let phi = ScatteringMoments::from_transform(s);
    let x: Vec<f64> = phantom::shepp_logan(128).iter().copied().collect();
    let t = phi.forward(&x).unwrap();
    let z: Vec<f64> = phantom::random_ellipses(128, 12, 1)
        .iter()
        .copied()
        .collect();
    g.bench_function("gradient_128_J4_L8", |b| {
        b.iter(|| {
            let r: Vec<f64> = phi
                .forward(&z)
                .unwrap()
                .iter()
                .zip(&t)
                .map(|(a, b)| a - b)
                .collect();
            phi.backward(&z, &r).unwrap()
        })
    });
    let solver = ScatteringSolver {
        max_iterations: 100,
        tolerance: 0.0,
        ..Default::default()
    };
    g.bench_function("reconstruction_128_J4_L8_100_iterations", |b| {
        b.iter(|| solver.reconstruct(&phi, &t, 0.3).unwrap())
    });
    g.finish();
}

criterion_group!(benches, radon, scattering);
criterion_main!(benches);
