//! `super-resolution`: zoom by 2 or 4 of grayscale photographs, by bicubic interpolation,
//! the best linear estimator, two scattering estimators, TV and l1-wavelet inversion (the
//! slides "Super-Resolution" and "Scattering Super-Resolution").
//!
//! ```text
//! scripts/fetch-data images                         # the default training and test photographs
//! super-resolution --out out/super-resolution/x2 --factor 2
//! super-resolution --out DIR --factor 4 --train-images A/ --test-images B/
//! super-resolution --out DIR --quick                # 64² crops, a few images, few iterations
//! ```
//! The low-resolution input is `y = A x`: Gaussian blur (sigma = factor / 2 pixels) then
//! decimation by the factor ([`BlurSubsample`]). Training crops (random, seeded) come from the training folder and
//! are the only data any estimator learns from; validation crops (other random crops of the
//! training images) choose every weight; the test folder's images (their centre crops) are
//! used only for the reported numbers. Methods:
//! - `bicubic`: Keys' cubic interpolation;
//! - `best_linear`: patch ridge regression from low- to high-resolution pixels;
//! - `scattering_linear` (Bruna, Sprechmann, LeCun): the local scattering coefficients of
//!   the high-resolution crop (J, L, order 2) estimated by a per-position affine map from
//!   those of the best linear estimate (ridge 1e-4), learned on the training crops; then
//!   the image minimising `½‖A x − y‖² + λ/2 ‖S x − Ŝ‖²` by L-BFGS from the best linear
//!   estimate (λ = 0.03). With noiseless data the high frequencies `A` does not see are set
//!   by the prior alone, whatever λ, so the target is shrunk: `Ŝ = S x_bl + α (Ŝ_pred −
//!   S x_bl)`, with α chosen on validation;
//! - `scattering_regularised` (Dokmanic, Bruna, Mallat, de Hoop): the same inversion with the
//!   globally averaged scattering moments, their target regressed from the best linear
//!   estimate's moments;
//! - `tv`, `l1`: total variation (Chambolle-Pock) and l1 of Daubechies-4 wavelet coefficients
//!   (FISTA).
//!
//! Writes `DIR/metrics.json`, `DIR/table.md`, `DIR/crops.png` (original, input, each method
//! for three test images) and the wall times in `DIR/timings.json`.

use clap::Parser;
use rand::{rngs::StdRng, Rng, SeedableRng};
use scattering_apps::io::{read_images, repo_path, Outputs};
use scattering_apps::synthesis::{image_grid_png, progress_bar, Panel};
use scattering_apps::AppError;
use scattering_inverse::metrics::{gradient_w1, psnr, ssim};
use scattering_inverse::solve::{l1_wavelet, tv};
use scattering_inverse::superres::{bicubic, sample_offset};
use scattering_inverse::{
    AntiAlias, BestLinear, BlurSubsample, CoefficientRegression, LinearOperator, ScatteringSolver,
    Stopping, Wavelet2d, WaveletFamily,
};
use scattering_models::{Representation, ScatteringMoments};
use scattering_transform::{Averaging, Padding, Scattering2dParams};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

type Image = ndarray::Array2<f64>;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Select {
    Psnr,
    Ssim,
}

#[derive(Parser)]
#[command(
    about = "Super-resolution by bicubic, best linear, scattering-estimated, scattering-regularised, TV and l1 inversion"
)]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/super-resolution")]
    out: PathBuf,
    /// Small run: 64 x 64 crops, at most 2 training and 2 test images, few iterations.
    #[arg(long)]
    quick: bool,
    /// Zoom factor.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(2..=4))]
    factor: u32,
    /// Folder of training photographs (PNG/JPEG, converted to grayscale); default:
    /// data/cache/images/train (`scripts/fetch-data images`).
    #[arg(long)]
    train_images: Option<PathBuf>,
    /// Folder of test photographs; default: data/cache/images/test.
    #[arg(long)]
    test_images: Option<PathBuf>,
    /// Side of the crops (a multiple of 4 x 2^J).
    #[arg(long)]
    crop: Option<usize>,
    /// Number of scales J of the scattering estimators.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=6))]
    j: u32,
    /// Which validation score chooses the weights.
    #[arg(long, value_enum, default_value_t = Select::Ssim)]
    select: Select,
    /// Seed of the training and validation crops.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Hide the progress bar.
    #[arg(long)]
    no_progress: bool,
}

const METHODS: [&str; 6] = [
    "bicubic",
    "best_linear",
    "scattering_linear",
    "scattering_regularised",
    "tv",
    "l1",
];

/// The weight λ of the scattering term against the data term `½‖A x − y‖²`.
const SCATTERING_LAMBDA: f64 = 0.03;

/// The ridge of the best linear estimate whose scattering feeds the scattering estimators
/// (fixed, so they can be learned before any weight is chosen).
const FEATURE_RIDGE: f64 = 1e-4;

fn grid(method: &str) -> Vec<f64> {
    match method {
        "best_linear" => vec![1e-6, 1e-4, 1e-2],
        "scattering_linear" | "scattering_regularised" => vec![0.0, 0.1, 0.25, 0.5, 1.0],
        "tv" | "l1" => vec![1e-5, 1e-4, 1e-3],
        _ => vec![0.0],
    }
}

#[derive(Serialize, Clone)]
struct MethodRow {
    name: String,
    psnr: f64,
    ssim: f64,
    gradient_w1: f64,
    /// Mean wall time per test image (learning excluded).
    seconds: f64,
    /// The weight chosen on the validation crops: the ridge for best_linear, the penalty for
    /// TV and l1, and for the scattering methods the fraction of the way from the best linear
    /// estimate's coefficients to the predicted ones.
    weight: Option<f64>,
}

#[derive(Serialize)]
struct ImageRow {
    image: String,
    method: String,
    psnr: f64,
    ssim: f64,
    gradient_w1: f64,
}

#[derive(Serialize)]
struct Metrics {
    factor: usize,
    crop: usize,
    j: usize,
    orientations: usize,
    selected_by: &'static str,
    train_images: Vec<String>,
    test_images: Vec<String>,
    training_crops: usize,
    validation_crops: usize,
    methods: Vec<MethodRow>,
    images: Vec<ImageRow>,
}

fn images_in(dir: &Path, limit: usize) -> Result<Vec<(String, Image)>, AppError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            AppError::Usage(format!(
                "cannot read the image folder {}: {e} (run `scripts/fetch-data images`, or pass --train-images and --test-images)",
                dir.display()
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
                Some("png" | "jpg" | "jpeg")
            )
        })
        .collect();
    paths.sort();
    paths.truncate(limit);
    if paths.is_empty() {
        return Err(AppError::Usage(format!(
            "{} holds no PNG or JPEG image",
            dir.display()
        )));
    }
    paths
        .iter()
        .map(|p| {
            let img = read_images(p)?.index_axis_move(ndarray::Axis(0), 0);
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, img))
        })
        .collect()
}

fn crop_at(img: &Image, top: usize, left: usize, side: usize) -> Image {
    img.slice(ndarray::s![top..top + side, left..left + side])
        .to_owned()
}

fn check_size(name: &str, img: &Image, side: usize) -> Result<(), AppError> {
    let (h, w) = img.dim();
    if h < side || w < side {
        return Err(AppError::Usage(format!(
            "{name}: {h}x{w} is smaller than the {side}x{side} crop (pass a smaller --crop)"
        )));
    }
    Ok(())
}

fn random_crops(
    images: &[(String, Image)],
    per_image: usize,
    side: usize,
    rng: &mut StdRng,
) -> Vec<Image> {
    let mut out = Vec::new();
    for (_, img) in images {
        let (h, w) = img.dim();
        for _ in 0..per_image {
            let top = rng.random_range(0..=h - side);
            let left = rng.random_range(0..=w - side);
            out.push(crop_at(img, top, left, side));
        }
    }
    out
}

fn flat(x: &Image) -> Vec<f64> {
    x.iter().copied().collect()
}

/// The learned estimators and the settings every method runs with.
struct Estimators {
    op: BlurSubsample,
    offset: f64,
    best_linear: BTreeMap<u64, BestLinear>,
    local: Box<dyn Representation>,
    local_map: CoefficientRegression,
    global: Box<dyn Representation>,
    global_map: CoefficientRegression,
    wavelet: Wavelet2d,
    scattering_iterations: u64,
    iterations: usize,
    factor: usize,
}

impl Estimators {
    /// The image whose scattering predicts the original's: the best linear estimate at the
    /// fixed ridge [`FEATURE_RIDGE`].
    fn feature_source(&self, y: &Image) -> Result<Image, AppError> {
        Ok(self.best_linear(FEATURE_RIDGE)?.predict(y.view())?)
    }

    fn best_linear(&self, ridge: f64) -> Result<&BestLinear, AppError> {
        self.best_linear
            .get(&ridge.to_bits())
            .ok_or_else(|| AppError::Usage(format!("no best linear estimator for ridge {ridge}")))
    }

    /// The method's estimate from `y`, with its weight and the best linear ridge chosen.
    fn run(&self, method: &str, y: &Image, weight: f64, ridge: f64) -> Result<Image, AppError> {
        let stop = Stopping {
            max_iterations: self.iterations,
            tolerance: 1e-7,
        };
        let up = || bicubic(y.view(), self.factor, self.offset);
        let solver = ScatteringSolver {
            max_iterations: self.scattering_iterations,
            ..Default::default()
        };
        Ok(match method {
            "bicubic" => up()?,
            "best_linear" => self.best_linear(weight)?.predict(y.view())?,
            "scattering_linear" | "scattering_regularised" => {
                let (phi, map) = if method == "scattering_linear" {
                    (&self.local, &self.local_map)
                } else {
                    (&self.global, &self.global_map)
                };
                let start = self.best_linear(ridge)?.predict(y.view())?;
                let source = phi.forward(&flat(&self.feature_source(y)?))?;
                let predicted = map.predict(&source)?;
                // Shrink the estimate towards the source's own coefficients by `weight`:
                // with noiseless data the prior alone fills what `A` removes, whatever its
                // weight in the loss, so how far to trust the estimate is the knob.
                let target: Vec<f64> = source
                    .iter()
                    .zip(&predicted)
                    .map(|(s, p)| s + weight * (p - s))
                    .collect();
                solver
                    .regularised(
                        &self.op,
                        y.view(),
                        phi.as_ref(),
                        &target,
                        SCATTERING_LAMBDA,
                        start.view(),
                    )?
                    .x
            }
            "tv" => tv(&self.op, y.view(), weight, stop)?.x,
            _ => l1_wavelet(&self.op, y.view(), weight, &self.wavelet, stop)?.x,
        })
    }
}

fn nearest(y: &Image, f: usize) -> Image {
    let (m, n) = y.dim();
    Image::from_shape_fn((m * f, n * f), |(i, j)| y[[i / f, j / f]])
}

fn run(a: Args) -> Result<(), AppError> {
    scattering_apps::io::prepare_folder(&a.out)?;
    let j = a.j as usize;
    let (side, per_train, per_val, limit, l, sc_iters, iters) = if a.quick {
        (a.crop.unwrap_or(64), 3, 1, 2, 4, 40u64, 80usize)
    } else {
        (a.crop.unwrap_or(128), 12, 1, usize::MAX, 8, 200, 300)
    };
    if a.factor == 3 {
        return Err(AppError::Usage("--factor must be 2 or 4, got 3".into()));
    }
    let f = a.factor as usize;
    if side == 0 || !side.is_multiple_of(f << j) {
        return Err(AppError::Usage(format!(
            "--crop must be a positive multiple of factor x 2^J = {}, got {side}",
            f << j
        )));
    }
    let train_dir = a
        .train_images
        .clone()
        .unwrap_or_else(|| repo_path("data/cache/images/train"));
    let test_dir = a
        .test_images
        .clone()
        .unwrap_or_else(|| repo_path("data/cache/images/test"));
    let train_images = images_in(&train_dir, limit)?;
    let test_images = images_in(&test_dir, limit)?;
    for (n, img) in train_images.iter().chain(&test_images) {
        check_size(n, img, side)?;
    }
    let mut rng = StdRng::seed_from_u64(a.seed);
    let train = random_crops(&train_images, per_train, side, &mut rng);
    let val = random_crops(&train_images, per_val, side, &mut rng);
    let test: Vec<(String, Image)> = test_images
        .iter()
        .map(|(n, img)| {
            let (h, w) = img.dim();
            (
                n.clone(),
                crop_at(img, (h - side) / 2, (w - side) / 2, side),
            )
        })
        .collect();

    // The usual anti-aliasing width: sigma = factor / 2 fine pixels.
    let filter = AntiAlias::Gaussian {
        sigma: 0.5 * f as f64,
    };
    let op = BlurSubsample::new((side, side), f.trailing_zeros(), filter)?;
    let offset = sample_offset(&op, filter);
    let pb = progress_bar(
        (METHODS.iter().map(|m| grid(m).len()).sum::<usize>() * val.len()
            + METHODS.len() * test.len()) as u64,
        "estimates",
        !a.no_progress,
    );

    // Learning: every estimator from the training crops only.
    pb.set_message("learning");
    let t_learn = Instant::now();
    let mut best_linear = BTreeMap::new();
    for ridge in grid("best_linear") {
        best_linear.insert(
            ridge.to_bits(),
            BestLinear::fit(&op, &train, if a.quick { 5 } else { 7 }, ridge)?,
        );
    }
    let scattering = |avg: Averaging| {
        Scattering2dParams::new((side, side), j)
            .l(l)
            .max_order(2)
            .average(avg)
            .padding(Padding::Periodic)
            .build()
    };
    let local_t = scattering(Averaging::Local)?;
    let channels = local_t.output_shape().0;
    let local: Box<dyn Representation> = Box::new(ScatteringMoments::from_transform(local_t));
    let global: Box<dyn Representation> = Box::new(ScatteringMoments::from_transform(scattering(
        Averaging::Global,
    )?));
    let (mut li, mut lt, mut gi, mut gt) = (vec![], vec![], vec![], vec![]);
    for x in &train {
        let source = best_linear
            .get(&FEATURE_RIDGE.to_bits())
            .ok_or_else(|| AppError::Usage("the feature ridge is not in the grid".into()))?;
        let up = flat(&source.predict(op.apply(x.view())?.view())?);
        li.push(local.forward(&up)?);
        lt.push(local.forward(&flat(x))?);
        gi.push(global.forward(&up)?);
        gt.push(global.forward(&flat(x))?);
    }
    let local_map = CoefficientRegression::fit(&li, &lt, channels, channels, 1e-4)?;
    let g = global.output_len();
    let global_map = CoefficientRegression::fit(&gi, &gt, g, g, 1e-2)?;
    let est = Estimators {
        op,
        offset,
        best_linear,
        local,
        local_map,
        global,
        global_map,
        wavelet: Wavelet2d::new((side, side), WaveletFamily::Db4, 3)?,
        scattering_iterations: sc_iters,
        iterations: iters,
        factor: f,
    };
    let learn_seconds = t_learn.elapsed().as_secs_f64();

    // Weights on the validation crops; best_linear first, since the scattering methods start
    // from it.
    let yval: Vec<Image> = val
        .iter()
        .map(|x| est.op.apply(x.view()))
        .collect::<Result<_, _>>()?;
    let score = |e: &Image, x: &Image| -> Result<f64, AppError> {
        Ok(match a.select {
            Select::Psnr => psnr(e.view(), x.view(), 1.0)?,
            Select::Ssim => ssim(e.view(), x.view(), 1.0)?,
        })
    };
    let mut chosen: BTreeMap<&str, f64> = BTreeMap::new();
    let mut ridge = grid("best_linear")[0];
    for m in METHODS {
        let mut best = (f64::NEG_INFINITY, grid(m)[0]);
        for w in grid(m) {
            pb.set_message(format!("validation: {m}, weight {w}"));
            let mut s = 0.0;
            for (x, y) in val.iter().zip(&yval) {
                s += score(&est.run(m, y, w, ridge)?, x)?;
                pb.inc(1);
            }
            if s > best.0 {
                best = (s, w);
            }
        }
        if m == "best_linear" {
            ridge = best.1;
        }
        chosen.insert(m, best.1);
    }

    // The test images, once per method.
    let mut rows = Vec::new();
    let mut per_image = Vec::new();
    let mut timings: BTreeMap<String, f64> = BTreeMap::new();
    let mut figure: Vec<Vec<Panel>> = test
        .iter()
        .take(3)
        .map(|(n, x)| -> Result<Vec<Panel>, AppError> {
            Ok(vec![
                Panel {
                    caption: format!("{n} (original)"),
                    data: flat(x),
                    shape: (side, side),
                },
                Panel {
                    caption: format!("input (1/{f})"),
                    data: flat(&nearest(&est.op.apply(x.view())?, f)),
                    shape: (side, side),
                },
            ])
        })
        .collect::<Result<_, _>>()?;
    for m in METHODS {
        let w = chosen.get(m).copied().unwrap_or(0.0);
        let (mut p, mut s, mut g, mut secs) = (0.0, 0.0, 0.0, 0.0);
        for (k, (name, x)) in test.iter().enumerate() {
            pb.set_message(format!("test: {m} on {name}"));
            let y = est.op.apply(x.view())?;
            let t = Instant::now();
            let e = est.run(m, &y, w, ridge)?;
            secs += t.elapsed().as_secs_f64();
            let row = ImageRow {
                image: name.clone(),
                method: m.into(),
                psnr: psnr(e.view(), x.view(), 1.0)?,
                ssim: ssim(e.view(), x.view(), 1.0)?,
                gradient_w1: gradient_w1(e.view(), x.view())?,
            };
            (p, s, g) = (p + row.psnr, s + row.ssim, g + row.gradient_w1);
            if let Some(panels) = figure.get_mut(k) {
                panels.push(Panel {
                    caption: format!("{m}: {:.1} dB", row.psnr),
                    data: flat(&e),
                    shape: (side, side),
                });
            }
            per_image.push(row);
            pb.inc(1);
        }
        let n = test.len() as f64;
        timings.insert(m.into(), secs / n);
        rows.push(MethodRow {
            name: m.into(),
            psnr: p / n,
            ssim: s / n,
            gradient_w1: g / n,
            seconds: secs / n,
            weight: (m != "bicubic").then_some(w),
        });
    }
    pb.finish_and_clear();
    timings.insert("learning".into(), learn_seconds);

    let names = |v: &[(String, Image)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let metrics = Metrics {
        factor: f,
        crop: side,
        j,
        orientations: l,
        selected_by: match a.select {
            Select::Psnr => "psnr",
            Select::Ssim => "ssim",
        },
        train_images: names(&train_images),
        test_images: names(&test),
        training_crops: train.len(),
        validation_crops: val.len(),
        methods: rows,
        images: per_image,
    };
    let mut table = format!(
        "Super-resolution x{f} of {} test crops ({side} x {side}, centre of {}), learned on {} random crops of {} and weights chosen by {} on {} other crops of them. Gaussian blur and decimation; scattering J = {j}, L = {l}, order 2. Means over the test crops; gradient W1 is the sharpness statistic (lower is closer to the original).\n\n| method | PSNR (dB) | SSIM | gradient W1 | seconds / image | weight |\n|---|---:|---:|---:|---:|---:|\n",
        test.len(),
        metrics.test_images.join(", "),
        train.len(),
        metrics.train_images.join(", "),
        metrics.selected_by.to_uppercase(),
        val.len(),
    );
    for r in &metrics.methods {
        table += &format!(
            "| {} | {:.2} | {:.3} | {:.4} | {:.2} | {} |\n",
            r.name,
            r.psnr,
            r.ssim,
            r.gradient_w1,
            r.seconds,
            r.weight.map(|w| format!("{w}")).unwrap_or_default()
        );
    }
    let mut out = Outputs::new();
    let png = a.out.join("crops.png");
    let tmp = out.temp_path(&png)?;
    image_grid_png(
        &png,
        &tmp,
        &format!("super-resolution x{f}: original, input, then each method"),
        &figure,
    )?;
    out.json(&a.out.join("metrics.json"), &metrics)?;
    out.json(
        &a.out.join("timings.json"),
        &serde_json::json!({ "seconds_per_test_image": timings }),
    )?;
    out.text(&a.out.join("table.md"), &table)?;
    out.commit()?;
    print!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("super-resolution: {e}");
        std::process::exit(1);
    }
}
