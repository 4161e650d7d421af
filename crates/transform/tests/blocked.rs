//! Long signals block by block: the output equals the whole-signal transform, at the ends
//! too, for local averaging and none, both paddings, f64 and f32.

use ndarray::{Array2, Array3};
use scattering_transform::{
    Averaging, BlockedScattering1d, Padding, Scattering1dParams, TransformError,
};

fn signal(rows: usize, n: usize) -> Array2<f64> {
    // Chirps plus clicks: energy at every scale, and edges to test the margin.
    Array2::from_shape_fn((rows, n), |(r, t)| {
        let u = t as f64 / n as f64;
        (2.0 * std::f64::consts::PI * (40.0 + 900.0 * u * (r + 1) as f64) * u).sin()
            + if t % 3001 == 17 { 3.0 } else { 0.0 }
            + 0.1 * ((t * 7919 + r * 104729) % 1013) as f64 / 1013.0
    })
}

/// Largest difference over the largest value.
fn rel_max(a: &Array3<f64>, b: &Array3<f64>) -> f64 {
    let top = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / top
}

#[test]
fn blocks_equal_the_whole_transform_to_1e12() {
    let cases = [
        (Scattering1dParams::new(100_000, 6).q((8, 1)), 1 << 14),
        (Scattering1dParams::new(77_777, 5).q((4, 2)).t(16), 1 << 13),
        (
            Scattering1dParams::new(65_536, 6)
                .q((8, 1))
                .padding(Padding::Periodic),
            1 << 14,
        ),
        (
            Scattering1dParams::new(30_000, 4)
                .q((2, 1))
                .average(Averaging::None)
                .max_order(1),
            1 << 12,
        ),
        (Scattering1dParams::new(90_000, 8).q((12, 1)), 1 << 16),
    ];
    for (p, block) in cases {
        let x = signal(2, p.n);
        let whole = p.clone().build().unwrap().forward(x.view()).unwrap();
        let blocked = BlockedScattering1d::<f64>::new(p.clone(), block).unwrap();
        assert!(
            p.n > 3 * blocked.outputs_per_block(),
            "several blocks are exercised"
        );
        let got = blocked.forward(x.view()).unwrap();
        assert_eq!(got.dim(), whole.dim());
        assert_eq!(blocked.meta(), p.clone().build().unwrap().meta());
        let e = rel_max(&got, &whole);
        eprintln!(
            "n = {}, block {block}, margin {}: {e:e}",
            p.n,
            blocked.margin()
        );
        assert!(e <= 1e-12, "{p:?}: {e:e}");
    }
}

#[test]
fn f32_blocks_agree_with_the_f64_whole_transform() {
    let p = Scattering1dParams::new(50_000, 6).q((8, 1));
    let x = signal(1, p.n);
    let whole = p.clone().build().unwrap().forward(x.view()).unwrap();
    let got = BlockedScattering1d::<f32>::new(p, 1 << 14)
        .unwrap()
        .forward(x.view())
        .unwrap()
        .mapv(f64::from);
    assert!(rel_max(&got, &whole) <= 1e-5);
}

#[test]
fn streaming_reads_stay_within_the_window() {
    // The reader is asked for short runs only, and the writer sees increasing times.
    let p = Scattering1dParams::new(200_000, 6).q((8, 1));
    let x = signal(1, p.n);
    let blocked = BlockedScattering1d::<f64>::new(p, 1 << 14).unwrap();
    let (mut longest, mut next) = (0, 0);
    blocked
        .forward_with::<TransformError>(
            1,
            |start, mut buf| {
                longest = longest.max(buf.ncols());
                buf.assign(&x.slice(ndarray::s![.., start..start + buf.ncols()]));
                Ok(())
            },
            |t0, c| {
                assert_eq!(t0, next);
                next += c.dim().2;
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(next, blocked.output_shape().1);
    assert!(longest <= blocked.block_len());
}

#[test]
fn bad_settings_are_refused() {
    let p = Scattering1dParams::new(100_000, 6);
    assert!(
        BlockedScattering1d::<f64>::new(p.clone().average(Averaging::Global), 1 << 14).is_err()
    );
    let e = BlockedScattering1d::<f64>::new(p.clone(), 1000)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("at least"), "{e}");
    let b = BlockedScattering1d::<f64>::new(p, 1 << 14).unwrap();
    assert!(b.forward(Array2::<f64>::zeros((1, 99)).view()).is_err());
    let mut x = signal(1, 100_000);
    x[[0, 77_000]] = f64::NAN;
    let e = b.forward(x.view()).err().unwrap();
    assert!(
        matches!(e, TransformError::NonFinite { index: 77_000, .. }),
        "the signal's index is reported: {e}"
    );
}
