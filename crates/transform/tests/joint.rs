//! Joint time-frequency scattering: conformance with Kymatio main (case A of
//! data/fixtures/kymatio-jtfs), labels, and the properties the construction implies.

mod common;

use ndarray::{Array2, ArrayD, Axis};
use ndarray_npy::read_npy;
use scattering_transform::{JointFormat, TimeFrequencyParams, Transform};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    common::fixture("kymatio-jtfs", name)
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

use common::rel_err;

fn case_a(format: JointFormat) -> TimeFrequencyParams {
    TimeFrequencyParams::new(2048, 6, 3)
        .q((8, 2))
        .q_fr(2)
        .format(format)
}

#[test]
fn case_a_joint_equals_kymatio() {
    let x: Array2<f64> = read_npy(fixture("case_a_input.npy")).unwrap();
    let want: ArrayD<f64> = read_npy(fixture("case_a_joint_output.npy")).unwrap();
    let s = case_a(JointFormat::Joint).build().unwrap();
    let got = s.forward(x.view()).unwrap();
    let e = rel_err(&got, &want);
    eprintln!("relative error {e:e}");
    assert!(e < 1e-10, "relative error {e:e}");
}

#[test]
fn case_a_time_equals_kymatio() {
    let x: Array2<f64> = read_npy(fixture("case_a_input.npy")).unwrap();
    let want: ArrayD<f64> = read_npy(fixture("case_a_time_output.npy")).unwrap();
    let s = case_a(JointFormat::Time).build().unwrap();
    let got = s.forward(x.view()).unwrap();
    let e = rel_err(&got, &want);
    eprintln!("relative error {e:e}");
    assert!(e < 1e-10, "relative error {e:e}");
}

/// The parameters of one entry of configs.json.
fn config(c: &serde_json::Value) -> TimeFrequencyParams {
    use scattering_transform::Averaging;
    let u = |k: &str| c[k].as_u64().map(|v| v as usize);
    let q = c["Q"].as_array().unwrap();
    let mut p = TimeFrequencyParams::new(u("shape").unwrap(), u("J").unwrap(), u("J_fr").unwrap())
        .q((
            q[0].as_u64().unwrap() as usize,
            q[1].as_u64().unwrap() as usize,
        ))
        .q_fr(u("Q_fr").unwrap());
    match &c["T"] {
        serde_json::Value::String(s) if s == "global" => p = p.average(Averaging::Global),
        v if v.is_u64() => p = p.t(v.as_u64().unwrap() as usize),
        _ => {}
    }
    match &c["F"] {
        serde_json::Value::String(s) if s == "global" => p = p.average_fr(Averaging::Global),
        v if v.as_u64() == Some(0) => p = p.average_fr(Averaging::None),
        v if v.is_u64() => p = p.f(v.as_u64().unwrap() as usize),
        _ => {}
    }
    if let Some(s) = u("stride") {
        p = p.stride(s);
    }
    if let Some(s) = u("stride_fr") {
        p = p.stride_fr(s);
    }
    p.format(if c["format"] == "joint" {
        JointFormat::Joint
    } else {
        JointFormat::Time
    })
}

#[test]
fn other_configurations_equal_the_reference() {
    let configs = json("configs.json");
    for (i, c) in configs.as_array().unwrap().iter().enumerate() {
        let x: Array2<f64> = read_npy(fixture(&format!("cfg{i}_input.npy"))).unwrap();
        let want: ArrayD<f64> = read_npy(fixture(&format!("cfg{i}_output.npy"))).unwrap();
        let s = config(c).build().unwrap();
        let got = s.forward(x.view()).unwrap();
        assert_eq!(got.shape(), want.shape(), "config {i}: {c}");
        let e = rel_err(&got, &want);
        eprintln!("config {i}: relative error {e:e}");
        assert!(e < 1e-10, "config {i} {c}: relative error {e:e}");
    }
}

fn noise(b: usize, n: usize, seed: u64) -> Array2<f64> {
    use rand::{rngs::StdRng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((b, n), |_| StandardNormal.sample(&mut rng))
}

#[test]
fn gradients_match_finite_differences_in_every_mode() {
    use scattering_transform::Averaging;
    let base = || TimeFrequencyParams::new(300, 4, 2).q((4, 2)).q_fr(1);
    let cases = [
        ("joint", base().format(JointFormat::Joint)),
        ("time", base()),
        ("T global", base().average(Averaging::Global)),
        ("F global", base().average_fr(Averaging::Global)),
        ("F none", base().average_fr(Averaging::None)),
        ("T 8, stride 8, F 2", base().t(8).f(2)),
    ];
    for (name, p) in cases {
        let s = p.build().unwrap();
        let e = common::gradient_error(&s, 2);
        eprintln!("{name}: {e:e}");
        assert!(e <= 1e-5, "{name}: relative error {e:e}");
    }
}

#[test]
fn gradient_is_finite_where_a_modulus_vanishes() {
    // A zero signal makes every modulus zero: the subgradient there is 0, not NaN.
    let s = TimeFrequencyParams::new(256, 4, 2).build().unwrap();
    let x = Array2::<f64>::zeros((1, 256));
    let shape: Vec<usize> = std::iter::once(1).chain(s.output_shape()).collect();
    let g = ArrayD::from_elem(ndarray::IxDyn(&shape), 1.0);
    let grad = s.backward(x.view(), g.view()).unwrap();
    assert!(grad.iter().all(|v| v.is_finite()));
}

#[test]
fn time_labels_equal_kymatio_channel_records() {
    let s = case_a(JointFormat::Time).build().unwrap();
    let want = json("case_a_time_meta.json");
    let recs = want["channels_in_output_order"].as_array().unwrap();
    assert_eq!(s.meta().len(), recs.len());
    let opt = |v: &serde_json::Value| v.as_u64().map(|x| x as usize);
    for (m, r) in s.meta().iter().zip(recs) {
        assert_eq!(m.order as u64, r["order"].as_u64().unwrap());
        assert_eq!(m.n1, opt(&r["n1"]), "{r}");
        assert_eq!(m.n2, opt(&r["n2"]), "{r}");
        assert_eq!(m.n_fr, opt(&r["n_fr"]), "{r}");
        assert_eq!(m.joint_channel, opt(&r["joint_channel"]), "{r}");
        assert_eq!(m.row, opt(&r["joint_row"]), "{r}");
        if m.order > 0 {
            assert_eq!(m.n1_sampled, opt(&r["n1_sampled"]), "{r}");
            assert_eq!(i64::from(m.spin), r["spin"].as_i64().unwrap());
            assert!((m.xi_fr.unwrap() - r["xi_fr"].as_f64().unwrap()).abs() < 1e-15);
            assert_eq!(m.j_fr, opt(&r["j_fr"]));
        }
        if m.order == 2 {
            assert_eq!(m.j2, opt(&r["j2"]));
        }
    }
}

#[test]
fn joint_labels_and_filters_equal_kymatio() {
    let s = case_a(JointFormat::Joint).build().unwrap();
    let want = json("case_a_joint_meta.json");
    let recs = want["channels_in_output_order"].as_array().unwrap();
    assert_eq!(s.meta().len(), recs.len());
    for (m, r) in s.meta().iter().zip(recs) {
        assert_eq!(m.n2.map(|v| v as u64), r["n2"].as_u64());
        assert_eq!(m.n_fr.map(|v| v as u64), r["n_fr"].as_u64());
        assert_eq!(m.n1_max.map(|v| v as u64), r["n1_max"].as_u64(), "{r}");
        assert_eq!(
            m.n1_stride.map(|v| v as u64),
            r["n1_stride"].as_u64(),
            "{r}"
        );
    }
    assert_eq!(s.n_fr(), 120);
    assert_eq!(s.padding(), (4096, 1024));
    // The frequential filters and the averaging low-pass, bin by bin.
    let psi_fr: Array2<f64> = read_npy(fixture("case_a_psi_fr_f.npy")).unwrap();
    for (f, row) in s
        .frequential_bank()
        .filters
        .iter()
        .zip(psi_fr.axis_iter(Axis(0)))
    {
        let e =
            f.h.iter()
                .zip(row.iter())
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(e < 1e-12, "xi {}: {e:e}", f.xi);
    }
    for k in 0..4 {
        let want: ndarray::Array1<f64> =
            read_npy(fixture(&format!("case_a_phi_F_f_level{k}.npy"))).unwrap();
        let got = scattering_filters::frequential_lowpass(120, 8, 3).unwrap();
        let e = got.levels[k]
            .iter()
            .zip(want.iter())
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(e < 1e-12, "level {k}: {e:e}");
    }
}

/// Energy of the second-order paths of each spin.
fn spin_energy(s: &scattering_transform::TimeFrequencyScattering, x: &Array2<f64>) -> (f64, f64) {
    let sx = s.forward(x.view()).unwrap();
    let (mut up, mut down) = (0.0, 0.0);
    for (c, m) in s.meta().iter().enumerate() {
        if m.order != 2 {
            continue;
        }
        let e: f64 = sx.index_axis(Axis(1), c).iter().map(|v| v * v).sum();
        match m.spin {
            1 => up += e,
            -1 => down += e,
            _ => {}
        }
    }
    (up, down)
}

#[test]
fn spin_tells_rising_from_falling_chirps() {
    let n = 4096;
    let s = TimeFrequencyParams::new(n, 8, 3)
        .q((8, 2))
        .format(JointFormat::Joint)
        .build()
        .unwrap();
    // Exponential sweeps from 0.01 to 0.3 cycles per sample and back.
    let (f0, f1) = (0.01f64, 0.3f64);
    let l = n as f64 / (f1 / f0).ln();
    let rise = Array2::from_shape_fn((1, n), |(_, t)| {
        (2.0 * std::f64::consts::PI * f0 * l * ((t as f64 / l).exp() - 1.0)).sin()
    });
    let fall = Array2::from_shape_fn((1, n), |(_, t)| rise[[0, n - 1 - t]]);
    let (ru, rd) = spin_energy(&s, &rise);
    let (fu, fd) = spin_energy(&s, &fall);
    eprintln!("rising: up {ru:e} down {rd:e}; falling: up {fu:e} down {fd:e}");
    assert!(ru > 5.0 * rd, "rising chirp: up {ru:e}, down {rd:e}");
    assert!(fd > 5.0 * fu, "falling chirp: up {fu:e}, down {fd:e}");
}

#[test]
fn f32_agrees_with_f64_and_the_trait_with_the_methods() {
    let x = noise(3, 1000, 4);
    let p = TimeFrequencyParams::new(1000, 5, 2).q((8, 2)).q_fr(2);
    let s64 = p.clone().build().unwrap();
    let s32 = p.build_f32().unwrap();
    let a = s64.forward(x.view()).unwrap();
    let b = s32.forward(x.mapv(|v| v as f32).view()).unwrap();
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let e = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (u, v)| m.max((u - f64::from(*v)).abs()))
        / scale;
    assert!(e < 1e-4, "f32 vs f64: {e:e}");
    let t = s64.forward_batch(x.view().into_dyn()).unwrap();
    assert_eq!(t, a);
    // Positive homogeneity: S(c x) = c S(x).
    let c = s64.forward((&x * 3.5).view()).unwrap();
    let e = rel_err(&c, &(&a * 3.5));
    assert!(e < 1e-12, "homogeneity: {e:e}");
}

#[test]
fn parallel_and_sequential_runs_agree() {
    use scattering_transform::Parallelism;
    let x = noise(1, 2048, 9);
    let p = TimeFrequencyParams::new(2048, 6, 3).q((8, 2));
    let a = p.clone().build().unwrap().forward(x.view()).unwrap();
    let b = p
        .build()
        .unwrap()
        .with_parallelism(Parallelism::Sequential)
        .unwrap()
        .forward(x.view())
        .unwrap();
    assert!(rel_err(&a, &b) < 1e-14);
    // The backward pass sums its parallel parts in a fixed order: the same bits on one
    // thread or many, for one sample (paths spread) or a batch.
    let p = TimeFrequencyParams::new(2048, 6, 3).q((8, 2));
    let par = p.clone().build().unwrap();
    let seq = p
        .build()
        .unwrap()
        .with_parallelism(Parallelism::Sequential)
        .unwrap();
    let g = par.forward(x.view()).unwrap();
    let gp = par.backward(x.view(), g.view()).unwrap();
    let gs = seq.backward(x.view(), g.view()).unwrap();
    assert_eq!(gp, gs);
}

#[test]
fn bad_parameters_and_inputs_are_typed_errors() {
    use scattering_transform::{Averaging, TransformError};
    let p = || TimeFrequencyParams::new(1024, 5, 2);
    assert!(p().build().is_ok());
    for bad in [
        TimeFrequencyParams::new(1024, 0, 2),
        TimeFrequencyParams::new(1024, 5, 0),
        TimeFrequencyParams::new(16, 5, 2),
        p().stride(3),
        p().stride_fr(3),
        p().t(0),
        p().t(2000),
        p().f(0),
        p().q((0, 1)),
        p().average(Averaging::None),
        p().average_fr(Averaging::None).format(JointFormat::Joint),
        p().average_fr(Averaging::Global).format(JointFormat::Joint),
        p().t(32).stride(2),
    ] {
        match bad.clone().build() {
            Err(TransformError::InvalidParameter { .. }) | Err(TransformError::Filter(_)) => {}
            other => panic!("{bad:?}: {:?}", other.err()),
        }
    }
    let s = p().build().unwrap();
    let mut x = noise(1, 1024, 0);
    assert!(matches!(
        s.forward(noise(1, 1000, 0).view()),
        Err(TransformError::Shape { .. })
    ));
    x[[0, 10]] = f64::NAN;
    assert!(matches!(
        s.forward(x.view()),
        Err(TransformError::NonFinite { .. })
    ));
}

#[test]
fn every_accepted_configuration_runs_and_refusals_are_errors() {
    // A sweep of parameters: each one either builds and gives finite coefficients of the
    // announced shape (and a finite gradient), or is refused with a typed error; none panics.
    use scattering_transform::{Averaging, TransformError};
    let mut built = 0;
    for &n in &[100usize, 777, 2048] {
        let x = noise(1, n, n as u64);
        for j in [1usize, 3, 6, 9] {
            for j_fr in [1usize, 2, 4] {
                for q in [(1usize, 1usize), (4, 2), (12, 1)] {
                    for (avg, avg_fr) in [
                        (Averaging::Local, Averaging::Local),
                        (Averaging::Global, Averaging::Global),
                        (Averaging::Local, Averaging::None),
                    ] {
                        for format in [JointFormat::Time, JointFormat::Joint] {
                            let p = TimeFrequencyParams::new(n, j, j_fr)
                                .q(q)
                                .average(avg)
                                .average_fr(avg_fr)
                                .format(format);
                            match p.clone().build() {
                                Ok(s) => {
                                    let sx = s.forward(x.view()).unwrap();
                                    let want: Vec<usize> =
                                        std::iter::once(1).chain(s.output_shape()).collect();
                                    assert_eq!(sx.shape(), &want[..], "{p:?}");
                                    assert!(sx.iter().all(|v| v.is_finite()), "{p:?}");
                                    let g = s.backward(x.view(), sx.view()).unwrap();
                                    assert!(g.iter().all(|v| v.is_finite()), "{p:?}");
                                    built += 1;
                                }
                                Err(TransformError::InvalidParameter { .. })
                                | Err(TransformError::Filter(_)) => {}
                                Err(e) => panic!("{p:?}: {e:?}"),
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!("{built} configurations built and ran");
    assert!(built > 50);
}
