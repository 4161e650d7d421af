//! Criterion benchmarks of 1D scattering on the configurations compared with Kymatio.

use criterion::{criterion_group, criterion_main, Criterion};
use scattering_benches::{input_batch, TIME_CONFIGS};
use scattering_transform::Scattering1dParams;
use std::time::Duration;

fn forward(c: &mut Criterion) {
    let mut g = c.benchmark_group("scattering1d_forward");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for cfg in TIME_CONFIGS {
        let s = Scattering1dParams::new(cfg.n, cfg.j)
            .q((cfg.q, 1))
            .build()
            .unwrap();
        let x = input_batch(cfg.batch, cfg.n);
        g.bench_function(cfg.name, |b| b.iter(|| s.forward(x.view()).unwrap()));
    }
    g.finish();
}

fn backward(c: &mut Criterion) {
    let mut g = c.benchmark_group("scattering1d_backward");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let cfg = TIME_CONFIGS[0];
    let s = Scattering1dParams::new(cfg.n, cfg.j)
        .q((cfg.q, 1))
        .build()
        .unwrap();
    let x = input_batch(cfg.batch, cfg.n);
    let sx = s.forward(x.view()).unwrap();
    g.bench_function(cfg.name, |b| {
        b.iter(|| s.backward(x.view(), sx.view()).unwrap())
    });
    g.finish();
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("scattering1d_build");
    g.sample_size(10);
    for cfg in TIME_CONFIGS {
        g.bench_function(cfg.name, |b| {
            b.iter(|| {
                Scattering1dParams::new(cfg.n, cfg.j)
                    .q((cfg.q, 1))
                    .build()
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, forward, backward, build);
criterion_main!(benches);
