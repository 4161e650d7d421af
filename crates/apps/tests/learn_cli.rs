//! End-to-end runs of the `mnist`, `quantum-chemistry` and `rotated-textures` binaries on
//! small data.

use scattering_apps::idx::write_idx;
use std::path::Path;
use std::process::Command;

/// Synthetic 28x28 "digits": class 0 is a vertical bar, class 1 a horizontal one, each at a
/// random place with noise. Scattering (translation invariant) must separate them.
fn write_bars(dir: &Path, prefix: &str, n: usize, seed: u64) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut rnd = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut img = vec![0u8; n * 28 * 28];
    let mut lab = vec![0u8; n];
    for k in 0..n {
        let class = k % 2;
        lab[k] = class as u8;
        let at = 4 + rnd() % 20;
        for i in 0..28 {
            for j in 0..28 {
                let on = if class == 0 {
                    j == at || j == at + 1
                } else {
                    i == at || i == at + 1
                };
                let noise = (rnd() % 40) as u8;
                img[k * 784 + i * 28 + j] =
                    if on && (4..24).contains(&(if class == 0 { i } else { j })) {
                        215 + noise
                    } else {
                        noise
                    };
            }
        }
    }
    write_idx(&dir.join(format!("{prefix}-images")), &[n, 28, 28], &img).unwrap();
    write_idx(&dir.join(format!("{prefix}-labels")), &[n], &lab).unwrap();
}

/// `mnist` reading the four IDX files `write_bars` left in `dir`.
fn mnist_on(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mnist"));
    for f in ["train-images", "train-labels", "test-images", "test-labels"] {
        c.arg(format!("--{f}")).arg(dir.join(f));
    }
    c
}

#[test]
fn mnist_runs_caches_features_and_rejects_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    write_bars(dir.path(), "train", 120, 1);
    write_bars(dir.path(), "test", 60, 2);
    let out = dir.path().join("out");
    let cache = dir.path().join("cache");
    let run = |threads: &str| {
        mnist_on(dir.path())
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "--out",
                out.to_str().unwrap(),
                "--cache",
                cache.to_str().unwrap(),
            ])
            .args(["--train-sizes", "60,120", "-J", "2", "-L", "4"])
            .output()
            .unwrap()
    };
    let first = run("2");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let rows = m["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3 * 2 * 2);
    for r in rows {
        let e = r["test_error"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&e));
        if r["features"] == "scattering2" && r["train_size"] == 120 {
            assert!(e < 0.1, "scattering should separate bars: {r}");
        }
    }
    assert!(out.join("mnist_curve.png").exists() && out.join("table.md").exists());
    let files = ["metrics.json", "table.md", "mnist_curve.png"];
    let bytes = |f: &str| std::fs::read(out.join(f)).unwrap();
    let before: Vec<Vec<u8>> = files.iter().map(|f| bytes(f)).collect();
    let timings = |cached: bool| {
        let t: serde_json::Value = serde_json::from_slice(&bytes("timings.json")).unwrap();
        assert_eq!(t["features_cached"], cached);
        assert!(t["feature_seconds"].as_f64().unwrap() >= 0.0);
        assert_eq!(t["fits"].as_array().unwrap().len(), rows.len());
    };
    timings(false);
    // Cached features on one thread: every file but the wall times is the same to the byte.
    let second = run("1");
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("from the cache"));
    timings(true);
    for (f, b) in files.iter().zip(&before) {
        assert!(&bytes(f) == b, "{f} changed between runs");
    }

    // The Gaussian kernel on the oversampled grid: four times the features, still separating.
    let dense = dir.path().join("dense");
    let o = mnist_on(dir.path())
        .args([
            "--out",
            dense.to_str().unwrap(),
            "--no-cache",
            "--oversample",
        ])
        .args([
            "--features",
            "scattering2",
            "--classifiers",
            "gaussian_nystrom",
        ])
        .args([
            "--landmarks",
            "60",
            "--train-sizes",
            "120",
            "-J",
            "2",
            "-L",
            "4",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dense.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(d["scattering"]["oversample"], true);
    assert_eq!(
        d["scattering"]["scattering2_features"].as_u64().unwrap(),
        4 * m["scattering"]["scattering2_features"].as_u64().unwrap()
    );
    let row = &d["results"][0];
    assert_eq!(row["classifier"], "gaussian_nystrom");
    assert!(row["test_error"].as_f64().unwrap() < 0.1, "{row}");

    // A run that would not fit in memory is refused before it starts, in one line.
    let o = mnist_on(dir.path())
        .env("SCATTERING_MEMORY_LIMIT_GB", "0.0001")
        .args([
            "--out",
            dense.join("refused").to_str().unwrap(),
            "--no-cache",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("mnist: ") && last.contains("is available"),
        "{err}"
    );
    assert!(!dense.join("refused").exists());

    let bad_out = dir.path().join("bad");
    let bad = Command::new(env!("CARGO_BIN_EXE_mnist"))
        .args([
            "--train-images",
            "/nonexistent/x",
            "--out",
            bad_out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!bad_out.exists());
}

#[test]
fn quantum_chemistry_beats_the_mean_and_reports_both_feature_sets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/molecules/qm7_sample.jsonl");
    let run = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_quantum-chemistry"))
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "--input",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--no-cache",
            ])
            .args([
                "--grid",
                "32,32,32",
                "--spacing",
                "0.3",
                "-J",
                "1",
                "-L",
                "2",
                "--folds",
                "3",
            ])
            .output()
            .unwrap()
    };
    let o = run("2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let rows = m["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * 4);
    // Predicting the mean would score the mean absolute deviation of the targets.
    let e: Vec<f64> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["E"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let mean = e.iter().sum::<f64>() / e.len() as f64;
    let mad = e.iter().map(|v| (v - mean).abs()).sum::<f64>() / e.len() as f64;
    let scat = rows
        .iter()
        .find(|r| r["features"] == "scattering" && r["regressor"] == "ridge")
        .unwrap();
    let mae = scat["mae_kcal_mol"].as_f64().unwrap();
    assert!(
        mae < 0.25 * mad,
        "scattering ridge MAE {mae} vs mean-predictor {mad}"
    );
    assert!(out.join("predicted_vs_true.png").exists());
    // Recomputed on one thread (no cache): the same bytes but for the wall times.
    let files = ["metrics.json", "table.md", "predicted_vs_true.png"];
    let bytes = |f: &str| std::fs::read(out.join(f)).unwrap();
    let before: Vec<Vec<u8>> = files.iter().map(|f| bytes(f)).collect();
    let t: serde_json::Value = serde_json::from_slice(&bytes("timings.json")).unwrap();
    assert_eq!(t["fit_seconds"].as_array().unwrap().len(), rows.len());
    assert!(run("1").status.success());
    for (f, b) in files.iter().zip(&before) {
        assert!(&bytes(f) == b, "{f} changed between 2 threads and 1");
    }

    // A grid too small for the molecules is a one-line error and leaves nothing behind.
    let bad_out = dir.path().join("bad");
    let bad = Command::new(env!("CARGO_BIN_EXE_quantum-chemistry"))
        .args([
            "--input",
            input.to_str().unwrap(),
            "--out",
            bad_out.to_str().unwrap(),
            "--no-cache",
        ])
        .args(["--grid", "8,8,8", "-J", "1", "-L", "1", "--folds", "3"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("quantum-chemistry: ") && last.contains("grid"),
        "{err}"
    );
    assert!(!bad_out.exists());

    // A --cache that is a file stops the run before the features are computed (it used
    // to fail after, with "File exists (os error 17)").
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_quantum-chemistry"))
        .args(["--input", input.to_str().unwrap()])
        .args(["--out", bad_out.to_str().unwrap()])
        .args(["--cache", file.to_str().unwrap()])
        .args([
            "--grid",
            "32,32,32",
            "--spacing",
            "0.3",
            "-J",
            "1",
            "-L",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("a-file is a file"), "{err}");
    assert!(
        !err.contains("scattering features"),
        "computed first: {err}"
    );
    assert!(!bad_out.exists());
}

/// Rotated copies (bilinear, about the centre, central `size` square) of a committed
/// texture, written as `{class}_{angle}.png`.
fn write_rotated(dir: &Path, class: &str, angles: &[u32], size: u32) {
    let src = image::open(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../data/textures/{class}.png")),
    )
    .unwrap()
    .to_luma8();
    let (w, h) = src.dimensions();
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let px = |y: f64, x: f64| src.get_pixel(x as u32, y as u32)[0] as f64;
    for &a in angles {
        let (c, s) = ((a as f64).to_radians().cos(), (a as f64).to_radians().sin());
        let off = (size as f64 - 1.0) / 2.0;
        let img = image::GrayImage::from_fn(size, size, |j, i| {
            let (y, x) = (i as f64 - off, j as f64 - off);
            let (sy, sx) = (cy + c * y - s * x, cx + s * y + c * x);
            let (y0, x0) = (sy.floor(), sx.floor());
            let (fy, fx) = (sy - y0, sx - x0);
            let v = (1.0 - fy) * ((1.0 - fx) * px(y0, x0) + fx * px(y0, x0 + 1.0))
                + fy * ((1.0 - fx) * px(y0 + 1.0, x0) + fx * px(y0 + 1.0, x0 + 1.0));
            image::Luma([v.round() as u8])
        });
        img.save(dir.join(format!("{class}_{a:03}.png"))).unwrap();
    }
}

#[test]
fn rotated_textures_quick_run_on_rotated_copies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for class in ["brick", "grass", "gravel"] {
        write_rotated(&data, class, &[0, 30, 60], 160);
    }
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_rotated-textures"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--quick", "--patch", "64", "-L", "4"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["classes"].as_array().unwrap().len(), 3);
    assert_eq!(m["angles"], serde_json::json!([0, 30, 60]));
    let protocols = m["protocols"].as_array().unwrap();
    assert_eq!(protocols[0]["name"], "train_one_angle");
    assert_eq!(protocols[1]["name"], "random_half");
    let err = |p: usize, f: &str, c: &str| {
        protocols[p]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["features"] == f && r["classifier"] == c)
            .and_then(|r| r["error"].as_f64())
            .unwrap()
    };
    for p in 0..2 {
        for f in ["translation", "rigid_motion"] {
            for c in ["affine", "logistic"] {
                assert!((0.0..=1.0).contains(&err(p, f, c)));
            }
        }
    }
    // Three textures this different are told apart from one training angle.
    assert!(err(0, "rigid_motion", "affine") < 0.2);
    for f in [
        "patches.png",
        "error_by_angle.png",
        "confusion_rigid_motion.png",
        "table.md",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // A folder without the naming is refused with a one-line cause, nothing written.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out2 = dir.path().join("out2");
    let run = Command::new(env!("CARGO_BIN_EXE_rotated-textures"))
        .args([
            "--data",
            empty.to_str().unwrap(),
            "--out",
            out2.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let msg = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success() && msg.contains("at least 2"), "{msg}");
    assert!(!out2.join("metrics.json").exists());
}

/// A tar of 32 x 32 PNGs `{class}/{n}.png`: `flat` is a noisy uniform colour, `rows` and
/// `cols` are stripes of random phase (told apart by orientation, not by colour).
fn write_image_tar(path: &Path, per_class: usize, seed: u64) {
    write_pattern_tar(
        path,
        &["cols", "flat", "rows"],
        per_class,
        seed,
        |class, x, y, phase| match class {
            "rows" => (y + phase) % 6 < 3,
            "cols" => (x + phase) % 6 < 3,
            _ => false,
        },
    );
}

/// A tar of noisy 32 x 32 PNGs, `per_class` of each class, bright where `on(class, x, y,
/// phase)` (a random phase in 0..6 per image).
fn write_pattern_tar(
    path: &Path,
    classes: &[&str],
    per_class: usize,
    seed: u64,
    on: impl Fn(&str, usize, usize, usize) -> bool,
) {
    let mut state = seed.wrapping_add(1);
    let mut rnd = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for &class in classes {
        for n in 0..per_class {
            let phase = rnd() % 6;
            let tint = (rnd() % 80) as u8;
            let mut noise = Vec::new();
            for _ in 0..32 * 32 {
                noise.push((rnd() % 40) as u8);
            }
            let img = image::RgbImage::from_fn(32, 32, |x, y| {
                let bright = on(class, x as usize, y as usize, phase);
                let v = if bright { 180 } else { 60 } + noise[(y * 32 + x) as usize];
                image::Rgb([v, v.saturating_sub(tint), v / 2 + tint])
            });
            let mut bytes = std::io::Cursor::new(Vec::new());
            img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
            let data = bytes.into_inner();
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, format!("{class}/{n:04}.png"), data.as_slice())
                .unwrap();
        }
    }
    b.finish().unwrap();
}

#[test]
fn cifar10_quick_run_on_a_synthetic_archive() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.tar");
    let test = dir.path().join("test.tar");
    write_image_tar(&train, 60, 1);
    write_image_tar(&test, 10, 2);
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_cifar10"))
        .args(["--train", train.to_str().unwrap()])
        .args(["--test", test.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args(["--quick", "--tune", "30", "--landmarks", "40", "--no-cache"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["classes"], serde_json::json!(["cols", "flat", "rows"]));
    assert_eq!(m["test_size"], 30);
    let results = m["results"].as_array().unwrap();
    // 150 training images: the curve is 9, 37 and 150.
    let top = results
        .iter()
        .map(|r| r["train_size"].as_u64().unwrap())
        .max();
    assert_eq!(top, Some(150));
    let dim = |m: &serde_json::Value, f: &str| m["features"][f].as_u64().unwrap();
    let (dim_t, dim_r) = (dim(&m, "translation"), dim(&m, "rigid_motion"));
    for f in ["translation", "rigid_motion"] {
        for c in ["logistic", "gaussian_nystrom"] {
            let r = results
                .iter()
                .find(|r| r["features"] == f && r["classifier"] == c && r["train_size"] == 150)
                .unwrap_or_else(|| panic!("{f}/{c} missing"));
            let acc = r["accuracy"].as_f64().unwrap();
            // Stripes against flat and rows against columns: scattering separates them.
            assert!(acc >= 0.9, "{f}/{c}: accuracy {acc}");
            assert!(r["seconds"].as_f64().unwrap() >= 0.0);
        }
    }
    for f in [
        "learning_curve.png",
        "confusion.png",
        "table.md",
        "timings.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // Held-out test split without --test, and errors as one line.
    let run = Command::new(env!("CARGO_BIN_EXE_cifar10"))
        .args(["--train", train.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args([
            "--quick",
            "--validation",
            "30",
            "--tune",
            "30",
            "--no-cache",
        ])
        .args([
            "--features",
            "combined",
            "--oversample",
            "--landmarks",
            "40",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["test_size"], 30);
    assert_eq!(m["features"].as_object().unwrap().len(), 1);
    // Both sets side by side, rigid motion's order 0 (3 planes x 4 x 4) once, at four
    // offsets of the output grid.
    assert_eq!(dim(&m, "combined"), 4 * (dim_t + dim_r - 3 * 16));
    assert_eq!(m["oversample"], true);
    let r = m["results"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|r| r["train_size"].as_u64())
        .unwrap();
    assert_eq!(r["features"], "combined");
    assert!(r["accuracy"].as_f64().unwrap() >= 0.9, "combined: {r}");
    for (args, needle) in [
        (vec!["--features", "wavelets"], "--features"),
        (vec!["--validation", "170"], "leave no training images"),
        (vec!["--tune", "2"], "--tune"),
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_cifar10"))
            .args(["--train", train.to_str().unwrap()])
            .args(["--out", out.to_str().unwrap(), "--quick", "--no-cache"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success() && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let run = Command::new(env!("CARGO_BIN_EXE_cifar10"))
        .args(["--train", dir.path().join("none.tar").to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!run.status.success());
}

/// `--flip` trains on mirror images: classes that are each other's mirror image (bright on
/// the left, bright on the right) are told apart without it and not with it, while a task
/// that mirroring keeps (stripes) is still learned.
#[test]
fn cifar10_flip_trains_on_mirror_images() {
    let dir = tempfile::tempdir().unwrap();
    let sides = dir.path().join("sides.tar");
    write_pattern_tar(&sides, &["left", "right"], 80, 3, |class, x, _, phase| {
        let w = 10 + phase;
        if class == "left" {
            x < w
        } else {
            x >= 32 - w
        }
    });
    let stripes = dir.path().join("stripes.tar");
    write_image_tar(&stripes, 60, 4);
    let accuracy = |tar: &Path, flip: bool| {
        let out = dir.path().join(format!("out-{flip}"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cifar10"));
        cmd.args(["--train", tar.to_str().unwrap()])
            .args(["--out", out.to_str().unwrap()])
            .args([
                "--quick",
                "--validation",
                "40",
                "--tune",
                "20",
                "--no-cache",
            ])
            .args(["--features", "translation", "--landmarks", "40"])
            .args(["--classifiers", "gaussian_nystrom"]);
        if flip {
            cmd.arg("--flip");
        }
        let run = cmd.output().unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap())
                .unwrap();
        assert_eq!(m["flip"], flip);
        let results = m["results"].as_array().unwrap();
        assert!(results
            .iter()
            .all(|r| r["classifier"] == "gaussian_nystrom"));
        results.last().unwrap()["accuracy"].as_f64().unwrap()
    };
    let (plain, flipped) = (accuracy(&sides, false), accuracy(&sides, true));
    assert!(plain >= 0.95, "left/right without --flip: {plain}");
    assert!(flipped <= 0.7, "left/right with --flip: {flipped}");
    let stripes_flipped = accuracy(&stripes, true);
    assert!(
        stripes_flipped >= 0.9,
        "stripes with --flip: {stripes_flipped}"
    );
    for (args, needle) in [
        (vec!["--classifiers", "svm"], "--classifiers"),
        (vec!["--gamma-scales", "0"], "--gamma-scales"),
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_cifar10"))
            .args(["--train", sides.to_str().unwrap()])
            .args(["--out", dir.path().join("bad").to_str().unwrap()])
            .args(["--quick", "--no-cache"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success() && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
