//! Conformance of the 1D Morlet bank with Kymatio's (main branch and 0.3.0) to 1e-12.

use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;
use scattering_filters::bank1d::{anden_generator, max_dyadic_subsampling};
use scattering_filters::{Bank1dParams, FilterBank1d, Reduction};
use std::path::PathBuf;

fn fixture(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/fixtures")
        .join(dir)
        .join(name)
}

fn json(dir: &str, name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(dir, name)).unwrap()).unwrap()
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

fn main_bank(reduction: Reduction) -> FilterBank1d {
    let mut p = Bank1dParams::new(6, (8, 1), None).unwrap();
    p.reduction = reduction;
    FilterBank1d::new(2048, &p).unwrap()
}

#[test]
fn xi_sigma_j_match_kymatio_main() {
    let meta = json("kymatio-main", "s1d_meta.json");
    let bank = main_bank(Reduction::Sum);
    for (fam, filters) in [("1", &bank.psi1), ("2", &bank.psi2)] {
        let xi = meta[format!("xi{fam}")].as_array().unwrap();
        let sigma = meta[format!("sigma{fam}")].as_array().unwrap();
        let j = meta[format!("j{fam}")].as_array().unwrap();
        assert_eq!(filters.len(), xi.len(), "psi{fam} count");
        for (i, f) in filters.iter().enumerate() {
            assert!(
                (f.xi - xi[i].as_f64().unwrap()).abs() < 1e-15,
                "psi{fam}[{i}].xi"
            );
            assert!((f.sigma - sigma[i].as_f64().unwrap()).abs() < 1e-15);
            assert_eq!(f.j as u64, j[i].as_u64().unwrap(), "psi{fam}[{i}].j");
        }
    }
}

#[test]
fn level0_filters_match_kymatio_main() {
    let bank = main_bank(Reduction::Sum);
    let psi1: Array2<f64> = read_npy(fixture("kymatio-main", "s1d_psi1_f.npy")).unwrap();
    let psi2: Array2<f64> = read_npy(fixture("kymatio-main", "s1d_psi2_f.npy")).unwrap();
    for (i, row) in psi1.outer_iter().enumerate() {
        let e = max_rel(&bank.psi1[i].levels[0], row.as_slice().unwrap());
        assert!(e < 1e-12, "psi1[{i}] rel err {e:e}");
    }
    for (i, row) in psi2.outer_iter().enumerate() {
        let e = max_rel(&bank.psi2[i].levels[0], row.as_slice().unwrap());
        assert!(e < 1e-12, "psi2[{i}] rel err {e:e}");
    }
}

fn check_levels(dir: &str, bank: &FilterBank1d, phi_levels: usize) {
    let meta = json(
        dir,
        if dir == "kymatio-main" {
            "s1d_meta.json"
        } else {
            "s1d_filters.json"
        },
    );
    for k in 0..phi_levels {
        let phi: Array1<f64> = read_npy(fixture(dir, &format!("s1d_phi_f_level{k}.npy"))).unwrap();
        let ours = bank.phi.level(k).expect("phi level built");
        let e = max_rel(ours, phi.as_slice().unwrap());
        assert!(e < 1e-12, "{dir} phi level {k}: rel err {e:e}");
    }
    let rows = meta["psi2_level_rows"].as_object().unwrap();
    for (k, rows) in rows {
        let k: usize = k.parse().unwrap();
        let arr: Array2<f64> = read_npy(fixture(dir, &format!("s1d_psi2_f_level{k}.npy"))).unwrap();
        for (i, r) in rows.as_array().unwrap().iter().enumerate() {
            let n2 = r.as_u64().unwrap() as usize;
            let ours = bank.psi2[n2].level(k).expect("psi2 level built");
            let e = max_rel(ours, arr.row(i).as_slice().unwrap());
            assert!(e < 1e-12, "{dir} psi2[{n2}] level {k}: rel err {e:e}");
        }
    }
}

#[test]
fn subsampled_levels_match_kymatio_main_sum_of_folds() {
    check_levels("kymatio-main", &main_bank(Reduction::Sum), 7);
}

#[test]
fn subsampled_levels_match_kymatio_030_mean_of_folds() {
    check_levels("kymatio-0.3.0", &main_bank(Reduction::Mean), 6);
}

#[test]
fn generator_layout_is_geometric_then_arithmetic() {
    let q = 8;
    let fb = anden_generator(6, q, 0.1, std::f64::consts::FRAC_1_SQRT_2);
    let sigma_min = 0.1 / 64.0;
    let n_low = fb.iter().filter(|(_, s)| *s == sigma_min).count();
    assert_eq!(n_low, q - 1);
    for w in fb.windows(2) {
        assert!(w[1].0 < w[0].0, "xi must decrease");
        if w[1].1 != sigma_min {
            let ratio = w[0].0 / w[1].0;
            assert!((ratio - 2f64.powf(1.0 / q as f64)).abs() < 1e-12);
        }
    }
    assert_eq!(max_dyadic_subsampling(0.35, 0.14, 5.0), 0);
    assert_eq!(max_dyadic_subsampling(0.01, 0.001, 5.0), 5);
}
