//! `cox`: a log-Gaussian Cox process (Poisson points with a random log-Gaussian intensity,
//! counted per pixel) and its microcanonical scattering synthesis beside the Gaussian model.
//!
//! ```text
//! cox --out out/cox            # 128², 4 realisations, J=5, L=8, 500 iterations
//! cox --out out/cox --quick    # 64², 2 realisations, J=4, L=4, 100 iterations
//! ```
//! Besides the scattering-moment synthesis it runs a scattering-spectra synthesis
//! (`--no-spectra` skips it), isotropic, with the histogram of the counts as quantile
//! means beside it (`--marginal quantiles`, the default here): the counts' atom at zero,
//! half the pixels, is a one-point statistic no wavelet moment sets (the spectra alone
//! leave 42% of the pixels empty against 51%). Besides the common figures, `metrics.json` holds the index of
//! dispersion (variance / mean) of the counts in 4 × 4 blocks, and the fraction of pixels
//! below half a point, for the originals, the moment synthesis and the Gaussian model, and a
//! `fidelity` block with both statistics (`block_dispersion`, `empty_fraction`) for every
//! model.
//! Plots: `<name>_spectrum.png` (radial band spectra, log-log) and `<name>_histogram.png`
//! (value histograms, log density) of the originals and every model.

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use scattering_apps::synthesis::{
    block_means, fidelity_entry, fidelity_plots, image_moments, start_point, synthesise, Extra,
    ImageOptions, MarginalKind, Report, SpectraDefaults, SpectraReduction,
};
use scattering_apps::AppError;
use scattering_models::{Cox, ScatteringMoments2d};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Log-Gaussian Cox process: scattering synthesis against the Gaussian model")]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/cox")]
    out: std::path::PathBuf,
    /// Small run: 64², 2 realisations, J = 4, L = 4, 100 iterations.
    #[arg(long)]
    quick: bool,
    /// Grid side (a multiple of 2^J).
    #[arg(long)]
    size: Option<usize>,
    /// Realisations whose moments are averaged into the target.
    #[arg(long)]
    realisations: Option<std::num::NonZeroUsize>,
    /// Mean number of points per pixel.
    #[arg(long, default_value_t = 1.0)]
    mean: f64,
    /// Standard deviation of the log-intensity.
    #[arg(long, default_value_t = 1.0)]
    sigma: f64,
    /// Correlation length of the log-intensity, in pixels.
    #[arg(long, default_value_t = 4.0)]
    corr_length: f64,
    /// Skip the scattering-spectra synthesis.
    #[arg(long)]
    no_spectra: bool,
    #[command(flatten)]
    opt: ImageOptions,
}

fn dispersion(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len().max(1) as f64;
    var / m.abs().max(f64::MIN_POSITIVE)
}

/// The moments this experiment adds by default (see `--extra`).
const EXTRA: Extra = Extra::Both;

fn run(a: Args) -> Result<(), AppError> {
    // A folder that cannot be written is found now, not after the computation.
    scattering_apps::io::prepare_folder(&a.out)?;
    let q = a.quick;
    let size = a.size.unwrap_or(if q { 64 } else { 128 });
    let j = a.opt.j.unwrap_or(if q { 4 } else { 5 });
    let l = a.opt.l.unwrap_or(if q { 4 } else { 8 });
    let reals = a.realisations.map_or(if q { 2 } else { 4 }, |n| n.get());
    scattering_apps::synthesis::check_field_memory(size, reals)?;
    let settings = a.opt.settings(if q { 100 } else { 500 });
    let cox = Cox {
        l: size,
        mean_per_pixel: a.mean,
        sigma: a.sigma,
        corr_length: a.corr_length,
    };
    let mut rng = StdRng::seed_from_u64(a.opt.seed);
    let originals = (0..reals)
        .map(|_| cox.sample(&mut rng))
        .collect::<Result<Vec<_>, _>>()?;
    let moments = ScatteringMoments2d::new((size, size), j, l)?;
    let start = start_point(&moments, a.opt.start, settings)?;
    let phi = image_moments((size, size), j, l, a.opt.extra.unwrap_or(EXTRA))?;
    let shape = (size, size);
    let mut o = synthesise("cox", phi.as_ref(), &originals, shape, settings, start)?;
    let sp = if a.no_spectra {
        None
    } else {
        let spectra = a.opt.spectra_model(
            shape,
            j,
            l,
            &originals,
            SpectraDefaults {
                reduction: SpectraReduction::Isotropic,
                marginal: MarginalKind::Quantiles,
                flatness: false,
            },
        )?;
        Some(synthesise(
            "cox spectra",
            spectra.as_ref(),
            &originals,
            shape,
            settings,
            None,
        )?)
    };
    // Counts in 4×4 blocks (block means × 16).
    let blocks =
        |x: &[f64]| -> Vec<f64> { block_means(x, shape, 4).iter().map(|v| 16.0 * v).collect() };
    let empty = |x: &[f64]| x.iter().filter(|v| **v < 0.5).count() as f64 / x.len() as f64;
    let pooled: Vec<f64> = originals.iter().flat_map(|x| blocks(x)).collect();
    let pooled_empty = originals.iter().map(|x| empty(x)).sum::<f64>() / originals.len() as f64;
    let mut models: Vec<(&str, &[f64])> = Vec::new();
    if let Some(sp) = &sp {
        models.push(("scattering_spectra", &sp.synthesis));
    }
    models.push(("scattering_moments", &o.synthesis));
    models.push(("gaussian", &o.gaussian));
    let plots = fidelity_plots("cox", &originals, shape, &models)?;
    let mut fidelity = serde_json::Map::new();
    fidelity.insert(
        "block_dispersion".into(),
        fidelity_entry(dispersion(&pooled), &models, &|x| {
            Ok(dispersion(&blocks(x)))
        })?,
    );
    fidelity.insert(
        "empty_fraction".into(),
        fidelity_entry(pooled_empty, &models, &|x| Ok(empty(x)))?,
    );
    let extra = &mut o.metrics.extra;
    extra.insert("fidelity".into(), serde_json::Value::Object(fidelity));
    extra.insert(
        "block_dispersion".into(),
        json!({"original": dispersion(&pooled), "scattering": dispersion(&blocks(&o.synthesis)),
               "gaussian": dispersion(&blocks(&o.gaussian)), "poisson": 1.0}),
    );
    extra.insert(
        "empty_fraction".into(),
        json!({"original": pooled_empty, "scattering": empty(&o.synthesis),
               "gaussian": empty(&o.gaussian)}),
    );
    let mut report = Report::new(
        &a.out,
        "cox.png",
        format!(
            "Log-Gaussian Cox {size}² (mean {}, σ {}, ℓ {}): scattering (J={j}, L={l}) vs Gaussian",
            a.mean, a.sigma, a.corr_length
        ),
    );
    report.plots.extend(plots);
    report.add(&originals[0], o, "scattering-moment synthesis");
    if let Some(sp) = sp {
        report.add(&originals[0], sp, "scattering-spectra synthesis");
    }
    report
        .arrays
        .push(("cox_original".into(), originals[0].clone(), shape));
    report.finish()?;
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("cox: {e}");
        std::process::exit(1);
    }
}
