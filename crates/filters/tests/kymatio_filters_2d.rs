//! The 2D Morlet bank against Kymatio 0.3.0's (stored in float32): relative error <= 1e-6.

use ndarray::{Array2, Array3};
use ndarray_npy::read_npy;
use scattering_filters::FilterBank2d;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/fixtures/kymatio-0.3.0")
        .join(name)
}

fn rel(a: &[f64], b: impl Iterator<Item = f64> + Clone) -> f64 {
    let scale = b.clone().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

#[test]
fn psi_and_phi_match_kymatio() {
    let bank = FilterBank2d::new(40, 40, 2, 8).unwrap();
    let psi: Array3<f32> = read_npy(fixture("s2d_psi_f.npy")).unwrap();
    assert_eq!(bank.psi.len(), psi.shape()[0]);
    for (i, f) in bank.psi.iter().enumerate() {
        assert_eq!((f.j, f.theta), (i / 8, i % 8));
        assert_eq!(f.levels.len(), 1);
        let want = psi.index_axis(ndarray::Axis(0), i);
        let e = rel(&f.levels[0].data, want.iter().map(|&v| v as f64));
        assert!(e < 1e-6, "psi[{i}]: {e:e}");
    }
    for r in 0..2 {
        let phi: Array2<f32> = read_npy(fixture(&format!("s2d_phi_f_level{r}.npy"))).unwrap();
        let ours = &bank.phi.levels[r];
        assert_eq!((ours.m, ours.n), phi.dim());
        let e = rel(&ours.data, phi.iter().map(|&v| v as f64));
        assert!(e < 1e-6, "phi level {r}: {e:e}");
    }
}

#[test]
fn littlewood_paley_is_bounded() {
    let bank = FilterBank2d::new(64, 64, 3, 8).unwrap();
    let lp = bank.littlewood_paley();
    let max = lp.iter().cloned().fold(0.0, f64::max);
    let min = lp.iter().cloned().fold(f64::INFINITY, f64::min);
    eprintln!("2D LP in [{min}, {max}]");
    assert!(max < 1.05 && min > 0.1, "[{min}, {max}]");
}

#[test]
fn bad_parameters() {
    assert!(FilterBank2d::new(40, 40, 0, 8).is_err());
    assert!(FilterBank2d::new(40, 40, 2, 0).is_err());
    assert!(FilterBank2d::new(42, 40, 2, 8).is_err());
}
