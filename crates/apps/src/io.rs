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

/// The memory a run may use, in bytes: `SCATTERING_MEMORY_LIMIT_GB` if set, else the
/// memory the system reports available (`MemAvailable` on Linux), else 8 GiB. Runs whose
/// estimated working memory exceeds it are refused before they start.
pub fn memory_budget_bytes() -> u64 {
    if let Some(g) = std::env::var("SCATTERING_MEMORY_LIMIT_GB")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|g| g.is_finite() && *g > 0.0)
    {
        return (g * (1u64 << 30) as f64) as u64;
    }
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(8 << 30, |kb| kb * 1024)
}

/// Gigabytes, one decimal.
pub fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / (1u64 << 30) as f64)
}

/// The largest input the tools read into memory, in bytes of float64 values: 4 GiB unless
/// the environment variable `SCATTERING_INPUT_LIMIT_GB` says otherwise. Inputs are checked
/// against it before anything is allocated.
pub fn input_limit_bytes() -> u64 {
    std::env::var("SCATTERING_INPUT_LIMIT_GB")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|g| g.is_finite() && *g > 0.0)
        .map_or(4 << 30, |g| (g * (1u64 << 30) as f64) as u64)
}

/// Refuses `values` float64 values if they exceed [`input_limit_bytes`].
pub fn check_input_size(path: &Path, values: u64) -> Result<(), AppError> {
    let bytes = values.saturating_mul(8);
    let limit = input_limit_bytes();
    if bytes > limit {
        return Err(AppError::format(
            path,
            format!(
                "{values} values need {} as float64, over the input limit of {} \
                 (set SCATTERING_INPUT_LIMIT_GB to raise it)",
                human_bytes(bytes),
                human_bytes(limit)
            ),
        ));
    }
    Ok(())
}

/// `bytes` in MiB or GiB, for messages.
fn human_bytes(bytes: u64) -> String {
    let mib = bytes as f64 / (1u64 << 20) as f64;
    if mib < 1024.0 {
        format!("{mib:.1} MiB")
    } else {
        format!("{:.1} GiB", mib / 1024.0)
    }
}

/// The parts of a `.npy` header the readers check before allocating.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// The dtype descriptor, e.g. `<f8`.
    pub descr: String,
    /// The array shape.
    pub shape: Vec<usize>,
    /// Bytes of one value.
    pub item_size: u64,
    /// Offset of the data in the file.
    pub data_offset: u64,
}

/// Reads and checks a `.npy` header: the magic string, the header dictionary, a shape whose
/// size does not overflow, and a file long enough for the data the header announces.
pub fn read_npy_header(path: &Path) -> Result<NpyHeader, AppError> {
    let h = npy_header_of_file(path)?;
    let count = h.shape.iter().product::<usize>() as u64;
    check_input_size(path, count)?;
    Ok(h)
}

/// [`read_npy_header`] without the input limit, for readers that stream the data.
pub(crate) fn npy_header_of_file(path: &Path) -> Result<NpyHeader, AppError> {
    use std::io::Read;
    let bad = |reason: String| AppError::format(path, reason);
    let mut f = File::open(path).map_err(|e| AppError::io(path, e))?;
    let file_len = f.metadata().map_err(|e| AppError::io(path, e))?.len();
    let mut pre = [0u8; 8];
    f.read_exact(&mut pre)
        .map_err(|_| bad("not a .npy file (shorter than its magic string)".into()))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (bad magic string)".into()));
    }
    let (len_bytes, start) = match pre[6] {
        1 => (2usize, 10u64),
        2 | 3 => (4, 12),
        v => {
            return Err(bad(format!(
                ".npy format version {v} is not supported (1 to 3 are)"
            )))
        }
    };
    let mut lb = [0u8; 4];
    f.read_exact(&mut lb[..len_bytes])
        .map_err(|_| bad("truncated .npy header".into()))?;
    let header_len = u32::from_le_bytes(lb) as u64;
    if start + header_len > file_len || header_len > 1 << 20 {
        return Err(bad(format!(
            "the .npy header claims {header_len} bytes, the file holds {file_len}"
        )));
    }
    let mut text = vec![0u8; header_len as usize];
    f.read_exact(&mut text)
        .map_err(|_| bad("truncated .npy header".into()))?;
    let text = String::from_utf8_lossy(&text);
    let field = |key: &str| -> Option<&str> {
        let at = text.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr")
        .and_then(|r| r.strip_prefix('\'').and_then(|r| r.split('\'').next()))
        .ok_or_else(|| bad("the .npy header has no `descr`".into()))?
        .to_string();
    let item_size: u64 = descr
        .trim_start_matches(['<', '>', '|', '='])
        .get(1..)
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| bad(format!("unreadable .npy dtype `{descr}`")))?;
    let shape_text = field("shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| bad("the .npy header has no `shape`".into()))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_end_matches('L').parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad(format!("unreadable .npy shape `({shape_text})`")))?;
    let data_offset = start + header_len;
    let count = shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| bad(format!("the .npy shape {shape:?} overflows")))?;
    let need = count
        .checked_mul(item_size)
        .ok_or_else(|| bad(format!("the .npy shape {shape:?} overflows")))?;
    let have = file_len - data_offset;
    if need > have {
        return Err(bad(format!(
            "the .npy header announces shape {shape:?} ({need} bytes of data), the file holds \
             {have} bytes: truncated or corrupt"
        )));
    }
    Ok(NpyHeader {
        descr,
        shape,
        item_size,
        data_offset,
    })
}

/// Reads a float32 or float64 `.npy` array of any dimension, as float64. The header is
/// checked against the file's length and the input limit before anything is allocated.
pub fn read_npy_any(path: &Path) -> Result<ArrayD<f64>, AppError> {
    let header = read_npy_header(path)?;
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| AppError::io(path, e))
    };
    match ArrayD::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(ReadNpyError::WrongDescriptor(_)) => ArrayD::<f32>::read_npy(open()?)
            .map(|a| a.mapv(f64::from))
            .map_err(|_| {
                AppError::format(
                    path,
                    format!("expected float32 or float64 values, got `{}`", header.descr),
                )
            }),
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
    let reader = open_wav(path)?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    check_input_size(path, u64::from(reader.len()))?;
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

/// Opens a WAV file and checks its header: channels, sample rate and sample format.
pub(crate) fn open_wav(path: &Path) -> Result<hound::WavReader<BufReader<File>>, AppError> {
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
    if channels == 0 {
        return Err(AppError::format(path, "the WAV header declares 0 channels"));
    }
    if spec.sample_rate == 0 {
        return Err(AppError::format(
            path,
            "the WAV header declares a sample rate of 0 Hz",
        ));
    }
    let bits_ok = match spec.sample_format {
        hound::SampleFormat::Int => (1..=32).contains(&spec.bits_per_sample),
        hound::SampleFormat::Float => spec.bits_per_sample == 32,
    };
    if !bits_ok {
        return Err(AppError::format(
            path,
            format!(
                "unsupported WAV sample format: {:?} with {} bits (integers of 1 to 32 bits or \
                 32-bit floats are read)",
                spec.sample_format, spec.bits_per_sample
            ),
        ));
    }
    Ok(reader)
}

fn read_csv(path: &Path) -> Result<Array2<f64>, AppError> {
    let len = std::fs::metadata(path)
        .map_err(|e| AppError::io(path, e))?
        .len();
    // At least two bytes a value ("1\n").
    check_input_size(path, len / 2)?;
    let text = std::fs::read_to_string(path).map_err(|e| AppError::io(path, e))?;
    parse_csv(&text).map_err(|reason| AppError::format(path, reason))
}

/// The first column of a CSV text (see [`read_signals`]). A UTF-8 byte-order mark is skipped;
/// comments (`#`) and blank lines are ignored; one header line is allowed before the values.
/// Decimal commas are refused rather than read as two columns: with `;` or tab separators a
/// comma inside a field is one, and a file whose every row is `integer,digits` under a
/// one-column header (or no header) is read as one too; such a file needs decimal points,
/// or a header naming its two columns.
pub fn parse_csv(text: &str) -> Result<Array2<f64>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let sep = |l: &str| {
        if l.contains(';') {
            ';'
        } else if l.contains('\t') {
            '\t'
        } else if l.contains(',') {
            ','
        } else {
            ' '
        }
    };
    let first_field = |l: &str| -> String {
        l.split(sep(l))
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .to_string()
    };
    let decimal_comma = |(line, l): (usize, &str)| {
        format!(
            "line {line}: `{l}` looks like a number with a decimal comma; write it with a \
             decimal point, or give a header line naming each column"
        )
    };
    let mut values = Vec::with_capacity(rows.len());
    let mut header: Option<&str> = None;
    for &(line, l) in &rows {
        let field = first_field(l);
        if sep(l) != ',' && field.contains(',') {
            return Err(decimal_comma((line, l)));
        }
        match field.parse::<f64>() {
            Ok(v) => values.push(v),
            // A header is allowed before the first value.
            Err(_) if values.is_empty() && header.is_none() => header = Some(l),
            Err(_) => return Err(format!("line {line}: `{field}` is not a number")),
        }
    }
    if values.is_empty() {
        return Err("no numeric values in the first column".into());
    }
    let one_column_header = header.is_none_or(|h| !h.contains([',', ';', '\t']));
    let int = |s: &str| {
        let s = s.strip_prefix('-').unwrap_or(s);
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    };
    let data_rows: Vec<&(usize, &str)> = rows.iter().filter(|(_, l)| Some(*l) != header).collect();
    let all_pairs = data_rows.iter().all(|(_, l)| {
        let parts: Vec<&str> = l.split(',').map(str::trim).collect();
        parts.len() == 2
            && int(parts[0])
            && !parts[1].is_empty()
            && parts[1].bytes().all(|b| b.is_ascii_digit())
    });
    if one_column_header && all_pairs {
        return Err(decimal_comma(*data_rows[0]));
    }
    let n = values.len();
    Array2::from_shape_vec((1, n), values).map_err(|e| e.to_string())
}

/// Files written to temporary names and renamed together by [`Outputs::commit`].
/// Dropping it without committing removes the temporary files.
///
/// All or nothing: the commit checks every destination, moves the files it replaces aside,
/// renames the new ones into place, and on any failure puts the old files back and removes
/// the new ones. Commits into one folder hold an OS lock on `.scattering.lock` so that two
/// runs (or two threads) writing the same outputs cannot mix their files. Temporary names carry the process
/// id (`.tmp<pid>-<n>.<name>`), so the temporaries of killed runs are recognised and removed by
/// the next run writing into that folder.
#[derive(Debug, Default)]
pub struct Outputs {
    pending: Vec<(PathBuf, PathBuf)>,
}

/// Whether process `pid` is running (Linux: `/proc/<pid>`); elsewhere every pid is taken as
/// alive, so nothing of another run is ever removed.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// The pid in a temporary name `.tmp<pid>-<n>.<name>` or a backup name `.bak<pid>-<n>.<name>`.
fn owner_pid(file_name: &str) -> Option<u32> {
    let rest = file_name
        .strip_prefix(".tmp")
        .or_else(|| file_name.strip_prefix(".bak"))?;
    rest.split(['.', '-']).next()?.parse().ok()
}

/// `<pid>-<n>`, unique to this process and this call: two writers of one process never
/// share a temporary name.
fn unique_tag() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// Removes the temporary files that runs no longer alive left in `dir`.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(".tmp") {
            if let Some(pid) = owner_pid(name) {
                if pid != std::process::id() && !process_alive(pid) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// Checks, before any computation, that `path` can be written: its folder exists or can be
/// created and takes a new file, and `path` is not a folder.
pub fn prepare_destination(path: &Path) -> Result<(), AppError> {
    if path.is_dir() {
        return Err(AppError::Usage(format!(
            "{} is a folder; give a file name",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    prepare_folder(dir)
}

/// Checks, before any computation, that the folder `dir` exists or can be created and takes
/// a new file. Nothing is created: a failed run leaves no empty folder behind.
pub fn prepare_folder(dir: &Path) -> Result<(), AppError> {
    let mut existing = dir;
    while !existing.exists() {
        existing = match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
    }
    if !existing.is_dir() {
        return Err(AppError::Usage(format!(
            "{} is a file, so the folder {} cannot be created",
            existing.display(),
            dir.display()
        )));
    }
    let probe = existing.join(format!(".tmp{}.probe", unique_tag()));
    File::create(&probe).map_err(|e| AppError::io(existing, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A lock on a folder's commits: an exclusive OS lock on `.scattering.lock` in the folder,
/// released when dropped or when the process dies (so no lock outlives its run). The file
/// itself stays: removing it would let two runs lock two different files.
struct FolderLock(#[allow(dead_code)] File);

impl FolderLock {
    /// Takes the lock of `dir`, waiting up to a minute for another run's commit.
    fn take(dir: &Path) -> Result<Self, AppError> {
        let path = dir.join(".scattering.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| AppError::io(&path, e))?;
        let start = std::time::Instant::now();
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(Self(f)),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if start.elapsed() > std::time::Duration::from_secs(60) {
                        return Err(AppError::Usage(format!(
                            "another run has been writing into {} for a minute; wait for it",
                            dir.display()
                        )));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(AppError::io(&path, e)),
            }
        }
    }
}

impl Outputs {
    /// No outputs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A temporary path next to `path`, registered for renaming to `path`.
    pub fn temp_path(&mut self, path: &Path) -> Result<PathBuf, AppError> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| AppError::io(dir, e))?;
        remove_stale_temporaries(dir);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| AppError::Usage(format!("invalid output path {}", path.display())))?;
        // The extension stays last: some writers choose the format by it.
        let tmp = path.with_file_name(format!(".tmp{}.{name}", unique_tag()));
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

    /// Writes a mono signal as a 16-bit PCM WAV file, scaled so that its peak sits at
    /// 0.9 of full scale (a silent signal is written as zeros).
    pub fn wav(&mut self, path: &Path, samples: &[f64], sample_rate: u32) -> Result<(), AppError> {
        let tmp = self.temp_path(path)?;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let err = |e: hound::Error| AppError::format(path, format!("cannot write WAV: {e}"));
        let mut w = hound::WavWriter::create(&tmp, spec).map_err(err)?;
        let peak = samples.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let gain = if peak > 0.0 && peak.is_finite() {
            0.9 * f64::from(i16::MAX) / peak
        } else {
            0.0
        };
        for &v in samples {
            w.write_sample((v * gain).round() as i16).map_err(err)?;
        }
        w.finalize().map_err(err)
    }

    /// Writes a text file (tables, reports).
    pub fn text(&mut self, path: &Path, text: &str) -> Result<(), AppError> {
        let tmp = self.temp_path(path)?;
        std::fs::write(&tmp, text).map_err(|e| AppError::io(&tmp, e))
    }

    /// Moves every file into place, or none: see the type's documentation.
    pub fn commit(mut self) -> Result<(), AppError> {
        let pending = std::mem::take(&mut self.pending);
        // Put back into `self`, so that a failure below still removes the temporaries.
        self.pending.clone_from(&pending);
        for (_, dst) in &pending {
            if dst.is_dir() {
                return Err(AppError::Usage(format!(
                    "{} is a folder; nothing was written",
                    dst.display()
                )));
            }
        }
        let mut dirs: Vec<PathBuf> = pending
            .iter()
            .map(|(tmp, _)| tmp.parent().unwrap_or(Path::new(".")).to_path_buf())
            .collect();
        dirs.sort();
        dirs.dedup();
        let _locks = dirs
            .iter()
            .map(|d| FolderLock::take(d))
            .collect::<Result<Vec<_>, _>>()?;
        let mut backups: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut placed: Vec<&PathBuf> = Vec::new();
        let result = (|| {
            for (_, dst) in &pending {
                if dst.exists() {
                    let name = dst.file_name().and_then(|n| n.to_str()).unwrap_or("out");
                    let bak = dst.with_file_name(format!(".bak{}.{name}", unique_tag()));
                    std::fs::rename(dst, &bak).map_err(|e| AppError::io(dst, e))?;
                    backups.push((bak, dst.clone()));
                }
            }
            for (tmp, dst) in &pending {
                std::fs::rename(tmp, dst).map_err(|e| AppError::io(dst, e))?;
                placed.push(dst);
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                for (bak, _) in &backups {
                    let _ = std::fs::remove_file(bak);
                }
                self.pending.clear();
                Ok(())
            }
            Err(e) => {
                for dst in placed {
                    let _ = std::fs::remove_file(dst);
                }
                for (bak, dst) in &backups {
                    let _ = std::fs::rename(bak, dst);
                }
                Err(e)
            }
        }
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
            let (w, h) = image::image_dimensions(path)
                .map_err(|e| AppError::format(path, format!("cannot read image header: {e}")))?;
            check_input_size(path, u64::from(w) * u64::from(h))?;
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
            let a = a
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| AppError::format(path, e.to_string()))?;
            if a.is_empty() {
                return Err(AppError::format(
                    path,
                    format!("the image batch is empty (shape {shape:?})"),
                ));
            }
            Ok(a)
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
    let a = a
        .into_dimensionality::<ndarray::Ix4>()
        .map_err(|e| AppError::format(path, e.to_string()))?;
    if a.is_empty() {
        return Err(AppError::format(
            path,
            format!("the volume batch is empty (shape {shape:?})"),
        ));
    }
    Ok(a)
}

/// Reads a grayscale image (PNG/JPEG/.npy, the first of a batch) as `size x size`: the
/// largest centred square whose side is a multiple `k size` of `size`, averaged over
/// `k x k` blocks. Large photographs keep their whole field of view, small ones a crop.
pub fn read_square_image(path: &Path, size: usize) -> Result<ndarray::Array2<f64>, AppError> {
    let batch = read_images(path)?;
    let (_, h, w) = batch.dim();
    let k = h.min(w) / size.max(1);
    if size == 0 || k == 0 {
        return Err(AppError::Usage(format!(
            "{}: {h}x{w} is smaller than the {size}x{size} image the run needs",
            path.display()
        )));
    }
    let side = k * size;
    let (top, left) = ((h - side) / 2, (w - side) / 2);
    let scale = 1.0 / (k * k) as f64;
    Ok(ndarray::Array2::from_shape_fn((size, size), |(i, j)| {
        let mut s = 0.0;
        for a in 0..k {
            for b in 0..k {
                s += batch[[0, top + i * k + a, left + j * k + b]];
            }
        }
        s * scale
    }))
}

/// `rel` (a path inside the repository, e.g. `data/images/camera.png`) from the working
/// directory when it exists there, otherwise from the repository this binary was built in,
/// so the default inputs are found from any directory.
pub fn repo_path(rel: &str) -> PathBuf {
    let here = Path::new(rel);
    if here.exists() {
        here.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel)
    }
}
