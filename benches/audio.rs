//! Criterion benchmark of the audio transforms (issue 20) on one signal of 2^14 samples:
//! joint time-frequency scattering with case A's parameters (J = 6, Q = (8, 2), J_fr = 3,
//! Q_fr = 2), forward and backward, and spiral scattering (J = 8, Q = (12, 2)), forward and
//! backward. One signal, so the backward passes spread their paths over the threads; the
//! batch throughput against the numpy reference is `bench-time`'s (scripts/bench-vs-kymatio).

use criterion::{criterion_group, criterion_main, Criterion};
use scattering_benches::input_batch;
use scattering_transform::{SpiralParams, TimeFrequencyParams};
use std::time::Duration;

fn audio(c: &mut Criterion) {
    let mut g = c.benchmark_group("audio");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let n = 1 << 14;
    let x = input_batch(1, n);
    let joint = TimeFrequencyParams::new(n, 6, 3)
        .q((8, 2))
        .q_fr(2)
        .build()
        .unwrap();
    let sx = joint.forward(x.view()).unwrap();
    g.bench_function("joint_N16384_J6_Q8-2_forward_f64", |b| {
        b.iter(|| joint.forward(x.view()).unwrap())
    });
    g.bench_function("joint_N16384_J6_Q8-2_backward_f64", |b| {
        b.iter(|| joint.backward(x.view(), sx.view()).unwrap())
    });
    let spiral = SpiralParams::new(n, 8).q((12, 2)).build().unwrap();
    let sp = spiral.forward(x.view()).unwrap();
    g.bench_function("spiral_N16384_J8_Q12-2_forward_f64", |b| {
        b.iter(|| spiral.forward(x.view()).unwrap())
    });
    g.bench_function("spiral_N16384_J8_Q12-2_backward_f64", |b| {
        b.iter(|| spiral.backward(x.view(), sp.view()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, audio);
criterion_main!(benches);
