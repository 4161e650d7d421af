//! `multifractal`: 1D processes with known scaling, the multifractal random walk (MRW), its
//! skewed variant with leverage (Pochart and Bouchaud) and fractional Brownian motion
//! (fBm), synthesised from the scattering moments of their
//! increments and from their wavelet scattering spectra ([`ScatteringSpectra1d`] with
//! J = log2 n − 3: power, sparsity, phase-modulus and modulus cross-spectra, the flatness
//! of every wavelet's coefficients (`--flatness`), and the first four moments of the
//! increments beside them, `--marginal`), beside the Gaussian model with the
//! same spectrum; plus a maximum-entropy (macrocanonical) model of the MRW fitted with MALA
//! chains.
//!
//! ```text
//! multifractal --out out/multifractal            # n = 16384, 4 realisations, 500 iterations
//! multifractal --out out/multifractal --quick    # n = 4096, 2 realisations, 100 iterations
//! ```
//! Each model draws as many walks as there are realisations (`--syntheses`) in one
//! synthesis, whose moments match the target on average ([`scattering_models::Pooled`]),
//! as the originals' do; the statistics below pool those walks (ζ(q) is their mean, as for
//! the originals), and the Gaussian model is one draw per realisation with its Fourier
//! moduli; the table and the pictures of the walks show the first walk. The `fidelity`
//! block also holds an independent draw of the same number of walks of the true process
//! (`independent_draw`): a perfect model, whose distance to the originals is the sampling
//! noise of every figure (with 4 walks of 2^14, its largest ζ(q) error ranges from 0.02
//! to 0.24 over seeds for the MRW).
//! `metrics.json` adds the structure-function exponents ζ(q), q = 1..5, of the walks (theory,
//! originals, syntheses, Gaussian model), the flatness of the increments, a `fidelity`
//! object (increment flatness at lags 1, sqrt(n/16) and n/16, the largest ζ(q) error and
//! the leverage, for the originals and each model), and the macrocanonical fit's moment mismatch. Figures: `walks.png`, `zeta.png`, `<kind>_flatness.png` (flatness against lag), `loss.png`.

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use scattering_apps::io::Outputs;
use scattering_apps::plots::{curves_png, Series};
use scattering_apps::synthesis::{
    flatness, spectra_model, synthesise_pooled, table, MarginalKind, Plot, Report, Settings,
};
use scattering_apps::AppError;
use scattering_models::stats::{gaussian_surrogate, leverage, structure_exponents, wasserstein1};
use scattering_models::{
    fbm, mrw, skewed_mrw, Concat, L2Norm, Macrocanonical, ScatteringMoments1d, ScatteringSpectra1d,
};
use serde_json::json;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Multifractal random walk and fBm: scattering synthesis and maximum entropy")]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/multifractal")]
    out: std::path::PathBuf,
    /// Small run: n = 4096, 2 realisations, 100 iterations, a short maximum-entropy fit.
    #[arg(long)]
    quick: bool,
    /// Signal length (a power of two).
    #[arg(long)]
    n: Option<usize>,
    /// Realisations whose moments are averaged into the target.
    #[arg(long)]
    realisations: Option<std::num::NonZeroUsize>,
    /// Walks each model draws in its one synthesis, whose moments match the target on
    /// average and whose statistics the `fidelity` block pools (default: one per
    /// realisation): one walk's ζ(q) and long-lag flatness scatter as much as the models
    /// differ.
    #[arg(long)]
    syntheses: Option<std::num::NonZeroUsize>,
    /// MRW intermittency λ².
    #[arg(long, default_value_t = 0.04)]
    lambda2: f64,
    /// Skewed MRW: strength K0 of the leverage kernel `K0 τ^-α`.
    #[arg(long, default_value_t = 0.1)]
    k0: f64,
    /// Skewed MRW: decay α of the leverage kernel.
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    /// fBm Hurst exponent.
    #[arg(long, default_value_t = 0.7)]
    hurst: f64,
    /// Scattering wavelets per octave (first order).
    #[arg(short = 'Q', default_value_t = 1)]
    q: usize,
    /// L-BFGS iterations.
    #[arg(long)]
    iters: Option<u64>,
    /// Updates of the maximum-entropy parameters (at least one).
    #[arg(long)]
    maxent_iters: Option<std::num::NonZeroUsize>,
    /// Seed of the processes, the start and the Gaussian draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// The one-point statistics of the increments beside the scattering spectra: `none`,
    /// `moments` (the first four moments, the default: they set the lag-1 flatness, which
    /// the spectra alone left at 5.3 against 9.8, and bring the largest ζ(q) error from
    /// 0.17 to 0.005) or `quantiles` (the histogram as 64 quantile means, whose blocks of
    /// 256 samples smooth the tail: lag-1 flatness 6.9).
    #[arg(long, value_enum, default_value = "moments")]
    marginal: MarginalKind,
    /// The flatness of every wavelet's coefficients, mean|W_j|⁴ / P_j², beside the
    /// spectra (`false` to leave it out): the spectra fix the fine-scale flatness but let
    /// it decay too fast across scales. The largest ζ(q) error of the MRW and the skewed
    /// MRW, seeds 0 and 1: 0.07, 0.14, 0.23, 0.14 without it; 0.03, 0.09, 0.09, 0.02 with.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    flatness: bool,
}

const QS: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
/// Lags over which the leverage is averaged.
const LEVERAGE_LAGS: usize = 16;

fn cumsum(x: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    std::iter::once(0.0)
        .chain(x.iter().map(|v| {
            acc += v;
            acc
        }))
        .collect()
}

fn diff(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| w[1] - w[0]).collect()
}

fn mean_rows(rows: &[Vec<f64>]) -> Vec<f64> {
    let k = rows.first().map_or(0, |r| r.len());
    (0..k)
        .map(|i| rows.iter().map(|r| r[i]).sum::<f64>() / rows.len() as f64)
        .collect()
}

/// Flatness `E d⁴ / (E d²)²` of the walk's increments at `lag`, pooled over realisations
/// (given by their unit increments).
fn lag_flatness(increments: &[&[f64]], lag: usize) -> f64 {
    let d: Vec<f64> = increments
        .iter()
        .flat_map(|x| {
            let w = cumsum(x);
            (lag..w.len())
                .map(move |t| w[t] - w[t - lag])
                .collect::<Vec<_>>()
        })
        .collect();
    flatness(&d)
}

fn mae(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len().max(1) as f64
}

fn run(a: Args) -> Result<(), AppError> {
    // A folder that cannot be written is found now, not after the computation.
    scattering_apps::io::prepare_folder(&a.out)?;
    let q = a.quick;
    let n = a.n.unwrap_or(if q { 4096 } else { 16384 });
    if !n.is_power_of_two() || n < 256 {
        return Err(AppError::Usage(format!(
            "n must be a power of two >= 256, got {n}"
        )));
    }
    let reals = a.realisations.map_or(if q { 2 } else { 4 }, |n| n.get());
    let runs = a.syntheses.map_or(reals, |n| n.get());
    scattering_apps::synthesis::check_joint_memory(
        n,
        reals,
        runs,
        scattering_apps::synthesis::BYTES_PER_SAMPLE_1D,
        "--n, --realisations or --syntheses",
    )?;
    let settings = Settings {
        iters: a.iters.unwrap_or(if q { 100 } else { 500 }),
        seed: a.seed,
        init_std: 1.0,
        tol: 1e-14,
        progress: !a.no_progress,
    };
    let log2n = n.trailing_zeros() as usize;
    let j = log2n - 4;
    // The spectra reach one octave further (n/8), nearer the MRW's integral scale n/4:
    // the envelope correlations there are the intermittency of the largest increments.
    let j_spectra = log2n - 3;
    let lags: Vec<usize> = (0..8).map(|k| 1usize << k).collect();
    let phi = ScatteringMoments1d::new(n, j, a.q)?;
    let mut rng = StdRng::seed_from_u64(a.seed);
    let integral = n / 4;
    let mut report = Report::new(&a.out, "", String::new());
    let mut walks = Vec::new();
    let mut zeta_curves = Vec::new();
    let mut mrw_increments = Vec::new();
    // A second, independent set of realisations of each process: the statistics of a
    // perfect model, whose distance to the originals' is the sampling noise of the
    // fidelity figures (a handful of intermittent walks scatter widely).
    let mut irng = StdRng::seed_from_u64(a.seed ^ 0x1dd5_ead0);
    for kind in ["mrw", "skewed-mrw", "fbm"] {
        let draw = |rng: &mut StdRng| {
            (0..reals)
                .map(|_| {
                    let walk = if kind == "mrw" {
                        mrw(n + 1, a.lambda2, integral, 1.0, rng)?
                    } else if kind == "skewed-mrw" {
                        skewed_mrw(n + 1, a.lambda2, integral, a.k0, a.alpha, rng)?
                    } else {
                        fbm(n + 1, a.hurst, rng)?
                    };
                    Ok(diff(&walk))
                })
                .collect::<Result<Vec<_>, AppError>>()
        };
        let originals = draw(&mut rng)?;
        let independent = draw(&mut irng)?;
        let theory: Vec<f64> = QS
            .iter()
            .map(|&q| {
                if kind != "fbm" {
                    (0.5 + a.lambda2) * q - a.lambda2 * q * q / 2.0
                } else {
                    q * a.hurst
                }
            })
            .collect();
        let mut spectra_phi = ScatteringSpectra1d::new(n, j_spectra)?;
        if a.flatness {
            spectra_phi = spectra_phi.with_flatness();
        }
        let spectra = a
            .marginal
            .wrap(Box::new(spectra_model(spectra_phi, &originals)?))?;
        // Each model draws `runs` walks together, whose moments match the target on
        // average (as the originals' do): the first goes to the table and the pictures, all
        // of them to the fidelity block, with one Gaussian draw per realisation (its
        // Fourier moduli).
        let (o, moment_walks) =
            synthesise_pooled(kind, &phi, runs, &originals, (1, n), settings, None)?;
        let (sp, spectra_walks) = synthesise_pooled(
            &format!("{kind} spectra"),
            spectra.as_ref(),
            runs,
            &originals,
            (1, n),
            settings,
            None,
        )?;
        let mut o = o;
        let mut grng = StdRng::seed_from_u64(settings.seed ^ 0x5eed);
        let gaussian_walks = originals
            .iter()
            .map(|x| gaussian_surrogate(x, (1, n), &mut grng))
            .collect::<Result<Vec<_>, _>>()?;
        let zeta = |x: &[f64]| structure_exponents(&cumsum(x), &QS, &lags);
        let zeta_mean = |xs: &[Vec<f64>]| -> Result<Vec<f64>, AppError> {
            Ok(mean_rows(
                &xs.iter().map(|x| zeta(x)).collect::<Result<Vec<_>, _>>()?,
            ))
        };
        let z_orig = zeta_mean(&originals)?;
        // ζ(q) of each model: the mean over its walks, as for the originals.
        let z_scat = zeta_mean(&moment_walks)?;
        let z_gauss = zeta_mean(&gaussian_walks)?;
        let z_spec = zeta_mean(&spectra_walks)?;
        let z_indep = zeta_mean(&independent)?;
        let pooled: Vec<f64> = originals.concat();
        // The issue's fidelity block: each statistic for the originals and each model's
        // pooled syntheses.
        let refs: Vec<&[f64]> = originals.iter().map(Vec::as_slice).collect();
        let sp_refs: Vec<&[f64]> = spectra_walks.iter().map(Vec::as_slice).collect();
        let mo_refs: Vec<&[f64]> = moment_walks.iter().map(Vec::as_slice).collect();
        let ga_refs: Vec<&[f64]> = gaussian_walks.iter().map(Vec::as_slice).collect();
        let in_refs: Vec<&[f64]> = independent.iter().map(Vec::as_slice).collect();
        let large = (n / 16).max(1);
        let mid = ((large as f64).sqrt().round() as usize).max(1);
        let mut fidelity = serde_json::Map::new();
        for (name, lag) in [
            ("increment_flatness_small", 1),
            ("increment_flatness_mid", mid),
            ("increment_flatness_large", large),
        ] {
            fidelity.insert(
                name.into(),
                json!({
                    "lag": lag,
                    "original": lag_flatness(&refs, lag),
                    "scattering_spectra": lag_flatness(&sp_refs, lag),
                    "scattering_moments": lag_flatness(&mo_refs, lag),
                    "gaussian": lag_flatness(&ga_refs, lag),
                    "independent_draw": lag_flatness(&in_refs, lag),
                }),
            );
        }
        // Leverage: the mean of E[x(t) x(t + τ)²] / E[x²]² over τ = 1..=16.
        let lev = |xs: &[&[f64]]| -> Result<f64, AppError> {
            let mut acc = 0.0;
            for x in xs {
                acc += leverage(x, LEVERAGE_LAGS)?.iter().sum::<f64>()
                    / (LEVERAGE_LAGS * xs.len()) as f64;
            }
            Ok(acc)
        };
        fidelity.insert(
            "leverage".into(),
            json!({"lags": LEVERAGE_LAGS, "original": lev(&refs)?,
                   "scattering_spectra": lev(&sp_refs)?,
                   "scattering_moments": lev(&mo_refs)?, "gaussian": lev(&ga_refs)?,
                   "independent_draw": lev(&in_refs)?}),
        );
        let max_err = |z: &[f64]| {
            z.iter()
                .zip(&z_orig)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f64, f64::max)
        };
        fidelity.insert(
            "zeta_max_abs_error".into(),
            json!({"original": 0.0, "scattering_spectra": max_err(&z_spec),
                   "scattering_moments": max_err(&z_scat), "gaussian": max_err(&z_gauss),
                   "independent_draw": max_err(&z_indep)}),
        );
        // Flatness against lag, 1 to n/16, for the originals and each model.
        let lag_list: Vec<usize> = (0..)
            .map(|k| 1usize << k)
            .take_while(|&t| t <= large)
            .collect();
        let curve = |label: &str, xs: &[&[f64]]| Series {
            name: label.to_string(),
            points: lag_list
                .iter()
                .map(|&t| (t as f64, lag_flatness(xs, t)))
                .collect(),
        };
        report.plots.push(Plot {
            file: format!("{kind}_flatness.png"),
            title: format!("{kind}: increment flatness E d⁴ / (E d²)² against lag (Gaussian: 3)"),
            labels: ("lag".into(), "flatness".into()),
            series: vec![
                curve("originals", &refs),
                curve("scattering spectra", &sp_refs),
                curve("scattering moments", &mo_refs),
                curve("Gaussian", &ga_refs),
            ],
            log: (true, true),
        });
        let extra = &mut o.metrics.extra;
        extra.insert("fidelity".into(), serde_json::Value::Object(fidelity));
        extra.insert("zeta_spectra".into(), json!(z_spec));
        extra.insert("zeta_q".into(), json!(QS));
        extra.insert("zeta_theory".into(), json!(theory));
        extra.insert("zeta_original".into(), json!(z_orig));
        extra.insert("zeta_scattering".into(), json!(z_scat));
        extra.insert("zeta_gaussian".into(), json!(z_gauss));
        extra.insert("zeta_error_scattering".into(), json!(mae(&z_scat, &z_orig)));
        extra.insert("zeta_error_gaussian".into(), json!(mae(&z_gauss, &z_orig)));
        extra.insert(
            "increment_flatness".into(),
            json!({"original": flatness(&pooled), "scattering": flatness(&o.synthesis),
                   "gaussian": flatness(&o.gaussian)}),
        );
        let pts =
            |z: &[f64]| -> Vec<(f64, f64)> { QS.iter().copied().zip(z.iter().copied()).collect() };
        zeta_curves.push(Series {
            name: format!("{kind} theory"),
            points: pts(&theory),
        });
        zeta_curves.push(Series {
            name: format!("{kind} originals"),
            points: pts(&z_orig),
        });
        zeta_curves.push(Series {
            name: format!("{kind} scattering"),
            points: pts(&z_scat),
        });
        zeta_curves.push(Series {
            name: format!("{kind} scattering spectra"),
            points: pts(&z_spec),
        });
        zeta_curves.push(Series {
            name: format!("{kind} Gaussian"),
            points: pts(&z_gauss),
        });
        // Walks, offset vertically, at most 4,000 points each.
        let step = (n / 4000).max(1);
        for (label, x) in [
            ("original", &originals[0]),
            ("scattering", &o.synthesis),
            ("spectra", &sp.synthesis),
            ("Gaussian", &o.gaussian),
        ] {
            let w = cumsum(x);
            walks.push((
                format!("{kind} {label}"),
                w.iter()
                    .step_by(step)
                    .enumerate()
                    .map(|(i, v)| ((i * step) as f64, *v))
                    .collect::<Vec<_>>(),
            ));
        }
        if kind == "mrw" {
            mrw_increments = originals.clone();
        }
        report.add(&originals[0], o, "scattering synthesis");
        report.add(&originals[0], sp, "scattering-spectra synthesis");
    }

    // Maximum entropy on shorter windows of the MRW increments, with mean(x²) added so the
    // model is normalisable. Windows no longer than the signal (n >= 256), or there would be
    // none and the target would be empty.
    let nm: usize = (if q { 512 } else { 1024 }).min(n);
    let me_phi = Concat::new(vec![
        Box::new(ScatteringMoments1d::new(
            nm,
            nm.trailing_zeros() as usize - 3,
            a.q,
        )?),
        Box::new(L2Norm { n: nm }),
    ])?;
    let windows: Vec<Vec<f64>> = mrw_increments
        .iter()
        .flat_map(|x| x.chunks_exact(nm).map(|c| c.to_vec()).collect::<Vec<_>>())
        .collect();
    let mut target = vec![0.0; scattering_models::Representation::output_len(&me_phi)];
    for w in &windows {
        for (t, v) in target
            .iter_mut()
            .zip(scattering_models::Representation::forward(&me_phi, w)?)
        {
            *t += v / windows.len() as f64;
        }
    }
    let maxent_iters = a
        .maxent_iters
        .map_or(if q { 300 } else { 1000 }, |n| n.get());
    let clock = Instant::now();
    let fit = Macrocanonical {
        seed: a.seed,
        chains: 4,
        iterations: maxent_iters,
        langevin_steps: 5,
        learning_rate: 0.01,
        ..Macrocanonical::default()
    }
    .fit(&me_phi, &target)?;
    let samples: Vec<f64> = fit.samples.concat();
    let pooled: Vec<f64> = windows.concat();
    let me = json!({
        "n": nm,
        "chains": fit.samples.len(),
        "moment_rel_error": fit.moment_rel_error,
        "acceptance": fit.acceptance,
        "hist_distance": wasserstein1(&pooled, &samples)?,
        "increment_flatness": {"original": flatness(&pooled), "maxent": flatness(&samples)},
    });
    report
        .timings
        .insert("macrocanonical".into(), clock.elapsed().as_secs_f64());
    eprintln!("maximum entropy: {me}");
    if let Some(m) = report.metrics.first_mut() {
        m.extra.insert("macrocanonical".into(), me);
    }

    let mut out = Outputs::new();
    report.write(&mut out)?;
    let fig = a.out.join("zeta.png");
    let tmp = out.temp_path(&fig)?;
    curves_png(
        &fig,
        &tmp,
        "Structure-function exponents ζ(q) of the walks",
        ("q", "ζ(q)"),
        &zeta_curves,
        (false, false),
    )?;
    // Offsets keep the twelve walks apart.
    let mut offset = 0.0;
    let series: Vec<Series> = walks
        .into_iter()
        .map(|(name, pts)| {
            let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            let s = Series {
                name,
                points: pts.iter().map(|(t, v)| (*t, v - lo + offset)).collect(),
            };
            offset += (hi - lo) * 1.1;
            s
        })
        .collect();
    let fig = a.out.join("walks.png");
    let tmp = out.temp_path(&fig)?;
    curves_png(
        &fig,
        &tmp,
        "Walks: originals, scattering and scattering-spectra syntheses, Gaussian models (offset)",
        ("t", "x(t)"),
        &series,
        (false, false),
    )?;
    out.commit()?;
    println!("{}", table(&report.metrics));
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("multifractal: {e}");
        std::process::exit(1);
    }
}
