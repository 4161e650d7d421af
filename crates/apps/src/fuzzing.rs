//! Entry points of the fuzz targets (`fuzz/`) and of the test that replays their corpus
//! (`tests/fuzz_corpus.rs`): every loader and the parameter checks, fed arbitrary bytes.
//! Each returns normally whatever the bytes; a panic, an abort or an allocation of the
//! size a corrupt header claims is a bug the fuzzer reports.

use crate::idx::{read_idx_images, read_idx_labels};
use crate::io::{parse_csv, read_images, read_signals, read_volumes};
use crate::molecules::read_molecules;
use crate::stream::SignalStream;
use scattering_transform::{
    Averaging, Padding, Scattering1dParams, Scattering2dParams, SolidHarmonicScattering3dParams,
};
use std::path::PathBuf;

/// The fuzz targets, by name (a folder of `fuzz/corpus` each).
pub const TARGETS: [&str; 5] = ["signals", "images", "idx", "molecules", "params"];

/// Runs target `name` on `data`; unknown names do nothing.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "signals" => signals(data),
        "images" => images(data),
        "idx" => idx(data),
        "molecules" => molecules(data),
        "params" => params(data),
        _ => {}
    }
}

/// A file holding `bytes` with extension `ext`, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(ext: &str, bytes: &[u8]) -> Option<Self> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("scattering-fuzz-{}-{n}.{ext}", std::process::id()));
        std::fs::write(&path, bytes).ok()?;
        Some(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The first byte picks the format, the rest is the file.
fn split<'a>(data: &'a [u8], formats: &[&'static str]) -> Option<(&'static str, &'a [u8])> {
    let (&k, rest) = data.split_first()?;
    Some((formats[k as usize % formats.len()], rest))
}

/// `.npy`, `.wav` and `.csv` signals: read whole, then streamed by ranges; CSV text parsed.
pub fn signals(data: &[u8]) {
    let Some((ext, bytes)) = split(data, &["npy", "wav", "csv"]) else {
        return;
    };
    if ext == "csv" {
        let _ = parse_csv(&String::from_utf8_lossy(bytes));
    }
    let Some(f) = Scratch::new(ext, bytes) else {
        return;
    };
    let _ = read_signals(&f.0);
    if let Ok(mut s) = SignalStream::open(&f.0) {
        // Bounded reads: a corrupt header may claim any length.
        let n = s.len.min(64);
        let mut buf = ndarray::Array2::zeros((s.rows.min(64), n));
        if s.rows <= 64 {
            let _ = s.read(0, buf.view_mut());
            let _ = s.read(s.len - n, buf.view_mut());
        }
    }
}

/// Images (`.npy`, PNG, JPEG) and volumes (`.npy`).
pub fn images(data: &[u8]) {
    let Some((ext, bytes)) = split(data, &["npy", "png", "jpg"]) else {
        return;
    };
    let Some(f) = Scratch::new(ext, bytes) else {
        return;
    };
    let _ = read_images(&f.0);
    if ext == "npy" {
        let _ = read_volumes(&f.0);
    }
}

/// IDX images and labels (MNIST's format).
pub fn idx(data: &[u8]) {
    let Some(f) = Scratch::new("idx", data) else {
        return;
    };
    let _ = read_idx_images(&f.0);
    let _ = read_idx_labels(&f.0, 10);
}

/// Molecules, one JSON object per line (plain or gzip).
pub fn molecules(data: &[u8]) {
    let Some(f) = Scratch::new("jsonl", data) else {
        return;
    };
    let _ = read_molecules(&f.0, "E", 1.0);
}

/// The parameter checks of the three transforms (what the `scatter` flags become), with
/// sizes small enough that a valid set builds quickly: building must give a transform or
/// a typed error.
pub fn params(data: &[u8]) {
    let b = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let kind = b(0) % 3;
    let avg = [Averaging::Local, Averaging::Global, Averaging::None][b(1) % 3];
    let pad = [Padding::Reflect, Padding::Periodic][b(2) % 2];
    match kind {
        0 => {
            let n = (b(3) << 4 | b(4) >> 4).min(4096);
            let mut p = Scattering1dParams::new(n, b(5) % 24)
                .q((b(6) % 20, b(7) % 6))
                .max_order(b(8) % 4)
                .average(avg)
                .padding(pad);
            if b(9) % 2 == 1 {
                p = p.t(b(10) << 2);
            }
            let _ = p.build_f32();
        }
        1 => {
            let _ = Scattering2dParams::new((b(3) % 80, b(4) % 80), b(5) % 10)
                .l(b(6) % 14)
                .max_order(b(7) % 4)
                .average(avg)
                .padding(pad)
                .build_f32();
        }
        _ => {
            let q = f64::from(b(8) as u8 as i8) / 16.0;
            let _ = SolidHarmonicScattering3dParams::new(
                (b(3) % 20, b(4) % 20, b(5) % 20),
                b(6) % 6,
                b(7) % 6,
            )
            .sigma0(f64::from(b(9) as u8) / 32.0)
            .max_order(b(10) % 4)
            .integral_powers(vec![q, 1.0])
            .build_f32();
        }
    }
}
