//! Conformance of `Scattering1d` with Kymatio main (0.4.0.dev0) outputs, and with
//! Kymatio 0.3.0 when asked for its mean-of-folds filters: relative error <= 1e-6.

mod common;
use common::{fixture, rel_err};
use ndarray::{Array2, Array3};
use ndarray_npy::read_npy;
use scattering_transform::{Reduction, Scattering1dParams};

#[test]
fn case1_j6_q8_n1024_matches_kymatio_main() {
    let x: Array2<f64> = read_npy(fixture("kymatio-main", "s1d_input.npy")).unwrap();
    let want: Array3<f64> = read_npy(fixture("kymatio-main", "s1d_output.npy")).unwrap();
    let s = Scattering1dParams::new(1024, 6).q((8, 1)).build().unwrap();
    assert_eq!(s.padded_len(), 2048);
    let got = s.forward(x.view()).unwrap();
    let e = rel_err(&got.into_dyn(), &want.into_dyn());
    eprintln!("relative error {e:e}");
    assert!(e <= 1e-6, "relative error {e:e}");
}

#[test]
fn case2_j5_q4_2_t16_n2000_matches_kymatio_main() {
    let x: Array2<f64> = read_npy(fixture("kymatio-main", "s1d_case2_input.npy")).unwrap();
    let want: Array3<f64> = read_npy(fixture("kymatio-main", "s1d_case2_output.npy")).unwrap();
    let s = Scattering1dParams::new(2000, 5)
        .q((4, 2))
        .t(16)
        .build()
        .unwrap();
    let got = s.forward(x.view()).unwrap();
    assert_eq!(got.shape(), want.shape());
    let e = rel_err(&got.into_dyn(), &want.into_dyn());
    eprintln!("relative error {e:e}");
    assert!(e <= 1e-6, "relative error {e:e}");
}

#[test]
fn meta_keys_match_kymatio_channel_order() {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("kymatio-main", "s1d_meta.json")).unwrap(),
    )
    .unwrap();
    let s = Scattering1dParams::new(1024, 6).q((8, 1)).build().unwrap();
    let keys = meta["key"].as_array().unwrap();
    let order = meta["order"].as_array().unwrap();
    assert_eq!(keys.len(), s.meta().len());
    for (c, p) in s.meta().iter().enumerate() {
        let k: Vec<usize> = keys[c]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(p.n, k, "channel {c}");
        assert_eq!(p.order as u64, order[c].as_u64().unwrap());
    }
}

#[test]
fn mean_of_folds_reproduces_kymatio_030() {
    let x: Array2<f64> = read_npy(fixture("kymatio-main", "s1d_input.npy")).unwrap();
    let want: Array3<f64> = read_npy(fixture("kymatio-0.3.0", "s1d_output.npy")).unwrap();
    let s = Scattering1dParams::new(1024, 6)
        .q((8, 1))
        .reduction(Reduction::Mean)
        .build()
        .unwrap();
    let got = s.forward(x.view()).unwrap();
    let e = rel_err(&got.into_dyn(), &want.into_dyn());
    eprintln!("relative error {e:e}");
    assert!(e <= 1e-6, "relative error {e:e}");
}

#[test]
fn float32_input_matches_kymatio_030_float32_reference() {
    let x: Array2<f64> = read_npy(fixture("kymatio-main", "s1d_input.npy")).unwrap();
    let x32 = x.mapv(|v| v as f32);
    let want: Array3<f64> = read_npy(fixture(
        "kymatio-0.3.0",
        "s1d_output_from_float32_input.npy",
    ))
    .unwrap();
    let s = Scattering1dParams::new(1024, 6)
        .q((8, 1))
        .reduction(Reduction::Mean)
        .build()
        .unwrap();
    let got = s.forward(x32.view()).unwrap();
    let e = rel_err(&got.into_dyn(), &want.into_dyn());
    eprintln!("relative error {e:e}");
    assert!(e <= 1e-6, "relative error {e:e}");
}

#[test]
fn single_precision_engine_agrees_to_1e_5() {
    let x: Array2<f64> = read_npy(fixture("kymatio-main", "s1d_input.npy")).unwrap();
    let want: Array3<f64> = read_npy(fixture("kymatio-main", "s1d_output.npy")).unwrap();
    let s = Scattering1dParams::new(1024, 6)
        .q((8, 1))
        .build_f32()
        .unwrap();
    let got = s.forward(x.view()).unwrap().mapv(f64::from);
    let e = rel_err(&got.into_dyn(), &want.into_dyn());
    eprintln!("f32 engine: relative error {e:e}");
    assert!(e <= 1e-5, "relative error {e:e}");
    // Its backward pass agrees with the f64 one.
    let s64 = Scattering1dParams::new(1024, 6).q((8, 1)).build().unwrap();
    let g64 = s64.forward(x.view()).unwrap();
    let g32 = g64.mapv(|v| v as f32);
    let b64 = s64.backward(x.view(), g64.view()).unwrap();
    let b32 = s.backward(x.view(), g32.view()).unwrap().mapv(f64::from);
    let e = rel_err(&b32.into_dyn(), &b64.into_dyn());
    eprintln!("f32 backward: relative error {e:e}");
    assert!(e <= 1e-4, "relative error {e:e}");
}
