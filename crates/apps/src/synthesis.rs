//! The common part of the synthesis experiments (`textures`, `ising`, `cox`, `turbulence`,
//! `multifractal`): a microcanonical scattering synthesis of one or more realisations, the
//! Gaussian baseline with the same power spectrum, the figures of merit that are not the
//! fitted loss, and the pictures.
//!
//! Every field is standardised with the mean and standard deviation of the originals before
//! synthesis, so distances are in units of the original's standard deviation.

use crate::error::AppError;
use crate::figures::register_font;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plotters::prelude::*;
use rand::{rngs::StdRng, SeedableRng};
use scattering_models::stats::{
    gaussian_surrogate, radial_spectrum, spectrum_rel_error, wasserstein1,
};
use scattering_models::{
    Concat, Marginal, Microcanonical, Pooled, Quantiles, ReducedSpectra, Reduction, Representation,
    ScatteringSpectra, SpectraKind, SpectraLabel, Weighted,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Sampler settings shared by the experiment binaries.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// L-BFGS iteration cap.
    pub iters: u64,
    /// Seed of the white-noise start and of the Gaussian baseline.
    pub seed: u64,
    /// Standard deviation of the white-noise start, in units of the originals' standard
    /// deviation. Frequencies no wavelet sees keep their starting energy, so a small start
    /// (0.1) keeps them quiet.
    pub init_std: f64,
    /// Stop when the relative loss `½‖Φx − μ‖²/‖μ‖²` falls below this (0: run every
    /// iteration, as a benchmark does).
    pub tol: f64,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Figures of one experiment, as written to `metrics.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// Experiment name.
    pub name: String,
    /// Field shape (`[1, n]` for 1D signals).
    pub shape: [usize; 2],
    /// Realisations whose moments were averaged into the target.
    pub realisations: usize,
    /// Number of moments of the representation.
    pub moments: usize,
    /// `‖Φ(synthesis) − μ‖ / ‖μ‖`.
    pub moment_rel_error: f64,
    /// The same for the Gaussian baseline: how much the power spectrum alone misses.
    pub moment_rel_error_gaussian: f64,
    /// Wasserstein-1 distance between the value histograms of the originals and the synthesis.
    pub hist_distance_scattering: f64,
    /// The same for the Gaussian baseline.
    pub hist_distance_gaussian: f64,
    /// Mean relative error of the band spectrum (8 bands per octave) of the synthesis.
    pub spectrum_error_scattering: f64,
    /// The same for the Gaussian baseline (nonzero only through the single-draw noise when
    /// several realisations make the target).
    pub spectrum_error_gaussian: f64,
    /// L-BFGS iterations run.
    pub iterations: u64,
    /// Evaluations of the cost (each with a gradient, plus line-search retries).
    pub cost_evaluations: usize,
    /// Wall time of the synthesis: written to `timings.json`, not `metrics.json`, so that
    /// a run's results are byte-identical from one run (and thread count) to the next.
    #[serde(skip)]
    pub seconds: f64,
    /// Experiment-specific figures.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A synthesis with its baseline, both in the originals' units.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scattering synthesis.
    pub synthesis: Vec<f64>,
    /// A draw of the Gaussian model with the first original's power spectrum.
    pub gaussian: Vec<f64>,
    /// Its figures.
    pub metrics: Metrics,
    /// Loss at every cost evaluation.
    pub loss_curve: Vec<f64>,
}

/// Scattering spectra as a synthesis model for `originals`: each band power is weighted by
/// the inverse of its target (the originals standardised together, as [`synthesise`] sees
/// them), so the descent sees relative errors; the other moments are already normalised
/// by the powers. (Weighting every group of cross moments to the same RMS instead fit an
/// MRW's intermittency worse.)
pub fn spectra_model(phi: ScatteringSpectra, originals: &[Vec<f64>]) -> Result<Weighted, AppError> {
    let labels = phi.labels().to_vec();
    weighted_spectra(Box::new(phi), &labels, originals)
}

/// [`spectra_model`] for spectra averaged over rotations or dilations.
pub fn reduced_spectra_model(
    phi: ReducedSpectra,
    originals: &[Vec<f64>],
) -> Result<Weighted, AppError> {
    let labels = phi.labels().to_vec();
    weighted_spectra(Box::new(phi), &labels, originals)
}

fn weighted_spectra(
    phi: Box<dyn Representation>,
    labels: &[SpectraLabel],
    originals: &[Vec<f64>],
) -> Result<Weighted, AppError> {
    let (m, s) = mean_std(originals);
    let mut target = vec![0.0; phi.output_len()];
    for o in originals {
        let z: Vec<f64> = o
            .iter()
            .map(|v| (v - m) / s.max(f64::MIN_POSITIVE))
            .collect();
        for (t, v) in target.iter_mut().zip(phi.forward(&z)?) {
            *t += v / originals.len().max(1) as f64;
        }
    }
    // Densities relative to their targets; the energy outside every filter relative to
    // the largest density, since an original may have next to none there.
    let top = labels
        .iter()
        .zip(&target)
        .filter(|(l, _)| l.kind == SpectraKind::Power)
        .fold(0.0f64, |a, (_, t)| a.max(t.abs()));
    let w = labels
        .iter()
        .zip(&target)
        .map(|(l, t)| match l.kind {
            SpectraKind::Power => 1.0 / t.abs().max(1e-12),
            SpectraKind::Outside => 1.0 / t.abs().max(1e-3 * top).max(1e-12),
            // Flatness is 2 or more: relative, like the densities.
            SpectraKind::Flatness => 1.0 / t.abs().max(1e-12),
            _ => 1.0,
        })
        .collect();
    Ok(Weighted::new(phi, w)?)
}

/// `model` with the first four moments of the values ([`Marginal`]) beside it, each
/// weighted 1 (of order 1 on the standardised fields [`synthesise`] matches): the
/// one-point statistics that decide whether the histogram has one mode or two, which the
/// wavelet moments leave free.
pub fn with_marginal(model: Box<dyn Representation>) -> Result<Concat, AppError> {
    let n = model.input_len();
    Ok(Concat::new(vec![
        model,
        Box::new(Weighted::new(Box::new(Marginal { n }), vec![1.0; 4])?),
    ])?)
}

/// Number of quantile blocks of [`with_quantiles`].
pub const QUANTILE_BLOCKS: usize = 64;

/// `model` with the histogram of the values beside it, as [`QUANTILE_BLOCKS`] quantile
/// means ([`Quantiles`]) each weighted `1/sqrt(q)` (of order 1 in all on the standardised
/// fields, their squared error a Wasserstein-2 distance between the histograms): the
/// whole one-point law, atoms included, where [`with_marginal`] sets four moments of it.
pub fn with_quantiles(model: Box<dyn Representation>) -> Result<Concat, AppError> {
    let n = model.input_len();
    let q = QUANTILE_BLOCKS.min(n);
    Ok(Concat::new(vec![
        model,
        Box::new(Weighted::new(
            Box::new(Quantiles::new(n, q)?),
            vec![1.0 / (q as f64).sqrt(); q],
        )?),
    ])?)
}

/// The one-point statistics set beside the scattering spectra (`--marginal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MarginalKind {
    /// None: the spectra alone.
    #[value(alias = "false")]
    None,
    /// The first four moments of the values ([`with_marginal`]).
    #[value(alias = "true")]
    Moments,
    /// The quantile means of the values ([`with_quantiles`]).
    Quantiles,
}

impl MarginalKind {
    /// `model` with these statistics beside it.
    pub fn wrap(self, model: Box<dyn Representation>) -> Result<Box<dyn Representation>, AppError> {
        Ok(match self {
            MarginalKind::None => model,
            MarginalKind::Moments => Box::new(with_marginal(model)?),
            MarginalKind::Quantiles => Box::new(with_quantiles(model)?),
        })
    }
}

/// The models a fidelity entry compares with the originals: `(key, fields)`, keys as the
/// issue names them (`scattering_spectra`, `scattering_moments`, `gaussian`), and one field
/// or several of the originals' shape end to end (pooled: histograms over all their
/// values, spectra averaged over the fields).
pub type Models<'a> = [(&'a str, &'a [f64])];

/// One entry of a `fidelity` block: `{"original": .., <model>: ..}` with `stat` of each
/// model's field.
pub fn fidelity_entry(
    original: f64,
    models: &Models<'_>,
    stat: &dyn Fn(&[f64]) -> Result<f64, AppError>,
) -> Result<serde_json::Value, AppError> {
    let mut e = serde_json::Map::new();
    e.insert("original".into(), serde_json::json!(original));
    for (m, x) in models {
        e.insert((*m).into(), serde_json::json!(stat(x)?));
    }
    Ok(serde_json::Value::Object(e))
}

/// The image statistics every 2D synthesis reports in its `fidelity` block:
/// `spectrum_error_max`, the largest relative error of the radial band spectrum (2 bands
/// per octave, against the originals' mean spectrum), and `histogram_w1`, the
/// Wasserstein-1 distance of the value histograms in units of the originals' standard
/// deviation.
pub fn image_fidelity(
    originals: &[Vec<f64>],
    shape: (usize, usize),
    models: &Models<'_>,
) -> Result<serde_json::Map<String, serde_json::Value>, AppError> {
    let spec = |x: &[f64]| radial_spectrum(x, shape, 2);
    let all = originals
        .iter()
        .map(|x| spec(x))
        .collect::<Result<Vec<_>, _>>()?;
    let k = all.first().map_or(0, Vec::len);
    let reference: Vec<f64> = (0..k)
        .map(|i| all.iter().map(|s| s[i]).sum::<f64>() / all.len() as f64)
        .collect();
    let floor = 1e-10 * reference.iter().fold(0.0f64, |a, v| a.max(*v));
    let sd = mean_std(originals).1.max(f64::MIN_POSITIVE);
    let pooled: Vec<f64> = originals.concat();
    let mut block = serde_json::Map::new();
    block.insert(
        "spectrum_error_max".into(),
        fidelity_entry(0.0, models, &|x| {
            let s = pooled_spectrum(x, shape, 2)?;
            Ok(reference
                .iter()
                .zip(&s)
                .filter(|(r, _)| **r > floor)
                .map(|(r, v)| (v - r).abs() / r)
                .fold(0.0f64, f64::max))
        })?,
    );
    block.insert(
        "histogram_w1".into(),
        fidelity_entry(0.0, models, &|x| Ok(wasserstein1(&pooled, x)? / sd))?,
    );
    Ok(block)
}

/// The mean radial band spectrum of the fields of `shape` laid end to end in `x`.
fn pooled_spectrum(
    x: &[f64],
    shape: (usize, usize),
    bins_per_octave: usize,
) -> Result<Vec<f64>, AppError> {
    let size = (shape.0 * shape.1).max(1);
    if x.is_empty() || !x.len().is_multiple_of(size) {
        return Err(AppError::Usage(format!(
            "{} values are not whole fields of {shape:?}",
            x.len()
        )));
    }
    let mut mean: Vec<f64> = Vec::new();
    for field in x.chunks(size) {
        let s = radial_spectrum(field, shape, bins_per_octave)?;
        if mean.is_empty() {
            mean = vec![0.0; s.len()];
        }
        for (m, v) in mean.iter_mut().zip(&s) {
            *m += v;
        }
    }
    let count = (x.len() / size) as f64;
    Ok(mean.into_iter().map(|m| m / count).collect())
}

/// The two plots every 2D synthesis adds for `name`: `<name>_spectrum.png`, the radial
/// band spectrum (4 bands per octave, log-log) of the originals (their mean) and of each
/// model, and `<name>_histogram.png`, the value histograms (60 bins over the originals'
/// range widened by a tenth, in units of the originals' standard deviation, log density).
pub fn fidelity_plots(
    name: &str,
    originals: &[Vec<f64>],
    shape: (usize, usize),
    models: &Models<'_>,
) -> Result<[Plot; 2], AppError> {
    let spec = |x: &[f64]| radial_spectrum(x, shape, 4);
    let all = originals
        .iter()
        .map(|x| spec(x))
        .collect::<Result<Vec<_>, _>>()?;
    let k = all.first().map_or(0, Vec::len);
    let mean: Vec<f64> = (0..k)
        .map(|i| all.iter().map(|s| s[i]).sum::<f64>() / all.len() as f64)
        .collect();
    // Band b covers |k| in [2^(b/4), 2^((b+1)/4)): drawn at its lower edge.
    let curve = |label: &str, s: &[f64]| crate::plots::Series {
        name: label.to_string(),
        points: s
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(b, v)| (2f64.powf(b as f64 / 4.0), *v))
            .collect(),
    };
    let mut spectra = vec![curve("original", &mean)];
    for (m, x) in models {
        spectra.push(curve(&m.replace('_', " "), &pooled_spectrum(x, shape, 4)?));
    }
    let (mu, sd) = mean_std(originals);
    let sd = sd.max(f64::MIN_POSITIVE);
    let pooled: Vec<f64> = originals.concat();
    let (lo, hi) = pooled
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min((v - mu) / sd), b.max((v - mu) / sd))
        });
    let pad = 0.1 * (hi - lo).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let bins = 60;
    let width = (hi - lo) / bins as f64;
    let hist = |label: &str, x: &[f64]| {
        let mut c = vec![0usize; bins];
        for v in x {
            let z = (v - mu) / sd;
            if z >= lo && z < hi {
                c[(((z - lo) / width) as usize).min(bins - 1)] += 1;
            }
        }
        crate::plots::Series {
            name: label.to_string(),
            points: c
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(b, n)| {
                    (
                        lo + (b as f64 + 0.5) * width,
                        *n as f64 / (x.len() as f64 * width),
                    )
                })
                .collect(),
        }
    };
    let mut histograms = vec![hist("original", &pooled)];
    for (m, x) in models {
        histograms.push(hist(&m.replace('_', " "), x));
    }
    Ok([
        Plot {
            file: format!("{name}_spectrum.png"),
            title: format!("{name}: radial band spectrum"),
            labels: ("|k| (cycles per side)".into(), "power".into()),
            series: spectra,
            log: (true, true),
        },
        Plot {
            file: format!("{name}_histogram.png"),
            title: format!("{name}: value histogram"),
            labels: (
                "value (original standard deviations)".into(),
                "density".into(),
            ),
            series: histograms,
            log: (false, true),
        },
    ])
}

/// Mean and standard deviation of all values.
pub fn mean_std(fields: &[Vec<f64>]) -> (f64, f64) {
    let n = fields.iter().map(|f| f.len()).sum::<usize>().max(1) as f64;
    let m = fields.iter().flatten().sum::<f64>() / n;
    let v = fields
        .iter()
        .flatten()
        .map(|x| (x - m).powi(2))
        .sum::<f64>()
        / n;
    (m, v.sqrt())
}

fn skewness(v: &[f64]) -> f64 {
    let (m, s) = mean_std(std::slice::from_ref(&v.to_vec()));
    v.iter()
        .map(|x| ((x - m) / s.max(f64::MIN_POSITIVE)).powi(3))
        .sum::<f64>()
        / v.len() as f64
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// A progress bar over `len` steps, hidden when `show` is false.
pub fn progress_bar(len: u64, msg: &str, show: bool) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if show {
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} {elapsed} {wide_msg}")
        {
            pb.set_style(style.progress_chars("=> "));
        }
    } else {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_message(msg.to_string());
    pb
}

/// Synthesises a field whose moments `Φ` match the average over `originals` (all of
/// `shape`), draws the Gaussian baseline, and measures both. The descent starts from `start`
/// (in standardised units) or, when `None`, from white noise of standard deviation
/// `settings.init_std`.
pub fn synthesise(
    name: &str,
    phi: &dyn Representation,
    originals: &[Vec<f64>],
    shape: (usize, usize),
    settings: Settings,
    start: Option<Vec<f64>>,
) -> Result<Outcome, AppError> {
    Ok(synthesise_pooled(name, phi, 1, originals, shape, settings, start)?.0)
}

/// [`synthesise`] for `count` fields drawn together, whose moments match the target on
/// average ([`Pooled`]), as the originals' do: realisations of an intermittent process
/// differ, and separate syntheses would each be pulled to the average. Returns the first
/// field's [`Outcome`] (its histogram distance and spectrum error taken over all the
/// fields, its moment error the pooled one) and every field. `start`, when given, holds
/// the `count` fields end to end.
pub fn synthesise_pooled(
    name: &str,
    phi: &dyn Representation,
    count: usize,
    originals: &[Vec<f64>],
    shape: (usize, usize),
    settings: Settings,
    start: Option<Vec<f64>>,
) -> Result<(Outcome, Vec<Vec<f64>>), AppError> {
    let n = shape.0 * shape.1;
    if originals.is_empty() || originals.iter().any(|o| o.len() != n) || phi.input_len() != n {
        return Err(AppError::Usage(format!(
            "{name}: need at least one original of {shape:?} matching the representation"
        )));
    }
    let (m, s) = mean_std(originals);
    if !(s > 0.0 && s.is_finite()) {
        return Err(AppError::Usage(format!(
            "{name}: the originals are constant"
        )));
    }
    let z: Vec<Vec<f64>> = originals
        .iter()
        .map(|o| o.iter().map(|v| (v - m) / s).collect())
        .collect();
    let k = phi.output_len();
    let mut target = vec![0.0; k];
    for zi in &z {
        for (t, v) in target.iter_mut().zip(phi.forward(zi)?) {
            *t += v / z.len() as f64;
        }
    }
    let pooled_phi = Pooled::new(Box::new(phi), count)?;
    // One field samples `phi` itself (the pooled wrapper would only add a pass).
    let model: &dyn Representation = if count == 1 { phi } else { &pooled_phi };
    let pb = progress_bar(settings.iters, name, settings.progress);
    let mut report = |count: usize, loss: f64| {
        pb.set_position((count as u64).min(settings.iters));
        pb.set_message(format!("loss {loss:.2e}"));
    };
    let clock = Instant::now();
    let sampler = Microcanonical {
        seed: settings.seed,
        init_std: settings.init_std,
        max_iters: settings.iters,
        tol: settings.tol,
        memory: 20,
    };
    let mut rng = StdRng::seed_from_u64(settings.seed ^ 0x9e37_79b9);
    let g = gaussian_surrogate(&z[0], shape, &mut rng)?;
    let draw = match start {
        Some(x0) => sampler.sample_from_with_progress(model, &target, x0, &mut report)?,
        None => sampler.sample_with_progress(model, &target, &mut report)?,
    };
    let seconds = clock.elapsed().as_secs_f64();
    // Moments built from |x * ψ| cannot tell x from 2 mean(x) − x: when Φ has that symmetry,
    // keep the representative whose skewness has the originals' sign (field by field).
    let sign = skewness(&z.concat());
    let mut fields = Vec::with_capacity(count);
    for f in draw.x.chunks_exact(n) {
        let mx = f.iter().sum::<f64>() / n as f64;
        let flipped: Vec<f64> = f.iter().map(|v| 2.0 * mx - v).collect();
        if rel(&phi.forward(&flipped)?, &phi.forward(f)?) < 1e-6 && skewness(f) * sign < 0.0 {
            fields.push(flipped);
        } else {
            fields.push(f.to_vec());
        }
    }
    pb.finish_and_clear();
    let pooled: Vec<f64> = z.iter().flatten().copied().collect();
    let mean_spectrum = |xs: &[Vec<f64>]| -> Result<Vec<f64>, AppError> {
        let mut spec: Vec<f64> = Vec::new();
        for x in xs {
            let b = radial_spectrum(x, shape, 8)?;
            if spec.is_empty() {
                spec = vec![0.0; b.len()];
            }
            spec.iter_mut()
                .zip(b)
                .for_each(|(a, v)| *a += v / xs.len() as f64);
        }
        Ok(spec)
    };
    let spec = mean_spectrum(&z)?;
    let metrics = Metrics {
        name: name.to_string(),
        shape: [shape.0, shape.1],
        realisations: originals.len(),
        moments: k,
        moment_rel_error: draw.moment_rel_error,
        moment_rel_error_gaussian: rel(&phi.forward(&g)?, &target),
        hist_distance_scattering: wasserstein1(&pooled, &fields.concat())?,
        hist_distance_gaussian: wasserstein1(&pooled, &g)?,
        spectrum_error_scattering: spectrum_rel_error(&spec, &mean_spectrum(&fields)?)?,
        spectrum_error_gaussian: spectrum_rel_error(&spec, &radial_spectrum(&g, shape, 8)?)?,
        iterations: draw.iterations,
        cost_evaluations: draw.loss_curve.len(),
        seconds,
        extra: BTreeMap::new(),
    };
    let back = |v: &[f64]| v.iter().map(|x| m + s * x).collect::<Vec<f64>>();
    let fields: Vec<Vec<f64>> = fields.iter().map(|f| back(f)).collect();
    Ok((
        Outcome {
            synthesis: fields[0].clone(),
            gaussian: back(&g),
            metrics,
            loss_curve: draw.loss_curve,
        },
        fields,
    ))
}

/// The Markdown table of a set of experiments.
pub fn table(rows: &[Metrics]) -> String {
    let mut t = String::from(
        "| experiment | size | moments | moment error | W1 scattering | W1 Gaussian | W1 ratio | \
         spectrum error scattering | spectrum error Gaussian | iterations |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let size = if r.shape[0] == 1 {
            format!("{}", r.shape[1])
        } else {
            format!("{}×{}", r.shape[0], r.shape[1])
        };
        t += &format!(
            "| {} | {} | {} | {:.1e} | {:.4} | {:.4} | {:.2}× | {:.3} | {:.3} | {} |\n",
            r.name,
            size,
            r.moments,
            r.moment_rel_error,
            r.hist_distance_scattering,
            r.hist_distance_gaussian,
            r.hist_distance_gaussian / r.hist_distance_scattering.max(f64::MIN_POSITIVE),
            r.spectrum_error_scattering,
            r.spectrum_error_gaussian,
            r.iterations,
        );
    }
    t
}

/// One picture of a grid: a caption and a row-major field of `shape`.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Caption drawn above the picture.
    pub caption: String,
    /// Values, row-major.
    pub data: Vec<f64>,
    /// `(rows, columns)`.
    pub shape: (usize, usize),
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return 0.0;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    s[((q * (s.len() - 1) as f64).round() as usize).min(s.len() - 1)]
}

/// Draws rows of grayscale pictures (e.g. original | scattering synthesis | Gaussian model).
/// Each row shares the grey scale of its first picture (0.5% and 99.5% quantiles), so
/// contrasts compare; small pictures are enlarged by an integer factor.
pub fn image_grid_png(
    path: &Path,
    tmp: &Path,
    title: &str,
    rows: &[Vec<Panel>],
) -> Result<(), AppError> {
    register_font();
    let err = |e: &dyn std::fmt::Display| AppError::Figure {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(p) = rows
        .iter()
        .flatten()
        .find(|p| p.data.len() != p.shape.0 * p.shape.1)
    {
        return Err(err(&format!(
            "panel `{}` has {} values for shape {:?}",
            p.caption,
            p.data.len(),
            p.shape
        )));
    }
    let all = || rows.iter().flatten();
    let side = all().map(|p| p.shape.0.max(p.shape.1)).max().unwrap_or(1);
    let zoom = (256 / side).max(1);
    let (ch, cw) = (
        all().map(|p| p.shape.0).max().unwrap_or(1) * zoom,
        all().map(|p| p.shape.1).max().unwrap_or(1) * zoom,
    );
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(1);
    let (pad, cap, top) = (12usize, 24usize, 40usize);
    let width = (pad + cols * (cw + pad)) as u32;
    let height = (top + rows.len() * (ch + cap + pad)) as u32;
    let root = BitMapBackend::new(tmp, (width.max(400), height)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| crate::figures::drawing_error(path, e))?;
    let style = ("sans-serif", 20).into_font().color(&BLACK);
    root.draw_text(title, &style, (pad as i32, 10))
        .map_err(|e| crate::figures::drawing_error(path, e))?;
    let small = ("sans-serif", 15).into_font().color(&BLACK);
    for (r, row) in rows.iter().enumerate() {
        let Some(first) = row.first() else { continue };
        let (lo, hi) = (quantile(&first.data, 0.005), quantile(&first.data, 0.995));
        let span = (hi - lo).max(1e-12);
        let y0 = top + r * (ch + cap + pad);
        for (c, p) in row.iter().enumerate() {
            let x0 = pad + c * (cw + pad);
            root.draw_text(&p.caption, &small, (x0 as i32, y0 as i32 + 2))
                .map_err(|e| crate::figures::drawing_error(path, e))?;
            let (h, w) = p.shape;
            for i in 0..h * zoom {
                for j in 0..w * zoom {
                    let v = p.data[(i / zoom) * w + j / zoom];
                    let g = (((v - lo) / span).clamp(0.0, 1.0) * 255.0) as u8;
                    root.draw_pixel(((x0 + j) as i32, (y0 + cap + i) as i32), &RGBColor(g, g, g))
                        .map_err(|e| crate::figures::drawing_error(path, e))?;
                }
            }
        }
    }
    root.present()
        .map_err(|e| crate::figures::drawing_error(path, e))
}

/// `{"experiments": [...]}`, the shape of every synthesis binary's `metrics.json`, with
/// any top-level objects a binary adds (e.g. `fidelity_by_texture`).
#[derive(Debug, Serialize)]
pub struct MetricsFile<'a> {
    /// One entry per experiment.
    pub experiments: &'a [Metrics],
    /// Further top-level keys.
    #[serde(flatten)]
    pub extra: &'a serde_json::Map<String, serde_json::Value>,
}

/// Everything a synthesis binary writes, committed together (no half-written directory).
pub struct Report {
    /// Output directory.
    pub dir: std::path::PathBuf,
    /// Title of the picture grid.
    pub title: String,
    /// File name of the picture grid (e.g. `textures.png`).
    pub figure: String,
    /// Rows of pictures.
    pub rows: Vec<Vec<Panel>>,
    /// One row of `metrics.json` per experiment.
    pub metrics: Vec<Metrics>,
    /// Loss curves, drawn to `loss.png`.
    pub curves: Vec<crate::plots::Series>,
    /// Arrays saved as `<name>.npy`: name, values, shape.
    pub arrays: Vec<(String, Vec<f64>, (usize, usize))>,
    /// Wall times of other steps (seconds), written to `timings.json` beside each
    /// experiment's.
    pub timings: BTreeMap<String, f64>,
    /// Top-level objects of `metrics.json` beside `experiments`.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Further curve plots, each drawn to its own PNG.
    pub plots: Vec<Plot>,
}

/// A curve plot a [`Report`] draws: file name, title, axis labels, curves, log axes.
pub struct Plot {
    /// File name in the report's directory.
    pub file: String,
    /// Title.
    pub title: String,
    /// Axis labels `(x, y)`.
    pub labels: (String, String),
    /// The curves.
    pub series: Vec<crate::plots::Series>,
    /// Logarithmic `(x, y)` axes.
    pub log: (bool, bool),
}

impl Report {
    /// Adds an experiment's outcome: its metrics, loss curve, arrays and a picture row
    /// `first original | scattering synthesis | Gaussian model` (for 2D fields).
    pub fn add(&mut self, original: &[f64], o: Outcome, caption: &str) {
        let name = o.metrics.name.clone();
        let shape = (o.metrics.shape[0], o.metrics.shape[1]);
        if shape.0 > 1 {
            let panel = |caption: String, data: Vec<f64>| Panel {
                caption,
                data,
                shape,
            };
            self.rows.push(vec![
                panel(format!("{name}: original"), original.to_vec()),
                panel(caption.to_string(), o.synthesis.clone()),
                panel("Gaussian, same spectrum".into(), o.gaussian.clone()),
            ]);
        }
        self.curves.push(crate::plots::Series {
            name: name.clone(),
            points: o
                .loss_curve
                .iter()
                .enumerate()
                .map(|(i, v)| ((i + 1) as f64, *v))
                .collect(),
        });
        self.arrays
            .push((format!("{name}_synthesis"), o.synthesis, shape));
        self.arrays
            .push((format!("{name}_gaussian"), o.gaussian, shape));
        self.metrics.push(o.metrics);
    }

    /// Writes the grid, `loss.png`, the arrays, `metrics.json`, `table.md` and
    /// `timings.json` into `out`
    /// (not yet committed, so a caller can add its own files).
    pub fn write(&self, out: &mut crate::io::Outputs) -> Result<(), AppError> {
        if !self.rows.is_empty() {
            let fig = self.dir.join(&self.figure);
            let tmp = out.temp_path(&fig)?;
            image_grid_png(&fig, &tmp, &self.title, &self.rows)?;
        }
        let fig = self.dir.join("loss.png");
        let tmp = out.temp_path(&fig)?;
        crate::plots::curves_png(
            &fig,
            &tmp,
            "Loss ½‖Φx − μ‖² / ‖μ‖²",
            ("cost evaluation", "loss"),
            &self.curves,
            (true, true),
        )?;
        for p in &self.plots {
            let fig = self.dir.join(&p.file);
            let tmp = out.temp_path(&fig)?;
            crate::plots::curves_png(
                &fig,
                &tmp,
                &p.title,
                (&p.labels.0, &p.labels.1),
                &p.series,
                p.log,
            )?;
        }
        for (name, v, shape) in &self.arrays {
            let arr = ndarray::Array2::from_shape_vec(*shape, v.clone())
                .map_err(|e| AppError::Usage(e.to_string()))?;
            out.npy(&self.dir.join(format!("{name}.npy")), &arr)?;
        }
        out.json(
            &self.dir.join("metrics.json"),
            &MetricsFile {
                experiments: &self.metrics,
                extra: &self.extra,
            },
        )?;
        out.text(&self.dir.join("table.md"), &table(&self.metrics))?;
        // Timings apart: everything above is reproducible to the byte, they are not.
        let experiments: Vec<_> = self
            .metrics
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.name,
                    "seconds": m.seconds,
                    "iterations": m.iterations,
                    "cost_evaluations": m.cost_evaluations,
                })
            })
            .collect();
        out.json(
            &self.dir.join("timings.json"),
            &serde_json::json!({ "experiments": experiments, "other": self.timings }),
        )
    }
}

/// Working memory of a synthesis per sample of one field, measured with `/usr/bin/time`
/// (2026-12-05): `cox --size 512 -J 4 -L 8` peaks at 495 MB (1.9 KB a pixel, the same with
/// 2 or 4 realisations), `multifractal --n 1048576` at 1.5 GB (1.5 KB a sample).
pub const BYTES_PER_PIXEL: u64 = 2048;
/// The 1D counterpart of [`BYTES_PER_PIXEL`].
pub const BYTES_PER_SAMPLE_1D: u64 = 1536;

/// Refuses, before anything is generated, a synthesis of fields of `samples` values
/// (`realisations` of them kept) whose working memory would exceed the budget
/// ([`crate::io::memory_budget_bytes`]); `flag` is the option to lower.
pub fn check_memory(
    samples: usize,
    realisations: usize,
    per_sample: u64,
    flag: &str,
) -> Result<(), AppError> {
    let need = (samples as u64)
        .saturating_mul(per_sample.saturating_add(8 * realisations as u64))
        .saturating_add(100 << 20);
    refuse_above(need, samples, flag)
}

fn refuse_above(need: u64, samples: usize, flag: &str) -> Result<(), AppError> {
    let budget = crate::io::memory_budget_bytes();
    if need > budget {
        return Err(AppError::Usage(format!(
            "fields of {samples} values need about {} for the synthesis; {} may be used \
             (SCATTERING_MEMORY_LIMIT_GB sets it): lower {flag}",
            crate::io::gb(need),
            crate::io::gb(budget)
        )));
    }
    Ok(())
}

/// [`check_memory`] for an experiment whose statistics pool several fields: the
/// `originals`, a Gaussian draw of each and as many fields of an independent draw, and
/// `syntheses` fields of each of two models, synthesised one at a time.
pub fn check_pooled_memory(
    samples: usize,
    originals: usize,
    syntheses: usize,
    per_sample: u64,
    flags: &str,
) -> Result<(), AppError> {
    check_memory(
        samples,
        pooled_fields(originals, syntheses),
        per_sample,
        flags,
    )
}

/// Fields a pooled experiment keeps: the originals, a Gaussian draw of each and an
/// independent draw as large, and the syntheses of two models.
fn pooled_fields(originals: usize, syntheses: usize) -> usize {
    originals
        .saturating_mul(3)
        .saturating_add(syntheses.saturating_mul(2))
}

/// [`check_pooled_memory`] when each model draws its `syntheses` fields in one synthesis
/// ([`synthesise_pooled`]): the working memory is that many fields'.
pub fn check_joint_memory(
    samples: usize,
    originals: usize,
    syntheses: usize,
    per_sample: u64,
    flags: &str,
) -> Result<(), AppError> {
    let fields = pooled_fields(originals, syntheses) as u64;
    let need = (samples as u64)
        .saturating_mul(
            per_sample
                .saturating_mul(syntheses as u64)
                .saturating_add(fields.saturating_mul(8)),
        )
        .saturating_add(100 << 20);
    refuse_above(need, samples, flags)
}

/// [`check_memory`] for square fields of side `size` set by `--size`.
pub fn check_field_memory(size: usize, realisations: usize) -> Result<(), AppError> {
    check_memory(
        size.saturating_mul(size),
        realisations,
        BYTES_PER_PIXEL,
        "--size",
    )
}

/// Local energies `−x_i (x_right + x_down)` of a periodic field (Ising's bond energy per site
/// for ±1 spins).
pub fn local_energies(x: &[f64], shape: (usize, usize)) -> Vec<f64> {
    let (h, w) = shape;
    (0..h * w)
        .map(|i| {
            let (r, c) = (i / w, i % w);
            -x[i] * (x[r * w + (c + 1) % w] + x[((r + 1) % h) * w + c])
        })
        .collect()
}

/// Means over non-overlapping `b × b` blocks.
pub fn block_means(x: &[f64], shape: (usize, usize), b: usize) -> Vec<f64> {
    let (h, w) = shape;
    let b = b.max(1);
    let mut out = Vec::new();
    for r in (0..h.saturating_sub(b - 1)).step_by(b) {
        for c in (0..w.saturating_sub(b - 1)).step_by(b) {
            let s: f64 = (0..b)
                .flat_map(|i| (0..b).map(move |j| (i, j)))
                .map(|(i, j)| x[(r + i) * w + c + j])
                .sum();
            out.push(s / (b * b) as f64);
        }
    }
    out
}

/// Sarle's bimodality coefficient `(γ₁² + 1) / κ` (skewness γ₁, flatness κ = E z⁴): 1/3
/// for a Gaussian, 1 for two equal spikes (±1 spins); above 5/9 suggests two modes.
pub fn bimodality(v: &[f64]) -> f64 {
    let (m, s) = mean_std(std::slice::from_ref(&v.to_vec()));
    let s = s.max(f64::MIN_POSITIVE);
    let n = v.len().max(1) as f64;
    let skew = v.iter().map(|x| ((x - m) / s).powi(3)).sum::<f64>() / n;
    (skew * skew + 1.0) / flatness(v).max(f64::MIN_POSITIVE)
}

/// Excess kurtosis-free flatness `E z⁴` of standardised values (3 for a Gaussian).
pub fn flatness(v: &[f64]) -> f64 {
    let (m, s) = mean_std(std::slice::from_ref(&v.to_vec()));
    v.iter()
        .map(|x| ((x - m) / s.max(f64::MIN_POSITIVE)).powi(4))
        .sum::<f64>()
        / v.len().max(1) as f64
}

/// How the descent starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Start {
    /// White noise.
    White,
    /// White noise band-limited to the filter bank's support
    /// ([`scattering_models::ScatteringMoments2d::band_limited_noise`]).
    Band,
}

/// The starting point for `moments` (`None`: white noise, drawn by the sampler).
pub fn start_point(
    moments: &scattering_models::ScatteringMoments2d,
    start: Start,
    settings: Settings,
) -> Result<Option<Vec<f64>>, AppError> {
    Ok(match start {
        Start::White => None,
        Start::Band => {
            let mut rng = StdRng::seed_from_u64(settings.seed);
            Some(moments.band_limited_noise(settings.init_std, &mut rng)?)
        }
    })
}

/// Moments added to the scattering moments of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Extra {
    /// Scattering moments only.
    None,
    /// Plus `mean(x²)`.
    L2,
    /// Plus the envelope-intensity correlations `mean((x − x̄)|x * ψ|)`.
    Envelope,
    /// Plus both.
    Both,
}

/// The representation of an image experiment: scattering moments (`j` scales, `l`
/// orientations) and the `extra` moments.
pub fn image_moments(
    shape: (usize, usize),
    j: usize,
    l: usize,
    extra: Extra,
) -> Result<Box<dyn Representation>, AppError> {
    use scattering_models::{Concat, EnvelopeCorrelations2d, L2Norm, ScatteringMoments2d};
    let mut parts: Vec<Box<dyn Representation>> =
        vec![Box::new(ScatteringMoments2d::new(shape, j, l)?)];
    if matches!(extra, Extra::L2 | Extra::Both) {
        parts.push(Box::new(L2Norm {
            n: shape.0 * shape.1,
        }));
    }
    if matches!(extra, Extra::Envelope | Extra::Both) {
        parts.push(Box::new(EnvelopeCorrelations2d::new(shape, j, l)?));
    }
    Ok(Box::new(Concat::new(parts)?))
}

/// Sampler options shared by the image experiments (`#[command(flatten)]` into each binary's
/// arguments); experiment-specific defaults are applied where they are `None`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImageOptions {
    /// Number of scales.
    #[arg(short = 'J')]
    pub j: Option<usize>,
    /// Number of orientations.
    #[arg(short = 'L')]
    pub l: Option<usize>,
    /// L-BFGS iterations.
    #[arg(long)]
    pub iters: Option<u64>,
    /// Seed of the data, the start and the Gaussian draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Moments added to the scattering moments (`both`: envelope correlations and mean(x²);
    /// default `both`, `none` for Ising).
    #[arg(long, value_enum)]
    pub extra: Option<Extra>,
    /// Start of the descent.
    #[arg(long, value_enum, default_value_t = Start::White)]
    pub start: Start,
    /// Standard deviation of the start, in units of the originals' standard deviation.
    #[arg(long, default_value_t = 0.1)]
    pub init_std: f64,
    /// Stop when the relative loss falls below this (0 runs all iterations).
    #[arg(long, default_value_t = 1e-14)]
    pub tol: f64,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Average the scattering-spectra model over rotations and/or dilations (default: each
    /// experiment's own: `isotropic` for the isotropic processes, turbulence, Ising and
    /// Cox; `none` for textures).
    #[arg(long, value_enum)]
    pub spectra_reduction: Option<SpectraReduction>,
    /// The one-point statistics beside the scattering spectra: `none`, `moments` (the
    /// first four moments of the values, [`with_marginal`]; alias `true`) or `quantiles`
    /// (the histogram as quantile means, [`with_quantiles`]) (default: each experiment's
    /// own, see its documentation).
    #[arg(long, value_enum)]
    pub marginal: Option<MarginalKind>,
    /// Add the flatness of every wavelet's coefficients, mean|W|⁴ / P², to the scattering
    /// spectra (`true` or `false`; default: each experiment's own).
    #[arg(long, action = clap::ArgAction::Set)]
    pub flatness: Option<bool>,
}

/// The `--spectra-reduction` choices ([`Reduction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SpectraReduction {
    /// Every moment.
    None,
    /// Averages over rotations.
    Isotropic,
    /// Averages of the cross-spectra over dilations.
    ScaleInvariant,
    /// Both averages.
    Both,
}

/// An experiment's own defaults for the scattering-spectra model, which `--spectra-reduction`
/// and `--marginal` override.
#[derive(Debug, Clone, Copy)]
pub struct SpectraDefaults {
    /// Averages over rotations or dilations.
    pub reduction: SpectraReduction,
    /// One-point statistics beside the spectra.
    pub marginal: MarginalKind,
    /// The flatness of the wavelet coefficients ([`ScatteringSpectra::with_flatness`]).
    pub flatness: bool,
}

impl ImageOptions {
    /// The scattering-spectra synthesis model of `shape` images with `j` scales and `l`
    /// orientations, with the reduction and one-point statistics the flags name (else
    /// `defaults`), weighted for `originals`.
    pub fn spectra_model(
        &self,
        shape: (usize, usize),
        j: usize,
        l: usize,
        originals: &[Vec<f64>],
        defaults: SpectraDefaults,
    ) -> Result<Box<dyn Representation>, AppError> {
        let mut phi = ScatteringSpectra::new_2d(shape, j, l)?;
        if self.flatness.unwrap_or(defaults.flatness) {
            phi = phi.with_flatness();
        }
        let r = match self.spectra_reduction.unwrap_or(defaults.reduction) {
            SpectraReduction::None => None,
            SpectraReduction::Isotropic => Some(Reduction::Isotropic),
            SpectraReduction::ScaleInvariant => Some(Reduction::ScaleInvariant),
            SpectraReduction::Both => Some(Reduction::Both),
        };
        let model = match r {
            None => spectra_model(phi, originals)?,
            Some(r) => reduced_spectra_model(ReducedSpectra::new(phi, r)?, originals)?,
        };
        self.marginal
            .unwrap_or(defaults.marginal)
            .wrap(Box::new(model))
    }

    /// The sampler settings, with `iters` when `--iters` is not given.
    pub fn settings(&self, iters: u64) -> Settings {
        Settings {
            iters: self.iters.unwrap_or(iters),
            seed: self.seed,
            init_std: self.init_std,
            tol: self.tol,
            progress: !self.no_progress,
        }
    }
}

impl Report {
    /// An empty report writing `figure` (titled `title`) and the rest into `dir`.
    pub fn new(dir: &Path, figure: &str, title: String) -> Self {
        Self {
            dir: dir.to_path_buf(),
            title,
            figure: figure.to_string(),
            rows: Vec::new(),
            metrics: Vec::new(),
            curves: Vec::new(),
            arrays: Vec::new(),
            timings: BTreeMap::new(),
            extra: serde_json::Map::new(),
            plots: Vec::new(),
        }
    }

    /// Writes everything, commits it and prints the table.
    pub fn finish(&self) -> Result<(), AppError> {
        let mut out = crate::io::Outputs::new();
        self.write(&mut out)?;
        out.commit()?;
        println!("{}", table(&self.metrics));
        Ok(())
    }
}
