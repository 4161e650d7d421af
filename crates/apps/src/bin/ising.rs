//! `ising`: the 2D Ising model at the critical temperature (Wolff cluster updates), and its
//! microcanonical scattering synthesis beside the Gaussian model with the same spectrum.
//!
//! ```text
//! ising --out out/ising            # 128², 4 realisations, J=5, L=8, 500 iterations
//! ising --out out/ising --quick    # 32², 2 realisations, J=3, L=4, 100 iterations
//! ```
//! Each realisation is synthesised from its own moments (the non-ergodic mixture: a finite
//! lattice at T_c is magnetised up or down), once from scattering moments and once from
//! scattering spectra (`--no-spectra` skips the second), isotropic, with two orientations
//! (`--spectra-l`), with the first four
//! moments of the values beside them (`--marginal moments`, the default here: they make
//! the histogram two-phase; the quantile means, `--marginal quantiles`, froze the
//! descent in a grey field). Besides the common figures,
//! `metrics.json` holds the Wasserstein-1 distances of the distributions of local energy
//! `−s_i (s_right + s_down)` and of block magnetisation, the mean energy per site of each
//! field, the energy autocorrelation time of the chain, and a `fidelity` block (means over
//! realisations; per realisation in each experiment): the energy per site and the block
//! magnetisation W1 of the fields thresholded at 0, and the bimodality coefficient of the
//! values before thresholding.
//! Plots: `<name>_spectrum.png` (radial band spectra, log-log) and `<name>_histogram.png`
//! (value histograms, log density) of the originals and every model.

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use scattering_apps::synthesis::{
    bimodality, block_means, fidelity_entry, fidelity_plots, image_moments, local_energies,
    start_point, synthesise, Extra, ImageOptions, MarginalKind, Report, Settings, SpectraDefaults,
    SpectraReduction,
};
use scattering_apps::AppError;
use scattering_models::stats::wasserstein1;
use scattering_models::{
    autocorrelation_time, Ising, ScatteringMoments2d, ScatteringSpectra2d, BETA_CRITICAL,
};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Critical Ising: scattering synthesis against the Gaussian model")]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/ising")]
    out: std::path::PathBuf,
    /// Small run: 32², 2 realisations, J = 3, L = 4, 100 iterations.
    #[arg(long)]
    quick: bool,
    /// Lattice side (a multiple of 2^J).
    #[arg(long)]
    size: Option<usize>,
    /// Realisations (each synthesised from its own moments; at least 1).
    #[arg(long)]
    realisations: Option<std::num::NonZeroUsize>,
    /// Equilibration sweeps before the first realisation.
    #[arg(long, default_value_t = 300)]
    equilibration: usize,
    /// Sweeps between two realisations.
    #[arg(long, default_value_t = 20)]
    gap: usize,
    /// Block side of the block magnetisation (at least 1, at most the lattice side).
    #[arg(long)]
    block: Option<std::num::NonZeroUsize>,
    /// Skip the scattering-spectra syntheses.
    #[arg(long)]
    no_spectra: bool,
    /// Orientations of the scattering-spectra model (at least 1). Two, the default, put the
    /// thresholded energy per site within 1.3-1.7% of the originals' over seeds 0-3, where
    /// 8 (the moment model's) left it 4.5-5.7% off: the spins are isotropic, and the
    /// fewer, broader wavelets give the descent fewer cross moments to trade against the
    /// values' moments.
    #[arg(long, default_value_t = 2)]
    spectra_l: usize,
    #[command(flatten)]
    opt: ImageOptions,
}

/// The moments this experiment adds by default (see `--extra`).
const EXTRA: Extra = Extra::None;

fn run(a: Args) -> Result<(), AppError> {
    // A folder that cannot be written is found now, not after the computation.
    scattering_apps::io::prepare_folder(&a.out)?;
    let q = a.quick;
    let size = a.size.unwrap_or(if q { 32 } else { 128 });
    let j = a.opt.j.unwrap_or(if q { 3 } else { 5 });
    let l = a.opt.l.unwrap_or(if q { 4 } else { 8 });
    let reals = a.realisations.map_or(if q { 2 } else { 4 }, |n| n.get());
    scattering_apps::synthesis::check_field_memory(size, reals)?;
    let block = a.block.map_or(if q { 4 } else { 8 }, |n| n.get());
    if block > size {
        return Err(AppError::Usage(format!(
            "--block {block} is larger than the lattice side {size}"
        )));
    }
    let settings = a.opt.settings(if q { 100 } else { 500 });
    // The representation first: bad J or L are refused before the Wolff chain runs.
    let moments = ScatteringMoments2d::new((size, size), j, l)?;
    let phi = image_moments((size, size), j, l, a.opt.extra.unwrap_or(EXTRA))?;
    if !a.no_spectra {
        ScatteringSpectra2d::new_2d((size, size), j, a.spectra_l)?;
    }
    let mut rng = StdRng::seed_from_u64(a.opt.seed);
    let mut ising = Ising::new(size)?;
    let energies = ising.run(BETA_CRITICAL, a.equilibration, &mut rng)?;
    let tail = &energies[energies.len() / 2..];
    let tau = autocorrelation_time(tail);
    let mut originals = Vec::with_capacity(reals);
    for _ in 0..reals {
        ising.run(BETA_CRITICAL, a.gap.max(1), &mut rng)?;
        originals.push(ising.image());
    }
    eprintln!(
        "Ising {size}²: energy per site {:.4} over the second half of {} equilibration sweeps \
         (−√2 = −1.4142 at infinite size), autocorrelation time {tau:.1} sweeps",
        tail.iter().sum::<f64>() / tail.len() as f64,
        a.equilibration
    );
    let start = start_point(&moments, a.opt.start, settings)?;
    let shape = (size, size);
    let mut report = Report::new(&a.out, "ising.png", format!(
            "Critical Ising {size}²: one synthesis per realisation, scattering moments (J={j}, L={l}) and spectra (L={}), vs Gaussian",
            a.spectra_l
        ));
    // The non-ergodic mixture: at T_c a finite lattice is magnetised up or down, so the
    // realisations' moments differ and their average describes none of them; each
    // realisation gets its own synthesis.
    let mut mean_fidelity = serde_json::Map::new();
    for (i, x) in originals.iter().enumerate() {
        let name = format!("ising_{i}");
        let st = Settings {
            seed: settings.seed.wrapping_add(i as u64),
            ..settings
        };
        let mut o = synthesise(
            &name,
            phi.as_ref(),
            std::slice::from_ref(x),
            shape,
            st,
            start.clone(),
        )?;
        let sp = if a.no_spectra {
            None
        } else {
            let spectra = a.opt.spectra_model(
                shape,
                j,
                a.spectra_l,
                std::slice::from_ref(x),
                SpectraDefaults {
                    reduction: SpectraReduction::Isotropic,
                    marginal: MarginalKind::Moments,
                    flatness: false,
                },
            )?;
            Some(synthesise(
                &format!("{name} spectra"),
                spectra.as_ref(),
                std::slice::from_ref(x),
                shape,
                st,
                None,
            )?)
        };
        let energy = |x: &[f64]| local_energies(x, shape);
        let blocks = |x: &[f64]| block_means(x, shape, block);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (e0, b0) = (energy(x), blocks(x));
        let (es, eg) = (energy(&o.synthesis), energy(&o.gaussian));
        let (bs, bg) = (blocks(&o.synthesis), blocks(&o.gaussian));
        let abs = |v: Vec<f64>| v.iter().map(|x| x.abs()).collect::<Vec<f64>>();
        // The issue's fidelity block, on the fields thresholded at 0 (spins again).
        let spins = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .map(|x| if *x >= 0.0 { 1.0 } else { -1.0 })
                .collect()
        };
        let mut models: Vec<(&str, &[f64])> = Vec::new();
        if let Some(sp) = &sp {
            models.push(("scattering_spectra", &sp.synthesis));
        }
        models.push(("scattering_moments", &o.synthesis));
        models.push(("gaussian", &o.gaussian));
        report.plots.extend(fidelity_plots(
            &name,
            std::slice::from_ref(x),
            shape,
            &models,
        )?);
        let b0_abs = abs(b0.clone());
        let mut fidelity = serde_json::Map::new();
        fidelity.insert(
            "energy_per_site_thresholded".into(),
            fidelity_entry(mean(&e0), &models, &|v| Ok(mean(&energy(&spins(v)))))?,
        );
        fidelity.insert(
            "block_magnetisation_w1_thresholded".into(),
            fidelity_entry(0.0, &models, &|v| {
                Ok(wasserstein1(&b0_abs, &abs(blocks(&spins(v))))?)
            })?,
        );
        fidelity.insert(
            "bimodality".into(),
            fidelity_entry(bimodality(x), &models, &|v| Ok(bimodality(v)))?,
        );
        for (k, v) in &fidelity {
            let acc = mean_fidelity
                .entry(k.clone())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if let (Some(acc), Some(v)) = (acc.as_object_mut(), v.as_object()) {
                for (m, val) in v {
                    let add = val.as_f64().unwrap_or(0.0) / reals as f64;
                    let cur = acc.get(m).and_then(|c| c.as_f64()).unwrap_or(0.0);
                    acc.insert(m.clone(), json!(cur + add));
                }
            }
        }
        let extra = &mut o.metrics.extra;
        extra.insert("fidelity".into(), serde_json::Value::Object(fidelity));
        extra.insert("tau_energy_sweeps".into(), json!(tau));
        extra.insert("block_size".into(), json!(block));
        extra.insert("magnetisation".into(), json!(mean(x)));
        extra.insert(
            "energy_per_site".into(),
            json!({"original": mean(&e0), "scattering": mean(&es), "gaussian": mean(&eg)}),
        );
        extra.insert(
            "local_energy_distance_scattering".into(),
            json!(wasserstein1(&e0, &es)?),
        );
        extra.insert(
            "local_energy_distance_gaussian".into(),
            json!(wasserstein1(&e0, &eg)?),
        );
        // |m| per block: the sign of a block is a free symmetry of the model.
        extra.insert(
            "block_magnetisation_distance_scattering".into(),
            json!(wasserstein1(&abs(b0.clone()), &abs(bs))?),
        );
        extra.insert(
            "block_magnetisation_distance_gaussian".into(),
            json!(wasserstein1(&abs(b0), &abs(bg))?),
        );
        eprintln!(
            "{name}: {}",
            serde_json::to_string(&o.metrics.extra).unwrap_or_default()
        );
        report.add(x, o, "scattering-moment synthesis");
        if let Some(sp) = sp {
            report.add(x, sp, "scattering-spectra synthesis");
        }
        report
            .arrays
            .push((format!("{name}_original"), x.clone(), shape));
    }
    report
        .extra
        .insert("fidelity".into(), serde_json::Value::Object(mean_fidelity));
    report.finish()?;
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("ising: {e}");
        std::process::exit(1);
    }
}
