//! Criterion benchmark of rigid-motion scattering (issue 24): a batch of 256 RGB images of
//! 32 x 32 (768 channels, each transformed on its own), J = 3, L = 8 angles over the
//! circle, K = 2 angular scales, order 2, reflect padding, in f64 and f32; beside it the
//! translation scattering (Scattering2d, J = 3, L = 8) of the same batch, and the backward
//! pass of 32 images.

use criterion::{criterion_group, criterion_main, Criterion};
use scattering_benches::image_batch;
use scattering_transform::{RigidMotionParams, Scattering2dParams};
use std::time::Duration;

fn rigid(c: &mut Criterion) {
    let mut g = c.benchmark_group("rigid_motion");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    let x = image_batch(3 * 256, 32);
    let x32 = x.mapv(|v| v as f32);
    let p = RigidMotionParams::new((32, 32), 3).l(8).k(2);
    let s64 = p.clone().build().unwrap();
    let s32 = p.build_f32().unwrap();
    g.bench_function("rgb256_32_J3_L8_K2_f64", |b| {
        b.iter(|| s64.forward(x.view()).unwrap())
    });
    g.bench_function("rgb256_32_J3_L8_K2_f32", |b| {
        b.iter(|| s32.forward(x32.view()).unwrap())
    });
    let t = Scattering2dParams::new((32, 32), 3).l(8).build().unwrap();
    g.bench_function("translation_rgb256_32_J3_L8_f64", |b| {
        b.iter(|| t.forward(x.view()).unwrap())
    });
    // The backward pass (vector-Jacobian product) of 32 of those images, f64.
    let xb = image_batch(3 * 32, 32);
    let sx = s64.forward(xb.view()).unwrap();
    g.bench_function("backward_rgb32_32_J3_L8_K2_f64", |b| {
        b.iter(|| s64.backward(xb.view(), sx.view()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, rigid);
criterion_main!(benches);
