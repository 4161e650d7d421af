//! `turbulence`: forced 2D turbulence from the pseudo-spectral vorticity solver, run to a
//! statistically stationary state, and its microcanonical scattering synthesis beside the
//! Gaussian model with the same spectrum.
//!
//! ```text
//! turbulence --out out/turbulence            # 128², 4 snapshots, J=5, L=8, 500 iterations
//! turbulence --out out/turbulence --quick    # 64², 2 snapshots, J=4, L=4, 100 iterations
//! ```
//! The scattering-spectra synthesis is isotropic and has no one-point statistics beside
//! it by default (`--marginal none`; `quantiles` sets the value histogram but leaves the
//! increments' no closer). Each model is synthesised once per snapshot (`--syntheses`),
//! from different starts, and the `fidelity` block pools the fields of each model against
//! the pooled snapshots (the Gaussian model: one draw per snapshot, with its Fourier
//! moduli); the table and the pictures show the first synthesis. The block also holds as
//! many later snapshots of the flow (`independent_draw`), which no model saw: a perfect
//! model, whose distance to the originals is the sampling noise of each figure. Besides the common
//! figures, `metrics.json` holds the flatness `E z⁴` of the vorticity
//! (3 for a Gaussian field) and of its horizontal increments, and the solver's energy before
//! and after the snapshots (stationarity).
//! Plots: `<name>_spectrum.png` (radial band spectra, log-log) and `<name>_histogram.png`
//! (value histograms, log density) of the originals and every model.

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use scattering_apps::synthesis::{
    fidelity_entry, fidelity_plots, flatness, image_fidelity, image_moments, progress_bar,
    start_point, synthesise, Extra, ImageOptions, MarginalKind, Report, Settings, SpectraDefaults,
    SpectraReduction,
};
use scattering_apps::AppError;
use scattering_models::stats::{gaussian_surrogate, wasserstein1};
use scattering_models::{ScatteringMoments2d, Turbulence, TurbulenceParams};
use serde_json::json;

#[derive(Parser)]
#[command(about = "2D turbulence: scattering synthesis against the Gaussian model")]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/turbulence")]
    out: std::path::PathBuf,
    /// Small run: 64², 2 snapshots, J = 4, L = 4, 100 iterations.
    #[arg(long)]
    quick: bool,
    /// Grid side (a power of two, a multiple of 2^J).
    #[arg(long)]
    size: Option<usize>,
    /// Snapshots whose moments are averaged into the target (at least 1).
    #[arg(long)]
    realisations: Option<std::num::NonZeroUsize>,
    /// Syntheses of each model, from different starts, pooled in the `fidelity` block
    /// (default: one per snapshot). One field's band spectrum and increment histograms
    /// scatter as much as the models differ: the Gaussian model built on one snapshot is
    /// 61% off the snapshots' mean spectrum in some band.
    #[arg(long)]
    syntheses: Option<std::num::NonZeroUsize>,
    /// Solver time before the first snapshot (friction time is 10).
    #[arg(long, default_value_t = 30.0)]
    spin_up: f64,
    /// Solver time between snapshots.
    #[arg(long, default_value_t = 2.0)]
    gap: f64,
    #[command(flatten)]
    opt: ImageOptions,
}

fn increments(x: &[f64], w: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| x[(i / w) * w + (i % w + 1) % w] - x[i])
        .collect()
}

/// The moments this experiment adds by default (see `--extra`).
const EXTRA: Extra = Extra::Both;

fn run(a: Args) -> Result<(), AppError> {
    // A folder that cannot be written is found now, not after the computation.
    scattering_apps::io::prepare_folder(&a.out)?;
    let q = a.quick;
    let size = a.size.unwrap_or(if q { 64 } else { 128 });
    if !size.is_power_of_two() || size < 16 {
        return Err(AppError::Usage(format!(
            "--size must be a power of two of at least 16 (the spectral solver's grid), got {size}"
        )));
    }
    let j = a.opt.j.unwrap_or(if q { 4 } else { 5 });
    let l = a.opt.l.unwrap_or(if q { 4 } else { 8 });
    let reals = a.realisations.map_or(if q { 2 } else { 4 }, |n| n.get());
    let runs = a.syntheses.map_or(reals, |n| n.get());
    scattering_apps::synthesis::check_pooled_memory(
        size.saturating_mul(size),
        reals,
        runs,
        scattering_apps::synthesis::BYTES_PER_PIXEL,
        "--size, --realisations or --syntheses",
    )?;
    let settings = a.opt.settings(if q { 100 } else { 500 });
    // Hyperviscosity scaled with the grid so the dissipation range sits near n/3.
    let prm = TurbulenceParams {
        n: size,
        nu: 1e-11 * (64.0 / size as f64).powi(8),
        k_f: 4.0,
        dt: 5e-3 * 64.0 / size as f64,
        ..TurbulenceParams::default()
    };
    let mut flow = Turbulence::new(prm)?;
    let mut rng = StdRng::seed_from_u64(a.opt.seed);
    let spin = (a.spin_up / prm.dt).ceil() as usize;
    let gap = (a.gap / prm.dt).ceil().max(1.0) as usize;
    let pb = progress_bar(spin as u64, "spin-up", !a.opt.no_progress);
    for done in (0..spin).step_by(100) {
        flow.step(100.min(spin - done), &mut rng);
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    let e_start = flow.energy();
    let mut originals = Vec::with_capacity(reals);
    for _ in 0..reals {
        flow.step(gap, &mut rng);
        originals.push(flow.vorticity());
    }
    let e_end = flow.energy();
    if !(e_start.is_finite() && e_end.is_finite()) {
        return Err(AppError::Usage(
            "the flow blew up: try a smaller time step or more hyperviscosity".into(),
        ));
    }
    // As many later snapshots, never seen by the models: a perfect model, whose distance
    // to the originals is the sampling noise of every fidelity figure.
    let mut independent_fields = Vec::with_capacity(reals * size * size);
    for _ in 0..reals {
        flow.step(gap, &mut rng);
        independent_fields.extend(flow.vorticity());
    }
    if !independent_fields.iter().all(|v| v.is_finite()) {
        return Err(AppError::Usage(
            "the flow blew up: try a smaller time step or more hyperviscosity".into(),
        ));
    }
    let moments = ScatteringMoments2d::new((size, size), j, l)?;
    let phi = image_moments((size, size), j, l, a.opt.extra.unwrap_or(EXTRA))?;
    let shape = (size, size);
    // The scattering-spectra model, from white noise, on the same wavelets.
    let spectra = a.opt.spectra_model(
        shape,
        j,
        l,
        &originals,
        SpectraDefaults {
            reduction: SpectraReduction::Isotropic,
            marginal: MarginalKind::None,
            flatness: false,
        },
    )?;
    // Every model `runs` times from seeds 0, 1, ..; the first of each goes to the table and
    // the pictures, all of them to the fidelity block. The Gaussian model: one draw per
    // snapshot, each with that snapshot's Fourier moduli.
    let (mut o, mut sp) = (None, None);
    let (mut moment_fields, mut spectra_fields) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let st = Settings {
            seed: settings.seed.wrapping_add(i as u64),
            ..settings
        };
        let start = start_point(&moments, a.opt.start, st)?;
        let name = |m: &str| {
            if i == 0 {
                m.to_string()
            } else {
                format!("{m} {i}")
            }
        };
        let oi = synthesise(
            &name("turbulence"),
            phi.as_ref(),
            &originals,
            shape,
            st,
            start,
        )?;
        let si = synthesise(
            &name("turbulence spectra"),
            spectra.as_ref(),
            &originals,
            shape,
            st,
            None,
        )?;
        moment_fields.extend_from_slice(&oi.synthesis);
        spectra_fields.extend_from_slice(&si.synthesis);
        if i == 0 {
            (o, sp) = (Some(oi), Some(si));
        }
    }
    let (Some(mut o), Some(sp)) = (o, sp) else {
        return Err(AppError::Usage("no synthesis was run".into()));
    };
    let mut grng = StdRng::seed_from_u64(settings.seed ^ 0x5eed);
    let mut gaussian_fields = Vec::with_capacity(reals * size * size);
    for x in &originals {
        gaussian_fields.extend(gaussian_surrogate(x, shape, &mut grng)?);
    }
    let flat = |x: &[f64]| flatness(x);
    let flat_inc = |x: &[f64]| flatness(&increments(x, size));
    let pooled: Vec<f64> = originals.concat();
    let pooled_inc: Vec<f64> = originals.iter().flat_map(|x| increments(x, size)).collect();
    let extra = &mut o.metrics.extra;
    extra.insert(
        "vorticity_flatness".into(),
        json!({"original": flat(&pooled), "scattering": flat(&o.synthesis), "gaussian": flat(&o.gaussian)}),
    );
    extra.insert(
        "increment_flatness".into(),
        json!({"original": flatness(&pooled_inc), "scattering": flat_inc(&o.synthesis), "gaussian": flat_inc(&o.gaussian)}),
    );
    // The issue's fidelity block: each statistic for the originals and every model (the
    // syntheses come back in the originals' units; distances are in units of their
    // standard deviation, as in the common table).
    let z = &originals;
    let sd = scattering_apps::synthesis::mean_std(&originals)
        .1
        .max(f64::MIN_POSITIVE);
    let models: [(&str, &[f64]); 4] = [
        ("scattering_spectra", &spectra_fields),
        ("scattering_moments", &moment_fields),
        ("gaussian", &gaussian_fields),
        ("independent_draw", &independent_fields),
    ];
    let mut fidelity = serde_json::Map::new();
    fidelity.insert(
        "vorticity_flatness".into(),
        fidelity_entry(flat(&pooled), &models, &|x| Ok(flat(x)))?,
    );
    fidelity.extend(image_fidelity(&originals, shape, &models)?);
    let plots = fidelity_plots("turbulence", &originals, shape, &models)?;
    for lag in [1usize, 4, 16] {
        let inc = |x: &[f64]| -> Vec<f64> {
            (0..x.len())
                .map(|i| {
                    let (r, c) = (i / size, i % size);
                    x[r * size + (c + lag) % size] - x[i]
                })
                .collect()
        };
        let orig_inc: Vec<f64> = z.iter().flat_map(|x| inc(x)).collect();
        fidelity.insert(
            format!("increment_w1_lag{lag}"),
            fidelity_entry(
                0.0,
                &models,
                &|x| Ok(wasserstein1(&orig_inc, &inc(x))? / sd),
            )?,
        );
    }
    extra.insert("fidelity".into(), serde_json::Value::Object(fidelity));
    extra.insert(
        "solver_energy".into(),
        json!({"before_snapshots": e_start, "after_snapshots": e_end}),
    );
    let mut report = Report::new(&a.out, "turbulence.png", format!(
            "2D turbulence {size}² (vorticity): scattering synthesis (J={j}, L={l}, {reals} snapshots) vs Gaussian"
        ));
    report.plots.extend(plots);
    report.add(&originals[0], o, "scattering synthesis");
    report.add(&originals[0], sp, "scattering-spectra synthesis");
    report
        .arrays
        .push(("turbulence_original".into(), originals[0].clone(), shape));
    report.finish()?;
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("turbulence: {e}");
        std::process::exit(1);
    }
}
