//! Reproducible to the bit: forward and backward passes give the same bits whatever the
//! thread count and however a batch is split (one sample spreads its paths over threads;
//! larger batches run a sample a thread), run after run.

mod common;
use common::noise;
use scattering_transform::{
    Parallelism, Scattering1dParams, Scattering2dParams, SolidHarmonicScattering3dParams, Transform,
};

fn check<S: Transform<Elem = f64>>(mut s: S, name: &str) {
    for b in [1, 3] {
        let xs: Vec<usize> = std::iter::once(b).chain(s.input_shape()).collect();
        let gs: Vec<usize> = std::iter::once(b).chain(s.output_shape()).collect();
        let (x, g) = (noise::<f64>(&xs, 7), noise::<f64>(&gs, 8));
        let mut first = None;
        for p in [
            Parallelism::Sequential,
            Parallelism::Threads(2),
            Parallelism::Threads(3),
            Parallelism::Threads(2),
        ] {
            s.set_parallelism(p).unwrap();
            let got = (
                s.forward_batch(x.view()).unwrap(),
                s.backward_batch(x.view(), g.view()).unwrap(),
            );
            // Run to run at one setting.
            let again = s.forward_batch(x.view()).unwrap();
            assert!(
                again == got.0,
                "{name}: batch {b}, forward rerun under {p:?}"
            );
            match &first {
                None => first = Some(got),
                Some(want) => {
                    assert!(got.0 == want.0, "{name}: batch {b}, forward under {p:?}");
                    assert!(got.1 == want.1, "{name}: batch {b}, backward under {p:?}");
                }
            }
        }
    }
}

#[test]
fn time_scattering_is_bitwise_reproducible() {
    check(
        Scattering1dParams::new(1024, 6).q((8, 2)).build().unwrap(),
        "1D",
    );
}

#[test]
fn image_scattering_is_bitwise_reproducible() {
    check(
        Scattering2dParams::new((40, 32), 3).l(6).build().unwrap(),
        "2D",
    );
}

#[test]
fn solid_harmonic_scattering_is_bitwise_reproducible() {
    // L = 2 and 3 on 1 to 3 threads: the forward pass used to pair its FFTs one way when
    // there were at least two orders a thread and another way below.
    for l in [2, 3] {
        let s = SolidHarmonicScattering3dParams::new((12, 12, 12), 2, l)
            .build()
            .unwrap();
        check(s, &format!("3D, L = {l}"));
    }
}
