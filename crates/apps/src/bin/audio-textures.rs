//! `audio-textures`: microcanonical synthesis of sound textures from time-scattering
//! moments and from joint time-frequency scattering (JTFS) moments, beside the Gaussian
//! model (the same power spectrum, random phases), measured with McDermott and
//! Simoncelli's texture statistics.
//!
//! Each texture is an excerpt of `--length` samples from the middle of a recording,
//! standardised. The syntheses descend, with L-BFGS, the squared relative error of every
//! moment (each moment weighted by the inverse of its target value, so that second-order
//! moments count as much as first-order ones; the time and JTFS parts of the joint model
//! are weighted each against its own targets):
//! - time: `Scattering1d` with global averaging and periodic boundaries (Q = 8, J), from
//!   white noise, `--iters` iterations;
//! - joint: the same moments plus JTFS (Q = 8, J, J_fr = 3, T global, F local, in single
//!   precision): the spin-up and spin-down joint wavelets measure how envelope modulations
//!   move across frequency, which the time moments cannot see. It starts from the time
//!   synthesis (which already matches the time moments) and runs `--joint-iters` more
//!   iterations: a JTFS evaluation costs about 40 time-scattering ones.
//!
//! Statistics ([`scattering_apps::texture_stats`]): envelope mean, coefficient of
//! variation and skewness per subband, modulation power per subband and octave modulation
//! band, and the correlations between subband envelopes; each synthesis's distance to the
//! original's.
//!
//! ```text
//! scripts/fetch-data audio_textures
//! audio-textures --out out/audio-textures                     # data/cache/audio_textures
//! audio-textures --data DIR --digits FSDD_DIR --out OUT       # plus a babble of digits
//! audio-textures --input rain.wav --out OUT --quick
//! ```

use clap::Parser;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rayon::prelude::*;
use scattering_apps::figures::{cochleagrams_png, matrices_png};
use scattering_apps::io::{gb, memory_budget_bytes, read_signals, repo_path, Outputs};
use scattering_apps::synthesis::progress_bar;
use scattering_apps::texture_stats::{cochleagram, StatsDistance, StatsParams, TextureStats};
use scattering_apps::AppError;
use scattering_models::stats::gaussian_surrogate;
use scattering_models::{Concat, Microcanonical, Representation, ScatteringMoments, Weighted};
use scattering_transform::{
    Averaging, JointFormat, Padding, Scattering1dParams, TimeFrequencyParams,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Audio texture synthesis from time and joint time-frequency scattering moments")]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/audio-textures")]
    out: PathBuf,
    /// Folder of texture recordings (every .wav; default, when no --input is given:
    /// data/cache/audio_textures, which `scripts/fetch-data audio_textures` fills).
    #[arg(long)]
    data: Option<PathBuf>,
    /// A texture recording (repeatable), in addition to --data.
    #[arg(long)]
    input: Vec<PathBuf>,
    /// Folder of spoken digits (`{digit}_{speaker}_{n}.wav`): adds a babble of
    /// `--talkers` overlapping voices (the cocktail party).
    #[arg(long)]
    digits: Option<PathBuf>,
    /// Voices in the babble.
    #[arg(long, default_value_t = 6)]
    talkers: usize,
    /// Excerpt length in samples, a power of two (default 16384; 4096 with --quick).
    #[arg(long)]
    length: Option<usize>,
    /// Largest time scale 2^J of the moments (default 10; 8 with --quick).
    #[arg(short = 'J', long = "J")]
    j: Option<usize>,
    /// L-BFGS iterations of the time-scattering synthesis (default 1000; 50 with --quick).
    #[arg(long)]
    iters: Option<u64>,
    /// L-BFGS iterations of the JTFS synthesis, from the time synthesis (default 100; 15
    /// with --quick).
    #[arg(long)]
    joint_iters: Option<u64>,
    /// Seed of the white-noise start, the Gaussian model's phases and the babble.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Small run: short excerpts, few iterations, at most 3 textures.
    #[arg(long)]
    quick: bool,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

/// One texture to model.
struct Texture {
    name: String,
    sample_rate: u32,
    /// Standardised excerpt.
    x: Vec<f64>,
    /// The excerpt's standard deviation in the recording (to write the WAVs at its level).
    std: f64,
}

/// The `n` samples in the middle of `x`, standardised.
fn excerpt(name: &str, x: &[f64], n: usize, sample_rate: u32) -> Result<Texture, AppError> {
    if x.len() < n {
        return Err(AppError::Usage(format!(
            "{name}: {} samples, shorter than --length {n}",
            x.len()
        )));
    }
    let s = (x.len() - n) / 2;
    let seg = &x[s..s + n];
    let m = seg.iter().sum::<f64>() / n as f64;
    let sd = (seg.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
    if !(sd > 0.0 && sd.is_finite()) {
        return Err(AppError::Usage(format!(
            "{name}: the excerpt is silent or not finite"
        )));
    }
    Ok(Texture {
        name: name.to_string(),
        sample_rate,
        x: seg.iter().map(|v| (v - m) / sd).collect(),
        std: sd,
    })
}

/// A recording as mono samples and its sample rate.
fn read_mono(path: &Path) -> Result<(Vec<f64>, u32), AppError> {
    let sig = read_signals(path)?;
    let rate = sig
        .sample_rate
        .ok_or_else(|| AppError::format(path, "no sample rate (use a WAV file)"))?;
    let mono = sig
        .data
        .mean_axis(ndarray::Axis(0))
        .map_or_else(Vec::new, |m| m.to_vec());
    Ok((mono, rate))
}

/// The `.wav` files of `dir`, sorted.
fn wav_files(dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| AppError::io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    files.sort();
    Ok(files)
}

/// A babble of `talkers` voices: each a random sequence of the digit recordings with
/// short random pauses, from a random offset; the voices summed, `n` samples.
fn babble(dir: &Path, talkers: usize, n: usize, seed: u64) -> Result<(Vec<f64>, u32), AppError> {
    let files = wav_files(dir)?;
    if files.is_empty() || talkers == 0 {
        return Err(AppError::Usage(format!(
            "{}: the babble needs at least one .wav recording and one talker",
            dir.display()
        )));
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x00ba_661e);
    let mut mix = vec![0.0; n];
    let mut rate = None;
    for _ in 0..talkers {
        let mut t = rng.random_range(0..n / 4 + 1);
        while t < n {
            let f = &files[rng.random_range(0..files.len())];
            let (x, sr) = read_mono(f)?;
            match rate {
                None => rate = Some(sr),
                Some(r) if r != sr => {
                    return Err(AppError::format(
                        f,
                        format!("sample rate {sr} Hz differs from the other recordings' {r} Hz"),
                    ))
                }
                _ => {}
            }
            let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt();
            for (k, v) in x.iter().enumerate() {
                if t + k >= n {
                    break;
                }
                mix[t + k] += v / rms.max(1e-12);
            }
            t += x.len() + rng.random_range(0..sr as usize / 5 + 1);
        }
    }
    Ok((mix, rate.unwrap_or(8000)))
}

/// Settings of the models.
#[derive(Clone, Copy)]
struct Model {
    j: usize,
    iters: u64,
    joint_iters: u64,
    seed: u64,
}

/// The time-scattering moments of signals of length `n`.
fn time_moments(n: usize, j: usize) -> Result<Box<dyn Representation>, AppError> {
    let s = Scattering1dParams::new(n, j)
        .q((8, 1))
        .average(Averaging::Global)
        .padding(Padding::Periodic)
        .build()?;
    Ok(Box::new(ScatteringMoments::from_transform(s)))
}

/// The time moments and the JTFS moments, as two parts weighted each on its own (the
/// JTFS global averages are sums over time, about `n` times the time moments' means).
fn joint_moments(n: usize, j: usize) -> Result<Vec<Box<dyn Representation>>, AppError> {
    let s = TimeFrequencyParams::new(n, j, 3)
        .q((8, 1))
        .average(Averaging::Global)
        .format(JointFormat::Time)
        .build_f32()?;
    Ok(vec![
        time_moments(n, j)?,
        Box::new(ScatteringMoments::from_transform(s)),
    ])
}

#[derive(Serialize)]
struct ModelRun {
    moments: usize,
    /// `‖Φx − μ‖ / ‖μ‖` of the weighted moments at the end.
    moment_rel_error: f64,
    iterations: u64,
    seconds: f64,
}

#[derive(Serialize)]
struct TextureResult {
    name: String,
    sample_rate: u32,
    length: usize,
    models: BTreeMap<String, ModelRun>,
    /// Distance of each model's sound to the original in the texture statistics.
    distances: BTreeMap<String, StatsDistance>,
}

/// One texture: both syntheses, the Gaussian model, their statistics.
struct Done {
    result: TextureResult,
    sounds: Vec<(String, Vec<f64>)>,
}

/// A synthesis matching the moments of `x` under every part of `parts`, `iters`
/// iterations from `start` (white noise when `None`). Each part's moments are weighted
/// relative to its own targets, so no part's scale drowns another's.
fn synthesise(
    parts: Vec<Box<dyn Representation>>,
    x: &[f64],
    m: Model,
    iters: u64,
    start: Option<Vec<f64>>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<f64>, ModelRun), AppError> {
    let mut weighted: Vec<Box<dyn Representation>> = Vec::with_capacity(parts.len());
    for phi in parts {
        let target = phi.forward(x)?;
        weighted.push(Box::new(Weighted::relative(phi, &target, 1e-4)?));
    }
    let w = Concat::new(weighted)?;
    let wt = w.forward(x)?;
    let clock = Instant::now();
    let mut done = 0u64;
    let mut x = match start {
        Some(x0) => x0,
        None => Microcanonical {
            seed: m.seed,
            ..Microcanonical::default()
        }
        .start(w.input_len()),
    };
    let mut error = f64::INFINITY;
    // L-BFGS stops early when its line search fails (the single-precision JTFS gradient
    // is not exact at the last digits); a restart from the best point, with a fresh
    // memory, goes on until the budget is spent or a restart no longer helps.
    for _ in 0..8 {
        let remaining = iters - done;
        if remaining == 0 {
            break;
        }
        let sampler = Microcanonical {
            seed: m.seed,
            init_std: 1.0,
            max_iters: remaining,
            tol: 1e-12,
            memory: 20,
        };
        let mut last = 0usize;
        let mut report = |count: usize, _loss: f64| {
            // Cost evaluations, capped at the iterations left (line searches add a few).
            let c = count.min(remaining as usize);
            if c > last {
                progress((c - last) as u64);
                last = c;
            }
        };
        let draw = sampler.sample_from_with_progress(&w, &wt, x.clone(), &mut report)?;
        progress(draw.iterations.min(remaining).saturating_sub(last as u64));
        done += draw.iterations.clamp(1, remaining);
        let improved = draw.moment_rel_error < 0.99 * error;
        if draw.moment_rel_error < error {
            x = draw.x;
            error = draw.moment_rel_error;
        }
        if !improved {
            break;
        }
    }
    progress(iters - done);
    if !error.is_finite() {
        // No iteration ran (`--iters 0`): the error of the start itself.
        let r: Vec<f64> = w.forward(&x)?.iter().zip(&wt).map(|(a, b)| a - b).collect();
        let scale = wt.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE);
        error = (r.iter().map(|v| v * v).sum::<f64>() / scale).sqrt();
    }
    Ok((
        x,
        ModelRun {
            moments: wt.len(),
            moment_rel_error: error,
            iterations: done,
            seconds: clock.elapsed().as_secs_f64(),
        },
    ))
}

fn run_texture(t: &Texture, m: Model, progress: &(dyn Fn(u64) + Sync)) -> Result<Done, AppError> {
    let n = t.x.len();
    let (xt, time) = synthesise(
        vec![time_moments(n, m.j)?],
        &t.x,
        m,
        m.iters,
        None,
        progress,
    )?;
    let (xj, joint) = synthesise(
        joint_moments(n, m.j)?,
        &t.x,
        m,
        m.joint_iters,
        Some(xt.clone()),
        progress,
    )?;
    let mut rng = StdRng::seed_from_u64(m.seed ^ 0x9e37_79b9);
    let g = gaussian_surrogate(&t.x, (1, n), &mut rng)?;
    let p = StatsParams::new(f64::from(t.sample_rate));
    let reference = TextureStats::of(&t.x, &p)?;
    let mut distances = BTreeMap::new();
    for (name, y) in [("time", &xt), ("joint", &xj), ("gaussian", &g)] {
        distances.insert(
            name.to_string(),
            TextureStats::of(y, &p)?.distance(&reference)?,
        );
    }
    let mut models = BTreeMap::new();
    models.insert("time".to_string(), time);
    models.insert("joint".to_string(), joint);
    Ok(Done {
        result: TextureResult {
            name: t.name.clone(),
            sample_rate: t.sample_rate,
            length: n,
            models,
            distances,
        },
        sounds: vec![
            ("original".into(), t.x.clone()),
            ("time".into(), xt),
            ("joint".into(), xj),
            ("gaussian".into(), g),
        ],
    })
}

#[derive(Serialize)]
struct Summary {
    textures: usize,
    /// Textures where the JTFS synthesis is closer than the time synthesis on the
    /// cross-band envelope correlations.
    joint_closer_than_time_on_correlations: usize,
    /// Textures where the time synthesis is closer than the Gaussian model on the envelope
    /// moments.
    time_closer_than_gaussian_on_envelope_moments: usize,
    /// Same for the JTFS synthesis.
    joint_closer_than_gaussian_on_envelope_moments: usize,
    /// Mean distances over the textures, per model.
    mean_distances: BTreeMap<String, StatsDistance>,
}

#[derive(Serialize)]
struct Metrics {
    length: usize,
    j: usize,
    iterations: u64,
    joint_iterations: u64,
    seed: u64,
    textures: Vec<TextureResult>,
    summary: Summary,
}

fn mean_distance(rows: &[&StatsDistance]) -> StatsDistance {
    let k = rows.len().max(1) as f64;
    let avg = |f: fn(&StatsDistance) -> f64| rows.iter().map(|d| f(d)).sum::<f64>() / k;
    StatsDistance {
        envelope_moments: avg(|d| d.envelope_moments),
        envelope_mean: avg(|d| d.envelope_mean),
        envelope_cv2: avg(|d| d.envelope_cv2),
        envelope_skewness: avg(|d| d.envelope_skewness),
        modulation_power: avg(|d| d.modulation_power),
        correlations: avg(|d| d.correlations),
    }
}

fn table(m: &Metrics) -> String {
    let mut t = format!(
        "Excerpts of {} samples, J = {}; time synthesis {} L-BFGS iterations from white noise, \
         JTFS synthesis {} more from it. Distances of each model's statistics to the \
         original's (lower is closer).\n\n\
         | texture | rate (Hz) | envelope moments: time / joint / Gaussian | modulation power: \
         time / joint / Gaussian | envelope correlations: time / joint / Gaussian | moments \
         (time, joint) | seconds (time, joint) |\n|---|---:|---|---|---|---|---|\n",
        m.length, m.j, m.iterations, m.joint_iterations
    );
    let trio = |r: &TextureResult, f: fn(&StatsDistance) -> f64| {
        let d = |k: &str| r.distances.get(k).map_or(f64::NAN, f);
        format!(
            "{:.3} / {:.3} / {:.3}",
            d("time"),
            d("joint"),
            d("gaussian")
        )
    };
    for r in &m.textures {
        let mr = |k: &str| r.models.get(k);
        t += &format!(
            "| {} | {} | {} | {} | {} | {}, {} | {:.0}, {:.0} |\n",
            r.name,
            r.sample_rate,
            trio(r, |d| d.envelope_moments),
            trio(r, |d| d.modulation_power),
            trio(r, |d| d.correlations),
            mr("time").map_or(0, |x| x.moments),
            mr("joint").map_or(0, |x| x.moments),
            mr("time").map_or(0.0, |x| x.seconds),
            mr("joint").map_or(0.0, |x| x.seconds),
        );
    }
    let s = &m.summary;
    let md = |k: &str, f: fn(&StatsDistance) -> f64| s.mean_distances.get(k).map_or(f64::NAN, f);
    t += &format!(
        "| mean | | {:.3} / {:.3} / {:.3} | {:.3} / {:.3} / {:.3} | {:.3} / {:.3} / {:.3} | | |\n\n\
         JTFS closer than time scattering on the envelope correlations: {} of {} textures. \
         Closer than the Gaussian model on the envelope moments: time {} of {}, JTFS {} of {}.\n",
        md("time", |d| d.envelope_moments),
        md("joint", |d| d.envelope_moments),
        md("gaussian", |d| d.envelope_moments),
        md("time", |d| d.modulation_power),
        md("joint", |d| d.modulation_power),
        md("gaussian", |d| d.modulation_power),
        md("time", |d| d.correlations),
        md("joint", |d| d.correlations),
        md("gaussian", |d| d.correlations),
        s.joint_closer_than_time_on_correlations,
        s.textures,
        s.time_closer_than_gaussian_on_envelope_moments,
        s.textures,
        s.joint_closer_than_gaussian_on_envelope_moments,
        s.textures,
    );
    t
}

fn run(a: Args) -> Result<(), AppError> {
    let n = a.length.unwrap_or(if a.quick { 4096 } else { 16384 });
    let j = a.j.unwrap_or(if a.quick { 8 } else { 10 });
    let iters = a.iters.unwrap_or(if a.quick { 50 } else { 1000 });
    let joint_iters = a.joint_iters.unwrap_or(if a.quick { 15 } else { 100 });
    if !n.is_power_of_two() || j == 0 || j >= 20 || n < (4 << j) {
        return Err(AppError::Usage(format!(
            "--length must be a power of two of at least 4 x 2^J (got {n}, J = {j})"
        )));
    }
    // Memory: the L-BFGS history (2 x 20 vectors) and the JTFS workspace per thread, for
    // each texture synthesised at once.
    let probe = TimeFrequencyParams::new(n, j, 3)
        .q((8, 1))
        .average(Averaging::Global)
        .build_f32()?;
    let per_run =
        48 * 8 * n as u64 + rayon::current_num_threads() as u64 * probe.workspace_bytes() as u64;
    let need = rayon::current_num_threads() as u64 * per_run + (100 << 20);
    if need > memory_budget_bytes() {
        return Err(AppError::Usage(format!(
            "--length {n} with J = {j} needs about {} and {} may be used \
             (SCATTERING_MEMORY_LIMIT_GB sets it): use a shorter --length",
            gb(need),
            gb(memory_budget_bytes())
        )));
    }
    // The recordings.
    let mut paths: Vec<PathBuf> = a.input.clone();
    let data = match &a.data {
        Some(d) => Some(d.clone()),
        None if a.input.is_empty() => {
            let d = repo_path("data/cache/audio_textures");
            if !d.is_dir() {
                return Err(AppError::Usage(format!(
                    "{} does not exist: run scripts/fetch-data audio_textures, or pass --data or --input",
                    d.display()
                )));
            }
            Some(d)
        }
        None => None,
    };
    if let Some(d) = &data {
        let found = wav_files(d)?;
        if found.is_empty() {
            return Err(AppError::Usage(format!(
                "{}: no .wav recordings",
                d.display()
            )));
        }
        paths.extend(found);
    }
    if a.quick {
        paths.truncate(3);
    }
    let mut textures = Vec::new();
    for p in &paths {
        let name = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("texture")
            .to_string();
        let (x, sr) = read_mono(p)?;
        textures.push(excerpt(&name, &x, n, sr)?);
    }
    if let Some(d) = &a.digits {
        let (x, sr) = babble(d, a.talkers, n, a.seed)?;
        textures.push(excerpt("babble", &x, n, sr)?);
    }
    let mut names: Vec<&str> = textures.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(AppError::Usage(
            "two textures have the same file name; rename one".into(),
        ));
    }
    let m = Model {
        j,
        iters,
        joint_iters,
        seed: a.seed,
    };
    let pb = progress_bar(
        (iters + joint_iters) * textures.len() as u64,
        "syntheses",
        !a.no_progress,
    );
    let evals = AtomicU64::new(0);
    let progress = |k: u64| {
        let c = evals.fetch_add(k, Ordering::Relaxed) + k;
        pb.set_position(c.min(pb.length().unwrap_or(c)));
    };
    let done: Vec<Done> = textures
        .par_iter()
        .map(|t| run_texture(t, m, &progress))
        .collect::<Result<_, _>>()?;
    pb.finish_and_clear();

    // Outputs: WAVs, cochleagrams, correlation matrices, metrics.
    let mut out = Outputs::new();
    for (t, d) in textures.iter().zip(&done) {
        let dir = a.out.join(&t.name);
        let mut panels = Vec::new();
        let mut corr = Vec::new();
        let p = StatsParams::new(f64::from(t.sample_rate));
        let mut centres = Vec::new();
        for (label, y) in &d.sounds {
            let level: Vec<f64> = y.iter().map(|v| v * t.std).collect();
            out.wav(&dir.join(format!("{label}.wav")), &level, t.sample_rate)?;
            let (c, g) = cochleagram(y, f64::from(t.sample_rate), 48, 256)?;
            centres = c;
            let caption = match label.as_str() {
                "original" => "original".to_string(),
                "time" => "time scattering synthesis".to_string(),
                "joint" => "JTFS synthesis".to_string(),
                _ => "Gaussian model".to_string(),
            };
            panels.push((caption.clone(), g));
            corr.push((caption, TextureStats::of(y, &p)?.correlations));
        }
        let seconds = n as f64 / f64::from(t.sample_rate);
        let png = a.out.join(format!("{}_cochleagrams.png", t.name));
        let tmp = out.temp_path(&png)?;
        cochleagrams_png(
            &png,
            &tmp,
            &format!("{}: cochleagrams (48 ERB bands, log scale)", t.name),
            &panels,
            &centres,
            seconds,
        )?;
        let png = a.out.join(format!("{}_correlations.png", t.name));
        let tmp = out.temp_path(&png)?;
        matrices_png(
            &png,
            &tmp,
            &format!(
                "{}: correlations between subband envelopes (24 bands, low at top left; 0 to 1)",
                t.name
            ),
            &corr,
            (0.0, 1.0),
        )?;
    }
    let results: Vec<TextureResult> = done.into_iter().map(|d| d.result).collect();
    let count = |f: &dyn Fn(&TextureResult) -> bool| results.iter().filter(|r| f(r)).count();
    let dist = |r: &TextureResult, k: &str, f: fn(&StatsDistance) -> f64| {
        r.distances.get(k).map_or(f64::NAN, f)
    };
    let mut mean_distances = BTreeMap::new();
    for k in ["time", "joint", "gaussian"] {
        let rows: Vec<&StatsDistance> = results.iter().filter_map(|r| r.distances.get(k)).collect();
        mean_distances.insert(k.to_string(), mean_distance(&rows));
    }
    let summary = Summary {
        textures: results.len(),
        joint_closer_than_time_on_correlations: count(&|r| {
            dist(r, "joint", |d| d.correlations) < dist(r, "time", |d| d.correlations)
        }),
        time_closer_than_gaussian_on_envelope_moments: count(&|r| {
            dist(r, "time", |d| d.envelope_moments) < dist(r, "gaussian", |d| d.envelope_moments)
        }),
        joint_closer_than_gaussian_on_envelope_moments: count(&|r| {
            dist(r, "joint", |d| d.envelope_moments) < dist(r, "gaussian", |d| d.envelope_moments)
        }),
        mean_distances,
    };
    let metrics = Metrics {
        length: n,
        j,
        iterations: iters,
        joint_iterations: joint_iters,
        seed: a.seed,
        textures: results,
        summary,
    };
    let text = table(&metrics);
    out.json(&a.out.join("metrics.json"), &metrics)?;
    out.text(&a.out.join("table.md"), &text)?;
    out.commit()?;
    println!("{text}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("audio-textures: {e}");
        std::process::exit(1);
    }
}
