//! Long signals read piece by piece from disk, and `.npy` outputs written piece by piece,
//! so a recording of any length is transformed in bounded memory (see
//! `scattering_transform::BlockedScattering1d`).

use crate::error::AppError;
use crate::io::{npy_header_of_file, open_wav, read_signals};
use ndarray::{Array2, ArrayView3, ArrayViewMut2};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

enum Source {
    Wav {
        reader: hound::WavReader<BufReader<File>>,
        spec: hound::WavSpec,
    },
    Npy {
        file: File,
        offset: u64,
        f32: bool,
    },
    Memory(Array2<f64>),
}

/// A batch of signals (rows) read by ranges of samples: WAV and `.npy` from disk (only the
/// range asked for is read), CSV whole (CSV files of hours of audio do not occur).
pub struct SignalStream {
    path: PathBuf,
    source: Source,
    /// Number of signals (WAV channels, `.npy` rows).
    pub rows: usize,
    /// Samples per signal.
    pub len: usize,
    /// Sample rate in Hz, for WAV files.
    pub sample_rate: Option<u32>,
}

impl SignalStream {
    /// Opens `path` and checks its header, reading no samples (CSV: reads it whole).
    pub fn open(path: &Path) -> Result<Self, AppError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let (source, rows, len, sample_rate) = match ext.as_str() {
            "wav" => {
                let reader = open_wav(path)?;
                let spec = reader.spec();
                let rows = spec.channels as usize;
                let len = reader.duration() as usize;
                if len == 0 {
                    return Err(AppError::format(path, "the WAV file has no samples"));
                }
                (
                    Source::Wav { reader, spec },
                    rows,
                    len,
                    Some(spec.sample_rate),
                )
            }
            "npy" => {
                let h = npy_header_of_file(path)?;
                let f32 = match h.descr.as_str() {
                    "<f8" => false,
                    "<f4" => true,
                    d => {
                        return Err(AppError::format(
                            path,
                            format!("expected little-endian float32 or float64 values, got `{d}`"),
                        ))
                    }
                };
                let (rows, len) = match h.shape[..] {
                    [n] => (1, n),
                    [b, n] => (b, n),
                    _ => {
                        return Err(AppError::format(
                            path,
                            format!(
                                "expected a 1-D signal or a 2-D batch of signals, got shape {:?}",
                                h.shape
                            ),
                        ))
                    }
                };
                if rows == 0 || len == 0 {
                    return Err(AppError::format(path, "the array is empty"));
                }
                let file = File::open(path).map_err(|e| AppError::io(path, e))?;
                (
                    Source::Npy {
                        file,
                        offset: h.data_offset,
                        f32,
                    },
                    rows,
                    len,
                    None,
                )
            }
            _ => {
                let s = read_signals(path)?;
                let (rows, len) = s.data.dim();
                (Source::Memory(s.data), rows, len, s.sample_rate)
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            source,
            rows,
            len,
            sample_rate,
        })
    }

    /// Fills `buf` (`(rows, n)`) with samples `start..start + n` of every signal.
    pub fn read(&mut self, start: usize, mut buf: ArrayViewMut2<'_, f64>) -> Result<(), AppError> {
        let n = buf.ncols();
        let path = &self.path;
        if start + n > self.len || buf.nrows() != self.rows {
            return Err(AppError::format(path, "read past the end of the signal"));
        }
        match &mut self.source {
            Source::Memory(a) => buf.assign(&a.slice(ndarray::s![.., start..start + n])),
            Source::Wav { reader, spec } => {
                reader
                    .seek(start as u32)
                    .map_err(|e| AppError::io(path, e))?;
                let rows = self.rows;
                let scale = 1.0 / (1u64 << (spec.bits_per_sample.max(1) - 1)) as f64;
                let mut k = 0usize;
                let corrupt =
                    |e: hound::Error| AppError::format(path, format!("corrupt WAV data: {e}"));
                match spec.sample_format {
                    hound::SampleFormat::Int => {
                        for v in reader.samples::<i32>().take(n * rows) {
                            buf[[k % rows, k / rows]] = v.map_err(corrupt)? as f64 * scale;
                            k += 1;
                        }
                    }
                    hound::SampleFormat::Float => {
                        for v in reader.samples::<f32>().take(n * rows) {
                            buf[[k % rows, k / rows]] = f64::from(v.map_err(corrupt)?);
                            k += 1;
                        }
                    }
                }
                if k != n * rows {
                    return Err(AppError::format(
                        path,
                        "the WAV file ends before its header says",
                    ));
                }
            }
            Source::Npy { file, offset, f32 } => {
                let size = if *f32 { 4 } else { 8 };
                let mut bytes = vec![0u8; n * size];
                for r in 0..self.rows {
                    let at = *offset + ((r * self.len + start) * size) as u64;
                    file.seek(SeekFrom::Start(at))
                        .and_then(|_| file.read_exact(&mut bytes))
                        .map_err(|e| AppError::io(path, e))?;
                    for (t, b) in bytes.chunks_exact(size).enumerate() {
                        buf[[r, t]] = if *f32 {
                            f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        } else {
                            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                        };
                    }
                }
            }
        }
        Ok(())
    }
}

/// A float64 `.npy` file of shape `(batch, channels, time)` written by time ranges.
pub struct NpyTimeWriter {
    file: File,
    path: PathBuf,
    shape: [usize; 3],
    offset: u64,
}

impl NpyTimeWriter {
    /// Creates `path` (a temporary file of [`crate::io::Outputs`]) with its header, sized
    /// for the whole array.
    pub fn create(path: &Path, shape: [usize; 3]) -> Result<Self, AppError> {
        let io = |e| AppError::io(path, e);
        let mut file = File::create(path).map_err(io)?;
        let dict = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}, {}), }}",
            shape[0], shape[1], shape[2]
        );
        // Magic, version 1.0, header length; the header padded to 64 bytes, ending in \n.
        let total = (10 + dict.len() + 1).div_ceil(64) * 64;
        let mut header = Vec::with_capacity(total);
        header.extend_from_slice(b"\x93NUMPY\x01\x00");
        header.extend_from_slice(&((total - 10) as u16).to_le_bytes());
        header.extend_from_slice(dict.as_bytes());
        header.resize(total - 1, b' ');
        header.push(b'\n');
        file.write_all(&header).map_err(io)?;
        let bytes = shape.iter().try_fold(8u64, |a, &d| a.checked_mul(d as u64));
        let bytes = bytes.ok_or_else(|| AppError::Usage("the output would be too large".into()))?;
        file.set_len(total as u64 + bytes).map_err(io)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            shape,
            offset: total as u64,
        })
    }

    /// Writes `coeffs` (`(batch, channels, n)`) at times `t0..t0 + n`.
    pub fn write(&mut self, t0: usize, coeffs: ArrayView3<'_, f64>) -> Result<(), AppError> {
        let [b, c, t] = self.shape;
        let (cb, cc, n) = coeffs.dim();
        if cb != b || cc != c || t0 + n > t {
            return Err(AppError::format(
                &self.path,
                "block outside the output array",
            ));
        }
        let mut bytes = Vec::with_capacity(n * 8);
        for i in 0..b {
            for j in 0..c {
                bytes.clear();
                for v in coeffs.slice(ndarray::s![i, j, ..]) {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
                let at = self.offset + (((i * c + j) * t + t0) * 8) as u64;
                self.file
                    .write_all_at(&bytes, at)
                    .map_err(|e| AppError::io(&self.path, e))?;
            }
        }
        Ok(())
    }

    /// Flushes the file to disk.
    pub fn finish(self) -> Result<(), AppError> {
        self.file
            .sync_all()
            .map_err(|e| AppError::io(&self.path, e))
    }
}
