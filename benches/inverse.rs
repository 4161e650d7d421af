//! Criterion benchmarks of the tomography operators: the Radon transform of a 256 x 256
//! image at 180 angles, its adjoint, and filtered back-projection (issue 21).

use criterion::{criterion_group, criterion_main, Criterion};
use scattering_inverse::{phantom, LinearOperator, Radon, RampFilter};
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

criterion_group!(benches, radon);
criterion_main!(benches);
