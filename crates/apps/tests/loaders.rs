//! Hostile inputs to the loaders: each is refused with a message naming the file and the
//! cause, before anything large is allocated, and never by a panic or an abort.

mod common;

use ndarray::{Array2, Array3};
use ndarray_npy::write_npy;
use scattering_apps::io::{
    parse_csv, read_images, read_npy_header, read_signals, read_square_image, read_volumes,
};
use std::path::Path;
use std::process::Command;

fn err_of<T: std::fmt::Debug>(r: Result<T, scattering_apps::AppError>) -> String {
    r.expect_err("the input was accepted").to_string()
}

/// A float64 `.npy` whose header claims `shape`, followed by `data_bytes` bytes.
fn lying_npy(path: &Path, shape: &str, data_bytes: usize) {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend(std::iter::repeat_n(0u8, data_bytes));
    std::fs::write(path, out).unwrap();
}

#[test]
fn npy_headers_that_lie_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.npy");
    // 8 TB announced, 80 bytes present: the old reader aborted allocating the claim.
    lying_npy(&p, "(1000000000000,)", 80);
    let e = err_of(read_signals(&p));
    assert!(
        e.contains("truncated or corrupt") && e.contains("x.npy"),
        "{e}"
    );
    assert!(read_images(&p).is_err() && read_volumes(&p).is_err());
    // A shape whose size overflows.
    lying_npy(&p, "(4294967296, 4294967296, 4294967296)", 8);
    assert!(err_of(read_signals(&p)).contains("overflows"));
    // Consistent header, but over the input limit (checked in the CLI test below).
    lying_npy(&p, "(3, 4)", 96);
    let h = read_npy_header(&p).unwrap();
    assert_eq!(
        (h.shape, h.item_size, h.descr.as_str()),
        (vec![3, 4], 8, "<f8")
    );
    assert_eq!(read_signals(&p).unwrap().data.dim(), (3, 4));
    // Not a .npy at all, and a header longer than the file.
    std::fs::write(&p, b"hello").unwrap();
    assert!(err_of(read_signals(&p)).contains("magic"));
    std::fs::write(&p, b"\x93NUMPY\x01\x00\xff\x7f{'descr'").unwrap();
    assert!(err_of(read_signals(&p)).contains("header claims"));
}

#[test]
fn empty_images_and_volumes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("img.npy");
    write_npy(&p, &Array2::<f64>::zeros((32, 0))).unwrap();
    assert!(err_of(read_images(&p)).contains("empty"));
    write_npy(&p, &Array3::<f64>::zeros((0, 8, 8))).unwrap();
    assert!(err_of(read_images(&p)).contains("empty"));
    write_npy(&p, &Array3::<f64>::zeros((4, 0, 4))).unwrap();
    assert!(err_of(read_volumes(&p)).contains("empty"));
}

#[test]
fn scatter_image_on_an_empty_image_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("img.npy");
    write_npy(&p, &Array2::<f64>::zeros((32, 0))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scatter"))
        .args(["image", "--input"])
        .arg(&p)
        .arg("--output")
        .arg(dir.path().join("o.npy"))
        .args(["-J", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("empty") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn inputs_over_the_limit_are_refused_with_the_memory_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.npy");
    write_npy(&p, &Array2::<f64>::zeros((4, 100_000))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scatter"))
        .env("SCATTERING_INPUT_LIMIT_GB", "0.001")
        .args(["time", "--input"])
        .arg(&p)
        .arg("--output")
        .arg(dir.path().join("o.npy"))
        .args(["-J", "4"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("400000 values") && stderr.contains("SCATTERING_INPUT_LIMIT_GB"),
        "{stderr}"
    );
    assert!(!dir.path().join("o.npy").exists());
}

/// Writes a PCM WAV file (see [`common::wav_bytes`]).
fn wav(path: &Path, rate: u32, channels: u16, bits: u16, frames: usize) {
    std::fs::write(path, common::wav_bytes(rate, channels, bits, frames)).unwrap();
}

#[test]
fn wav_headers_that_cannot_be_used_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.wav");
    wav(&p, 8000, 1, 16, 64);
    assert_eq!(read_signals(&p).unwrap().data.dim(), (1, 64));
    // Sample rate 0 made the figure code spin forever.
    wav(&p, 0, 1, 16, 64);
    assert!(err_of(read_signals(&p)).contains("0 Hz"));
    wav(&p, 8000, 1, 16, 0);
    assert!(err_of(read_signals(&p)).contains("no samples"));
    std::fs::write(&p, b"RIFF\x00\x00").unwrap();
    assert!(err_of(read_signals(&p)).contains("WAV"));
}

#[test]
fn csv_byte_order_marks_and_decimal_commas() {
    // The byte-order mark no longer swallows the first value.
    let a = parse_csv("\u{feff}1.5\n2\n3\n").unwrap();
    assert_eq!(a.as_slice().unwrap(), &[1.5, 2.0, 3.0]);
    // Decimal commas are refused with the line, whatever the separator.
    for text in [
        "1,5\n2,25\n3,0\n",
        "# comment\nvalue\n1,5\n2,0\n",
        "a;b\n1,5;2\n",
    ] {
        let e = parse_csv(text).unwrap_err();
        assert!(
            e.contains("decimal comma") && e.contains("line"),
            "{text:?}: {e}"
        );
    }
    // Two columns named in a header are two columns: the first is read.
    let a = parse_csv("t,x\n1,5\n2,7\n").unwrap();
    assert_eq!(a.as_slice().unwrap(), &[1.0, 2.0]);
    // Real-valued second columns are not decimal commas.
    let a = parse_csv("1,0.5\n2,0.25\n").unwrap();
    assert_eq!(a.as_slice().unwrap(), &[1.0, 2.0]);
    let e = parse_csv("1\n2\nthree\n").unwrap_err();
    assert!(e.contains("line 3") && e.contains("three"), "{e}");
    assert!(parse_csv("\u{feff}\n# nothing\n").is_err());
}

/// Runs a binary on arguments that must be refused before any work; returns stderr.
fn refused(exe: &str, args: &[&str]) -> String {
    let out = Command::new(exe).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} was accepted: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn flags_the_code_would_ignore_or_reject_later_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o.npy");
    let o = o.to_str().unwrap();
    let wav = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/audio/bird.wav");
    let png = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/images/brick.png");
    let scatter = env!("CARGO_BIN_EXE_scatter");
    let e = refused(
        scatter,
        &[
            "time",
            "--input",
            wav,
            "--output",
            o,
            "--average",
            "global",
            "-T",
            "16",
        ],
    );
    assert!(e.contains("-T sets the scale of local averaging"), "{e}");
    let e = refused(
        scatter,
        &["image", "--input", png, "--output", o, "--average", "none"],
    );
    assert!(e.contains("possible values: local, global"), "{e}");
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    let e = refused(env!("CARGO_BIN_EXE_ising"), &["--out", out, "--block", "0"]);
    assert!(e.contains("--block"), "{e}");
    let e = refused(
        env!("CARGO_BIN_EXE_ising"),
        &["--out", out, "--quick", "--block", "64"],
    );
    assert!(e.contains("larger than the lattice side"), "{e}");
    let e = refused(
        env!("CARGO_BIN_EXE_turbulence"),
        &["--out", out, "--size", "48"],
    );
    assert!(e.contains("power of two"), "{e}");
    let e = refused(
        env!("CARGO_BIN_EXE_multifractal"),
        &["--out", out, "--maxent-iters", "0"],
    );
    assert!(e.contains("--maxent-iters"), "{e}");
    for exe in [env!("CARGO_BIN_EXE_cox"), env!("CARGO_BIN_EXE_turbulence")] {
        let e = refused(exe, &["--out", out, "--realisations", "0"]);
        assert!(e.contains("--realisations"), "{e}");
    }
    assert!(!Path::new(o).exists());
}

/// `read_square_image` keeps the largest centred square whose side is a multiple of the
/// size asked for and averages its blocks; an image smaller than the size is refused.
#[test]
fn square_images_are_centred_block_means() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("img.npy");
    // A 5 x 7 image brought to 2 x 2.
    let img = Array2::from_shape_fn((5, 7), |(i, j)| (10 * i + j) as f64);
    write_npy(&p, &img).unwrap();
    let sq = read_square_image(&p, 2).unwrap();
    // k = 2, side 4, top (5 - 4) / 2 = 0, left (7 - 4) / 2 = 1.
    let mean = |i0: usize, j0: usize| {
        (img[[i0, j0]] + img[[i0, j0 + 1]] + img[[i0 + 1, j0]] + img[[i0 + 1, j0 + 1]]) / 4.0
    };
    assert_eq!(sq.dim(), (2, 2));
    assert_eq!(sq[[0, 0]], mean(0, 1));
    assert_eq!(sq[[1, 1]], mean(2, 3));
    // Size 5 fits once (k = 1): a plain centred crop.
    let crop = read_square_image(&p, 5).unwrap();
    assert_eq!(crop[[0, 0]], img[[0, 1]]);
    let e = err_of(read_square_image(&p, 6));
    assert!(e.contains("smaller than the 6x6"), "{e}");
}
