//! Reading signals and writing outputs.
//!
//! Inputs: `.npy` (float32 or float64; 1-D is one signal, 2-D a batch of rows), `.wav`
//! (integer or float PCM; each channel becomes a row, integers scaled to [-1, 1)), `.csv`
//! (the first column, an optional header line). Outputs go to temporary files that are
//! renamed only when everything has been written, so a failure leaves nothing half-done.

use crate::error::AppError;
use ndarray::{Array2, ArrayD, Ix1, Ix2};
use ndarray_npy::{ReadNpyError, ReadNpyExt, WriteNpyExt};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A batch of signals read from a file.
#[derive(Debug, Clone)]
pub struct Signals {
    /// `(batch, samples)`.
    pub data: Array2<f64>,
    /// Sample rate in Hz, for audio files.
    pub sample_rate: Option<u32>,
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads a batch of 1D signals, choosing the format by the file extension.
pub fn read_signals(path: &Path) -> Result<Signals, AppError> {
    let data = match extension(path).as_str() {
        "npy" => read_npy_2d(path)?,
        "wav" => return read_wav(path),
        "csv" => read_csv(path)?,
        other => {
            return Err(AppError::format(
                path,
                format!("unsupported input type `.{other}`: expected .npy, .wav or .csv"),
            ))
        }
    };
    Ok(Signals {
        data,
        sample_rate: None,
    })
}

/// Reads a float32 or float64 `.npy` array of any dimension, as float64.
pub fn read_npy_any(path: &Path) -> Result<ArrayD<f64>, AppError> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| AppError::io(path, e))
    };
    match ArrayD::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(ReadNpyError::WrongDescriptor(_)) => ArrayD::<f32>::read_npy(open()?)
            .map(|a| a.mapv(f64::from))
            .map_err(|e| AppError::format(path, format!("not a float32/float64 .npy array: {e}"))),
        Err(e) => Err(AppError::format(path, format!("cannot read .npy: {e}"))),
    }
}

fn read_npy_2d(path: &Path) -> Result<Array2<f64>, AppError> {
    let a = read_npy_any(path)?;
    let shape = a.shape().to_vec();
    let a = match a.ndim() {
        1 => a
            .into_dimensionality::<Ix1>()
            .map(|v| v.insert_axis(ndarray::Axis(0))),
        2 => a.into_dimensionality::<Ix2>(),
        _ => {
            return Err(AppError::format(
                path,
                format!("expected a 1-D signal or a 2-D batch of signals, got shape {shape:?}"),
            ))
        }
    };
    let a = a.map_err(|e| AppError::format(path, e.to_string()))?;
    if a.is_empty() {
        return Err(AppError::format(path, "the array is empty"));
    }
    Ok(a)
}

fn read_wav(path: &Path) -> Result<Signals, AppError> {
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            AppError::io(path, io)
        }
        other => AppError::format(path, format!("not a readable WAV file: {other}")),
    })?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    let samples: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f64;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f64 * scale))
                .collect::<Result<_, _>>()
        }
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<Result<_, _>>(),
    }
    .map_err(|e| AppError::format(path, format!("corrupt WAV data: {e}")))?;
    let frames = samples.len() / channels.max(1);
    if frames == 0 {
        return Err(AppError::format(path, "the WAV file has no samples"));
    }
    let data = Array2::from_shape_fn((channels, frames), |(c, t)| samples[t * channels + c]);
    Ok(Signals {
        data,
        sample_rate: Some(spec.sample_rate),
    })
}

fn read_csv(path: &Path) -> Result<Array2<f64>, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| AppError::io(path, e))?;
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let field = line
            .split([',', ';', '\t', ' '])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        match field.parse::<f64>() {
            Ok(v) => values.push(v),
            // A header is allowed before the first value.
            Err(_) if values.is_empty() => {}
            Err(_) => {
                return Err(AppError::format(
                    path,
                    format!("line {}: `{field}` is not a number", i + 1),
                ))
            }
        }
    }
    if values.is_empty() {
        return Err(AppError::format(
            path,
            "no numeric values in the first column",
        ));
    }
    let n = values.len();
    Array2::from_shape_vec((1, n), values).map_err(|e| AppError::format(path, e.to_string()))
}

/// Files written to temporary names and renamed together by [`Outputs::commit`].
/// Dropping it without committing removes the temporary files.
#[derive(Debug, Default)]
pub struct Outputs {
    pending: Vec<(PathBuf, PathBuf)>,
}

impl Outputs {
    /// No outputs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A temporary path next to `path`, registered for renaming to `path`.
    pub fn temp_path(&mut self, path: &Path) -> Result<PathBuf, AppError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| AppError::io(dir, e))?;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| AppError::Usage(format!("invalid output path {}", path.display())))?;
        // The extension stays last: some writers choose the format by it.
        let tmp = path.with_file_name(format!(".tmp{}.{name}", std::process::id()));
        self.pending.push((tmp.clone(), path.to_path_buf()));
        Ok(tmp)
    }

    /// Writes an array as `.npy`.
    pub fn npy<A: WriteNpyExt>(&mut self, path: &Path, array: &A) -> Result<(), AppError> {
        let tmp = self.temp_path(path)?;
        let f = File::create(&tmp).map_err(|e| AppError::io(&tmp, e))?;
        array
            .write_npy(BufWriter::new(f))
            .map_err(|e| AppError::format(path, format!("cannot write .npy: {e}")))
    }

    /// Writes a value as pretty-printed JSON.
    pub fn json<T: serde::Serialize>(&mut self, path: &Path, value: &T) -> Result<(), AppError> {
        let tmp = self.temp_path(path)?;
        let f = File::create(&tmp).map_err(|e| AppError::io(&tmp, e))?;
        let mut w = BufWriter::new(f);
        serde_json::to_writer_pretty(&mut w, value)
            .map_err(|e| AppError::format(path, e.to_string()))?;
        w.write_all(b"\n").map_err(|e| AppError::io(path, e))?;
        w.flush().map_err(|e| AppError::io(path, e))
    }

    /// Writes a text file (tables, reports).
    pub fn text(&mut self, path: &Path, text: &str) -> Result<(), AppError> {
        let tmp = self.temp_path(path)?;
        std::fs::write(&tmp, text).map_err(|e| AppError::io(&tmp, e))
    }

    /// Renames every temporary file to its final name.
    pub fn commit(mut self) -> Result<(), AppError> {
        for (tmp, dst) in std::mem::take(&mut self.pending) {
            std::fs::rename(&tmp, &dst).map_err(|e| AppError::io(&dst, e))?;
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for (tmp, _) in &self.pending {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// `out.npy` -> `out.meta.json` (the metadata written beside an output array).
pub fn meta_path(output: &Path) -> PathBuf {
    output.with_extension("meta.json")
}

/// Reads images as a batch `(batch, rows, columns)`: a PNG/JPEG (converted to grayscale,
/// values in [0, 1]) or a `.npy` of shape `(M, N)` or `(batch, M, N)`.
pub fn read_images(path: &Path) -> Result<ndarray::Array3<f64>, AppError> {
    match extension(path).as_str() {
        "png" | "jpg" | "jpeg" => {
            let img = image::open(path)
                .map_err(|e| AppError::format(path, format!("cannot decode image: {e}")))?
                .to_luma32f();
            let (w, h) = img.dimensions();
            let data: Vec<f64> = img.into_raw().into_iter().map(f64::from).collect();
            ndarray::Array3::from_shape_vec((1, h as usize, w as usize), data)
                .map_err(|e| AppError::format(path, e.to_string()))
        }
        "npy" => {
            let a = read_npy_any(path)?;
            let shape = a.shape().to_vec();
            let a = match shape.len() {
                2 => a.insert_axis(ndarray::Axis(0)),
                3 => a,
                _ => {
                    return Err(AppError::format(
                        path,
                        format!(
                        "expected an image (M, N) or a batch (batch, M, N), got shape {shape:?}"
                    ),
                    ))
                }
            };
            a.into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| AppError::format(path, e.to_string()))
        }
        other => Err(AppError::format(
            path,
            format!("unsupported input type `.{other}`: expected .png, .jpg or .npy"),
        )),
    }
}

/// Reads volumes `(batch, Z, Y, X)` from a `.npy` of shape `(Z, Y, X)` or `(batch, Z, Y, X)`.
pub fn read_volumes(path: &Path) -> Result<ndarray::Array4<f64>, AppError> {
    if extension(path) != "npy" {
        return Err(AppError::format(path, "volumes are read from .npy files"));
    }
    let a = read_npy_any(path)?;
    let shape = a.shape().to_vec();
    let a = match shape.len() {
        3 => a.insert_axis(ndarray::Axis(0)),
        4 => a,
        _ => {
            return Err(AppError::format(
                path,
                format!(
                    "expected a volume (Z, Y, X) or a batch (batch, Z, Y, X), got shape {shape:?}"
                ),
            ))
        }
    };
    a.into_dimensionality::<ndarray::Ix4>()
        .map_err(|e| AppError::format(path, e.to_string()))
}
