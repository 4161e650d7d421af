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
}
