//! `mnist`: digit classification from raw pixels and from scattering coefficients, with a
//! training-size curve (Bruna & Mallat, "Invariant scattering convolution networks", 2013).
//!
//! ```text
//! scripts/fetch-data mnist
//! mnist --out out/mnist            # full curve, 300 .. 60000 training images
//! mnist --out out/mnist --quick    # 300 and 1000 training images, 2000 test images
//! ```
//! Writes `DIR/metrics.json`, `DIR/table.md`, `DIR/mnist_curve.png` and the wall times in
//! `DIR/timings.json`. Features are cached
//! (`--cache`, default `data/cache/features`), so a second run skips the scattering.

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array2, Array3, ArrayView2, Axis};
use scattering_apps::cache::{fnv1a, hash_values, FeatureCache};
use scattering_apps::idx::{read_idx_images, read_idx_labels};
use scattering_apps::io::{gb, memory_budget_bytes, Outputs};
use scattering_apps::plots::{curves_png, Series};
use scattering_apps::AppError;
use scattering_learn::{
    error_rate, AffineSpace, Logistic, NystromClassifier, NystromClassifierModel, Standardizer,
};
use scattering_transform::Scattering2dParams;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "mnist",
    version,
    about = "MNIST: pixels vs scattering, logistic and affine-space classifiers"
)]
struct Args {
    /// Training images (IDX, optionally gzipped).
    #[arg(long, default_value = "data/cache/mnist/train-images-idx3-ubyte")]
    train_images: PathBuf,
    /// Training labels (IDX).
    #[arg(long, default_value = "data/cache/mnist/train-labels-idx1-ubyte")]
    train_labels: PathBuf,
    /// Test images (IDX).
    #[arg(long, default_value = "data/cache/mnist/t10k-images-idx3-ubyte")]
    test_images: PathBuf,
    /// Test labels (IDX).
    #[arg(long, default_value = "data/cache/mnist/t10k-labels-idx1-ubyte")]
    test_labels: PathBuf,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Small run: training sizes 300 and 1000, the first 2000 test images.
    #[arg(long)]
    quick: bool,
    /// Training sizes of the curve (the first n training images).
    #[arg(long, value_delimiter = ',')]
    train_sizes: Option<Vec<usize>>,
    /// Use only the first N test images (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    test_limit: Option<u64>,
    /// Feature sets: pixels, scattering1, scattering2.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pixels,scattering1,scattering2"
    )]
    features: Vec<String>,
    /// Classifiers: logistic, affine, gaussian_nystrom (a Gaussian kernel through a Nystrom
    /// map and one-vs-all ridge; width and penalty chosen on the last tenth of each
    /// training set, then refitted on all of it).
    #[arg(long, value_delimiter = ',', default_value = "logistic,affine")]
    classifiers: Vec<String>,
    /// Landmarks of the gaussian_nystrom classifier.
    #[arg(long, default_value_t = 4000)]
    landmarks: usize,
    /// Sample the scattering twice as densely in each direction (Bruna and Mallat's
    /// oversampling): the output grid of the image and of its copies moved by 2^(J-1)
    /// pixels along each axis, interleaved (four times the features).
    #[arg(long)]
    oversample: bool,
    /// Number of scattering scales.
    #[arg(short = 'J', long = "J", default_value_t = 3)]
    j: usize,
    /// Number of scattering orientations.
    #[arg(short = 'L', long = "L", default_value_t = 8)]
    l: usize,
    /// Feature cache directory.
    #[arg(long, default_value = "data/cache/features")]
    cache: PathBuf,
    /// Feed the scattering coefficients S as they are instead of log(1e-3 + S).
    #[arg(long)]
    no_log: bool,
    /// Do not read or write the feature cache.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Serialize)]
struct Row {
    features: String,
    classifier: String,
    train_size: usize,
    test_error: f64,
    /// Chosen affine-space dimension (affine classifier only).
    #[serde(skip_serializing_if = "Option::is_none")]
    affine_dim: Option<usize>,
    /// Cross-validated error of every candidate dimension (affine classifier only).
    #[serde(skip_serializing_if = "Option::is_none")]
    affine_cv_errors: Option<Vec<(usize, f64)>>,
}

/// `metrics.json`: only what a seeded run reproduces to the byte (wall times go to
/// [`Timings`]).
#[derive(Serialize)]
struct Metrics {
    dataset: String,
    test_size: usize,
    scattering: ScatParams,
    results: Vec<Row>,
}

/// `timings.json`: wall times, which change from run to run.
#[derive(Serialize)]
struct Timings {
    feature_seconds: f64,
    /// True when the scattering features came from the cache (then `feature_seconds` is the read time).
    features_cached: bool,
    /// One per row of `metrics.json`'s `results`, in the same order.
    fits: Vec<FitTime>,
}

/// The wall time of one fit and prediction.
#[derive(Serialize)]
struct FitTime {
    features: String,
    classifier: String,
    train_size: usize,
    seconds: f64,
}

#[derive(Serialize)]
struct ScatParams {
    j: usize,
    l: usize,
    /// Output grid sampled twice as densely (four offsets interleaved).
    oversample: bool,
    scattering1_features: usize,
    scattering2_features: usize,
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len as u64);
    b.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Scattering of every image, flattened to (images, channels * h * w), with the order of
/// every channel.
/// With `oversample`, the output grid is sampled at the offsets `{0, 2^(J-1)}` along each
/// axis (the image moved by that many pixels, zero-filled), laid out channel by channel:
/// `[channel][offset][position]`, so a channel's columns stay together.
fn scattering(
    images: &Array3<f64>,
    j: usize,
    l: usize,
    oversample: bool,
) -> Result<(Array2<f64>, Vec<usize>), AppError> {
    let (n, m, w) = images.dim();
    let s = Scattering2dParams::new((m, w), j)
        .l(l)
        .max_order(2)
        .build()?;
    let (c, h, v) = s.output_shape();
    let orders: Vec<usize> = s.meta().iter().map(|p| p.order).collect();
    let half = 1usize << j.saturating_sub(1);
    let offsets: Vec<(usize, usize)> = if oversample {
        vec![(0, 0), (0, half), (half, 0), (half, half)]
    } else {
        vec![(0, 0)]
    };
    let no = offsets.len();
    let mut out = Array2::zeros((n, c * no * h * v));
    let chunk = 512;
    let pb = bar(n, "images scattered");
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        let batch = images.slice(s![start..end, .., ..]);
        for (o, &(dy, dx)) in offsets.iter().enumerate() {
            // Content moved up and left by (dy, dx): the grid then samples (dy, dx) further on.
            let moved = Array3::from_shape_fn(batch.dim(), |(b, i, k)| {
                if i + dy < m && k + dx < w {
                    batch[[b, i + dy, k + dx]]
                } else {
                    0.0
                }
            });
            let sx = s.forward(moved.view())?;
            for b in 0..end - start {
                for ch in 0..c {
                    let dst = (ch * no + o) * h * v;
                    for (p, val) in sx.slice(s![b, ch, .., ..]).iter().enumerate() {
                        out[[start + b, dst + p]] = *val;
                    }
                }
            }
        }
        pb.inc((end - start) as u64);
    }
    pb.finish_and_clear();
    Ok((out, orders))
}

/// The Gaussian-kernel classifier: width and penalty chosen with the last tenth of the
/// rows held out, then fitted again on all rows with those values.
fn nystrom_refit(
    x: ArrayView2<f64>,
    y: &[usize],
    landmarks: usize,
) -> Result<NystromClassifierModel, AppError> {
    let n = x.nrows();
    let cut = n - (n / 10).max(1);
    let base = NystromClassifier {
        n_landmarks: landmarks,
        ..NystromClassifier::default()
    };
    let chosen = base.fit(
        x.slice(s![..cut, ..]),
        &y[..cut],
        x.slice(s![cut.., ..]),
        &y[cut..],
    )?;
    Ok(NystromClassifier {
        gamma_scales: vec![chosen.gamma_scale],
        alphas: vec![chosen.alpha],
        ..base
    }
    .fit(x, y, x.slice(s![cut.., ..]), &y[cut..])?)
}

/// Refuses a run whose features would not fit in memory: the scattering of every image
/// (f64), the working copy of one feature set, its standardised copy, and the Nystrom
/// maps (each `rows x landmarks`, three alive at once).
fn check_memory(
    args: &Args,
    (h, w): (usize, usize),
    rows: usize,
    n_train: usize,
) -> Result<(), AppError> {
    let mut per_row = 0u64;
    if args.features.iter().any(|f| f.starts_with("scattering")) {
        let (c, a, b) = Scattering2dParams::new((h, w), args.j)
            .l(args.l)
            .max_order(2)
            .build()?
            .output_shape();
        let offsets = if args.oversample { 4 } else { 1 };
        per_row = (c * a * b * offsets) as u64 * 8 * 3;
    }
    per_row = per_row.max((h * w) as u64 * 8 * 3);
    let mut need = per_row * rows as u64;
    if args.classifiers.iter().any(|c| c == "gaussian_nystrom") {
        need += n_train as u64 * args.landmarks.min(n_train) as u64 * 8 * 3;
    }
    let budget = memory_budget_bytes();
    if need > budget {
        return Err(AppError::Usage(format!(
            "{rows} images need about {} for features and kernel maps, {} is available; use smaller --train-sizes, --test-limit or fewer --landmarks",
            gb(need),
            gb(budget)
        )));
    }
    Ok(())
}

/// Columns of a flattened scattering output whose channel has order <= `max_order`.
fn select_orders(x: ArrayView2<f64>, orders: &[usize], max_order: usize) -> Array2<f64> {
    let per = x.ncols() / orders.len().max(1);
    let cols: Vec<usize> = (0..x.ncols())
        .filter(|&k| orders[k / per] <= max_order)
        .collect();
    x.select(Axis(1), &cols)
}

fn run(args: Args) -> Result<(), AppError> {
    // A folder that cannot be written is found now, not after the computation.
    scattering_apps::io::prepare_folder(&args.out)?;
    for f in &args.features {
        if !["pixels", "scattering1", "scattering2"].contains(&f.as_str()) {
            return Err(AppError::Usage(format!(
                "unknown feature set '{f}' (pixels, scattering1, scattering2)"
            )));
        }
    }
    for c in &args.classifiers {
        if !["logistic", "affine", "gaussian_nystrom"].contains(&c.as_str()) {
            return Err(AppError::Usage(format!(
                "unknown classifier '{c}' (logistic, affine, gaussian_nystrom)"
            )));
        }
    }
    for p in [
        &args.train_images,
        &args.train_labels,
        &args.test_images,
        &args.test_labels,
    ] {
        if !p.exists() {
            return Err(AppError::Usage(format!(
                "{} not found (run scripts/fetch-data mnist, or pass --train-images ...)",
                p.display()
            )));
        }
    }
    let train_x = read_idx_images(&args.train_images)?;
    let train_y = read_idx_labels(&args.train_labels, 10)?;
    let test_x = read_idx_images(&args.test_images)?;
    let test_y = read_idx_labels(&args.test_labels, 10)?;
    if train_x.dim().0 != train_y.len() || test_x.dim().0 != test_y.len() {
        return Err(AppError::Usage(format!(
            "image and label counts differ: train {} vs {}, test {} vs {}",
            train_x.dim().0,
            train_y.len(),
            test_x.dim().0,
            test_y.len()
        )));
    }
    if (train_x.dim().1, train_x.dim().2) != (test_x.dim().1, test_x.dim().2) {
        return Err(AppError::Usage(format!(
            "the training images are {} x {} and the test images {} x {}; give images of one size",
            train_x.dim().1,
            train_x.dim().2,
            test_x.dim().1,
            test_x.dim().2
        )));
    }
    let mut sizes = args.train_sizes.clone().unwrap_or_else(|| {
        if args.quick {
            vec![300, 1000]
        } else {
            vec![300, 1000, 2000, 5000, 10000, 20000, 60000]
        }
    });
    sizes.retain(|&n| n >= 20);
    for n in sizes.iter_mut() {
        *n = (*n).min(train_x.dim().0);
    }
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.is_empty() {
        return Err(AppError::Usage("no training size >= 20".into()));
    }
    let n_train = *sizes.last().unwrap_or(&0);
    let n_test = args
        .test_limit
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .or(args.quick.then_some(2000))
        .unwrap_or(test_y.len())
        .min(test_y.len());
    let train_x = train_x.slice(s![..n_train, .., ..]).to_owned();
    let train_y = &train_y[..n_train];
    let test_x = test_x.slice(s![..n_test, .., ..]).to_owned();
    let test_y = &test_y[..n_test];
    eprintln!(
        "{} training images (sizes {:?}), {} test images",
        n_train, sizes, n_test
    );

    let all = ndarray::concatenate(Axis(0), &[train_x.view(), test_x.view()])
        .map_err(|e| AppError::Usage(e.to_string()))?;
    let (_, h, w) = all.dim();
    let t0 = Instant::now();
    let needs_scat = args.features.iter().any(|f| f.starts_with("scattering"));
    check_memory(&args, (h, w), all.dim().0, n_train)?;
    let (mut scat, orders, cached) = if needs_scat {
        let cache = FeatureCache::new((!args.no_cache).then(|| args.cache.clone()))?;
        let key = fnv1a(
            format!(
                "mnist-scat2 J={} L={} {h}x{w}{}",
                args.j,
                args.l,
                if args.oversample { " oversampled" } else { "" }
            )
            .as_bytes(),
            hash_values(all.iter().copied()),
        );
        let mut orders = Vec::new();
        let (x, hit) = cache.get_or_compute("mnist-scattering", key, all.dim().0, || {
            let (x, o) = scattering(&all, args.j, args.l, args.oversample)?;
            orders = o;
            Ok(x)
        })?;
        if hit {
            orders = Scattering2dParams::new((h, w), args.j)
                .l(args.l)
                .max_order(2)
                .build()?
                .meta()
                .iter()
                .map(|p| p.order)
                .collect();
            eprintln!(
                "scattering features read from the cache ({})",
                args.cache.display()
            );
        }
        (Some(x), orders, hit)
    } else {
        (None, Vec::new(), false)
    };
    let feature_seconds = t0.elapsed().as_secs_f64();
    eprintln!("features in {feature_seconds:.1} s");

    let flat_pixels = || {
        all.view()
            .into_shape_with_order((all.dim().0, h * w))
            .map(|v| v.to_owned())
    };
    let mut results = Vec::new();
    let mut fits = Vec::new();
    let total = args.features.len() * args.classifiers.len() * sizes.len();
    let pb = bar(total, "fits");
    let mut dims = (0, 0);
    for (i, fname) in args.features.iter().enumerate() {
        // The last feature set that reads the scattering takes it rather than copying it.
        let reused = args.features[i + 1..]
            .iter()
            .any(|f| f.starts_with("scattering"));
        let mut x = match fname.as_str() {
            "pixels" => flat_pixels().map_err(|e| AppError::Usage(e.to_string()))?,
            "scattering1" => select_orders(
                scat.as_ref()
                    .map(|a| a.view())
                    .unwrap_or(Array2::zeros((0, 0)).view()),
                &orders,
                1,
            ),
            _ if reused => scat.clone().unwrap_or_default(),
            _ => scat.take().unwrap_or_default(),
        };
        if fname == "scattering1" {
            dims.0 = x.ncols();
        } else if fname == "scattering2" {
            dims.1 = x.ncols();
        }
        // Scattering coefficients are positive with heavy tails; log(eps + S) makes the classes
        // closer to Gaussian, which suits both linear classifiers.
        let scat_feature = fname.starts_with("scattering");
        if scat_feature && !args.no_log {
            x.mapv_inplace(|v| (v + 1e-3).ln());
        }
        let (xtr, xte) = (x.slice(s![..n_train, ..]), x.slice(s![n_train.., ..]));
        for &n in &sizes {
            // Pixels stay in [0, 1]: standardising would blow up the nearly constant border.
            let (a, b) = if scat_feature {
                let scaler = Standardizer::fit(xtr.slice(s![..n, ..]))?;
                (
                    scaler.transform(xtr.slice(s![..n, ..]))?,
                    scaler.transform(xte)?,
                )
            } else {
                (xtr.slice(s![..n, ..]).to_owned(), xte.to_owned())
            };
            let y = &train_y[..n];
            for cname in &args.classifiers {
                let t = Instant::now();
                let (pred, dim, cv) = match cname.as_str() {
                    "logistic" => {
                        let model = Logistic {
                            alpha: 1.0,
                            max_iterations: 300,
                            gradient_tolerance: 1e-3,
                        }
                        .fit(a.view(), y)?;
                        (model.predict(b.view())?, None, None)
                    }
                    "gaussian_nystrom" => {
                        let model = nystrom_refit(a.view(), y, args.landmarks)?;
                        (model.predict(b.view())?, None, None)
                    }
                    _ => {
                        let per_class = n / 10;
                        let grid: Vec<usize> = [
                            0, 2, 5, 10, 15, 20, 30, 40, 60, 80, 100, 120, 150, 200, 250, 300, 400,
                        ]
                        .into_iter()
                        .filter(|&d| d < per_class)
                        .collect();
                        let model = AffineSpace::new(grid, 3).fit(a.view(), y)?;
                        (
                            model.predict(b.view())?,
                            Some(model.dim),
                            Some(model.cv_errors.clone()),
                        )
                    }
                };
                let err = error_rate(&pred, test_y);
                let line = format!(
                    "{fname:>12} {cname:>9} n={n:>6}: test error {:.2}%{}",
                    100.0 * err,
                    dim.map(|d| format!(" (d={d})")).unwrap_or_default()
                );
                // println on a hidden bar (no terminal) would drop the line.
                pb.suspend(|| eprintln!("{line}"));
                fits.push(FitTime {
                    features: fname.clone(),
                    classifier: cname.clone(),
                    train_size: n,
                    seconds: t.elapsed().as_secs_f64(),
                });
                results.push(Row {
                    features: fname.clone(),
                    classifier: cname.clone(),
                    train_size: n,
                    test_error: err,
                    affine_dim: dim,
                    affine_cv_errors: cv,
                });
                pb.inc(1);
            }
        }
    }
    pb.finish_and_clear();
    let timings = Timings {
        feature_seconds,
        features_cached: cached,
        fits,
    };
    write_outputs(&args, results, n_test, timings, dims)
}

fn write_outputs(
    args: &Args,
    results: Vec<Row>,
    n_test: usize,
    timings: Timings,
    dims: (usize, usize),
) -> Result<(), AppError> {
    let mut out = Outputs::new();
    // Table: one row per training size, one column per (features, classifier), errors in %.
    let mut cols: Vec<(String, String)> = Vec::new();
    for r in &results {
        let k = (r.features.clone(), r.classifier.clone());
        if !cols.contains(&k) {
            cols.push(k);
        }
    }
    let mut sizes: Vec<usize> = results.iter().map(|r| r.train_size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut table = format!(
        "Test error (%) on {n_test} MNIST test images; scattering J={}, L={}{}, log(1e-3 + S), standardised.\n\n| training size |",
        args.j,
        args.l,
        if args.oversample { ", oversampled by 2" } else { "" }
    );
    for (f, c) in &cols {
        table += &format!(" {f} + {c} |");
    }
    table += "\n|---:|";
    table += &"---:|".repeat(cols.len());
    table += "\n";
    for &n in &sizes {
        table += &format!("| {n} |");
        for (f, c) in &cols {
            let e = results
                .iter()
                .find(|r| r.train_size == n && &r.features == f && &r.classifier == c);
            table += &e
                .map(|r| format!(" {:.2} |", 100.0 * r.test_error))
                .unwrap_or_else(|| " |".into());
        }
        table += "\n";
    }
    let series: Vec<Series> = cols
        .iter()
        .map(|(f, c)| Series {
            name: format!("{f} + {c}"),
            points: results
                .iter()
                .filter(|r| &r.features == f && &r.classifier == c)
                .map(|r| (r.train_size as f64, 100.0 * r.test_error))
                .collect(),
        })
        .collect();
    let png = args.out.join("mnist_curve.png");
    let tmp = out.temp_path(&png)?;
    curves_png(
        &png,
        &tmp,
        "MNIST test error vs training size",
        ("training images", "test error (%)"),
        &series,
        (true, true),
    )?;
    out.text(&args.out.join("table.md"), &table)?;
    out.json(
        &args.out.join("metrics.json"),
        &Metrics {
            dataset: args.train_images.display().to_string(),
            test_size: n_test,
            scattering: ScatParams {
                j: args.j,
                l: args.l,
                oversample: args.oversample,
                scattering1_features: dims.0,
                scattering2_features: dims.1,
            },
            results,
        },
    )?;
    out.json(&args.out.join("timings.json"), &timings)?;
    out.commit()?;
    print!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("mnist: {e}");
        std::process::exit(1);
    }
}
