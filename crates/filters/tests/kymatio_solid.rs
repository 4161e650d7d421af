//! Solid harmonic wavelets against Kymatio 0.3.0's (complex64, every third voxel).

use ndarray::Array5;
use ndarray_npy::read_npy;
use num_complex::Complex32;
use scattering_filters::SolidHarmonicBank;
use std::path::PathBuf;

#[test]
fn filters_match_kymatio() {
    let bank = SolidHarmonicBank::new((32, 32, 32), 2, 2, 1.0).unwrap();
    for l in 0..=2 {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../../data/fixtures/kymatio-0.3.0/s3d_filters_l{l}_every3.npy"
        ));
        let want: Array5<Complex32> = read_npy(path).unwrap();
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.norm())) as f64;
        let mut worst = 0.0f64;
        for ((j, m, a, b, c), w) in want.indexed_iter() {
            let ours = bank.filters[l][j][m][((3 * a) * 32 + 3 * b) * 32 + 3 * c];
            let d = (ours.re - w.re as f64).hypot(ours.im - w.im as f64);
            worst = worst.max(d / scale);
        }
        eprintln!("l = {l}: relative error {worst:e}");
        assert!(worst < 1e-6, "l = {l}: {worst:e}");
    }
}
