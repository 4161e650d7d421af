//! End-to-end runs of the synthesis binaries at tiny sizes: every output is written, the
//! figures of merit are present and sane, and bad input fails with a one-line error and no
//! output.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn run(bin: &str, out: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin)
        .args(["--out", out.to_str().unwrap(), "--no-progress"])
        .args(args)
        .output()
        .unwrap()
}

/// A 32² field with J = 3 and L = 4: the smallest 2D run the binaries take in a test.
const SMALL_FIELD: [&str; 6] = ["--size", "32", "-J", "3", "-L", "4"];

/// Runs `bin` with [`SMALL_FIELD`] and `args`, checks it succeeded and returns its
/// experiments.
fn run_small(bin: &str, out: &Path, args: &[&str]) -> Vec<Value> {
    let o = run(bin, out, &[&SMALL_FIELD[..], args].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    experiments(out)
}

fn experiments(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["experiments"].as_array().unwrap().clone()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn texture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/textures/{name}.png"))
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn textures_synthesis_matches_moments_and_beats_the_gaussian_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tex");
    let gravel = texture("gravel");
    let o = run(
        env!("CARGO_BIN_EXE_textures"),
        &out,
        &[
            "--input", &gravel, "--size", "64", "-J", "3", "-L", "4", "--iters", "150", "--extra",
            "both",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "textures.png",
        "loss.png",
        "table.md",
        "gravel_synthesis.npy",
        "gravel_gaussian.npy",
        "gravel_spectrum.png",
        "gravel_histogram.png",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let e = &experiments(&out)[0];
    assert_eq!(e["name"], "gravel");
    assert!(num(e, "moment_rel_error") < 1e-2, "{e}");
    // The scattering-spectra synthesis and the per-texture fidelity block.
    assert_eq!(experiments(&out)[1]["name"], "gravel spectra");
    let top: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    for stat in ["spectrum_error_max", "histogram_w1"] {
        for model in ["scattering_spectra", "scattering_moments", "gaussian"] {
            let v = top["fidelity_by_texture"]["gravel"][stat][model]
                .as_f64()
                .unwrap();
            assert!(v.is_finite() && v >= 0.0, "{stat} {model}: {top}");
        }
    }
    // The Gaussian model has the original's spectrum exactly.
    assert!(
        top["fidelity_by_texture"]["gravel"]["spectrum_error_max"]["gaussian"]
            .as_f64()
            .unwrap()
            < 1e-9
    );
    // Gravel's histogram is skewed (dark gaps between stones); the Gaussian model's is not.
    assert!(
        num(e, "hist_distance_scattering") < num(e, "hist_distance_gaussian"),
        "{e}"
    );
}

#[test]
fn textures_rejects_an_image_smaller_than_the_crop_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tex");
    let o = run(
        env!("CARGO_BIN_EXE_textures"),
        &out,
        &["--input", &texture("brick"), "--size", "512"],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("smaller than"), "{err}");
    assert!(!out.join("metrics.json").exists());
}

#[test]
fn ising_cox_and_turbulence_write_their_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["-J", "2", "-L", "4", "--iters", "40", "--realisations", "2"];
    let out = dir.path().join("ising");
    let mut args = common.to_vec();
    args.extend(["--size", "16", "--equilibration", "40"]);
    let o = run(env!("CARGO_BIN_EXE_ising"), &out, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let e = &experiments(&out)[0];
    let energy = num(&e["energy_per_site"], "original");
    // Finite-size critical Ising: −√2 ≈ −1.41, within the fluctuations of two 16² samples.
    assert!((-1.8..=-1.0).contains(&energy), "{e}");
    for key in [
        "local_energy_distance_scattering",
        "local_energy_distance_gaussian",
        "block_magnetisation_distance_scattering",
        "block_magnetisation_distance_gaussian",
        "tau_energy_sweeps",
    ] {
        assert!(num(e, key).is_finite(), "{key}: {e}");
    }
    // Per realisation, a moment synthesis and a scattering-spectra synthesis.
    let ex = experiments(&out);
    assert_eq!(ex.len(), 4, "two syntheses per realisation");
    assert_eq!(ex[1]["name"], "ising_0 spectra");
    assert!(out.join("ising.png").exists() && out.join("ising_1_original.npy").exists());
    let top: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    for stat in [
        "energy_per_site_thresholded",
        "block_magnetisation_w1_thresholded",
        "bimodality",
    ] {
        for model in [
            "original",
            "scattering_spectra",
            "scattering_moments",
            "gaussian",
        ] {
            assert!(
                top["fidelity"][stat][model].as_f64().unwrap().is_finite(),
                "{stat} {model}: {top}"
            );
        }
    }
    // The originals are spins: the thresholded energy is theirs, and they are bimodal.
    assert!((top["fidelity"]["bimodality"]["original"].as_f64().unwrap() - 1.0).abs() < 0.2);

    let out = dir.path().join("cox");
    let mut args = common.to_vec();
    args.extend(["--size", "32"]);
    let o = run(env!("CARGO_BIN_EXE_cox"), &out, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let e = &experiments(&out)[0];
    // A Cox process is overdispersed: block counts vary more than Poisson's.
    assert!(num(&e["block_dispersion"], "original") > 1.5, "{e}");
    for stat in ["block_dispersion", "empty_fraction"] {
        for model in [
            "original",
            "scattering_spectra",
            "scattering_moments",
            "gaussian",
        ] {
            assert!(
                e["fidelity"][stat][model].as_f64().unwrap().is_finite(),
                "{stat} {model}: {e}"
            );
        }
    }
    assert_eq!(experiments(&out)[1]["name"], "cox spectra");

    let out = dir.path().join("turbulence");
    let mut args = common.to_vec();
    args.extend(["--size", "32", "--spin-up", "5", "--gap", "0.5"]);
    let o = run(env!("CARGO_BIN_EXE_turbulence"), &out, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ex = experiments(&out);
    // The moment synthesis, then the scattering-spectra one, and the fidelity plots.
    assert_eq!(ex.len(), 2);
    for f in ["turbulence_spectrum.png", "turbulence_histogram.png"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let e = &ex[0];
    assert!(num(&e["solver_energy"], "after_snapshots") > 0.0, "{e}");
    assert!(num(e, "moment_rel_error") < 1e-2, "{e}");
    for stat in [
        "vorticity_flatness",
        "spectrum_error_max",
        "histogram_w1",
        "increment_w1_lag1",
        "increment_w1_lag4",
        "increment_w1_lag16",
    ] {
        for model in [
            "original",
            "scattering_spectra",
            "scattering_moments",
            "gaussian",
            "independent_draw",
        ] {
            assert!(
                e["fidelity"][stat][model].as_f64().unwrap().is_finite(),
                "{stat} {model}: {e}"
            );
        }
    }
    // The fidelity block pools one Gaussian draw per snapshot, each with that snapshot's
    // Fourier moduli: their mean band spectrum is the snapshots' mean, exactly. (One draw
    // alone is a single snapshot's spectrum, tens of percent off in some band.)
    assert!(
        num(&e["fidelity"]["spectrum_error_max"], "gaussian") < 1e-9,
        "{e}"
    );
    // Later snapshots of the flow are a different sample: their spectrum is not the
    // originals' (the sampling noise the column shows).
    assert!(
        num(&e["fidelity"]["spectrum_error_max"], "independent_draw") > 1e-6,
        "{e}"
    );
}

#[test]
fn multifractal_reports_scaling_exponents_and_the_maximum_entropy_fit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mf");
    let o = run(
        env!("CARGO_BIN_EXE_multifractal"),
        &out,
        &[
            "--n",
            "1024",
            "--realisations",
            "2",
            "--iters",
            "40",
            "--quick",
            "--maxent-iters",
            "60",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "mrw_flatness.png",
        "skewed-mrw_flatness.png",
        "fbm_flatness.png",
        "zeta.png",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let ex = experiments(&out);
    // mrw, skewed-mrw and fbm, each with its spectra synthesis.
    assert_eq!(ex.len(), 6);
    let ex: Vec<_> = ex
        .into_iter()
        .filter(|e| e.get("zeta_theory").is_some())
        .collect();
    assert_eq!(ex.len(), 3);
    for e in &ex {
        let fid = &e["fidelity"];
        for stat in [
            "increment_flatness_small",
            "increment_flatness_mid",
            "increment_flatness_large",
            "zeta_max_abs_error",
            "leverage",
        ] {
            for model in [
                "original",
                "scattering_spectra",
                "scattering_moments",
                "gaussian",
                "independent_draw",
            ] {
                assert!(
                    fid[stat][model].as_f64().unwrap().is_finite(),
                    "{stat} {model}: {e}"
                );
            }
        }
        let theory = e["zeta_theory"].as_array().unwrap();
        let orig = e["zeta_original"].as_array().unwrap();
        // ζ(2) of the generated originals is near its theoretical value (1.0 for the MRW,
        // 2H = 1.4 for the fBm).
        let (t2, o2) = (theory[1].as_f64().unwrap(), orig[1].as_f64().unwrap());
        assert!((t2 - o2).abs() < 0.15, "{e}");
    }
    assert!(num(&ex[0]["macrocanonical"], "moment_rel_error").is_finite());
    for f in ["walks.png", "zeta.png", "loss.png", "mrw_synthesis.npy"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
}

#[test]
fn descent_is_uniform_on_the_sphere_but_not_on_the_simplex() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ss");
    let o = run(
        env!("CARGO_BIN_EXE_sphere-simplex"),
        &out,
        &["--n", "16", "--draws", "200"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ex = experiments(&out);
    let (sphere, simplex) = (&ex[0], &ex[1]);
    let crit = num(sphere, "ks_critical_5pct");
    // From white noise, descent on mean(x²) only rescales: exactly uniform on the sphere.
    assert!(num(sphere, "ks_microcanonical") < 1.5 * crit, "{sphere}");
    // On the l1 sphere it is not: subgradient steps bias |x₁|.
    assert!(num(simplex, "ks_microcanonical") > crit, "{simplex}");
    assert!(num(simplex, "ks_exact_uniform") < 1.5 * crit, "{simplex}");
    assert!(out.join("sphere_cdf.png").exists() && out.join("simplex_cdf.png").exists());
    let bad = run(
        env!("CARGO_BIN_EXE_sphere-simplex"),
        &dir.path().join("bad"),
        &["--n", "2"],
    );
    assert!(!bad.status.success());
    assert!(!dir.path().join("bad").join("metrics.json").exists());
}

#[test]
fn a_seeded_synthesis_writes_the_same_bytes_with_one_and_two_threads() {
    // Every file but timings.json (wall times) must be byte-identical.
    let dir = tempfile::tempdir().unwrap();
    let gravel = texture("gravel");
    let args = [
        "--input", &gravel, "--size", "32", "-J", "2", "-L", "4", "--iters", "40", "--seed", "3",
    ];
    let mut runs = Vec::new();
    for (k, threads) in ["1", "2", "2"].iter().enumerate() {
        let out = dir.path().join(format!("run{k}"));
        let o = Command::new(env!("CARGO_BIN_EXE_textures"))
            .args(["--out", out.to_str().unwrap(), "--no-progress"])
            .args(args)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        runs.push(out);
    }
    let mut names: Vec<_> = std::fs::read_dir(&runs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert!(
        names.contains(&"metrics.json".to_string()) && names.contains(&"timings.json".to_string())
    );
    for name in names.iter().filter(|n| *n != "timings.json") {
        let first = std::fs::read(runs[0].join(name)).unwrap();
        for other in &runs[1..] {
            assert!(
                std::fs::read(other.join(name)).unwrap() == first,
                "{name} differs between runs"
            );
        }
    }
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("timings.json")).unwrap())
            .unwrap();
    assert!(t["experiments"][0]["seconds"].as_f64().unwrap() > 0.0);
    assert!(experiments(&runs[0])[0].get("seconds").is_none());
}

#[test]
fn fields_too_large_for_memory_are_refused_before_anything_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    for (bin, args) in [
        (env!("CARGO_BIN_EXE_cox"), vec!["--size", "100000"]),
        (
            env!("CARGO_BIN_EXE_ising"),
            vec!["--size", "65536", "--block", "4"],
        ),
        (
            env!("CARGO_BIN_EXE_multifractal"),
            vec!["--n", "1099511627776"],
        ),
        // Each synthesis is kept for the pooled statistics.
        (
            env!("CARGO_BIN_EXE_turbulence"),
            vec!["--syntheses", "100000000"],
        ),
        (
            env!("CARGO_BIN_EXE_multifractal"),
            vec!["--syntheses", "10000000000"],
        ),
    ] {
        let out = dir.path().join("o");
        let o = run(bin, &out, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{bin} {args:?}");
        assert!(
            err.contains("GB for the synthesis") && err.trim().lines().count() == 1,
            "{err}"
        );
        assert!(!out.join("metrics.json").exists());
    }
}

#[test]
fn multifractal_runs_at_the_shortest_length_it_accepts() {
    // n = 256 is shorter than the maximum-entropy windows (512): they used to be empty and
    // the run failed with "the target moments are all zero".
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mf");
    let o = run(
        env!("CARGO_BIN_EXE_multifractal"),
        &out,
        &["--quick", "--n", "256"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(experiments(&out)[0]["macrocanonical"]["n"] == 256);
}

#[test]
fn the_spectra_reduction_flag_sets_the_moment_count_and_refuses_unknown_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for r in ["none", "isotropic", "both"] {
        let args = [
            "--iters",
            "20",
            "--realisations",
            "1",
            "--spectra-reduction",
            r,
            "--marginal",
            "none",
        ];
        let ex = run_small(env!("CARGO_BIN_EXE_cox"), &dir.path().join(r), &args);
        assert_eq!(ex[1]["name"], "cox spectra");
        counts.push(num(&ex[1], "moments"));
    }
    // Rotation averages cut the count several times; dilation averages cut it further.
    assert!(
        counts[1] * 3.0 < counts[0] && counts[2] < counts[1],
        "{counts:?}"
    );
    let out = dir.path().join("bad");
    let o = run(
        env!("CARGO_BIN_EXE_cox"),
        &out,
        &["--spectra-reduction", "sideways"],
    );
    assert!(!o.status.success());
    assert!(!out.join("metrics.json").exists());
}

#[test]
fn the_moments_of_the_values_make_the_ising_synthesis_two_phase() {
    // Beside the scattering spectra (Ising's default), the first four moments of the values
    // pin the histogram to two modes; without them it is closer to the Gaussian's.
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for m in ["true", "false"] {
        let out = dir.path().join(m);
        let args = [
            "--iters",
            "100",
            "--realisations",
            "1",
            "--equilibration",
            "40",
            "--marginal",
            m,
        ];
        let sp = run_small(env!("CARGO_BIN_EXE_ising"), &out, &args)[1].clone();
        let top: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap())
                .unwrap();
        let b = top["fidelity"]["bimodality"]["scattering_spectra"]
            .as_f64()
            .unwrap();
        runs.push((num(&sp, "moments"), num(&sp, "hist_distance_scattering"), b));
    }
    let ((k1, w1, b1), (k0, w0, _)) = (runs[0], runs[1]);
    assert_eq!(k1, k0 + 4.0, "{runs:?}");
    // Sarle's coefficient: above 5/9 is bimodal, 1 for two spikes.
    assert!(b1 > 0.85, "{runs:?}");
    assert!(w1 < 0.5 * w0, "{runs:?}");
    let o = run(
        env!("CARGO_BIN_EXE_ising"),
        &dir.path().join("bad"),
        &["--marginal", "maybe"],
    );
    assert!(!o.status.success());
}

#[test]
fn quantile_means_give_the_cox_synthesis_its_empty_pixels() {
    // The counts' atom at zero is a one-point statistic: the spectra alone smear it, the
    // quantile means beside them (Cox's default) set it.
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for m in ["none", "quantiles"] {
        let args = ["--iters", "200", "--realisations", "2", "--marginal", m];
        let ex = run_small(env!("CARGO_BIN_EXE_cox"), &dir.path().join(m), &args);
        let e = &ex[0]["fidelity"]["empty_fraction"];
        let (orig, sp) = (num(e, "original"), num(e, "scattering_spectra"));
        runs.push((orig, sp, num(&ex[1], "moments")));
    }
    let ((orig, none, k0), (_, quant, k1)) = (runs[0], runs[1]);
    let blocks = scattering_apps::synthesis::QUANTILE_BLOCKS as f64;
    assert_eq!(k1, k0 + blocks, "{runs:?}");
    assert!((quant - orig).abs() < 0.1 * orig, "{runs:?}");
    assert!((quant - orig).abs() < (none - orig).abs(), "{runs:?}");
}

/// `multifractal` on two realisations of `n` samples, `iters` iterations and a one-step
/// maximum-entropy fit, with `extra` flags; its experiments.
fn small_multifractal(out: &Path, n: &str, iters: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "--n",
        n,
        "--realisations",
        "2",
        "--iters",
        iters,
        "--quick",
        "--maxent-iters",
        "1",
    ];
    args.extend_from_slice(extra);
    let o = run(env!("CARGO_BIN_EXE_multifractal"), out, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    experiments(out)
}

#[test]
fn the_moments_of_the_increments_set_the_small_lag_flatness_of_the_mrw() {
    // The spectra alone leave an MRW's increments close to Gaussian at lag 1; with their
    // first four moments beside them (the default) the flatness is the originals'.
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for m in ["none", "moments"] {
        let ex = small_multifractal(&dir.path().join(m), "2048", "300", &["--marginal", m]);
        let f = &ex[0]["fidelity"]["increment_flatness_small"];
        runs.push((num(f, "original"), num(f, "scattering_spectra")));
    }
    let ((orig, none), (_, moments)) = (runs[0], runs[1]);
    assert!(orig > 4.0, "{runs:?}");
    assert!((moments - orig).abs() < 0.05 * orig, "{runs:?}");
    assert!(
        (moments - orig).abs() < 0.5 * (none - orig).abs(),
        "{runs:?}"
    );
}

#[test]
fn the_flatness_flag_adds_one_moment_per_wavelet_to_the_multifractal_spectra() {
    // n = 1024: the spectra have J = log2 n - 3 = 7 octaves.
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for f in ["true", "false"] {
        let ex = small_multifractal(&dir.path().join(f), "1024", "5", &["--flatness", f]);
        counts.push(num(&ex[1], "moments"));
    }
    let wavelets = scattering_models::ScatteringSpectra1d::new(1024, 7)
        .unwrap()
        .labels()
        .iter()
        .filter(|l| l.kind == scattering_models::SpectraKind::Sparsity)
        .count();
    assert!(wavelets >= 7);
    assert_eq!(counts[0], counts[1] + wavelets as f64, "{counts:?}");
    let o = run(
        env!("CARGO_BIN_EXE_multifractal"),
        &dir.path().join("bad"),
        &["--quick", "--flatness", "maybe"],
    );
    assert!(!o.status.success());
}
