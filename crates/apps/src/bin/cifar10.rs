//! `cifar10`: object classification on CIFAR-10 with translation and rigid-motion
//! scattering (Oyallon and Mallat, "Deep roto-translation scattering for object
//! classification", CVPR 2015).
//!
//! ```text
//! cifar10 --train cifar10_train.tar [--test cifar10_test.tar] --out out/cifar10 [--quick]
//!         [--train-size N] [--landmarks 8000] [--flip] [--oversample]
//!         [--gamma-scales 0.125,0.25,0.5]
//!         [--features translation,rigid_motion,combined] [--classifiers logistic,gaussian_nystrom]
//! ```
//! The archives hold JPEG or PNG members named `{class}/{file}.jpg`; classes are the folder
//! names in sorted order (CIFAR-10's official order). Without `--test`, a stratified
//! held-out split of the training archive (`--validation`, 5,000 images) is the test set.
//! Hyperparameters (penalties, kernel width) are chosen on a separate tuning split of the
//! training archive (`--tune`, 2,500 images), never on the test set.
//!
//! Colour: each image in YUV (Oyallon and Mallat), each of Y, U, V scattered on its own.
//! Features: translation scattering (`Scattering2d`, J = 3, L = 8, orders 0-2, local
//! averaging: a 4 x 4 grid on 32 x 32 images) and rigid-motion scattering (J = 3, 2 L angles
//! over [0, 2 pi), K = 2, angular average, the same spatial grid), or both side by side
//! (`combined`, rigid motion's order 0 dropped as translation's twin), `log(S + 1e-4)`,
//! standardised on the training rows (order 0, the local mean of each plane, is kept
//! linear: U and V are signed). With `--flip`, the mirror image of every training image is
//! a training row too, and each test image votes with its mirror image (summed scores);
//! with `--oversample`, the output grid is sampled at twice the density (4x features).
//! Classifiers: multinomial logistic regression and a Gaussian-kernel classifier that
//! scales to 50,000 images (one-vs-all kernel ridge in the span of up to `--landmarks`
//! random training rows, Nystrom, `scattering_learn::NystromClassifier`; the
//! width from the median distance times each of `--gamma-scales` and the penalty, chosen
//! on the tuning split).
//!
//! Writes `metrics.json` (`results[]`: features, classifier, train_size, accuracy,
//! seconds, and the chosen hyperparameters), `table.md`, `timings.json`,
//! `learning_curve.png` (test accuracy against training size, log axis) and
//! `confusion.png` (the best model at the largest size). Features are cached
//! (`--cache`, default `data/cache/features`).

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array2, Array3, Array4, ArrayView2, ArrayView3, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use scattering_apps::cache::{fnv1a, FeatureCache};
use scattering_apps::figures::confusion_png;
use scattering_apps::image_tar::{read_image_tar, LabelledImages};
use scattering_apps::io::{gb, memory_budget_bytes, Outputs};
use scattering_apps::plots::{curves_png, Series};
use scattering_apps::AppError;
use scattering_learn::{argmax_classes, error_rate, Logistic, NystromClassifier, Standardizer};
use scattering_transform::{RigidMotionParams, Scattering2dParams};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "cifar10",
    version,
    about = "CIFAR-10: translation and rigid-motion scattering, logistic and Gaussian-kernel classifiers"
)]
struct Args {
    /// Tar archive of training images `{class}/{file}.jpg`.
    #[arg(long)]
    train: PathBuf,
    /// Tar archive of test images, same layout (default: a held-out split of --train).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Small run: 400 training, 100 tuning and 200 test images, 200 landmarks.
    #[arg(long)]
    quick: bool,
    /// Largest training size of the learning curve (default: all training images left
    /// after the held-out splits).
    #[arg(long)]
    train_size: Option<usize>,
    /// Images held out of --train as the test set when --test is absent.
    #[arg(long)]
    validation: Option<usize>,
    /// Images held out of --train to choose the hyperparameters.
    #[arg(long)]
    tune: Option<usize>,
    /// Landmark rows of the Gaussian-kernel classifier (default 8,000; 200 with --quick).
    #[arg(long)]
    landmarks: Option<usize>,
    /// Kernel widths to try, as multiples of the inverse median squared distance between
    /// training rows.
    #[arg(long, value_delimiter = ',', default_value = "0.125,0.25,0.5")]
    gamma_scales: Vec<f64>,
    /// Scales of the scattering transforms.
    #[arg(short = 'J', long = "J", default_value_t = 3)]
    j: usize,
    /// Orientations of translation scattering over [0, pi); rigid-motion scattering uses
    /// twice as many angles over [0, 2 pi), the same wavelets.
    #[arg(short = 'L', long = "L", default_value_t = 8)]
    l: usize,
    /// Angular scales of rigid-motion scattering.
    #[arg(short = 'K', long = "K", default_value_t = 2)]
    k: usize,
    /// Feature sets, comma-separated: translation, rigid_motion, combined (translation
    /// scattering and rigid-motion orders 1 and 2 side by side).
    #[arg(
        long,
        default_value = "translation,rigid_motion",
        value_delimiter = ','
    )]
    features: Vec<String>,
    /// Classifiers, comma-separated: logistic, gaussian_nystrom.
    #[arg(
        long,
        default_value = "logistic,gaussian_nystrom",
        value_delimiter = ','
    )]
    classifiers: Vec<String>,
    /// Also train on the mirror image (left-right flip) of every training image: twice the
    /// training rows, the same images.
    #[arg(long)]
    flip: bool,
    /// Sample the scattering output grid twice as densely along each axis (the offsets 0
    /// and 2^(J-1); the image moved by that much, mirrored at the edge): 4 times the
    /// features, as Bruna and Mallat did on MNIST.
    #[arg(long)]
    oversample: bool,
    /// Seed of the splits and of the landmarks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Feature cache directory.
    #[arg(long, default_value = "data/cache/features")]
    cache: PathBuf,
    /// Do not read or write the feature cache.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Serialize)]
struct Row {
    features: String,
    classifier: String,
    train_size: usize,
    accuracy: f64,
    /// Fit (with the hyperparameter search) and prediction, in seconds.
    seconds: f64,
    /// Accuracy on the tuning split of the chosen hyperparameters.
    tune_accuracy: f64,
    hyperparameters: BTreeMap<String, f64>,
}

#[derive(Serialize)]
struct Metrics {
    train: String,
    test: String,
    classes: Vec<String>,
    image_shape: (usize, usize),
    test_size: usize,
    tune_size: usize,
    j: usize,
    l_translation: usize,
    l_rigid: usize,
    k: usize,
    landmarks: usize,
    /// Whether the training images' mirror images were added and each test image voted
    /// with its mirror image (`--flip`).
    flip: bool,
    /// The output grid sampled twice as densely (`--oversample`).
    oversample: bool,
    colour: &'static str,
    features: BTreeMap<String, usize>,
    results: Vec<Row>,
}

#[derive(Serialize)]
struct Timings {
    read_seconds: f64,
    feature_seconds: BTreeMap<String, f64>,
    features_cached: BTreeMap<String, bool>,
    total_seconds: f64,
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len as u64);
    b.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Y, U, V planes of RGB bytes (BT.601, values in [0, 1] for Y), left-right mirrored when
/// `mirror`.
fn yuv(rgb: &[u8], (h, w): (usize, usize), mirror: bool, out: &mut ndarray::ArrayViewMut3<f32>) {
    for (p, px) in rgb.chunks_exact(3).enumerate() {
        let (r, g, b) = (
            px[0] as f32 / 255.0,
            px[1] as f32 / 255.0,
            px[2] as f32 / 255.0,
        );
        let (i, j) = (p / w, p % w);
        let j = if mirror { w - 1 - j } else { j };
        debug_assert!(i < h);
        out[[0, i, j]] = 0.299 * r + 0.587 * g + 0.114 * b;
        out[[1, i, j]] = -0.14713 * r - 0.28886 * g + 0.436 * b;
        out[[2, i, j]] = 0.615 * r - 0.51499 * g - 0.10001 * b;
    }
}

type Forward<'a> = dyn Fn(ArrayView3<f32>) -> Result<Array4<f32>, AppError> + Sync + 'a;

/// `forward` of the planes moved up and left by 0 or `half` pixels along each axis
/// (mirrored at the far edge), the four output grids side by side along the last axis:
/// the output grid sampled at twice the density, channel 0 first as in `forward`.
fn oversampled(
    planes: ArrayView3<f32>,
    half: usize,
    forward: &Forward,
) -> Result<Array4<f32>, AppError> {
    let (_, h, w) = planes.dim();
    let at = |i: usize, n: usize| {
        if i < n {
            i
        } else {
            (2 * n).saturating_sub(i + 2)
        }
    };
    let mut grids = Vec::with_capacity(4);
    for (dy, dx) in [(0, 0), (0, half), (half, 0), (half, half)] {
        let moved = Array3::from_shape_fn(planes.dim(), |(b, i, k)| {
            planes[[b, at(i + dy, h), at(k + dx, w)]]
        });
        grids.push(forward(moved.view())?);
    }
    let views: Vec<_> = grids.iter().map(|g| g.view()).collect();
    ndarray::concatenate(Axis(3), &views)
        .map_err(|e| AppError::Usage(format!("oversampled features: {e}")))
}

/// `log(S + 1e-4)` of every channel and position of the Y, U and V scatterings of the
/// images `rows` (mirrored when `mirror`), one feature row per image; order 0 (channel 0
/// of each plane) is kept as it is.
fn features(
    data: &LabelledImages,
    rows: &[usize],
    mirror: bool,
    per_plane: usize,
    what: &str,
    forward: &Forward,
) -> Result<Array2<f64>, AppError> {
    let (h, w) = data.shape;
    let mut out = Array2::zeros((rows.len(), 3 * per_plane));
    let pb = bar(rows.len(), what);
    let chunk = 128;
    for (c, idx) in rows.chunks(chunk).enumerate() {
        let mut planes = Array3::<f32>::zeros((3 * idx.len(), h, w));
        for (b, &i) in idx.iter().enumerate() {
            let mut v = planes.slice_mut(s![3 * b..3 * b + 3, .., ..]);
            yuv(data.image(i), (h, w), mirror, &mut v);
        }
        let sx = forward(planes.view())?;
        for b in 0..idx.len() {
            let mut row = out.row_mut(c * chunk + b);
            let src = sx.slice(s![3 * b..3 * b + 3, .., .., ..]);
            let grid = src.dim().2 * src.dim().3;
            for (k, (o, &v)) in row.iter_mut().zip(src.iter()).enumerate() {
                *o = if k % per_plane < grid {
                    // Order 0, the local mean of a plane: U and V are signed, and their
                    // sign is the colour, so it stays linear.
                    v as f64
                } else {
                    (v.max(0.0) as f64 + 1e-4).ln()
                };
            }
        }
        pb.inc(idx.len() as u64);
    }
    pb.finish_and_clear();
    Ok(out)
}

/// A stratified split of `labels` into `(rest, held)` with `held` images held out.
fn stratified_holdout(labels: &[usize], held: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let n = labels.len().max(1);
    let (mut rest, mut out) = (Vec::new(), Vec::new());
    for c in 0..classes {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        idx.shuffle(&mut rng);
        let take = (held * idx.len()).div_ceil(n).min(idx.len());
        out.extend_from_slice(&idx[..take]);
        rest.extend_from_slice(&idx[take..]);
    }
    out.truncate(held);
    (rest, out)
}

/// `rows` shuffled within each class, then taken a class at a time in turn, so that every
/// prefix (the nested training sets of the learning curve) is balanced.
fn interleave_classes(rows: &[usize], labels: &[usize], seed: u64) -> Vec<usize> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for &r in rows {
        by_class[labels[r]].push(r);
    }
    for v in &mut by_class {
        v.shuffle(&mut rng);
    }
    let longest = by_class.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|k| by_class.iter().filter_map(move |v| v.get(k).copied()))
        .collect()
}

fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
    1.0 - error_rate(pred, truth)
}

/// What a classifier returns: test predictions, tuning accuracy, the chosen values.
struct Fitted {
    pred: Vec<usize>,
    tune_accuracy: f64,
    hyper: BTreeMap<String, f64>,
}

/// The column of the largest summed score of every row: `views` are the score matrices
/// of the test images seen in one or more ways (as they are, mirrored).
fn vote(views: &[Array2<f64>], classes: &[usize]) -> Vec<usize> {
    let Some(first) = views.first() else {
        return Vec::new();
    };
    let total = views[1..].iter().fold(first.clone(), |a, v| a + v);
    argmax_classes(&total, classes)
}

/// Logistic regression, penalty chosen on the tuning rows; the test rows' class
/// probabilities are summed over `xte`'s views.
fn logistic(
    xtr: ArrayView2<f64>,
    ytr: &[usize],
    xtune: ArrayView2<f64>,
    ytune: &[usize],
    xte: &[ArrayView2<f64>],
) -> Result<Fitted, AppError> {
    let mut best: Option<(f64, f64, scattering_learn::LogisticModel)> = None;
    for alpha in [1.0, 10.0, 100.0] {
        let m = Logistic {
            alpha,
            max_iterations: 300,
            ..Logistic::default()
        }
        .fit(xtr, ytr)?;
        let acc = accuracy(&m.predict(xtune)?, ytune);
        if best.as_ref().is_none_or(|b| acc > b.0) {
            best = Some((acc, alpha, m));
        }
    }
    let (acc, alpha, m) = best.ok_or_else(|| AppError::Usage("no penalty".into()))?;
    Ok(Fitted {
        pred: vote(
            &xte.iter()
                .map(|x| m.predict_probabilities(*x))
                .collect::<Result<Vec<_>, _>>()?,
            m.classes(),
        ),
        tune_accuracy: acc,
        hyper: BTreeMap::from([("alpha".to_string(), alpha)]),
    })
}

/// The Gaussian-kernel classifier `config` (one-vs-all kernel ridge on landmarks), width and
/// penalty chosen on the tuning rows; the test rows' ridge outputs are summed over `xte`'s
/// views.
fn kernel(
    config: &NystromClassifier,
    xtr: ArrayView2<f64>,
    ytr: &[usize],
    xtune: ArrayView2<f64>,
    ytune: &[usize],
    xte: &[ArrayView2<f64>],
) -> Result<Fitted, AppError> {
    let m = config.fit(xtr, ytr, xtune, ytune)?;
    Ok(Fitted {
        pred: vote(
            &xte.iter()
                .map(|x| m.scores(*x))
                .collect::<Result<Vec<_>, _>>()?,
            m.classes(),
        ),
        tune_accuracy: m.validation_accuracy,
        hyper: BTreeMap::from([
            ("gamma".to_string(), m.gamma),
            ("gamma_scale".to_string(), m.gamma_scale),
            ("ridge_alpha_per_row".to_string(), m.alpha),
            ("landmarks".to_string(), m.n_landmarks() as f64),
        ]),
    })
}

/// The sizes of the learning curve: `max / 16`, `max / 4` and `max`, each at least two
/// images a class.
fn curve_sizes(max: usize, classes: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [max / 16, max / 4, max]
        .into_iter()
        .filter(|&n| n >= 2 * classes)
        .collect();
    v.dedup();
    v
}

fn run(args: Args) -> Result<(), AppError> {
    let t_start = Instant::now();
    scattering_apps::io::prepare_folder(&args.out)?;
    for f in &args.features {
        if !["translation", "rigid_motion", "combined"].contains(&f.as_str()) {
            return Err(AppError::Usage(format!(
                "--features takes translation, rigid_motion and combined, got {f}"
            )));
        }
    }
    for c in &args.classifiers {
        if c != "logistic" && c != "gaussian_nystrom" {
            return Err(AppError::Usage(format!(
                "--classifiers takes logistic and gaussian_nystrom, got {c}"
            )));
        }
    }
    if args.gamma_scales.is_empty()
        || args
            .gamma_scales
            .iter()
            .any(|g| !(g.is_finite() && *g > 0.0))
    {
        return Err(AppError::Usage(format!(
            "--gamma-scales takes positive numbers, got {:?}",
            args.gamma_scales
        )));
    }
    let cache = FeatureCache::new((!args.no_cache).then(|| args.cache.clone()))?;
    let budget = memory_budget_bytes();
    let t0 = Instant::now();
    let train = read_image_tar(&args.train, None, budget / 4)?;
    let test_file = match &args.test {
        Some(p) => Some(read_image_tar(p, Some(&train.classes), budget / 4)?),
        None => None,
    };
    let read_seconds = t0.elapsed().as_secs_f64();
    let classes = train.classes.len();
    if classes < 2 {
        return Err(AppError::Usage(format!(
            "{} holds one class ({}); a classifier needs at least two",
            args.train.display(),
            train.classes.join(", ")
        )));
    }
    let (h, w) = train.shape;
    if let Some(t) = &test_file {
        if t.shape != train.shape {
            return Err(AppError::Usage(format!(
                "test images are {} x {}, training images {h} x {w}",
                t.shape.0, t.shape.1
            )));
        }
    }
    if h < (1 << args.j) || w < (1 << args.j) {
        return Err(AppError::Usage(format!(
            "images of {h} x {w} are smaller than 2^J = {}",
            1 << args.j
        )));
    }
    let q = args.quick;
    let validation = args.validation.unwrap_or(if q { 200 } else { 5000 });
    let tune_n = args.tune.unwrap_or(if q { 100 } else { 2500 });
    let landmarks = args.landmarks.unwrap_or(if q { 200 } else { 8000 });
    if tune_n < classes || landmarks == 0 {
        return Err(AppError::Usage(format!(
            "--tune must hold at least one image a class ({classes}) and --landmarks at least 1"
        )));
    }
    // Splits of the training archive: test (without --test), tuning, then the training pool
    // in random order (nested training sets: the first n rows).
    let (rest, held_test) = if test_file.is_none() {
        if validation < classes || validation + tune_n >= train.len() {
            return Err(AppError::Usage(format!(
                "--validation {validation} and --tune {tune_n} leave no training images of {}",
                train.len()
            )));
        }
        stratified_holdout(&train.labels, validation, args.seed)
    } else {
        ((0..train.len()).collect(), Vec::new())
    };
    let rest_labels: Vec<usize> = rest.iter().map(|&i| train.labels[i]).collect();
    let (pool, tune) = stratified_holdout(&rest_labels, tune_n, args.seed + 1);
    let pool: Vec<usize> = pool.into_iter().map(|k| rest[k]).collect();
    let tune: Vec<usize> = tune.into_iter().map(|k| rest[k]).collect();
    let mut pool = interleave_classes(&pool, &train.labels, args.seed + 2);
    let max_train = args
        .train_size
        .unwrap_or(if q { 400 } else { pool.len() })
        .min(pool.len());
    pool.truncate(max_train);
    let sizes = curve_sizes(max_train, classes);
    if sizes.is_empty() {
        return Err(AppError::Usage(format!(
            "--train-size {max_train} leaves fewer than two training images a class"
        )));
    }
    let test_size = test_file.as_ref().map_or(held_test.len(), |t| t.len());
    eprintln!(
        "{classes} classes; {max_train} training, {} tuning and {test_size} test images of {h} x {w}",
        tune.len()
    );

    let params_t = Scattering2dParams::new((h, w), args.j).l(args.l);
    let params_r = RigidMotionParams::new((h, w), args.j)
        .l(2 * args.l)
        .k(args.k);
    let trans = params_t.clone().build_f32()?;
    let rigid = params_r.clone().build_f32()?;
    let per_plane = |s: (usize, usize, usize)| s.0 * s.1 * s.2;
    let grid = trans.output_shape().1 * trans.output_shape().2;
    let dims: BTreeMap<String, usize> = [
        ("translation", 3 * per_plane(trans.output_shape())),
        ("rigid_motion", 3 * per_plane(rigid.output_shape())),
        (
            "combined",
            3 * (per_plane(trans.output_shape()) + per_plane(rigid.output_shape()) - grid),
        ),
    ]
    .into_iter()
    .filter(|(f, _)| args.features.iter().any(|g| g == f))
    .map(|(f, d)| (f.to_string(), if args.oversample { 4 * d } else { d }))
    .collect();
    // Features of every image in f64 (with --flip, of the mirror images of the training
    // and test images too). At the largest size, the training rows are copied out of the
    // stores (the mirror images' store is still held while the originals' is gone), then
    // the kernel classifier adds the landmark rows, the rows' distances to them in f32 and
    // three landmarks x landmarks matrices in f64, beside the tuning and test rows (raw
    // and standardised).
    let copies = if args.flip { 2 } else { 1 };
    let train_rows = (copies * pool.len()) as u64;
    let rows_total = train_rows + (tune.len() + copies * test_size) as u64;
    let d = dims.values().copied().max().unwrap_or(0) as u64;
    let m = landmarks as u64;
    let copying = (rows_total + (copies - 1) as u64 * pool.len() as u64) * d * 8;
    let fitting = train_rows * d * 8
        + (rows_total - train_rows) * (2 * d + m) * 8
        + train_rows * m * 4
        + m * d * 8
        + 3 * m * m * 8;
    let need = copying.max(fitting);
    if need > budget {
        return Err(AppError::Usage(format!(
            "{} images need about {} for features and kernel maps, {} is available; use --train-size or fewer --landmarks",
            rows_total,
            gb(need),
            gb(budget)
        )));
    }

    let mut results = Vec::new();
    let mut feature_seconds = BTreeMap::new();
    let mut features_cached = BTreeMap::new();
    let mut best_conf: Option<(f64, String, Array2<f64>)> = None;
    let ytr_all: Vec<usize> = pool.iter().map(|&i| train.labels[i]).collect();
    let ytune: Vec<usize> = tune.iter().map(|&i| train.labels[i]).collect();
    let yte: Vec<usize> = match &test_file {
        Some(t) => t.labels.clone(),
        None => held_test.iter().map(|&i| train.labels[i]).collect(),
    };
    for (fname, &dim) in &dims {
        let single: Box<Forward> = match fname.as_str() {
            "translation" => Box::new(|v| Ok(trans.forward(v)?)),
            "rigid_motion" => Box::new(|v| Ok(rigid.forward(v)?)),
            // Rigid motion's order 0 is translation's: kept once.
            _ => Box::new(|v| {
                let (a, b) = (trans.forward(v)?, rigid.forward(v)?);
                ndarray::concatenate(Axis(1), &[a.view(), b.slice(s![.., 1.., .., ..])])
                    .map_err(|e| AppError::Usage(format!("combined features: {e}")))
            }),
        };
        let half = 1usize << args.j.saturating_sub(1);
        let forward: Box<Forward> = if args.oversample {
            Box::new(move |v| oversampled(v, half, &*single))
        } else {
            single
        };
        let per = dim / 3;
        // One cache entry per archive and feature set: the key hashes the parameters and
        // the archive's size and first pixels.
        let t0 = Instant::now();
        let compute_set = |data: &LabelledImages, rows: &[usize], mirror: bool, tag: &str| {
            let mut key = fnv1a(
                format!(
                    "cifar10 {fname} J{} L{} K{} {:?} {} {tag} order0-linear{}",
                    args.j,
                    args.l,
                    args.k,
                    data.shape,
                    data.len(),
                    if args.oversample { " oversampled" } else { "" }
                )
                .as_bytes(),
                0,
            );
            key = fnv1a(&data.pixels[..data.pixels.len().min(1 << 16)], key);
            for &r in rows {
                key = fnv1a(&(r as u64).to_le_bytes(), key);
            }
            cache.get_or_compute(&format!("cifar10-{fname}"), key, rows.len(), || {
                features(
                    data,
                    rows,
                    mirror,
                    per,
                    &format!("images ({fname}, {tag})"),
                    &*forward,
                )
            })
        };
        let (xtr, c1) = compute_set(&train, &pool, false, "train")?;
        let (xflip, c0) = if args.flip {
            compute_set(&train, &pool, true, "train mirrored")?
        } else {
            (Array2::zeros((0, dim)), true)
        };
        let (xtune, c2) = compute_set(&train, &tune, false, "tune")?;
        let (xte, c3) = match &test_file {
            Some(t) => compute_set(t, &(0..t.len()).collect::<Vec<_>>(), false, "test")?,
            None => compute_set(&train, &held_test, false, "validation")?,
        };
        // With --flip, each test image votes with its mirror image too.
        let (xte_flip, c4) = match (&test_file, args.flip) {
            (_, false) => (Array2::zeros((0, dim)), true),
            (Some(t), true) => {
                compute_set(t, &(0..t.len()).collect::<Vec<_>>(), true, "test mirrored")?
            }
            (None, true) => compute_set(&train, &held_test, true, "validation mirrored")?,
        };
        feature_seconds.insert(fname.clone(), t0.elapsed().as_secs_f64());
        features_cached.insert(fname.clone(), c0 && c1 && c2 && c3 && c4);
        let mut stores = Some((xtr, xflip));
        for (step, &n) in sizes.iter().enumerate() {
            // The first n images, then (with --flip) their mirror images, standardised in
            // place. The largest set takes the stores: the originals are dropped once
            // copied, before the mirror images are, so the peak is one copy of the
            // training rows less.
            let last = step + 1 == sizes.len();
            let yn = if args.flip {
                [&ytr_all[..n], &ytr_all[..n]].concat()
            } else {
                ytr_all[..n].to_vec()
            };
            let mut xs = match (last, stores.take()) {
                (_, None) => break,
                (false, Some((xtr, xflip))) => {
                    let x = if args.flip {
                        ndarray::concatenate(
                            Axis(0),
                            &[xtr.slice(s![..n, ..]), xflip.slice(s![..n, ..])],
                        )
                        .map_err(|e| AppError::Usage(format!("mirrored features: {e}")))?
                    } else {
                        xtr.slice(s![..n, ..]).to_owned()
                    };
                    stores = Some((xtr, xflip));
                    x
                }
                (true, Some((xtr, _))) if !args.flip && xtr.nrows() == n => xtr,
                (true, Some((xtr, xflip))) => {
                    let rows = if args.flip { 2 * n } else { n };
                    let mut x = Array2::<f64>::zeros((rows, xtr.ncols()));
                    x.slice_mut(s![..n, ..]).assign(&xtr.slice(s![..n, ..]));
                    drop(xtr);
                    if args.flip {
                        x.slice_mut(s![n.., ..]).assign(&xflip.slice(s![..n, ..]));
                    }
                    x
                }
            };
            let st = Standardizer::fit(xs.view())?;
            st.transform_inplace(xs.view_mut())?;
            let xtu = st.transform(xtune.view())?;
            let mut xts = vec![st.transform(xte.view())?];
            if args.flip {
                xts.push(st.transform(xte_flip.view())?);
            }
            let xts: Vec<ArrayView2<f64>> = xts.iter().map(|x| x.view()).collect();
            let yn = &yn[..];
            for cl in args.classifiers.iter().map(String::as_str) {
                eprintln!("{fname} / {cl} / {n} training images");
                let t0 = Instant::now();
                let fitted = if cl == "logistic" {
                    logistic(xs.view(), yn, xtu.view(), &ytune, &xts)?
                } else {
                    let config = NystromClassifier {
                        n_landmarks: landmarks,
                        gamma_scales: args.gamma_scales.clone(),
                        seed: args.seed,
                        ..NystromClassifier::default()
                    };
                    kernel(&config, xs.view(), yn, xtu.view(), &ytune, &xts)?
                };
                let acc = accuracy(&fitted.pred, &yte);
                eprintln!("  accuracy {:.2}%", 100.0 * acc);
                if n == max_train && best_conf.as_ref().is_none_or(|b| acc > b.0) {
                    let mut conf = Array2::zeros((classes, classes));
                    for (&p, &t) in fitted.pred.iter().zip(&yte) {
                        conf[[t, p]] += 1.0;
                    }
                    best_conf = Some((acc, format!("{fname} scattering, {cl}"), conf));
                }
                results.push(Row {
                    features: fname.clone(),
                    classifier: cl.to_string(),
                    train_size: n,
                    accuracy: acc,
                    seconds: t0.elapsed().as_secs_f64(),
                    tune_accuracy: fitted.tune_accuracy,
                    hyperparameters: fitted.hyper,
                });
            }
        }
    }
    let metrics = Metrics {
        train: args.train.display().to_string(),
        test: args.test.as_ref().map_or_else(
            || format!("{test_size} images held out of the training archive"),
            |p| p.display().to_string(),
        ),
        classes: train.classes.clone(),
        image_shape: (h, w),
        test_size,
        tune_size: tune.len(),
        j: args.j,
        l_translation: args.l,
        l_rigid: 2 * args.l,
        k: args.k,
        landmarks,
        flip: args.flip,
        oversample: args.oversample,
        colour: "YUV, each plane scattered on its own",
        features: dims,
        results,
    };
    write_outputs(
        &args,
        &metrics,
        best_conf,
        Timings {
            read_seconds,
            feature_seconds,
            features_cached,
            total_seconds: t_start.elapsed().as_secs_f64(),
        },
    )
}

fn write_outputs(
    args: &Args,
    metrics: &Metrics,
    best_conf: Option<(f64, String, Array2<f64>)>,
    timings: Timings,
) -> Result<(), AppError> {
    let mut out = Outputs::new();
    let dir = &args.out;
    let mut table = String::from(
        "| features | classifier | training images | test accuracy (%) | tuning accuracy (%) | seconds |\n|---|---|---:|---:|---:|---:|\n",
    );
    for r in &metrics.results {
        table += &format!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.1} |\n",
            r.features,
            r.classifier,
            r.train_size,
            100.0 * r.accuracy,
            100.0 * r.tune_accuracy,
            r.seconds
        );
    }
    out.text(&dir.join("table.md"), &table)?;
    out.json(&dir.join("metrics.json"), metrics)?;
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for r in &metrics.results {
        series
            .entry(format!("{} / {}", r.features, r.classifier))
            .or_default()
            .push((r.train_size as f64, 100.0 * r.accuracy));
    }
    let series: Vec<Series> = series
        .into_iter()
        .map(|(name, points)| Series { name, points })
        .collect();
    let png = dir.join("learning_curve.png");
    let tmp = out.temp_path(&png)?;
    curves_png(
        &png,
        &tmp,
        &format!("CIFAR-10 test accuracy ({} test images)", metrics.test_size),
        ("training images", "accuracy (%)"),
        &series,
        (true, false),
    )?;
    if let Some((acc, name, conf)) = best_conf {
        let png = dir.join("confusion.png");
        let tmp = out.temp_path(&png)?;
        confusion_png(
            &png,
            &tmp,
            &format!("{name}: {:.1}% accuracy", 100.0 * acc),
            conf.view(),
            &metrics.classes,
        )?;
    }
    out.json(&dir.join("timings.json"), &timings)?;
    out.commit()?;
    eprint!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("cifar10: {e}");
        std::process::exit(1);
    }
}
