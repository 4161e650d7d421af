//! `sphere-simplex`: is microcanonical descent a uniform sampler? Draws on the l2 sphere
//! `{mean(x²) = 1}` and the l1 sphere `{mean|x| = 1}` (a simplex per orthant) by descent
//! from white noise, compared by a Kolmogorov-Smirnov statistic of one coordinate against the
//! exact marginal of the uniform law: `(x₁/√n + 1)/2 ~ Beta((n−1)/2, (n−1)/2)` on the sphere,
//! `|x₁|/n ~ Beta(1, n−1)` on the l1 sphere. Exact uniform draws (normalised Gaussians,
//! normalised exponentials) give the statistic's sampling level, and the maximum-entropy
//! (Gaussian / Laplace) model is the baseline.
//!
//! ```text
//! sphere-simplex --out out/sphere-simplex            # n = 64, 2000 draws each
//! sphere-simplex --out out/sphere-simplex --quick    # n = 16, 300 draws each
//! ```

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, Exp1, StandardNormal};
use rayon::prelude::*;
use scattering_apps::io::Outputs;
use scattering_apps::plots::{curves_png, Series};
use scattering_apps::synthesis::progress_bar;
use scattering_apps::AppError;
use scattering_models::stats::{beta_cdf, ks_statistic};
use scattering_models::{L1Norm, L2Norm, Microcanonical, Representation};
use serde::Serialize;

#[derive(Parser)]
#[command(about = "Uniform sampling on the l2 sphere and the l1 simplex by microcanonical descent")]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/sphere-simplex")]
    out: std::path::PathBuf,
    /// Small run: n = 16, 300 draws.
    #[arg(long)]
    quick: bool,
    /// Dimension.
    #[arg(long)]
    n: Option<usize>,
    /// Draws per set.
    #[arg(long)]
    draws: Option<usize>,
    /// Seed of the first draw (draw i uses seed + i).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    dim: usize,
    draws: usize,
    moment_rel_error: f64,
    ks_microcanonical: f64,
    ks_exact_uniform: f64,
    ks_max_entropy: f64,
    ks_critical_5pct: f64,
    mean_iterations: f64,
}

#[derive(Serialize)]
struct File<'a> {
    experiments: &'a [Row],
}

fn ecdf(v: &[f64], name: &str) -> Series {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len() as f64;
    Series {
        name: name.into(),
        points: s
            .iter()
            .enumerate()
            .map(|(i, x)| (*x, (i + 1) as f64 / n))
            .collect(),
    }
}

fn run(a: Args) -> Result<(), AppError> {
    // A folder that cannot be written is found now, not after the computation.
    scattering_apps::io::prepare_folder(&a.out)?;
    let n = a.n.unwrap_or(if a.quick { 16 } else { 64 });
    let draws = a.draws.unwrap_or(if a.quick { 300 } else { 2000 });
    if n < 3 || draws < 10 {
        return Err(AppError::Usage(format!(
            "need n >= 3 and at least 10 draws, got n = {n}, draws = {draws}"
        )));
    }
    let nf = n as f64;
    let half = (nf - 1.0) / 2.0;
    let mut rows = Vec::new();
    let mut out = Outputs::new();
    for set in ["sphere", "simplex"] {
        let phi: Box<dyn Representation> = if set == "sphere" {
            Box::new(L2Norm { n })
        } else {
            Box::new(L1Norm { n })
        };
        // The statistic of one coordinate whose law is Beta under the uniform distribution.
        let stat = |x: &[f64]| -> f64 {
            if set == "sphere" {
                (x[0] / nf.sqrt() + 1.0) / 2.0
            } else {
                x[0].abs() / nf
            }
        };
        let cdf = |t: f64| -> f64 {
            if set == "sphere" {
                beta_cdf(t, half, half)
            } else {
                1.0 - (1.0 - t.clamp(0.0, 1.0)).powf(nf - 1.0)
            }
        };
        let pb = progress_bar(draws as u64, set, !a.no_progress);
        let results = (0..draws)
            .into_par_iter()
            .map(|i| {
                let d = Microcanonical {
                    seed: a.seed.wrapping_add(i as u64),
                    ..Microcanonical::default()
                }
                .sample(phi.as_ref(), &[1.0]);
                pb.inc(1);
                d
            })
            .collect::<Result<Vec<_>, _>>()?;
        pb.finish_and_clear();
        let mut rng = StdRng::seed_from_u64(a.seed ^ 0x5eed);
        // Exact uniform draws, and draws of the maximum-entropy model (i.i.d. N(0, 1) for
        // mean(x²) = 1, i.i.d. Laplace(1) for mean|x| = 1).
        let (mut exact, mut maxent) = (Vec::new(), Vec::new());
        for _ in 0..draws {
            if set == "sphere" {
                let g: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
                let r = (g.iter().map(|v| v * v).sum::<f64>() / nf).sqrt();
                exact.push(stat(&g.iter().map(|v| v / r).collect::<Vec<_>>()));
                let z: f64 = StandardNormal.sample(&mut rng);
                maxent.push(stat(&[z]));
            } else {
                let e: Vec<f64> = (0..n).map(|_| Exp1.sample(&mut rng)).collect();
                let s = e.iter().sum::<f64>() / nf;
                exact.push(stat(&[e[0] / s]));
                let lap: f64 = Exp1.sample(&mut rng);
                maxent.push(stat(&[lap]));
            }
        }
        let micro: Vec<f64> = results.iter().map(|d| stat(&d.x)).collect();
        let row = Row {
            name: set.into(),
            dim: n,
            draws,
            moment_rel_error: results
                .iter()
                .map(|d| d.moment_rel_error)
                .fold(0.0, f64::max),
            ks_microcanonical: ks_statistic(&micro, cdf)?,
            ks_exact_uniform: ks_statistic(&exact, cdf)?,
            ks_max_entropy: ks_statistic(&maxent, cdf)?,
            ks_critical_5pct: 1.358 / (draws as f64).sqrt(),
            mean_iterations: results.iter().map(|d| d.iterations as f64).sum::<f64>()
                / draws as f64,
        };
        eprintln!(
            "{set}: KS microcanonical {:.4}, exact uniform {:.4}, maximum entropy {:.4} (5% critical {:.4})",
            row.ks_microcanonical, row.ks_exact_uniform, row.ks_max_entropy, row.ks_critical_5pct
        );
        rows.push(row);
        let grid: Vec<(f64, f64)> = (0..=400)
            .map(|i| {
                let t = if set == "sphere" {
                    i as f64 / 400.0
                } else {
                    (i as f64 / 400.0) * 8.0 / nf
                };
                (t, cdf(t))
            })
            .collect();
        let curves = vec![
            Series {
                name: "uniform law (exact CDF)".into(),
                points: grid,
            },
            ecdf(&micro, "microcanonical descent"),
            ecdf(&exact, "exact uniform draws"),
        ];
        let fig = a.out.join(format!("{set}_cdf.png"));
        let tmp = out.temp_path(&fig)?;
        let label = if set == "sphere" {
            "(x₁/√n + 1)/2"
        } else {
            "|x₁|/n"
        };
        curves_png(
            &fig,
            &tmp,
            &format!("{set}, n = {n}: CDF of one coordinate, {draws} draws"),
            (label, "CDF"),
            &curves,
            (false, false),
        )?;
    }
    let mut table = String::from(
        "| set | n | draws | moment error (max) | KS descent | KS exact uniform | KS max-entropy | 5% critical |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &rows {
        table += &format!(
            "| {} | {} | {} | {:.1e} | {:.4} | {:.4} | {:.4} | {:.4} |\n",
            r.name,
            r.dim,
            r.draws,
            r.moment_rel_error,
            r.ks_microcanonical,
            r.ks_exact_uniform,
            r.ks_max_entropy,
            r.ks_critical_5pct
        );
    }
    out.json(&a.out.join("metrics.json"), &File { experiments: &rows })?;
    out.text(&a.out.join("table.md"), &table)?;
    out.commit()?;
    println!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("sphere-simplex: {e}");
        std::process::exit(1);
    }
}
