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
        "joint_scale.png",
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

/// Runs `audio-classify` on `data` into `out` with windows of 4096 samples, J = 7, and
/// the `extra` arguments.
fn classify(data: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_audio-classify"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--no-progress", "--length", "4096", "-J", "7"])
        .args(extra)
        .output()
        .unwrap()
}

/// The metrics.json a run wrote.
fn metrics(out: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

/// The feature dimension of `features` in a run's metrics.
fn m_dim(out: &std::path::Path, features: &str) -> u64 {
    metrics(out)["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["features"] == features)
        .and_then(|r| r["dimension"].as_u64())
        .unwrap()
}

/// Writes a 16-bit mono WAV at 8 kHz.
fn write_wav(path: &std::path::Path, x: &[f64]) {
    write_wav_at(path, x, 8000);
}

#[test]
fn audio_classify_tells_rising_from_falling_sweeps_across_speakers() {
    // Three "speakers" (base pitches) say "up" (a rising sweep) or "down" (falling, over
    // the same octave) six times each, at different lengths. Leave-one-speaker-out: joint
    // scattering, whose spins tell the direction, gets most of them right (86% when
    // written), while features of the averaged spectrum (MFCC, time scattering) stay near
    // chance: both directions cover the same frequencies.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (s, base) in [("a", 300.0), ("b", 420.0), ("c", 560.0)] {
        for n in 0..6 {
            let len = 2400 + 300 * n;
            for (label, dir_sign) in [("up", 1.0), ("down", -1.0)] {
                let x: Vec<f64> = (0..len)
                    .map(|t| {
                        let tt = t as f64 / 8000.0;
                        let dur = len as f64 / 8000.0;
                        // One octave over the clip between `base` and `2 base`, up or
                        // down: the same frequencies either way, only the order differs.
                        let v = dir_sign / dur;
                        let f0 = if dir_sign > 0.0 { base } else { 2.0 * base };
                        let phase = 2.0 * std::f64::consts::PI * f0 * (2f64.powf(v * tt) - 1.0)
                            / (v * std::f64::consts::LN_2);
                        let ramp = (t.min(len - 1 - t) as f64 / 80.0).min(1.0);
                        0.5 * ramp * phase.sin()
                    })
                    .collect();
                write_wav(&data.join(format!("{label}_{s}_{n}.wav")), &x);
            }
        }
    }
    let out = dir.path().join("out");
    // Whole-clip averages: the direction of a sweep is in the joint spins only.
    let o = classify(&data, &out, &["--segments", "1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = metrics(&out);
    assert_eq!(m["task"], "digits");
    let rows = m["results"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    let acc = |f: &str, c: &str| {
        rows.iter()
            .find(|r| r["features"] == f && r["classifier"] == c)
            .and_then(|r| r["accuracy"].as_f64())
            .unwrap()
    };
    let joint = acc("joint", "logistic");
    assert!(joint >= 0.75, "{rows:?}");
    assert!(joint >= acc("mfcc", "logistic") + 0.2, "{rows:?}");
    assert!(joint >= acc("time", "logistic") + 0.2, "{rows:?}");
    assert_eq!(rows[0]["per_group"].as_object().unwrap().len(), 3);
    assert!(out.join("confusion.png").exists() && out.join("table.md").exists());
    // Segments: one feature per channel and segment.
    let out_f = dir.path().join("out_frames");
    let o = classify(&data, &out_f, &["--segments", "2", "--features", "time"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = metrics(&out_f);
    let rows = m["results"].as_array().unwrap();
    assert_eq!(m["segments"], 2);
    let global_dim = m_dim(&out, "time");
    assert_eq!(
        rows[0]["dimension"].as_u64().unwrap(),
        2 * global_dim,
        "{rows:?}"
    );
    // A test folder with a label the training data lacks is refused in one line.
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    write_wav(&bad.join("sideways_a_0.wav"), &[0.1; 3000]);
    let o = classify(
        &data,
        &dir.path().join("out2"),
        &["--test-data", bad.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1);
    assert!(!dir.path().join("out2").exists());
}

/// Writes a 16-bit mono WAV at `rate` Hz.
/// A deterministic noise sample in [-1, 1).
fn noise(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// Two tones, `a` Hz then `b` Hz (each half of a clip whose length varies), plus noise.
fn two_notes(len: usize, a: f64, b: f64, state: &mut u64) -> Vec<f64> {
    (0..len)
        .map(|t| {
            let f = if t < len / 2 { a } else { b };
            let ramp = (t.min(len - 1 - t) as f64 / 80.0).min(1.0);
            ramp * (2.0 * std::f64::consts::PI * f * t as f64 / 8000.0).sin() + 0.05 * noise(state)
        })
        .collect()
}

#[test]
fn audio_classify_segments_keep_the_order_of_sounds() {
    // "ab" and "ba" have the same average spectrum: only the order tells them apart.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut state = 7;
    for s in ["a", "b", "c"] {
        for n in 0..8 {
            let len = 2000 + 150 * n;
            let x = two_notes(len, 500.0, 1300.0, &mut state);
            write_wav(&data.join(format!("ab_{s}_{n}.wav")), &x);
            let x = two_notes(len, 1300.0, 500.0, &mut state);
            write_wav(&data.join(format!("ba_{s}_{n}.wav")), &x);
        }
    }
    let acc = |out: &std::path::Path, f: &str| {
        metrics(out)["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["features"] == f)
            .filter_map(|r| r["accuracy"].as_f64())
            .fold(0.0, f64::max)
    };
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    for (out, k) in [(&one, "1"), (&two, "2")] {
        let o = classify(&data, out, &["--features", "mfcc,time", "--segments", k]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Global time scattering averages the order away (MFCC's deltas keep the direction
    // of the change, so they are not tested here); two segments restore it in both.
    assert!(acc(&one, "time") <= 0.8, "{}", metrics(&one));
    for f in ["mfcc", "time"] {
        assert!(acc(&two, f) >= 0.95, "{f}: {}", metrics(&two));
    }
}

#[test]
fn audio_classify_group_normalisation_removes_a_speaker_s_colouring() {
    // The class is which of two tones is louder; speaker "b" boosts the high tone 4x,
    // enough to make its every clip look like "high" to a model trained on "a" alone.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut state = 11;
    for (s, boost) in [("a", 1.0), ("b", 4.0)] {
        for n in 0..10 {
            let len = 2400 + 100 * n;
            for (label, lo, hi) in [("low", 1.0, 0.5), ("high", 0.5, 1.0)] {
                let x: Vec<f64> = (0..len)
                    .map(|t| {
                        let w = 2.0 * std::f64::consts::PI * t as f64 / 8000.0;
                        lo * (400.0 * w).sin()
                            + boost * hi * (1200.0 * w).sin()
                            + 0.05 * noise(&mut state)
                    })
                    .collect();
                write_wav(&data.join(format!("{label}_{s}_{n}.wav")), &x);
            }
        }
    }
    let (train, group) = (dir.path().join("train"), dir.path().join("group"));
    for (out, how) in [(&train, "train"), (&group, "group")] {
        let o = classify(&data, out, &["--features", "time", "--normalise", how]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(metrics(out)["normalise"], how);
    }
    let best = |out: &std::path::Path| {
        metrics(out)["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["accuracy"].as_f64())
            .fold(0.0, f64::max)
    };
    // Trained on one speaker's colouring, the other's clips all fall on one side (chance);
    // standardised per speaker, they are told apart.
    assert!(best(&train) <= 0.75, "{}", metrics(&train));
    assert!(best(&group) >= 0.85, "{}", metrics(&group));
}

fn write_wav_at(path: &std::path::Path, x: &[f64], rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for v in x {
        w.write_sample((v * 20000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn audio_classify_instruments_holds_out_whole_octaves() {
    // Two "instruments" at every semitone of two octaves: a plucked tone (all harmonics,
    // fast decay) and a bowed one (odd harmonics, slow attack, sustained). Named
    // `{instrument}_o{octave}_{midi}.wav` as scripts/fetch-data writes them: the classifier
    // is trained on one octave and tested on the other, pitches it never heard.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("notes");
    std::fs::create_dir_all(&data).unwrap();
    let sr = 8000.0;
    for midi in 48..72 {
        let f0 = 440.0 * 2f64.powf((midi as f64 - 69.0) / 12.0);
        for (name, odd_only, attack, decay) in
            [("plucked", false, 0.002, 8.0), ("bowed", true, 0.15, 0.5)]
        {
            let x: Vec<f64> = (0..3000)
                .map(|t| {
                    let tt = t as f64 / sr;
                    let env = (tt / attack).min(1.0) * (-decay * tt).exp();
                    let v: f64 = (1..8)
                        .filter(|h| !odd_only || h % 2 == 1)
                        .filter(|&h| h as f64 * f0 < 0.45 * sr)
                        .map(|h| (2.0 * std::f64::consts::PI * h as f64 * f0 * tt).sin() / h as f64)
                        .sum();
                    0.4 * env * v
                })
                .collect();
            let octave = midi / 12 - 1;
            write_wav_at(&data.join(format!("{name}_o{octave}_{midi}.wav")), &x, 8000);
        }
    }
    let out = dir.path().join("out");
    let o = classify(
        &data,
        &out,
        &[
            "--task",
            "instruments",
            "--features",
            "mfcc,time,joint",
            "--segments",
            "1",
            "--normalise",
            "train",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = metrics(&out);
    assert_eq!(m["task"], "instruments");
    assert_eq!(m["group"], "octave");
    assert_eq!(m["protocol"], "leave one octave out (2 octaves)");
    let rows = m["results"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for r in rows {
        assert_eq!(r["per_group"].as_object().unwrap().len(), 2, "{r}");
    }
    // Joint scattering averaged over the whole log-frequency axis (F global) is invariant
    // to transposition, so it carries the timbre to the unheard octave; time scattering's
    // spectrum moves with the pitch (about 56% when written).
    let acc = |f: &str| {
        rows.iter()
            .find(|r| r["features"] == f && r["classifier"] == "logistic")
            .and_then(|r| r["accuracy"].as_f64())
            .unwrap()
    };
    assert!(acc("joint") >= 0.9, "{rows:?}");
    assert!(acc("joint") >= acc("time") + 0.2, "{rows:?}");
    // Local log-frequency averaging keeps a row per octave band: more joint features than
    // F global; joint-s1 adds time scattering's first order to the joint second order.
    let out_f = dir.path().join("out_f8");
    let o = classify(
        &data,
        &out_f,
        &[
            "--task",
            "instruments",
            "--features",
            "joint,joint-s1",
            "-F",
            "8",
            "--segments",
            "1",
            "--normalise",
            "train",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m8 = metrics(&out_f);
    assert_eq!(m8["f"], "8");
    assert!(m_dim(&out_f, "joint") > m_dim(&out, "joint"), "{m8}");
    assert!(m_dim(&out_f, "joint-s1") > m_dim(&out, "time") / 4, "{m8}");
    for (args, needle) in [
        (vec!["--task", "instruments", "-F", "wide"], "-F wide"),
        (
            vec!["--task", "instruments", "--segments", "0"],
            "--segments 0",
        ),
    ] {
        let bad_out = dir.path().join("out_bad");
        let o = classify(&data, &bad_out, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(needle), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!bad_out.join("metrics.json").exists());
    }
    // One group only: the protocol cannot hold any out.
    let one = dir.path().join("one");
    std::fs::create_dir_all(&one).unwrap();
    for f in std::fs::read_dir(&data).unwrap().flatten() {
        let name = f.file_name().into_string().unwrap();
        if name.contains("_o3_") {
            std::fs::copy(f.path(), one.join(&name)).unwrap();
        }
    }
    let o = classify(&one, &dir.path().join("out1"), &["--task", "instruments"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("two octaves"), "{err}");
}

#[test]
fn audio_textures_quick_writes_sounds_figures_and_statistics() {
    // Two textures at 8 kHz: noise switched on for 1/8 of every 256 samples in all bands
    // at once (sparse envelopes, like applause or crackling), and plain noise. The
    // scattering syntheses keep the bursts, the Gaussian model (same spectrum, random
    // phases) cannot: its envelope moments are further from the gated original's.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("textures");
    std::fs::create_dir_all(&data).unwrap();
    let mut state = 12345u64;
    let mut noise = || {
        // A small LCG is enough for test noise; the sum of 4 uniforms is near Gaussian.
        (0..4)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .sum::<f64>()
    };
    let gated: Vec<f64> = (0..6000)
        .map(|t| if t % 256 < 32 { 0.5 } else { 0.02 } * noise())
        .collect();
    let plain: Vec<f64> = (0..6000).map(|_| 0.1 * noise()).collect();
    write_wav_at(&data.join("gated.wav"), &gated, 8000);
    write_wav_at(&data.join("plain.wav"), &plain, 8000);
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_audio-textures"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--no-progress", "--quick", "--length", "2048", "-J", "6"])
        .args(["--iters", "60", "--joint-iters", "4"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for t in ["gated", "plain"] {
        for f in ["original", "time", "joint", "gaussian"] {
            let wav = hound::WavReader::open(out.join(t).join(format!("{f}.wav"))).unwrap();
            assert_eq!(wav.spec().sample_rate, 8000);
            assert_eq!(wav.len(), 2048);
        }
        assert!(out.join(format!("{t}_cochleagrams.png")).exists());
        assert!(out.join(format!("{t}_correlations.png")).exists());
    }
    let m = metrics(&out);
    assert_eq!(m["summary"]["textures"], 2);
    let gated = m["textures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "gated")
        .unwrap();
    let d = |model: &str, stat: &str| gated["distances"][model][stat].as_f64().unwrap();
    assert!(
        d("time", "envelope_moments") < 0.8 * d("gaussian", "envelope_moments"),
        "{gated}"
    );
    assert!(
        gated["models"]["time"]["moment_rel_error"]
            .as_f64()
            .unwrap()
            < 0.1
    );
    // A recording shorter than the excerpt is refused in one line, and nothing is written.
    let o = Command::new(env!("CARGO_BIN_EXE_audio-textures"))
        .args(["--data", data.to_str().unwrap()])
        .args(["--out", dir.path().join("out2").to_str().unwrap()])
        .args(["--no-progress", "--length", "8192", "-J", "6"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("shorter than --length"), "{err}");
    assert!(!dir.path().join("out2").exists());
}
