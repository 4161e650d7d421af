//! `cox`: a log-Gaussian Cox process (Poisson points with a random log-Gaussian intensity,
//! counted per pixel) and its microcanonical scattering synthesis beside the Gaussian model.
//!
//! ```text
//! cox --out out/cox            # 128², 4 realisations, J=5, L=8, 500 iterations
//! cox --out out/cox --quick    # 64², 2 realisations, J=4, L=4, 100 iterations
//! ```
//! Besides the common figures, `metrics.json` holds the index of dispersion (variance / mean)
//! of the counts in 4 × 4 blocks, and the fraction of pixels below half a point, for the
//! originals, the synthesis and the Gaussian model.

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use scattering_apps::io::Outputs;
use scattering_apps::synthesis::{
    block_means, image_moments, start_point, synthesise, table, Extra, Report, Settings, Start,
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
    /// Number of scales.
    #[arg(short = 'J')]
    j: Option<usize>,
    /// Number of orientations.
    #[arg(short = 'L')]
    l: Option<usize>,
    /// Realisations whose moments are averaged into the target.
    #[arg(long)]
    realisations: Option<usize>,
    /// Mean number of points per pixel.
    #[arg(long, default_value_t = 1.0)]
    mean: f64,
    /// Standard deviation of the log-intensity.
    #[arg(long, default_value_t = 1.0)]
    sigma: f64,
    /// Correlation length of the log-intensity, in pixels.
    #[arg(long, default_value_t = 4.0)]
    corr_length: f64,
    /// L-BFGS iterations.
    #[arg(long)]
    iters: Option<u64>,
    /// Seed of the process, the start and the Gaussian draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Moments added to the scattering moments (`both`: envelope correlations and mean(x²)).
    #[arg(long, value_enum, default_value_t = Extra::Both)]
    extra: Extra,
    /// Start of the descent.
    #[arg(long, value_enum, default_value_t = Start::White)]
    start: Start,
    /// Standard deviation of the start (units of the counts').
    #[arg(long, default_value_t = 0.1)]
    init_std: f64,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

fn dispersion(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len().max(1) as f64;
    var / m.abs().max(f64::MIN_POSITIVE)
}

fn run(a: Args) -> Result<(), AppError> {
    let q = a.quick;
    let size = a.size.unwrap_or(if q { 64 } else { 128 });
    let j = a.j.unwrap_or(if q { 4 } else { 5 });
    let l = a.l.unwrap_or(if q { 4 } else { 8 });
    let reals = a.realisations.unwrap_or(if q { 2 } else { 4 }).max(1);
    let settings = Settings {
        iters: a.iters.unwrap_or(if q { 100 } else { 500 }),
        seed: a.seed,
        init_std: a.init_std,
        tol: 1e-14,
        progress: !a.no_progress,
    };
    let cox = Cox {
        l: size,
        mean_per_pixel: a.mean,
        sigma: a.sigma,
        corr_length: a.corr_length,
    };
    let mut rng = StdRng::seed_from_u64(a.seed);
    let originals = (0..reals)
        .map(|_| cox.sample(&mut rng))
        .collect::<Result<Vec<_>, _>>()?;
    let moments = ScatteringMoments2d::new((size, size), j, l)?;
    let start = start_point(&moments, a.start, settings)?;
    let phi = image_moments((size, size), j, l, a.extra)?;
    let shape = (size, size);
    let mut o = synthesise("cox", phi.as_ref(), &originals, shape, settings, start)?;
    // Counts in 4×4 blocks (block means × 16).
    let blocks =
        |x: &[f64]| -> Vec<f64> { block_means(x, shape, 4).iter().map(|v| 16.0 * v).collect() };
    let empty = |x: &[f64]| x.iter().filter(|v| **v < 0.5).count() as f64 / x.len() as f64;
    let pooled: Vec<f64> = originals.iter().flat_map(|x| blocks(x)).collect();
    let pooled_empty = originals.iter().map(|x| empty(x)).sum::<f64>() / originals.len() as f64;
    let extra = &mut o.metrics.extra;
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
    let mut report = Report {
        dir: a.out.clone(),
        title: format!(
            "Log-Gaussian Cox {size}² (mean {}, σ {}, ℓ {}): scattering (J={j}, L={l}) vs Gaussian",
            a.mean, a.sigma, a.corr_length
        ),
        figure: "cox.png".into(),
        rows: Vec::new(),
        metrics: Vec::new(),
        curves: Vec::new(),
        arrays: Vec::new(),
    };
    report.add(&originals[0], o, "scattering synthesis");
    report
        .arrays
        .push(("cox_original".into(), originals[0].clone(), shape));
    let mut out = Outputs::new();
    report.write(&mut out)?;
    out.commit()?;
    println!("{}", table(&report.metrics));
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("cox: {e}");
        std::process::exit(1);
    }
}
