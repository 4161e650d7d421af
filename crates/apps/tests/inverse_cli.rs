//! The inverse-problem experiment binaries, end to end on their `--quick` settings.

use std::process::Command;

#[test]
fn tomography_quick_reports_every_method_in_both_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tomo");
    let o = Command::new(env!("CARGO_BIN_EXE_tomography"))
        .args(["--quick", "--no-progress", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let settings = m["settings"].as_array().unwrap();
    assert_eq!(settings.len(), 2);
    for s in settings {
        let names: Vec<&str> = s["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["fbp", "tikhonov", "tv", "l1", "scattering"]);
        for r in s["methods"].as_array().unwrap() {
            let (p, q) = (r["psnr"].as_f64().unwrap(), r["ssim"].as_f64().unwrap());
            assert!(p.is_finite() && p > 5.0 && (-1.0..=1.0).contains(&q), "{r}");
        }
        // Regularisation beats FBP's streaks somewhere: TV at least matches it.
        let psnr = |n: &str| {
            s["methods"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == n)
                .and_then(|r| r["psnr"].as_f64())
                .unwrap()
        };
        assert!(psnr("tv") > psnr("fbp"), "{s}");
    }
    for f in ["table.md", "tomography.png", "timings.json"] {
        assert!(out.join(f).exists(), "{f}");
    }

    // Bad settings: one line, nothing written.
    let bad = dir.path().join("bad");
    let o = Command::new(env!("CARGO_BIN_EXE_tomography"))
        .args([
            "--quick",
            "--limited",
            "400",
            "--out",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.trim().lines().count() == 1 && err.contains("--limited"),
        "{err}"
    );
    assert!(!bad.exists());
    for (methods, needle) in [("scattering", "needs tv"), ("tv,wiener", "wiener")] {
        let o = Command::new(env!("CARGO_BIN_EXE_tomography"))
            .args([
                "--quick",
                "--methods",
                methods,
                "--out",
                bad.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.trim().lines().count() == 1 && err.contains(needle),
            "{err}"
        );
        assert!(!bad.exists());
    }
}

fn metrics(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn inverse_scattering_quick_recovers_shapes_and_degrades_with_invariance() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("inv");
    let o = Command::new(env!("CARGO_BIN_EXE_inverse-scattering"))
        .args(["--quick", "--no-progress", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = metrics(&out);
    let shapes = m["shapes"].as_array().unwrap();
    let names: Vec<&str> = shapes.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dirac", "edge", "sinusoid"]);
    // The edge and the sinusoid come back up to a translation (the Dirac is reported as it
    // goes: descent from noise finds a blob of the same scattering).
    for r in &shapes[1..] {
        let e = r["error_after_shift"].as_f64().unwrap();
        assert!(e < 0.2, "{r}");
    }
    let images = m["images"].as_array().unwrap();
    assert_eq!(images.len(), 3 * 3 * 2);
    let psnr = |name: &str, j: u64, order: u64| {
        images
            .iter()
            .find(|r| r["image"] == name && r["j"] == j && r["order"] == order)
            .and_then(|r| r["psnr"].as_f64())
            .unwrap()
    };
    for r in images {
        let (p, s) = (r["psnr"].as_f64().unwrap(), r["ssim"].as_f64().unwrap());
        assert!(p.is_finite() && p > 8.0 && (-1.0..=1.0).contains(&s), "{r}");
    }
    // Fewer, more invariant coefficients lose the camera's geometry.
    assert!(psnr("camera", 3, 2) > psnr("camera", 5, 2) + 3.0);
    for r in m["audio"].as_array().unwrap() {
        let e = r["spectrogram_error"].as_f64().unwrap();
        assert!(e.is_finite() && e < 0.6, "{r}");
    }
    for f in [
        "table.md",
        "images.png",
        "images-order1.png",
        "shapes.png",
        "loss.png",
        "timings.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }

    let bad = dir.path().join("bad");
    let o = Command::new(env!("CARGO_BIN_EXE_inverse-scattering"))
        .args([
            "--quick",
            "--input",
            "no/such/image.png",
            "--out",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.trim().lines().count() == 1 && err.contains("image.png"),
        "{err}"
    );
    assert!(!bad.join("metrics.json").exists());
}

#[test]
fn super_resolution_quick_reports_every_method() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train"), dir.path().join("test"));
    std::fs::create_dir_all(&train).unwrap();
    std::fs::create_dir_all(&test).unwrap();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    for n in ["brick", "grass"] {
        std::fs::copy(
            data.join(format!("textures/{n}.png")),
            train.join(format!("{n}.png")),
        )
        .unwrap();
    }
    std::fs::copy(data.join("images/camera.png"), test.join("camera.png")).unwrap();
    let out = dir.path().join("sr");
    let o = Command::new(env!("CARGO_BIN_EXE_super-resolution"))
        .args(["--quick", "--no-progress", "--factor", "2"])
        .args(["--train-images", train.to_str().unwrap()])
        .args(["--test-images", test.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = metrics(&out);
    assert_eq!(m["factor"], 2);
    let rows = m["methods"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "bicubic",
            "best_linear",
            "scattering_linear",
            "scattering_regularised",
            "tv",
            "l1"
        ]
    );
    for r in rows {
        for k in ["psnr", "ssim", "gradient_w1", "seconds"] {
            assert!(r[k].as_f64().unwrap().is_finite(), "{r}");
        }
    }
    let get = |n: &str, k: &str| {
        rows.iter()
            .find(|r| r["name"] == n)
            .and_then(|r| r[k].as_f64())
            .unwrap()
    };
    // The learned linear estimator beats interpolation, even learned on other images.
    assert!(get("best_linear", "psnr") > get("bicubic", "psnr"), "{m}");
    assert_eq!(m["images"].as_array().unwrap().len(), 6);
    for f in ["table.md", "crops.png", "timings.json"] {
        assert!(out.join(f).exists(), "{f}");
    }

    // A crop the scattering scales cannot tile, and a folder without images: one line each.
    let (train_s, test_s, root_s) = (
        train.to_str().unwrap(),
        test.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    );
    for (args, needle) in [
        (["--crop", "50", "--test-images", test_s], "--crop"),
        (["--crop", "64", "--test-images", root_s], "no PNG"),
    ] {
        let bad = dir.path().join("bad");
        let o = Command::new(env!("CARGO_BIN_EXE_super-resolution"))
            .args(["--quick", "--train-images", train_s])
            .args(args)
            .args(["--out", bad.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.trim().lines().count() == 1 && err.contains(needle),
            "{err}"
        );
        assert!(!bad.join("metrics.json").exists());
    }
}
