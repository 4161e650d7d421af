//! `scatter time` on long signals: read, transformed and written block by block, with the
//! whole-signal transform's output.

mod common;

use common::scatter;

use ndarray::{Array2, Array3};
use ndarray_npy::{read_npy, write_npy};
use scattering_transform::Scattering1dParams;
use std::process::Command;

fn rel_max(a: &Array3<f64>, b: &Array3<f64>) -> f64 {
    let top = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / top
}

#[test]
fn blocks_of_a_wav_equal_the_library_whole_transform() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 60_000;
    let wav = dir.path().join("x.wav");
    std::fs::write(&wav, common::wav_bytes(8000, 2, 16, frames)).unwrap();
    let out = dir.path().join("sx.npy");
    let png = dir.path().join("sx.png");
    let (ok, err) = scatter(&[
        "time",
        "--input",
        wav.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-J",
        "6",
        "-Q",
        "8",
        "--block",
        "16384",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("in blocks of 16384"), "{err}");
    let got: Array3<f64> = read_npy(&out).unwrap();
    // The same file transformed whole (it is short enough).
    let (ok, err) = scatter(&[
        "time",
        "--input",
        wav.to_str().unwrap(),
        "--output",
        dir.path().join("whole.npy").to_str().unwrap(),
        "-J",
        "6",
        "-Q",
        "8",
    ]);
    assert!(ok, "{err}");
    let whole: Array3<f64> = read_npy(dir.path().join("whole.npy")).unwrap();
    assert_eq!(got.dim(), whole.dim());
    let e = rel_max(&got, &whole);
    assert!(e <= 1e-12, "blocked against whole: {e:e}");
    assert!(png.exists());
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sx.meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["blocks"]["block_len"], 16384);
    assert_eq!(meta["shape"][2], got.dim().2);
}

#[test]
fn blocks_of_an_npy_batch_in_f32_and_without_averaging() {
    let dir = tempfile::tempdir().unwrap();
    let n = 40_000;
    let x = Array2::from_shape_fn((3, n), |(b, t)| {
        ((t * (b + 2)) as f64 * 0.0013).sin() + 0.01 * (t % 11) as f64
    });
    let inp = dir.path().join("x.npy");
    write_npy(&inp, &x.mapv(|v| v as f32)).unwrap();
    let out = dir.path().join("u.npy");
    let (ok, err) = scatter(&[
        "time",
        "--input",
        inp.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-J",
        "4",
        "-Q",
        "2",
        "--average",
        "none",
        "--max-order",
        "1",
        "--block",
        "8192",
        "--precision",
        "f32",
    ]);
    assert!(ok, "{err}");
    let got: Array3<f64> = read_npy(&out).unwrap();
    let want = Scattering1dParams::new(n, 4)
        .q((2, 1))
        .average(scattering_transform::Averaging::None)
        .max_order(1)
        .build()
        .unwrap()
        .forward(x.mapv(|v| v as f32 as f64).view())
        .unwrap();
    assert!(rel_max(&got, &want) <= 1e-5);
}

#[test]
fn bad_blocks_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("x.npy");
    write_npy(&inp, &Array2::<f64>::ones((1, 50_000))).unwrap();
    let out = dir.path().join("o.npy");
    let (ok, err) = scatter(&[
        "time",
        "--input",
        inp.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--block",
        "1000",
    ]);
    assert!(!ok && err.contains("at least"), "{err}");
    let (ok, err) = scatter(&[
        "time",
        "--input",
        inp.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--block",
        "65536",
        "--average",
        "global",
    ]);
    assert!(!ok && err.contains("local"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the input is left"
    );
}

#[test]
fn images_beyond_the_memory_budget_are_refused_with_the_memory_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("img.npy");
    write_npy(&inp, &Array2::<f64>::ones((512, 512))).unwrap();
    let out = dir.path().join("o.npy");
    let run = |limit: &str| {
        Command::new(env!("CARGO_BIN_EXE_scatter"))
            .args([
                "image",
                "--input",
                inp.to_str().unwrap(),
                "--output",
                out.to_str().unwrap(),
            ])
            .env("SCATTERING_MEMORY_LIMIT_GB", limit)
            .output()
            .unwrap()
    };
    let refused = run("0.3");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        err.contains("needs about 0.4 GB") && err.contains("0.3 GB may be used"),
        "{err}"
    );
    assert!(!out.exists());
    let fine = run("4");
    assert!(
        fine.status.success(),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
    assert!(out.exists());
}
