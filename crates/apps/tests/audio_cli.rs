//! End-to-end run of the audio experiments at small sizes: every output is written and the
//! numbers the spiral and joint transforms promise hold on the generated sounds.

use serde_json::Value;
use std::process::Command;

#[test]
fn shepard_risset_quick_writes_sounds_figures_and_the_spiral_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sr");
    let o = Command::new(env!("CARGO_BIN_EXE_shepard-risset"))
        .args(["--out", out.to_str().unwrap(), "--no-progress", "--quick"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "glissando_up.wav",
        "glissando_down.wav",
        "shepard_scale.wav",
        "shepard_tone.wav",
        "spiral_rising.png",
        "spiral_falling.png",
        "joint_rising.png",
        "joint_falling.png",
        "table.md",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let wav = hound::WavReader::open(out.join("glissando_up.wav")).unwrap();
    assert_eq!(wav.spec().sample_rate, 2000);
    assert_eq!(wav.len(), 6000);
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    // Each direction on its own spin, in both transforms.
    for s in m["spin_energy"].as_array().unwrap() {
        let (su, sd) = (
            s["spiral_up"].as_f64().unwrap(),
            s["spiral_down"].as_f64().unwrap(),
        );
        let (ju, jd) = (
            s["joint_up"].as_f64().unwrap(),
            s["joint_down"].as_f64().unwrap(),
        );
        if s["direction"] == "rising" {
            assert!(su > 3.0 * sd && ju > 3.0 * jd, "{s}");
        } else {
            assert!(sd > 3.0 * su && jd > 3.0 * ju, "{s}");
        }
    }
    // The ridge: the peak rate within 0.75 octave of speed x chroma frequency, for the
    // chroma wavelets at or below 3 cycles per octave.
    for r in m["ridge"].as_array().unwrap() {
        if r["chroma_cycles_per_octave"].as_f64().unwrap() <= 3.0 {
            let (p, q) = (
                r["predicted_hz"].as_f64().unwrap(),
                r["peak_hz"].as_f64().unwrap(),
            );
            assert!((q / p).log2().abs() < 0.75, "{r}");
        }
    }
    let (a, b) = (
        m["octave_wavelet_share_shepard"].as_f64().unwrap(),
        m["octave_wavelet_share_stretched"].as_f64().unwrap(),
    );
    assert!(a < 0.25 * b, "shepard {a}, stretched {b}");
}

#[test]
fn shepard_risset_refuses_sounds_too_short_for_the_speed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sr");
    let o = Command::new(env!("CARGO_BIN_EXE_shepard-risset"))
        .args([
            "--out",
            out.to_str().unwrap(),
            "--no-progress",
            "--seconds",
            "0.2",
            "--speed",
            "0.1",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}
