//! Criterion benchmarks of one gradient evaluation of the texture-synthesis loss (256², J=5,
//! L=8, order 2): the unit of work a 500-iteration L-BFGS synthesis repeats about 520 times.
//! The whole synthesis is timed by `scripts/bench-synthesis`.

use criterion::{criterion_group, criterion_main, Criterion};
use scattering_models::{EnvelopeCorrelations2d, Representation, ScatteringMoments2d};
use std::time::Duration;

fn gradient(c: &mut Criterion) {
    let mut g = c.benchmark_group("synthesis_gradient");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let shape = (256, 256);
    let x: Vec<f64> = (0..shape.0 * shape.1)
        .map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0)
        .collect();
    let reps: [(&str, Box<dyn Representation>); 2] = [
        (
            "scattering_moments_256_J5_L8",
            Box::new(ScatteringMoments2d::new(shape, 5, 8).unwrap()),
        ),
        (
            "envelope_correlations_256_J5_L8",
            Box::new(EnvelopeCorrelations2d::new(shape, 5, 8).unwrap()),
        ),
    ];
    for (name, phi) in &reps {
        let v = vec![1.0; phi.output_len()];
        // What L-BFGS asks for at each iterate: the moments (cost) and the VJP (gradient).
        g.bench_function(*name, |b| {
            b.iter(|| {
                let m = phi.forward(&x).unwrap();
                let gr = phi.backward(&x, &v).unwrap();
                (m, gr)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, gradient);
criterion_main!(benches);
