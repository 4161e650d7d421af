//! Criterion benchmarks of 1D scattering on the configurations compared with Kymatio.

use criterion::{criterion_group, criterion_main, Criterion};
use scattering_benches::{image_batch, input_batch, IMAGE_CONFIGS, TIME_CONFIGS};
use scattering_transform::{
    Scattering1dParams, Scattering2dParams, SolidHarmonicScattering3dParams,
};
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

fn image(c: &mut Criterion) {
    let mut g = c.benchmark_group("scattering2d");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for cfg in IMAGE_CONFIGS {
        let s = Scattering2dParams::new((cfg.side, cfg.side), cfg.j)
            .l(cfg.l)
            .build()
            .unwrap();
        let x = image_batch(cfg.batch, cfg.side);
        g.bench_function(format!("forward/{}", cfg.name), |b| {
            b.iter(|| s.forward(x.view()).unwrap())
        });
    }
    let cfg = IMAGE_CONFIGS[0];
    let s = Scattering2dParams::new((cfg.side, cfg.side), cfg.j)
        .build()
        .unwrap();
    let x = image_batch(cfg.batch, cfg.side);
    let sx = s.forward(x.view()).unwrap();
    g.bench_function(format!("backward/{}", cfg.name), |b| {
        b.iter(|| s.backward(x.view(), sx.view()).unwrap())
    });
    g.finish();
}

fn solid(c: &mut Criterion) {
    let mut g = c.benchmark_group("solid3d");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let s = SolidHarmonicScattering3dParams::new((64, 64, 64), 2, 2)
        .build()
        .unwrap();
    let x = ndarray::Array4::from_shape_vec(
        (1, 64, 64, 64),
        input_batch(1, 64 * 64 * 64).into_raw_vec_and_offset().0,
    )
    .unwrap();
    g.bench_function("forward/3D_J2_L2_64cube_B1", |b| {
        b.iter(|| s.forward(x.view()).unwrap())
    });
    let sx = s.forward(x.view()).unwrap();
    g.bench_function("backward/3D_J2_L2_64cube_B1", |b| {
        b.iter(|| s.backward(x.view(), sx.view()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, forward, backward, build, image, solid);
criterion_main!(benches);
