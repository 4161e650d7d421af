//! End-to-end tests of the `scatter` command: real files in, files (or a one-line error
//! and nothing) out.

mod common;

use common::scatter;
use ndarray::{Array1, Array2, Array3};
use ndarray_npy::{read_npy, write_npy};
use scattering_transform::Scattering1dParams;
use std::path::{Path, PathBuf};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn signal(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((3, n), |(b, t)| {
        ((t * (b + 2)) as f64 * 0.013).sin() + 0.1 * (t % 7) as f64
    })
}

#[test]
fn npy_batch_matches_the_library_and_writes_meta() {
    let dir = tempfile::tempdir().unwrap();
    let x = signal(1000);
    let inp = dir.path().join("x.npy");
    write_npy(&inp, &x).unwrap();
    let out = dir.path().join("sub/sx.npy");
    let (ok, err) = scatter(&[
        "time",
        "--input",
        p(&inp),
        "--output",
        p(&out),
        "-J",
        "5",
        "-Q",
        "4,2",
    ]);
    assert!(ok, "{err}");
    let got: Array3<f64> = read_npy(&out).unwrap();
    let s = Scattering1dParams::new(1000, 5).q((4, 2)).build().unwrap();
    let want = s.forward(x.view()).unwrap();
    assert_eq!(got, want);
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("sub/sx.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["channels"].as_array().unwrap().len(), got.shape()[1]);
    assert_eq!(meta["channels"][1]["order"], 1);
    assert_eq!(meta["shape"][0], 3);
}

#[test]
fn float32_one_dimensional_npy_and_global_average() {
    let dir = tempfile::tempdir().unwrap();
    let x: Array1<f32> = (0..512).map(|t| (t as f32 * 0.05).cos()).collect();
    let inp = dir.path().join("x.npy");
    write_npy(&inp, &x).unwrap();
    let out = dir.path().join("sx.npy");
    let (ok, err) = scatter(&[
        "time",
        "--input",
        p(&inp),
        "--output",
        p(&out),
        "-J",
        "4",
        "--average",
        "global",
        "--precision",
        "f32",
    ]);
    assert!(ok, "{err}");
    let got: Array3<f64> = read_npy(&out).unwrap();
    assert_eq!(got.shape()[0], 1);
    assert_eq!(got.shape()[2], 1);
}

#[test]
fn wav_channels_and_csv_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flute.npy");
    let png = dir.path().join("flute.png");
    let wav = repo("data/audio/flute_d5.wav");
    let (ok, err) = scatter(&[
        "time",
        "--input",
        p(&wav),
        "--output",
        p(&out),
        "-J",
        "6",
        "--png",
        p(&png),
    ]);
    assert!(ok, "{err}");
    let got: Array3<f64> = read_npy(&out).unwrap();
    assert_eq!(got.shape()[0], 1); // mono
    let png_bytes = std::fs::read(&png).unwrap();
    assert_eq!(&png_bytes[1..4], b"PNG");

    let csv = dir.path().join("x.csv");
    let mut text = String::from("value,other\n");
    for t in 0..300 {
        text.push_str(&format!("{},{}\n", (t as f64 * 0.1).sin(), t));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("csv.npy");
    let (ok, err) = scatter(&["time", "--input", p(&csv), "--output", p(&out), "-J", "3"]);
    assert!(ok, "{err}");
    let got: Array3<f64> = read_npy(&out).unwrap();
    assert_eq!(got.shape()[0], 1);
}

fn assert_fails_cleanly(args: &[&str], out: &Path, needle: &str) {
    let (ok, err) = scatter(args);
    assert!(!ok, "expected failure for {args:?}");
    let line = err.trim();
    assert_eq!(
        line.lines().count(),
        1,
        "one-line error expected, got: {err}"
    );
    assert!(line.contains(needle), "`{line}` should mention `{needle}`");
    let dir = out.parent().unwrap();
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("sx") || n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn bad_inputs_fail_with_one_line_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sx.npy");
    let o = p(&out);
    assert_fails_cleanly(
        &["time", "--input", "/nonexistent.npy", "--output", o],
        &out,
        "nonexistent",
    );
    let txt = dir.path().join("x.txt");
    std::fs::write(&txt, "1\n2\n").unwrap();
    assert_fails_cleanly(
        &["time", "--input", p(&txt), "--output", o],
        &out,
        "unsupported",
    );
    let mut x = signal(256);
    x[[1, 3]] = f64::NAN;
    let nan = dir.path().join("nan.npy");
    write_npy(&nan, &x).unwrap();
    assert_fails_cleanly(
        &["time", "--input", p(&nan), "--output", o, "-J", "4"],
        &out,
        "not finite",
    );
    let short = dir.path().join("short.npy");
    write_npy(&short, &signal(32)).unwrap();
    assert_fails_cleanly(
        &["time", "--input", p(&short), "--output", o, "-J", "6"],
        &out,
        "2^J",
    );
    assert_fails_cleanly(
        &[
            "time",
            "--input",
            p(&short),
            "--output",
            o,
            "-J",
            "3",
            "-Q",
            "0",
        ],
        &out,
        "Q",
    );
    assert_fails_cleanly(
        &[
            "time",
            "--input",
            p(&short),
            "--output",
            o,
            "-J",
            "3",
            "-Q",
            "a,b",
        ],
        &out,
        "-Q",
    );
    let garbage = dir.path().join("garbage.npy");
    std::fs::write(&garbage, b"not an npy file").unwrap();
    assert_fails_cleanly(
        &["time", "--input", p(&garbage), "--output", o],
        &out,
        "npy",
    );
    let wav = dir.path().join("bad.wav");
    std::fs::write(&wav, b"RIFF....WAVE").unwrap();
    assert_fails_cleanly(&["time", "--input", p(&wav), "--output", o], &out, "WAV");
}

#[test]
fn image_png_and_npy_batch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("brick.npy");
    let png = dir.path().join("brick_fig.png");
    let img = repo("data/images/brick.png");
    let (ok, err) = scatter(&[
        "image",
        "--input",
        p(&img),
        "--output",
        p(&out),
        "-J",
        "3",
        "-L",
        "4",
        "--png",
        p(&png),
    ]);
    assert!(ok, "{err}");
    let got: ndarray::Array4<f64> = read_npy(&out).unwrap();
    assert_eq!(got.shape(), &[1, 1 + 4 * 3 + 16 * 3, 64, 64]);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    // A .npy batch gives the library's numbers.
    let x =
        ndarray::Array3::from_shape_fn((2, 20, 24), |(b, i, j)| ((b + i * j) as f64 * 0.1).sin());
    let inp = dir.path().join("imgs.npy");
    write_npy(&inp, &x).unwrap();
    let out = dir.path().join("imgs_s.npy");
    let (ok, err) = scatter(&["image", "--input", p(&inp), "--output", p(&out), "-J", "2"]);
    assert!(ok, "{err}");
    let got: ndarray::Array4<f64> = read_npy(&out).unwrap();
    let want = scattering_transform::Scattering2dParams::new((20, 24), 2)
        .build()
        .unwrap()
        .forward(x.view())
        .unwrap();
    assert_eq!(got, want);
    // A JPEG in colour is read as grayscale.
    let rgb = image::RgbImage::from_fn(48, 40, |i, j| {
        image::Rgb([(i * 5) as u8, (j * 6) as u8, 90])
    });
    let jpg = dir.path().join("c.jpg");
    rgb.save(&jpg).unwrap();
    let out = dir.path().join("c.npy");
    let (ok, err) = scatter(&[
        "image",
        "--input",
        p(&jpg),
        "--output",
        p(&out),
        "-J",
        "2",
        "-L",
        "4",
    ]);
    assert!(ok, "{err}");
    let got: ndarray::Array4<f64> = read_npy(&out).unwrap();
    assert_eq!(&got.shape()[..2], &[1, 1 + 4 * 2 + 16]);
    assert!(got[[0, 0, 2, 2]] > 0.0);
    // Too small for J: one-line error, nothing written.
    let small = dir.path().join("small.npy");
    write_npy(&small, &ndarray::Array2::<f64>::zeros((3, 3))).unwrap();
    let out = dir.path().join("sx.npy");
    assert_fails_cleanly(
        &[
            "image",
            "--input",
            p(&small),
            "--output",
            p(&out),
            "-J",
            "3",
        ],
        &out,
        "smaller than 2^J",
    );
}

#[test]
fn solid_volume_batch() {
    let dir = tempfile::tempdir().unwrap();
    let x = ndarray::Array4::from_shape_fn((2, 12, 12, 12), |(b, i, j, k)| {
        (-(((i as f64 - 6.0).powi(2)
            + (j as f64 - 5.0 - b as f64).powi(2)
            + (k as f64 - 6.0).powi(2))
            / 4.0))
            .exp()
    });
    let inp = dir.path().join("vol.npy");
    write_npy(&inp, &x).unwrap();
    let out = dir.path().join("vol_s.npy");
    let (ok, err) = scatter(&[
        "solid",
        "--input",
        p(&inp),
        "--output",
        p(&out),
        "-J",
        "1",
        "-L",
        "1",
        "--powers",
        "1,2",
    ]);
    assert!(ok, "{err}");
    let got: ndarray::Array4<f64> = read_npy(&out).unwrap();
    assert_eq!(got.shape(), &[2, 3, 2, 2]);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("vol_s.meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["order0"].as_array().unwrap().len(), 2);
    let out2 = dir.path().join("sx.npy");
    assert_fails_cleanly(
        &[
            "solid",
            "--input",
            p(&inp),
            "--output",
            p(&out2),
            "--powers",
            "a",
        ],
        &out2,
        "--powers",
    );
    // A negative exponent is named, not taken for an unknown flag.
    assert_fails_cleanly(
        &[
            "solid",
            "--input",
            p(&inp),
            "--output",
            p(&out2),
            "--powers",
            "-0.5,1",
        ],
        &out2,
        "positive",
    );
}

#[test]
fn rigid_png_npy_batch_labels_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("brick.npy");
    let png = dir.path().join("brick_fig.png");
    let img = repo("data/images/brick.png");
    let (ok, err) = scatter(&[
        "rigid",
        "--input",
        p(&img),
        "--output",
        p(&out),
        "-J",
        "3",
        "-L",
        "8",
        "-K",
        "2",
        "--png",
        p(&png),
    ]);
    assert!(ok, "{err}");
    let got: ndarray::Array4<f64> = read_npy(&out).unwrap();
    // 1 + J + J (J - 1) / 2 * L / 2 * (2 K + 1) channels.
    assert_eq!(&got.shape()[..2], &[1, 1 + 3 + 3 * 4 * 5]);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["transform"], "rigid");
    assert_eq!(meta["channels"].as_array().unwrap().len(), 64);
    assert_eq!(meta["channels"][4]["order"], 2);
    // A .npy batch gives the library's numbers.
    let x = Array3::from_shape_fn((2, 16, 16), |(b, i, j)| ((b + i * j) as f64 * 0.1).sin());
    let inp = dir.path().join("imgs.npy");
    write_npy(&inp, &x).unwrap();
    let out = dir.path().join("imgs_s.npy");
    let args = [
        "rigid",
        "--input",
        p(&inp),
        "--output",
        p(&out),
        "-J",
        "2",
        "--padding",
        "periodic",
    ];
    let (ok, err) = scatter(&args);
    assert!(ok, "{err}");
    let got: ndarray::Array4<f64> = read_npy(&out).unwrap();
    let want = scattering_transform::RigidMotionParams::new((16, 16), 2)
        .padding(scattering_transform::Padding::Periodic)
        .build()
        .unwrap()
        .forward(x.view())
        .unwrap();
    assert_eq!(got, want);
    // Bad parameters: one line, exit non-zero, nothing written.
    let bad = dir.path().join("bad.npy");
    let (ok, err) = scatter(&[
        "rigid",
        "--input",
        p(&inp),
        "--output",
        p(&bad),
        "-L",
        "6",
        "-K",
        "3",
    ]);
    assert!(
        !ok && err.contains("K") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(!bad.exists());
}

#[test]
fn joint_equals_kymatio_on_case_a_draws_spins_and_refuses_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let inp = repo("data/fixtures/kymatio-jtfs/case_a_input.npy");
    let out = dir.path().join("jtfs.npy");
    let png = dir.path().join("jtfs.png");
    let (ok, err) = scatter(&[
        "joint",
        "--input",
        p(&inp),
        "--output",
        p(&out),
        "-J",
        "6",
        "-Q",
        "8,2",
        "--j-fr",
        "3",
        "--q-fr",
        "2",
        "--format",
        "joint",
        "--png",
        p(&png),
    ]);
    assert!(ok, "{err}");
    let got: ndarray::Array4<f64> = read_npy(&out).unwrap();
    let want: ndarray::Array4<f64> =
        read_npy(repo("data/fixtures/kymatio-jtfs/case_a_joint_output.npy")).unwrap();
    assert_eq!(got.shape(), want.shape());
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let e = got
        .iter()
        .zip(want.iter())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
        / scale;
    assert!(e < 1e-10, "relative error {e:e}");
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["transform"], "joint");
    assert_eq!(meta["channels"].as_array().unwrap().len(), 143);
    assert_eq!(meta["channels"][8]["spin"], 0);
    assert_eq!(meta["channels"][9]["spin"], 1);
    // Time format, global time averaging: (batch, channel, 1).
    let out2 = dir.path().join("jtfs_t.npy");
    let (ok, err) = scatter(&[
        "joint",
        "--input",
        p(&inp),
        "--output",
        p(&out2),
        "-J",
        "6",
        "-T",
        "global",
    ]);
    assert!(ok, "{err}");
    let got: Array3<f64> = read_npy(&out2).unwrap();
    assert_eq!(got.shape()[2], 1);
    // Bad flags: one line, exit non-zero, nothing written.
    for bad in [
        vec!["-T", "soon"],
        vec!["-F", "0", "--format", "joint"],
        vec!["--stride", "3"],
    ] {
        let out3 = dir.path().join("bad.npy");
        let mut args = vec!["joint", "--input", p(&inp), "--output", p(&out3)];
        args.extend(bad.iter().copied());
        let (ok, err) = scatter(&args);
        assert!(!ok, "{bad:?} succeeded");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out3.exists());
    }
}

#[test]
fn spiral_matches_the_library_draws_and_refuses_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let x = signal(2048);
    let inp = dir.path().join("x.npy");
    write_npy(&inp, &x).unwrap();
    let out = dir.path().join("sp.npy");
    let png = dir.path().join("sp.png");
    let (ok, err) = scatter(&[
        "spiral",
        "--input",
        p(&inp),
        "--output",
        p(&out),
        "-J",
        "7",
        "-Q",
        "8,2",
        "--png",
        p(&png),
    ]);
    assert!(ok, "{err}");
    let got: Array3<f64> = read_npy(&out).unwrap();
    let want = scattering_transform::SpiralParams::new(2048, 7)
        .q((8, 2))
        .build()
        .unwrap()
        .forward(x.view())
        .unwrap();
    assert_eq!(got, want);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["transform"], "spiral");
    assert_eq!(meta["channels"].as_array().unwrap().len(), got.shape()[1]);
    for bad in [vec!["-T", "0"], vec!["--j-chroma", "5"], vec!["-Q", "2"]] {
        let out3 = dir.path().join("bad.npy");
        let mut args = vec!["spiral", "--input", p(&inp), "--output", p(&out3)];
        args.extend(bad.iter().copied());
        let (ok, err) = scatter(&args);
        assert!(!ok, "{bad:?} succeeded");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out3.exists());
    }
}
