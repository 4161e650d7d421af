//! `textures`: microcanonical texture synthesis from the expected scattering moments of one
//! image (Bruna & Mallat, 2019) and from its wavelet scattering spectra (Cheng, Morel,
//! Allys, Ménard & Mallat, 2024), beside the Gaussian model with the same power spectrum.
//!
//! ```text
//! textures --out out/textures                 # brick, grass, gravel: 256², J=5, L=8, 500 iterations
//! textures --out out/textures --quick         # 128², J=4, 100 iterations
//! textures --input my.png --out out/mine      # any image, centre-cropped to --size
//! ```
//! The scattering-spectra model keeps every orientation and has the first four moments of
//! the values beside it (`--marginal moments`, the default here).
//! Writes `DIR/textures.png` (per texture, a row original | scattering-moment synthesis |
//! Gaussian model, then a row with the scattering-spectra synthesis), `DIR/loss.png`,
//! `DIR/metrics.json` (with `fidelity_by_texture`: spectrum error and histogram distance of
//! each model), `DIR/<name>_spectrum.png` and `DIR/<name>_histogram.png` (radial band
//! spectra on log-log axes, value histograms on a log scale, original against every
//! model), `DIR/table.md`, and every synthesis and Gaussian draw as
//! `DIR/<name>_{synthesis,gaussian}.npy` (in the image's [0, 1] units).

use clap::Parser;
use scattering_apps::io::read_images;
use scattering_apps::synthesis::{
    fidelity_plots, image_fidelity, image_moments, start_point, synthesise, Extra, ImageOptions,
    MarginalKind, Report, SpectraDefaults, SpectraReduction,
};
use scattering_apps::AppError;
use scattering_models::ScatteringMoments2d;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(about = "Texture synthesis from scattering moments, against the Gaussian model")]
struct Args {
    /// Images to synthesise (PNG/JPEG/.npy); default: the brick, grass and gravel crops in
    /// data/textures.
    #[arg(long)]
    input: Vec<PathBuf>,
    /// Output directory.
    #[arg(long, default_value = "out/textures")]
    out: PathBuf,
    /// Small run: 128² crops, J = 4, 100 iterations.
    #[arg(long)]
    quick: bool,
    /// Side of the centre crop (a multiple of 2^J).
    #[arg(long)]
    size: Option<usize>,
    /// Orientations of the scattering-spectra model (its moment count grows as L²).
    #[arg(long, default_value_t = 4)]
    spectra_l: usize,
    /// Skip the scattering-spectra synthesis.
    #[arg(long)]
    no_spectra: bool,
    #[command(flatten)]
    opt: ImageOptions,
}

fn default_inputs() -> Vec<PathBuf> {
    let names = ["brick", "grass", "gravel"];
    let here = Path::new("data/textures");
    let dir = if here.join("brick.png").exists() {
        here.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/textures")
    };
    names.iter().map(|n| dir.join(format!("{n}.png"))).collect()
}

fn crop(path: &Path, size: usize) -> Result<Vec<f64>, AppError> {
    let batch = read_images(path)?;
    let (_, h, w) = batch.dim();
    if h < size || w < size {
        return Err(AppError::Usage(format!(
            "{}: {h}×{w} is smaller than the {size}×{size} crop",
            path.display()
        )));
    }
    let (r0, c0) = ((h - size) / 2, (w - size) / 2);
    Ok(batch
        .slice(ndarray::s![0, r0..r0 + size, c0..c0 + size])
        .iter()
        .copied()
        .collect())
}

/// The moments this experiment adds by default (see `--extra`).
const EXTRA: Extra = Extra::Both;

fn run(a: Args) -> Result<(), AppError> {
    // A folder that cannot be written is found now, not after the computation.
    scattering_apps::io::prepare_folder(&a.out)?;
    let size = a.size.unwrap_or(if a.quick { 128 } else { 256 });
    scattering_apps::synthesis::check_field_memory(size, 1)?;
    let j = a.opt.j.unwrap_or(if a.quick { 4 } else { 5 });
    let l = a.opt.l.unwrap_or(8);
    let settings = a.opt.settings(if a.quick { 100 } else { 500 });
    let iters = settings.iters;
    let inputs = if a.input.is_empty() {
        default_inputs()
    } else {
        a.input.clone()
    };
    let moments = ScatteringMoments2d::new((size, size), j, l)?;
    let start = start_point(&moments, a.opt.start, settings)?;
    let phi = image_moments((size, size), j, l, a.opt.extra.unwrap_or(EXTRA))?;
    let mut report = Report::new(
        &a.out,
        "textures.png",
        format!(
            "{size}², J={j}: moments (L={l}), spectra (L={}), {iters} L-BFGS iterations",
            a.spectra_l
        ),
    );
    let mut by_texture = serde_json::Map::new();
    for path in &inputs {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("image")
            .to_string();
        let x = crop(path, size)?;
        let o = synthesise(
            &name,
            phi.as_ref(),
            std::slice::from_ref(&x),
            (size, size),
            settings,
            start.clone(),
        )?;
        eprintln!(
            "{name}: moment error {:.2e}, W1 {:.4} (Gaussian {:.4}), {:.1} s",
            o.metrics.moment_rel_error,
            o.metrics.hist_distance_scattering,
            o.metrics.hist_distance_gaussian,
            o.metrics.seconds
        );
        if a.no_spectra {
            report.add(&x, o, "scattering synthesis");
            continue;
        }
        // The scattering-spectra model, from white noise.
        let spectra = a.opt.spectra_model(
            (size, size),
            j,
            a.spectra_l,
            std::slice::from_ref(&x),
            SpectraDefaults {
                reduction: SpectraReduction::None,
                marginal: MarginalKind::Moments,
                flatness: false,
            },
        )?;
        let sp = synthesise(
            &format!("{name} spectra"),
            spectra.as_ref(),
            std::slice::from_ref(&x),
            (size, size),
            settings,
            None,
        )?;
        eprintln!(
            "{name} spectra: moment error {:.2e}, W1 {:.4}, {:.1} s",
            sp.metrics.moment_rel_error, sp.metrics.hist_distance_scattering, sp.metrics.seconds
        );
        let models: [(&str, &[f64]); 3] = [
            ("scattering_spectra", &sp.synthesis),
            ("scattering_moments", &o.synthesis),
            ("gaussian", &o.gaussian),
        ];
        let fidelity = image_fidelity(std::slice::from_ref(&x), (size, size), &models)?;
        report.plots.extend(fidelity_plots(
            &name,
            std::slice::from_ref(&x),
            (size, size),
            &models,
        )?);
        by_texture.insert(name.clone(), serde_json::Value::Object(fidelity));
        report.add(&x, o, "scattering-moment synthesis");
        report.add(&x, sp, "scattering-spectra synthesis");
    }
    if !a.no_spectra {
        report.extra.insert(
            "fidelity_by_texture".into(),
            serde_json::Value::Object(by_texture),
        );
    }
    report.finish()?;
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("textures: {e}");
        std::process::exit(1);
    }
}
