//! `inverse-scattering`: signals recovered from their scattering coefficients by gradient
//! descent from white noise (the slides "Inverse Scattering Transform", "Sparse Shape
//! Reconstruction" and "Multiscale Scattering Reconstructions").
//!
//! ```text
//! inverse-scattering --out out/inverse-scattering             # N = 64 shapes, 128² images
//! inverse-scattering --out out/inverse-scattering --quick     # N = 32 shapes, 32² images
//! inverse-scattering --input photo.png --audio clip.wav --out DIR
//! ```
//! Three parts:
//! - a Dirac, a straight edge and a sinusoid (N x N, 2^J = N, order 2, L = 8): recovered up
//!   to a translation; the relative L2 error after the best circular shift and sign (at
//!   2^J = N the coefficients are averaged over all positions, see `image_scattering`);
//! - real images (default: camera, brick and grass, each brought to 128 x 128 by
//!   [`read_square_image`]) at 2^J = 16, 32, 64, 128 and orders 1 and 2: PSNR and SSIM of the
//!   best-shifted estimate, coefficients per pixel;
//! - a 1D clip (default: the bird song in data/audio) from its time scattering at J = 6, 8,
//!   10: the relative spectrogram error.
//!
//! Writes `DIR/metrics.json`, `DIR/table.md`, `DIR/images.png` and `DIR/images-order1.png`
//! (as the slide: the originals across the top, then one row per J), `DIR/shapes.png`,
//! `DIR/loss.png` (loss curves, log axes) and the wall times in `DIR/timings.json`.

use clap::Parser;
use scattering_apps::io::{read_signals, read_square_image, repo_path, Outputs};
use scattering_apps::plots::{curves_png, Series};
use scattering_apps::synthesis::{image_grid_png, progress_bar, Panel};
use scattering_apps::AppError;
use scattering_inverse::best_shift_error;
use scattering_inverse::metrics::{psnr, spectrogram_error, ssim};
use scattering_inverse::ScatteringSolver;
use scattering_models::{Representation, ScatteringMoments};
use scattering_transform::{Averaging, Padding, Scattering1dParams, Scattering2dParams};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Reconstruction of shapes, images and audio from their scattering coefficients")]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/inverse-scattering")]
    out: PathBuf,
    /// Small run: 32 x 32 shapes and images (J = 3, 4, 5), a 2048-sample clip (J = 6, 8).
    #[arg(long)]
    quick: bool,
    /// Images to reconstruct (PNG/JPEG/.npy); default: camera, brick and grass from data/.
    #[arg(long)]
    input: Vec<PathBuf>,
    /// A WAV (or .npy / CSV) signal whose first samples are reconstructed; default: the bird
    /// song in data/audio.
    #[arg(long)]
    audio: Option<PathBuf>,
    /// Number of orientations of the 2D wavelets.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=16))]
    l: u32,
    /// L-BFGS iteration cap per reconstruction.
    #[arg(long)]
    iterations: Option<u64>,
    /// Seed of the white-noise starts.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Hide the progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Serialize)]
struct ShapeRow {
    name: String,
    size: usize,
    j: usize,
    /// `‖±x~(· − τ) − x‖ / ‖x‖` at the best circular shift τ and sign.
    error_after_shift: f64,
    shift: (usize, usize),
    sign: f64,
    scattering_error: f64,
    iterations: u64,
}

#[derive(Serialize)]
struct ImageRow {
    image: String,
    size: usize,
    j: usize,
    order: usize,
    coefficients_per_pixel: f64,
    /// Of the estimate at its best circular shift and sign.
    psnr: f64,
    ssim: f64,
    scattering_error: f64,
    iterations: u64,
    seconds: f64,
}

#[derive(Serialize)]
struct AudioRow {
    source: String,
    samples: usize,
    j: usize,
    q: usize,
    coefficients_per_sample: f64,
    spectrogram_error: f64,
    spectrogram_window: usize,
    scattering_error: f64,
    iterations: u64,
}

#[derive(Serialize)]
struct Metrics {
    orientations: usize,
    shapes: Vec<ShapeRow>,
    images: Vec<ImageRow>,
    audio: Vec<AudioRow>,
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// The 2D scattering of `size x size` images as a representation (periodic; local averaging
/// at 2^J, one position per 2^J x 2^J block). At 2^J = size it averages globally instead:
/// the local low-pass (Kymatio's, of width 0.8 · 2^(J-1)) is far from flat on a grid of its
/// own size, so one position of it is not translation invariant (a Dirac moved by (13, 9) on
/// 32 x 32 changes its coefficients by 14%; the global mean, by 1%, subsampling's aliasing).
fn image_scattering(
    size: usize,
    j: usize,
    l: usize,
    order: usize,
) -> Result<Box<dyn Representation>, AppError> {
    let average = if 1usize << j == size {
        Averaging::Global
    } else {
        Averaging::Local
    };
    let s = Scattering2dParams::new((size, size), j)
        .l(l)
        .max_order(order)
        .average(average)
        .padding(Padding::Periodic)
        .build()?;
    Ok(Box::new(ScatteringMoments::from_transform(s)))
}

/// Reconstructs `x` from `phi(x)`, starting from white noise of `x`'s RMS.
fn invert(
    solver: &ScatteringSolver,
    phi: &dyn Representation,
    x: &[f64],
) -> Result<scattering_inverse::Reconstruction, AppError> {
    let target = phi.forward(x)?;
    Ok(solver.reconstruct(phi, &target, rms(x).max(1e-6))?)
}

fn shapes(n: usize) -> Vec<(&'static str, ndarray::Array2<f64>)> {
    let c = n / 2;
    let tau = 2.0 * std::f64::consts::PI;
    vec![
        (
            "dirac",
            ndarray::Array2::from_shape_fn((n, n), |(i, j)| f64::from(u8::from(i == c && j == c))),
        ),
        (
            "edge",
            ndarray::Array2::from_shape_fn((n, n), |(_, j)| f64::from(u8::from(j < c))),
        ),
        (
            "sinusoid",
            ndarray::Array2::from_shape_fn((n, n), |(i, j)| {
                (tau * (3.0 * i as f64 + 2.0 * j as f64) / n as f64).cos()
            }),
        ),
    ]
}

fn panel(caption: String, x: &[f64], shape: (usize, usize)) -> Panel {
    Panel {
        caption,
        data: x.to_vec(),
        shape,
    }
}

/// `estimate` moved by the shift and sign that align it best with the original.
fn aligned(
    estimate: &ndarray::Array2<f64>,
    shift: (usize, usize),
    sign: f64,
) -> ndarray::Array2<f64> {
    let (m, n) = estimate.dim();
    ndarray::Array2::from_shape_fn((m, n), |(i, j)| {
        sign * estimate[[(i + shift.0) % m, (j + shift.1) % n]]
    })
}

fn run(a: Args) -> Result<(), AppError> {
    scattering_apps::io::prepare_folder(&a.out)?;
    let l = a.l as usize;
    let (shape_n, size, js, audio_n, audio_js) = if a.quick {
        (32usize, 32usize, vec![3, 4, 5], 2048usize, vec![6, 8])
    } else {
        (64, 128, vec![4, 5, 6, 7], 8192, vec![6, 8, 10])
    };
    let solver = ScatteringSolver {
        seed: a.seed,
        max_iterations: a.iterations.unwrap_or(if a.quick { 150 } else { 500 }),
        tolerance: 1e-12,
    };
    let inputs = if a.input.is_empty() {
        vec![
            repo_path("data/images/camera.png"),
            repo_path("data/textures/brick.png"),
            repo_path("data/textures/grass.png"),
        ]
    } else {
        a.input.clone()
    };
    let images: Vec<(String, ndarray::Array2<f64>)> = inputs
        .iter()
        .map(|p| {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string());
            read_square_image(p, size).map(|x| (name, x))
        })
        .collect::<Result<_, _>>()?;
    let audio_path = a
        .audio
        .clone()
        .unwrap_or_else(|| repo_path("data/audio/bird.wav"));
    let signals = read_signals(&audio_path)?;
    let row = signals.data.row(0);
    if row.len() < audio_n {
        return Err(AppError::Usage(format!(
            "{}: {} samples, the run needs {audio_n}",
            audio_path.display(),
            row.len()
        )));
    }
    // The loudest stretch of the clip, so the reconstruction has something to recover.
    let hop = audio_n / 4;
    let start = (0..=(row.len() - audio_n) / hop)
        .map(|k| k * hop)
        .max_by(|&p, &q| {
            let e = |s: usize| row.slice(ndarray::s![s..s + audio_n]).mapv(|v| v * v).sum();
            e(p).total_cmp(&e(q))
        })
        .unwrap_or(0);
    let clip: Vec<f64> = row.slice(ndarray::s![start..start + audio_n]).to_vec();

    let total = (3 + images.len() * js.len() * 2 + audio_js.len()) as u64;
    let pb = progress_bar(total, "reconstructions", !a.no_progress);
    let mut timings: BTreeMap<String, f64> = BTreeMap::new();
    let mut losses: Vec<Series> = Vec::new();

    // 1. Shapes, fully invariant (2^J = N): recovered up to a translation.
    let jn = shape_n.trailing_zeros() as usize;
    let phi = image_scattering(shape_n, jn, l, 2)?;
    let mut shape_rows = Vec::new();
    let mut shape_panels = Vec::new();
    for (name, x) in shapes(shape_n) {
        pb.set_message(format!("shape {name}"));
        let flat: Vec<f64> = x.iter().copied().collect();
        let t = Instant::now();
        let r = invert(&solver, phi.as_ref(), &flat)?;
        timings.insert(format!("shape/{name}"), t.elapsed().as_secs_f64());
        let est = ndarray::Array2::from_shape_vec((shape_n, shape_n), r.x.clone())
            .map_err(|e| AppError::Usage(e.to_string()))?;
        let (err, shift, sign) = best_shift_error(x.view(), est.view())?;
        shape_panels.push(vec![
            panel(name.to_string(), &flat, (shape_n, shape_n)),
            panel(
                format!("recovered, error {err:.2}"),
                aligned(&est, shift, sign).as_slice().unwrap_or(&r.x),
                (shape_n, shape_n),
            ),
        ]);
        shape_rows.push(ShapeRow {
            name: name.into(),
            size: shape_n,
            j: jn,
            error_after_shift: err,
            shift,
            sign,
            scattering_error: r.relative_error,
            iterations: r.iterations,
        });
        pb.inc(1);
    }

    // 2. Real images at every J and order.
    let mut image_rows = Vec::new();
    // As the slide: the originals across the top, then one row per J; one figure per order.
    let originals: Vec<Panel> = images
        .iter()
        .map(|(name, x)| panel(name.to_string(), x.as_slice().unwrap_or(&[]), (size, size)))
        .collect();
    let mut grids: Vec<Vec<Vec<Panel>>> = (0..2)
        .map(|_| {
            std::iter::once(originals.clone())
                .chain(js.iter().map(|_| Vec::new()))
                .collect()
        })
        .collect();
    for (name, x) in &images {
        let flat: Vec<f64> = x.iter().copied().collect();
        for order in [1, 2] {
            for (row, &j) in js.iter().enumerate() {
                pb.set_message(format!("{name}, J = {j}, order {order}"));
                let phi = image_scattering(size, j, l, order)?;
                let t = Instant::now();
                let r = invert(&solver, phi.as_ref(), &flat)?;
                let seconds = t.elapsed().as_secs_f64();
                timings.insert(format!("image/{name}/J{j}/order{order}"), seconds);
                let est = ndarray::Array2::from_shape_vec((size, size), r.x.clone())
                    .map_err(|e| AppError::Usage(e.to_string()))?;
                let (_, shift, sign) = best_shift_error(x.view(), est.view())?;
                let al = aligned(&est, shift, sign);
                let p = psnr(al.view(), x.view(), 1.0)?;
                let s = ssim(al.view(), x.view(), 1.0)?;
                grids[order - 1][row + 1].push(panel(
                    format!("{name}, J={j}, order {order}: {p:.1} dB"),
                    al.as_slice().unwrap_or(&r.x),
                    (size, size),
                ));
                if order == 2 && name == &images[0].0 {
                    losses.push(Series {
                        name: format!("{name}, J = {j}, order 2"),
                        points: r
                            .loss_curve
                            .iter()
                            .enumerate()
                            .map(|(k, v)| ((k + 1) as f64, *v))
                            .collect(),
                    });
                }
                image_rows.push(ImageRow {
                    image: name.clone(),
                    size,
                    j,
                    order,
                    coefficients_per_pixel: phi.output_len() as f64 / (size * size) as f64,
                    psnr: p,
                    ssim: s,
                    scattering_error: r.relative_error,
                    iterations: r.iterations,
                    seconds,
                });
                pb.inc(1);
            }
        }
    }

    // 3. Audio from its time scattering.
    let source = audio_path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let window = 256.min(audio_n / 4);
    let mut audio_rows = Vec::new();
    for &j in &audio_js {
        pb.set_message(format!("audio, J = {j}"));
        let s = Scattering1dParams::new(audio_n, j)
            .q((8, 1))
            .average(Averaging::Local)
            .padding(Padding::Periodic)
            .build()?;
        let phi = ScatteringMoments::from_transform(s);
        let t = Instant::now();
        let r = invert(&solver, &phi, &clip)?;
        timings.insert(format!("audio/J{j}"), t.elapsed().as_secs_f64());
        audio_rows.push(AudioRow {
            source: source.clone(),
            samples: audio_n,
            j,
            q: 8,
            coefficients_per_sample: phi.output_len() as f64 / audio_n as f64,
            spectrogram_error: spectrogram_error(&r.x, &clip, window)?,
            spectrogram_window: window,
            scattering_error: r.relative_error,
            iterations: r.iterations,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();

    let mut table = format!(
        "Reconstruction from scattering coefficients by L-BFGS from white noise (at most {} iterations, L = {l}).\n\n\
         Shapes ({shape_n} x {shape_n}, J = {jn}, order 2; error after the best circular shift and sign):\n\n\
         | shape | relative L2 error | relative scattering error | iterations |\n|---|---:|---:|---:|\n",
        solver.max_iterations
    );
    for r in &shape_rows {
        table += &format!(
            "| {} | {:.3} | {:.2e} | {} |\n",
            r.name, r.error_after_shift, r.scattering_error, r.iterations
        );
    }
    table += &format!(
        "\nImages ({size} x {size}; PSNR and SSIM of the best-shifted estimate):\n\n\
         | image | J | order | coefficients / pixel | PSNR (dB) | SSIM | relative scattering error |\n|---|---:|---:|---:|---:|---:|---:|\n"
    );
    for r in &image_rows {
        table += &format!(
            "| {} | {} | {} | {:.3} | {:.2} | {:.3} | {:.2e} |\n",
            r.image, r.j, r.order, r.coefficients_per_pixel, r.psnr, r.ssim, r.scattering_error
        );
    }
    table += &format!(
        "\nAudio ({source}, the loudest {audio_n} samples; Q = 8, order 2; spectrogram with {window}-sample Hann windows):\n\n\
         | J | coefficients / sample | relative spectrogram error | relative scattering error |\n|---:|---:|---:|---:|\n"
    );
    for r in &audio_rows {
        table += &format!(
            "| {} | {:.3} | {:.3} | {:.2e} |\n",
            r.j, r.coefficients_per_sample, r.spectrogram_error, r.scattering_error
        );
    }

    let mut out = Outputs::new();
    for (file, title, rows) in [
        (
            "shapes.png",
            "shapes and their reconstructions (aligned)",
            &shape_panels,
        ),
        (
            "images.png",
            "originals, then reconstructions from order 2 at growing J (aligned)",
            &grids[1],
        ),
        (
            "images-order1.png",
            "originals, then reconstructions from order 1 at growing J (aligned)",
            &grids[0],
        ),
    ] {
        let png = a.out.join(file);
        let tmp = out.temp_path(&png)?;
        image_grid_png(&png, &tmp, title, rows)?;
    }
    let png = a.out.join("loss.png");
    let tmp = out.temp_path(&png)?;
    curves_png(
        &png,
        &tmp,
        "reconstruction loss",
        ("evaluation", "loss ½‖Φx − Φx₀‖² / ‖Φx₀‖²"),
        &losses,
        (true, true),
    )?;
    out.json(
        &a.out.join("metrics.json"),
        &Metrics {
            orientations: l,
            shapes: shape_rows,
            images: image_rows,
            audio: audio_rows,
        },
    )?;
    out.json(
        &a.out.join("timings.json"),
        &serde_json::json!({ "seconds": timings }),
    )?;
    out.text(&a.out.join("table.md"), &table)?;
    out.commit()?;
    print!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("inverse-scattering: {e}");
        std::process::exit(1);
    }
}
