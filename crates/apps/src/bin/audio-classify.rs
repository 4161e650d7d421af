//! `audio-classify`: classification of real recordings with MFCC, time scattering, joint
//! time-frequency scattering and spiral scattering.
//!
//! Every task reads a folder of `{label}_{group}_{n}.wav` and holds out one group at a
//! time (leave one group out, over the groups present), or trains on `--data` and tests
//! on `--test-data`:
//! - `--task digits`: the group is the speaker (the Free Spoken Digit Dataset names its
//!   files `{digit}_{speaker}_{n}.wav`): speaker-independent accuracy.
//! - `--task drums`: the group is the drum kit (`scripts/fetch-data drums` writes
//!   `{class}_{kit}_{n}.wav` from Debian's hydrogen-drumkits): no kit is in both train and
//!   test.
//! - `--task instruments`: the group is the octave (`scripts/fetch-data instruments`
//!   writes `{instrument}_o{octave}_{midi}.wav` from the FluidR3 GM soundfont): the notes
//!   of the held-out octave are pitches the classifier never heard (pitch invariance).
//!
//! Each clip is placed in a window of `--length` samples (spoken words centred, drum hits
//! and notes from their onset; cropped or zero-padded) and scaled to unit RMS. The
//! features are averaged over the clip's own samples (translation invariant), or over
//! `--segments K` equal parts of it in order (a time-normalised template of a word),
//! log-compressed, and standardised on the training rows, or first on each group's own
//! rows with `--normalise group` (per-speaker normalisation). MFCC are 13 coefficients
//! and their deltas, mean and standard deviation over 25 ms frames; the scattering sets
//! are pooled from `T = 2^J` frames. Classifiers: multinomial logistic regression and Bruna and Mallat's
//! affine-space classifier, each tuned by 4-fold CV on the training rows.
//!
//! ```text
//! audio-classify --task digits --data DIR --out out/audio-classify/digits
//! audio-classify --task digits --data DIR --test-data DIR2 --out OUT
//! audio-classify --task digits --data DIR --out OUT --quick     # 8 clips per label and group
//! audio-classify --task drums --data data/cache/drums --out OUT
//! audio-classify --task instruments --data data/cache/instruments --out OUT
//! ```

use clap::{Parser, ValueEnum};
use ndarray::{Array2, Axis};
use rayon::prelude::*;
use scattering_apps::classify::fit_predict;
use scattering_apps::figures::confusion_png;
use scattering_apps::io::{read_signals, Outputs};
use scattering_apps::mfcc::{mfcc_segments, segment_range, MfccParams};
use scattering_apps::synthesis::progress_bar;
use scattering_apps::AppError;
use scattering_transform::{Averaging, Scattering1dParams, SpiralParams, TimeFrequencyParams};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How features are standardised before the classifiers.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Normalise {
    /// On the training rows only.
    Train,
    /// Each group on its own rows first (unsupervised, per speaker, kit or octave).
    Group,
}

impl Normalise {
    fn name(self) -> &'static str {
        match self {
            Normalise::Train => "train",
            Normalise::Group => "group",
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Task {
    /// Spoken digits, speaker-independent (group: speaker).
    Digits,
    /// Drum sounds, kit-independent (group: kit).
    Drums,
    /// Instrument notes, pitch-independent (group: octave).
    Instruments,
}

impl Task {
    fn name(self) -> &'static str {
        match self {
            Task::Digits => "digits",
            Task::Drums => "drums",
            Task::Instruments => "instruments",
        }
    }

    /// What a group of recordings is.
    fn group(self) -> &'static str {
        match self {
            Task::Digits => "speaker",
            Task::Drums => "kit",
            Task::Instruments => "octave",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Task::Digits => "Spoken digits",
            Task::Drums => "Drum sounds",
            Task::Instruments => "Instrument notes",
        }
    }

    /// Default window, J, segments and standardisation: one second at 8 kHz for words,
    /// with frames of 2^9 samples (64 ms) pooled over four segments; 0.74 s at 22,050 Hz
    /// for hits and notes, with modulations up to 2^9 samples (23 ms), over two segments
    /// for notes (attack, then decay) and one for hits.
    fn defaults(self) -> (usize, usize, usize, Normalise) {
        match self {
            Task::Digits => (8192, 9, 4, Normalise::Group),
            Task::Instruments => (16384, 9, 2, Normalise::Group),
            Task::Drums => (16384, 9, 1, Normalise::Train),
        }
    }

    /// Words sit anywhere in their recording; hits and notes start at their onset.
    fn onset_aligned(self) -> bool {
        !matches!(self, Task::Digits)
    }
}

#[derive(Parser)]
#[command(about = "Audio classification with MFCC, time, joint and spiral scattering")]
struct Args {
    /// The task.
    #[arg(long, value_enum, default_value = "digits")]
    task: Task,
    /// Folder of `{label}_{group}_{n}.wav` recordings.
    #[arg(long)]
    data: PathBuf,
    /// A separate test folder with the same naming (default: leave one group out).
    #[arg(long)]
    test_data: Option<PathBuf>,
    /// Output directory.
    #[arg(long, default_value = "out/audio-classify")]
    out: PathBuf,
    /// Window length in samples (default: 8192 for digits, 16384 for drums and
    /// instruments).
    #[arg(long)]
    length: Option<usize>,
    /// Largest time scale 2^J of the scattering features (default: 9).
    #[arg(short = 'J', long = "J")]
    j: Option<usize>,
    /// Small run: at most 8 clips per label and group.
    #[arg(long)]
    quick: bool,
    /// Time segments of every feature set: 1 averages over the whole clip (translation
    /// invariant); K > 1 averages over K equal segments of each clip's own samples, in
    /// order, which keeps the order of a word's sounds whatever the speaking rate
    /// (default: 4 for digits, 2 for instruments: attack, then decay; 1 for drums).
    #[arg(long)]
    segments: Option<usize>,
    /// Standardisation of the features: `train` (on the training rows, inside each
    /// classifier) or `group` (each speaker's, kit's or octave's rows on their own mean
    /// and deviation first, test group included, from its features alone and no labels:
    /// the per-speaker normalisation of speech recognition). Default: `group` for digits
    /// and instruments, whose groups hold every class alike; `train` for drums, whose
    /// kits do not (a kit's mean would then depend on which drums it has).
    #[arg(long, value_enum)]
    normalise: Option<Normalise>,
    /// Largest log-frequency scale `2^J_fr` of the joint features, in first-order
    /// channels (8 per octave).
    #[arg(long = "j-fr", default_value_t = 3)]
    j_fr: usize,
    /// Averaging of the joint features along log-frequency: `global` (transposition
    /// invariant) or a width in first-order channels (keeps the spectral envelope at that
    /// resolution).
    #[arg(short = 'F', long = "F", default_value = "global")]
    f: String,
    /// Second-order wavelets per octave of the joint and spiral features.
    #[arg(long = "q2", default_value_t = 2)]
    q2: usize,
    /// Feature sets, comma-separated: mfcc, time, joint, spiral, and joint-s1 (time
    /// scattering's first order, unaveraged along log-frequency, with the joint second
    /// order: Andén, Lostanlen and Mallat's 2019 layout).
    #[arg(long, default_value = "mfcc,time,joint,spiral")]
    features: String,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

/// One recording.
struct Clip {
    label: usize,
    group: usize,
    samples: Vec<f64>,
}

/// A labelled set of recordings.
struct Dataset {
    clips: Vec<Clip>,
    sample_rate: u32,
}

/// `{label}_{group}_{n}.wav` → `(label, group, n)`.
fn parse_name(path: &Path) -> Option<(String, String, u32)> {
    if path.extension()?.to_str()? != "wav" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let mut parts = stem.rsplitn(3, '_');
    let n = parts.next()?.parse().ok()?;
    let group = parts.next()?.to_string();
    let label = parts.next()?.to_string();
    Some((label, group, n))
}

/// Reads the recordings of `dir`, with label and group indices into the given name
/// lists (extended with new labels when `grow_labels`).
fn load(
    dir: &Path,
    labels: &mut Vec<String>,
    groups: &mut Vec<String>,
    grow_labels: bool,
    quick: bool,
) -> Result<Dataset, AppError> {
    let entries = std::fs::read_dir(dir).map_err(|e| AppError::io(dir, e))?;
    let mut files: Vec<(String, String, u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            parse_name(&p).map(|(l, s, n)| (l, s, n, p))
        })
        .collect();
    files.sort();
    if quick {
        // The first 8 of each label and group.
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        files.retain(|f| {
            let c = seen.entry((f.0.clone(), f.1.clone())).or_insert(0);
            *c += 1;
            *c <= 8
        });
    }
    if files.is_empty() {
        return Err(AppError::Usage(format!(
            "{}: no recordings named {{label}}_{{group}}_{{n}}.wav",
            dir.display()
        )));
    }
    let mut names: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    names.sort();
    names.dedup();
    for l in names {
        if !labels.contains(&l) {
            if !grow_labels {
                return Err(AppError::Usage(format!(
                    "{}: label `{l}` does not occur in the training data",
                    dir.display()
                )));
            }
            labels.push(l);
        }
    }
    let mut clips = Vec::with_capacity(files.len());
    let mut rate = None;
    for (l, s, _, path) in files {
        let sig = read_signals(&path)?;
        let sr = sig.sample_rate.unwrap_or(0);
        match rate {
            None => rate = Some(sr),
            Some(r) if r != sr => {
                return Err(AppError::format(
                    &path,
                    format!("sample rate {sr} Hz differs from the other files' {r} Hz"),
                ))
            }
            _ => {}
        }
        // Channels averaged to mono.
        let mono: Vec<f64> = sig
            .data
            .mean_axis(Axis(0))
            .map_or_else(Vec::new, |m| m.to_vec());
        if !groups.contains(&s) {
            groups.push(s.clone());
        }
        clips.push(Clip {
            label: labels.iter().position(|x| *x == l).unwrap_or(0),
            group: groups.iter().position(|x| *x == s).unwrap_or(0),
            samples: mono,
        });
    }
    Ok(Dataset {
        clips,
        sample_rate: rate.unwrap_or(0),
    })
}

/// The clips in windows of `n` samples (centred, or from their first sample when
/// `from_onset`), scaled to unit RMS: `(clips, n)`, and the range of each clip's own
/// samples in its window.
fn windows(
    clips: &[Clip],
    n: usize,
    from_onset: bool,
) -> (Array2<f64>, Vec<std::ops::Range<usize>>) {
    let mut x = Array2::zeros((clips.len(), n));
    let mut spans = Vec::with_capacity(clips.len());
    for (mut row, c) in x.axis_iter_mut(Axis(0)).zip(clips) {
        let len = c.samples.len();
        let (src, dst) = if from_onset {
            (0, 0)
        } else if len >= n {
            ((len - n) / 2, 0)
        } else {
            (0, (n - len) / 2)
        };
        let k = len.min(n);
        for i in 0..k {
            row[dst + i] = c.samples[src + i];
        }
        spans.push(dst..dst + k);
        let rms = (row.iter().map(|v| v * v).sum::<f64>() / k.max(1) as f64).sqrt();
        if rms > 0.0 {
            row.mapv_inplace(|v| v / rms);
        }
    }
    (x, spans)
}

/// `ln(1e-6 + S / d)` of globally averaged coefficients `(clips, channels, 1)`, where
/// `d` is the clip's own length (times `scale`): the mean over the clip rather than over
/// its window, so that the silence around a short clip does not shift every feature.
fn log_features(
    s: ndarray::ArrayView3<f64>,
    spans: &[std::ops::Range<usize>],
    scale: f64,
) -> Array2<f64> {
    let mut f = s.index_axis(Axis(2), 0).to_owned();
    for (mut row, sp) in f.axis_iter_mut(Axis(0)).zip(spans) {
        let d = scale * sp.len().max(1) as f64;
        row.mapv_inplace(|v| (1e-6 + v.max(0.0) / d).ln());
    }
    f
}

/// The scattering parameters shared by the feature sets.
struct Config {
    /// Largest time scale `2^J`.
    j: usize,
    /// Largest log-frequency scale of the joint features.
    j_fr: usize,
    /// Log-frequency averaging width of the joint features (`None`: global).
    f: Option<usize>,
    /// Second-order wavelets per octave (joint and spiral).
    q2: usize,
}

impl Config {
    /// Joint time-frequency scattering of `n` samples with these settings.
    fn joint(&self, n: usize) -> TimeFrequencyParams {
        let p = TimeFrequencyParams::new(n, self.j, self.j_fr).q((8, self.q2));
        match self.f {
            Some(f) => p.f(f),
            None => p.average_fr(Averaging::Global),
        }
    }
}

/// The features of each clip averaged over `k` equal segments of the clip's own samples,
/// in order (a time-normalised template: a word's first, middle and last sounds land in
/// the same segments whatever the speaker's rate). The scattering sets are computed with
/// local averaging `T = 2^J`; their frames are pooled by segment, then log-compressed.
fn segmented_features(
    name: &str,
    x: &Array2<f64>,
    spans: &[std::ops::Range<usize>],
    sr: f64,
    c: &Config,
    k: usize,
) -> Result<Array2<f64>, AppError> {
    let n = x.ncols();
    let j = c.j;
    let joint3 = |sx: ndarray::ArrayD<f64>| {
        sx.into_dimensionality::<ndarray::Ix3>()
            .map_err(|e| AppError::Usage(e.to_string()))
    };
    Ok(match name {
        "mfcc" => {
            let p = MfccParams::new(sr);
            let rows: Result<Vec<Vec<f64>>, AppError> = x
                .axis_iter(Axis(0))
                .into_par_iter()
                .zip(spans.par_iter())
                .map(|(r, sp)| mfcc_segments(&r.to_vec()[sp.clone()], &p, k))
                .collect();
            rows_to_array(rows?)
        }
        "time" => {
            let s = Scattering1dParams::new(n, j).q((8, 1)).build()?;
            log_segments(s.forward(x.view())?.view(), spans, n, k)
        }
        "joint" => {
            let s = c.joint(n).build()?;
            log_segments(joint3(s.forward(x.view())?)?.view(), spans, n, k)
        }
        "joint-s1" => {
            let s1 = Scattering1dParams::new(n, j).max_order(1).build()?;
            let a = log_segments(s1.forward(x.view())?.view(), spans, n, k);
            let s = c.joint(n).build()?;
            let keep = order_two(&s);
            let sx = joint3(s.forward(x.view())?)?;
            let b = log_segments(sx.select(Axis(1), &keep).view(), spans, n, k);
            ndarray::concatenate![Axis(1), a, b]
        }
        "spiral" => {
            let s = SpiralParams::new(n, j).q((8, c.q2)).build()?;
            log_segments(s.forward(x.view())?.view(), spans, n, k)
        }
        other => {
            return Err(AppError::Usage(format!(
                "unknown feature set `{other}`: expected mfcc, time, joint, joint-s1 or spiral"
            )))
        }
    })
}

/// Standardises each group's rows on their own mean and standard deviation.
fn group_standardise(f: &mut Array2<f64>, group: &[usize]) {
    let ng = group.iter().max().map_or(0, |g| g + 1);
    for g in 0..ng {
        let rows: Vec<usize> = (0..f.nrows()).filter(|&i| group[i] == g).collect();
        if rows.is_empty() {
            continue;
        }
        for c in 0..f.ncols() {
            let m = rows.iter().map(|&i| f[[i, c]]).sum::<f64>() / rows.len() as f64;
            let v = rows.iter().map(|&i| (f[[i, c]] - m).powi(2)).sum::<f64>() / rows.len() as f64;
            let sd = v.sqrt().max(1e-12);
            for &i in &rows {
                f[[i, c]] = (f[[i, c]] - m) / sd;
            }
        }
    }
}

/// Rows of equal length stacked into a matrix.
fn rows_to_array(rows: Vec<Vec<f64>>) -> Array2<f64> {
    let d = rows.first().map_or(0, Vec::len);
    Array2::from_shape_fn((rows.len(), d), |(i, k)| rows[i][k])
}

/// The channels of a joint transform's order-2 paths.
fn order_two(s: &scattering_transform::TimeFrequencyScattering) -> Vec<usize> {
    s.meta()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.order == 2)
        .map(|(i, _)| i)
        .collect()
}

/// `ln(1e-6 + mean)` of locally averaged coefficients `(clips, channels, frames)` over the
/// frames of each of `k` equal segments of the clip's span (frame `t` stands for sample
/// `t n / frames`): `(clips, channels x k)`, channel-major.
fn log_segments(
    s: ndarray::ArrayView3<f64>,
    spans: &[std::ops::Range<usize>],
    n: usize,
    k: usize,
) -> Array2<f64> {
    let (b, ch, nt) = s.dim();
    let hop = n as f64 / nt.max(1) as f64;
    let mut f = Array2::zeros((b, ch * k));
    for (i, sp) in spans.iter().enumerate().take(b) {
        // The frames whose sample lies in the span; at least the one nearest its centre.
        let first = ((sp.start as f64 / hop).ceil() as usize).min(nt.saturating_sub(1));
        let last = ((sp.end as f64 / hop).ceil() as usize).clamp(first + 1, nt.max(1));
        let m = last - first;
        for seg in 0..k {
            let (a, z) = segment_range(m, k, seg);
            for c in 0..ch {
                let mean =
                    (first + a..first + z).map(|t| s[[i, c, t]]).sum::<f64>() / (z - a) as f64;
                f[[i, c * k + seg]] = (1e-6 + mean.max(0.0)).ln();
            }
        }
    }
    f
}

/// Features of every clip for one feature set.
fn features(
    name: &str,
    x: &Array2<f64>,
    spans: &[std::ops::Range<usize>],
    sr: f64,
    c: &Config,
    segments: usize,
) -> Result<Array2<f64>, AppError> {
    let n = x.ncols();
    let j = c.j;
    // MFCC are always computed on the clip's own samples (frames of silence would dominate
    // their statistics), one segment being the whole clip.
    if segments > 1 || name == "mfcc" {
        return segmented_features(name, x, spans, sr, c, segments);
    }
    // Global averages over the window, as means over each clip.
    let per_sample = 1.0 / n as f64;
    Ok(match name {
        "time" => {
            let s = Scattering1dParams::new(n, j)
                .q((8, 1))
                .average(Averaging::Global)
                .build()?;
            // Scattering1d's global averaging is the mean over the window.
            log_features(s.forward(x.view())?.view(), spans, per_sample)
        }
        "joint" => {
            let s = c.joint(n).average(Averaging::Global).build()?;
            let sx = s.forward(x.view())?;
            let sx = sx
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| AppError::Usage(e.to_string()))?;
            // Kymatio's global averaging sums over the padded time axis.
            log_features(sx.view(), spans, 1.0)
        }
        "joint-s1" => {
            // First order of time scattering, then the joint paths of order 2 only.
            let s1 = Scattering1dParams::new(n, j)
                .max_order(1)
                .average(Averaging::Global)
                .build()?;
            let a = log_features(s1.forward(x.view())?.view(), spans, per_sample);
            let s = c.joint(n).average(Averaging::Global).build()?;
            let keep = order_two(&s);
            let sx = s.forward(x.view())?;
            let sx = sx
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| AppError::Usage(e.to_string()))?;
            let b = log_features(sx.select(Axis(1), &keep).view(), spans, 1.0);
            ndarray::concatenate![Axis(1), a, b]
        }
        "spiral" => {
            let s = SpiralParams::new(n, j)
                .q((8, c.q2))
                .average(Averaging::Global)
                .build()?;
            log_features(s.forward(x.view())?.view(), spans, 1.0)
        }
        other => {
            return Err(AppError::Usage(format!(
                "unknown feature set `{other}`: expected mfcc, time, joint, joint-s1 or spiral"
            )))
        }
    })
}

#[derive(Serialize)]
struct Row {
    features: String,
    classifier: String,
    accuracy: f64,
    class_average_error: f64,
    seconds: f64,
    /// Accuracy on each held-out group (leave one group out).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    per_group: BTreeMap<String, f64>,
    dimension: usize,
}

#[derive(Serialize)]
struct Metrics {
    task: &'static str,
    protocol: String,
    labels: Vec<String>,
    /// What a group is: speaker, kit or octave.
    group: &'static str,
    groups: Vec<String>,
    clips: usize,
    test_clips: usize,
    window: usize,
    /// Equal segments of each clip whose features are kept apart.
    segments: usize,
    /// Standardisation: `train` or `group`.
    normalise: &'static str,
    /// Largest time scale `2^J`.
    j: usize,
    /// The joint features' `J_fr`, `F` (`global` or a width) and `Q2`.
    j_fr: usize,
    f: String,
    q2: usize,
    sample_rate: u32,
    results: Vec<Row>,
}

/// Accuracy and class-average error (the mean over classes of each class's error rate).
fn scores(pred: &[usize], truth: &[usize], k: usize) -> (f64, f64, Array2<f64>) {
    let mut conf = Array2::zeros((k, k));
    for (&p, &t) in pred.iter().zip(truth) {
        conf[[t, p]] += 1.0;
    }
    let acc = (0..k).map(|c| conf[[c, c]]).sum::<f64>() / pred.len().max(1) as f64;
    let errs: Vec<f64> = (0..k)
        .filter(|&c| conf.row(c).sum() > 0.0)
        .map(|c| 1.0 - conf[[c, c]] / conf.row(c).sum())
        .collect();
    (
        acc,
        errs.iter().sum::<f64>() / errs.len().max(1) as f64,
        conf,
    )
}

fn run(a: Args) -> Result<(), AppError> {
    let t0 = Instant::now();
    let task = a.task;
    let (length, j, segments, normalise) = {
        let (l, j, k, z) = task.defaults();
        (
            a.length.unwrap_or(l),
            a.j.unwrap_or(j),
            a.segments.unwrap_or(k),
            a.normalise.unwrap_or(z),
        )
    };
    if j >= usize::BITS as usize || length < (1 << j) {
        return Err(AppError::Usage(format!(
            "--length {length} is shorter than 2^J (J = {j})"
        )));
    }
    if segments == 0 {
        return Err(AppError::Usage("--segments 0: expected at least 1".into()));
    }
    let sets: Vec<String> = a
        .features
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let (mut labels, mut groups) = (Vec::new(), Vec::new());
    let train = load(&a.data, &mut labels, &mut groups, true, a.quick)?;
    let test = match &a.test_data {
        Some(d) => Some(load(d, &mut labels, &mut groups, false, a.quick)?),
        None => None,
    };
    if let Some(t) = &test {
        if t.sample_rate != train.sample_rate {
            return Err(AppError::Usage(format!(
                "the test recordings are at {} Hz, the training ones at {} Hz",
                t.sample_rate, train.sample_rate
            )));
        }
    }
    let train_groups: Vec<usize> = {
        let mut v: Vec<usize> = train.clips.iter().map(|c| c.group).collect();
        v.sort();
        v.dedup();
        v
    };
    let noun = task.group();
    if test.is_none() && train_groups.len() < 2 {
        return Err(AppError::Usage(format!(
            "leaving one {noun} out needs recordings of at least two {noun}s (or --test-data)"
        )));
    }
    let sr = f64::from(train.sample_rate.max(1));
    let k = labels.len();
    // All clips in one matrix: training rows first, then the test rows.
    let n_train = train.clips.len();
    let sample_rate = train.sample_rate;
    let has_test = test.is_some();
    let mut owned = train.clips;
    if let Some(t) = test {
        owned.extend(t.clips);
    }
    let (x, spans) = windows(&owned, length, task.onset_aligned());
    let y: Vec<usize> = owned.iter().map(|c| c.label).collect();
    let config = Config {
        j,
        j_fr: a.j_fr,
        f: match a.f.as_str() {
            "global" => None,
            w => Some(w.parse().map_err(|_| {
                AppError::Usage(format!("-F {w}: expected `global` or a width in channels"))
            })?),
        },
        q2: a.q2,
    };
    let pb = progress_bar(sets.len() as u64, "features", !a.no_progress);
    let mut results = Vec::new();
    let mut best: Option<(f64, String, Array2<f64>)> = None;
    for set in &sets {
        pb.set_message(set.clone());
        let tf = Instant::now();
        let mut f = features(set, &x, &spans, sr, &config, segments)?;
        if normalise == Normalise::Group {
            let gid: Vec<usize> = owned.iter().map(|c| c.group).collect();
            group_standardise(&mut f, &gid);
        }
        let feature_seconds = tf.elapsed().as_secs_f64();
        for classifier in ["logistic", "affine"] {
            let tc = Instant::now();
            let mut pred = vec![0usize; owned.len()];
            let mut per_group = BTreeMap::new();
            let eval: Vec<usize> = if has_test {
                let tr: Vec<usize> = (0..n_train).collect();
                let te: Vec<usize> = (n_train..owned.len()).collect();
                let p = fit_predict(classifier, f.view(), &y, &tr, &te)?;
                for (&i, q) in te.iter().zip(p) {
                    pred[i] = q;
                }
                te
            } else {
                for &g in &train_groups {
                    let (te, tr): (Vec<usize>, Vec<usize>) =
                        (0..n_train).partition(|&i| owned[i].group == g);
                    let p = fit_predict(classifier, f.view(), &y, &tr, &te)?;
                    let right = te.iter().zip(&p).filter(|(&i, &q)| y[i] == q).count();
                    per_group.insert(groups[g].clone(), right as f64 / te.len().max(1) as f64);
                    for (&i, q) in te.iter().zip(p) {
                        pred[i] = q;
                    }
                }
                (0..n_train).collect()
            };
            let p: Vec<usize> = eval.iter().map(|&i| pred[i]).collect();
            let t: Vec<usize> = eval.iter().map(|&i| y[i]).collect();
            let (acc, cae, conf) = scores(&p, &t, k);
            eprintln!(
                "{set} + {classifier}: accuracy {:.2}%, class-average error {:.3}",
                100.0 * acc,
                cae
            );
            if best.as_ref().is_none_or(|b| acc > b.0) {
                best = Some((acc, format!("{set} + {classifier}"), conf));
            }
            results.push(Row {
                features: set.clone(),
                classifier: classifier.into(),
                accuracy: acc,
                class_average_error: cae,
                seconds: feature_seconds + tc.elapsed().as_secs_f64(),
                per_group,
                dimension: f.ncols(),
            });
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let protocol = if has_test {
        "train on --data, test on --test-data".to_string()
    } else {
        format!("leave one {noun} out ({} {noun}s)", train_groups.len())
    };
    let metrics = Metrics {
        task: task.name(),
        protocol: protocol.clone(),
        labels: labels.clone(),
        group: noun,
        groups: groups.clone(),
        clips: n_train,
        test_clips: owned.len() - n_train,
        window: length,
        segments,
        normalise: normalise.name(),
        j,
        j_fr: a.j_fr,
        f: a.f.clone(),
        q2: a.q2,
        sample_rate,
        results,
    };
    let mut table = format!(
        "{}, {protocol}: {} clips at {} Hz, windows of {} samples, J = {}, {} segment(s) per clip, standardised per {}; joint: J_fr = {}, F = {}, Q2 = {}.\n\n\
         | features | classifier | dimension | accuracy (%) | class-average error | seconds |\n|---|---|---:|---:|---:|---:|\n",
        task.title(),
        metrics.clips,
        metrics.sample_rate,
        length,
        j,
        segments,
        match normalise {
            Normalise::Train => "training set",
            Normalise::Group => noun,
        },
        a.j_fr,
        a.f,
        a.q2
    );
    for r in &metrics.results {
        table += &format!(
            "| {} | {} | {} | {:.2} | {:.3} | {:.1} |\n",
            r.features,
            r.classifier,
            r.dimension,
            100.0 * r.accuracy,
            r.class_average_error,
            r.seconds
        );
    }
    table += &format!("\nTotal {:.0} s.\n", t0.elapsed().as_secs_f64());
    let mut out = Outputs::new();
    if let Some((acc, name, conf)) = &best {
        let png = a.out.join("confusion.png");
        let tmp = out.temp_path(&png)?;
        confusion_png(
            &png,
            &tmp,
            &format!(
                "{}, {name}: {:.1}% ({protocol})",
                task.title().to_lowercase(),
                100.0 * acc
            ),
            conf.view(),
            &labels,
        )?;
    }
    out.json(&a.out.join("metrics.json"), &metrics)?;
    out.text(&a.out.join("table.md"), &table)?;
    out.commit()?;
    println!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("audio-classify: {e}");
        std::process::exit(1);
    }
}
