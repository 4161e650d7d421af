//! `rotated-textures`: texture classification under rotations (Sifre and Mallat, "Rotation,
//! scaling and deformation invariant scattering for texture discrimination", CVPR 2013),
//! translation scattering against rigid-motion scattering.
//!
//! ```text
//! rotated-textures --data DIR --out out/rotated-textures [--quick]
//! ```
//! `DIR` holds grayscale images named `{class}_{angle}.png` (e.g. the USC-SIPI rotated
//! Brodatz textures: each class photographed at several physical rotations). Each image
//! gives a 4 x 4 grid of 128 x 128 patches (2 x 2 with `--quick`), each normalised to zero
//! mean and unit variance (the scans differ in brightness and contrast). Features: the
//! global (spatially averaged) translation scattering `Scattering2d` (`L` orientations over
//! `[0, pi)`) and rigid-motion scattering (`2 L` angles over `[0, 2 pi)`, `K` angular
//! scales, averaged over the angle), orders 1 and 2, `log(S + 1e-4)`, standardised on the
//! training rows. Classifiers: the affine-space model (dimension by 4-fold CV) and
//! multinomial logistic regression (penalty by 4-fold CV). Protocols:
//! - `train_one_angle`: train on the patches of one angle, test on all the others; every
//!   angle takes its turn and the errors are averaged;
//! - `random_half`: half of the patches of each class for training, over all angles, five
//!   seeds.
//!
//! Writes `metrics.json`, `table.md`, `timings.json`, `patches.png` (a patch of each class
//! at each angle), `error_by_angle.png` (error against the test angle when training on
//! the first angle) and a confusion matrix per feature set (`confusion_*.png`, protocol
//! `train_one_angle`, affine classifier, summed over training angles).

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array2, Array3, Axis};
use scattering_apps::classify::fit_predict;
use scattering_apps::figures::confusion_png;
use scattering_apps::io::{read_images, Outputs};
use scattering_apps::plots::{curves_png, Series};
use scattering_apps::synthesis::{image_grid_png, Panel};
use scattering_apps::AppError;
use scattering_learn::error_rate;
use scattering_transform::{Averaging, RigidMotionParams, Scattering2dParams};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "rotated-textures",
    version,
    about = "Rotated textures: translation vs rigid-motion scattering"
)]
struct Args {
    /// Folder of grayscale images `{class}_{angle}.png` (angle in degrees).
    #[arg(long)]
    data: PathBuf,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Small run: 2 x 2 patches per image, J = 3, two seeds of the random split.
    #[arg(long)]
    quick: bool,
    /// Side of the square patches.
    #[arg(long, default_value_t = 128)]
    patch: usize,
    /// Number of spatial scales (default 5, 3 with --quick).
    #[arg(short = 'J', long = "J")]
    j: Option<usize>,
    /// Orientations of translation scattering over [0, pi); rigid-motion scattering uses
    /// twice as many angles over [0, 2 pi), the same wavelets.
    #[arg(short = 'L', long = "L", default_value_t = 8)]
    l: usize,
    /// Angular scales of rigid-motion scattering.
    #[arg(short = 'K', long = "K", default_value_t = 2)]
    k: usize,
}

#[derive(Serialize)]
struct Result1 {
    features: String,
    classifier: String,
    error: f64,
    /// Standard deviation over the training angles or the seeds.
    error_std: f64,
    /// Error per training angle (`train_one_angle`) or per seed (`random_half`).
    runs: Vec<f64>,
}

#[derive(Serialize)]
struct Protocol {
    name: &'static str,
    description: String,
    results: Vec<Result1>,
}

#[derive(Serialize)]
struct Metrics {
    data: String,
    classes: Vec<String>,
    angles: Vec<u32>,
    patches_per_image: usize,
    patch: usize,
    j: usize,
    l_translation: usize,
    l_rigid: usize,
    k: usize,
    features: BTreeMap<String, usize>,
    protocols: Vec<Protocol>,
    /// Test error per test angle when training on the first angle, by
    /// `features/classifier`.
    error_by_test_angle: BTreeMap<String, Vec<(u32, f64)>>,
}

#[derive(Serialize)]
struct Timings {
    feature_seconds: BTreeMap<String, f64>,
    total_seconds: f64,
}

/// The patches of every image, with their class and angle indices.
struct Dataset {
    classes: Vec<String>,
    angles: Vec<u32>,
    patches: Array3<f64>,
    class_of: Vec<usize>,
    angle_of: Vec<usize>,
}

/// `(class, angle)` from `{class}_{angle}.png`.
fn parse_name(path: &Path) -> Option<(String, u32)> {
    let stem = path.file_stem()?.to_str()?;
    let (class, angle) = stem.rsplit_once('_')?;
    if class.is_empty() {
        return None;
    }
    Some((class.to_string(), angle.parse().ok()?))
}

fn load(dir: &Path, patch: usize, grid: usize) -> Result<Dataset, AppError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        AppError::Usage(format!(
            "cannot read --data {}: {e} (a folder of {{class}}_{{angle}}.png images)",
            dir.display()
        ))
    })?;
    let mut files: Vec<(String, u32, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !["png", "jpg", "jpeg"].contains(&ext.to_ascii_lowercase().as_str()) {
            continue;
        }
        if let Some((c, a)) = parse_name(&path) {
            files.push((c, a, path));
        }
    }
    files.sort();
    let mut classes: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    classes.dedup();
    let mut angles: Vec<u32> = files.iter().map(|f| f.1).collect();
    angles.sort_unstable();
    angles.dedup();
    if classes.len() < 2 || angles.len() < 2 {
        return Err(AppError::Usage(format!(
            "{} holds {} classes and {} angles of {{class}}_{{angle}}.png images; at least 2 of each are needed",
            dir.display(),
            classes.len(),
            angles.len()
        )));
    }
    for c in &classes {
        for a in &angles {
            if !files.iter().any(|f| &f.0 == c && f.1 == *a) {
                return Err(AppError::Usage(format!(
                    "{}: class {c} has no image at angle {a} (every class needs every angle)",
                    dir.display()
                )));
            }
        }
    }
    let per = grid * grid;
    let mut patches = Array3::zeros((files.len() * per, patch, patch));
    let (mut class_of, mut angle_of) = (Vec::new(), Vec::new());
    for (i, (c, a, path)) in files.iter().enumerate() {
        let img = read_images(path)?;
        let (_, m, n) = img.dim();
        if m < patch || n < patch {
            return Err(AppError::Usage(format!(
                "{} is {m} x {n}, smaller than a {patch} x {patch} patch",
                path.display()
            )));
        }
        let img = img.index_axis(Axis(0), 0);
        // An evenly spaced grid of patches (non-overlapping when the image holds them).
        let start = |k: usize, len: usize| {
            if grid == 1 {
                (len - patch) / 2
            } else {
                k * (len - patch) / (grid - 1)
            }
        };
        for gi in 0..grid {
            for gj in 0..grid {
                let (r0, c0) = (start(gi, m), start(gj, n));
                let p = img.slice(s![r0..r0 + patch, c0..c0 + patch]);
                let mean = p.mean().unwrap_or(0.0);
                let sd = p.mapv(|v| (v - mean).powi(2)).mean().unwrap_or(0.0).sqrt();
                let k = i * per + gi * grid + gj;
                patches
                    .index_axis_mut(Axis(0), k)
                    .assign(&p.mapv(|v| (v - mean) / sd.max(1e-12)));
                class_of.push(classes.iter().position(|x| x == c).unwrap_or(0));
                angle_of.push(angles.iter().position(|x| x == a).unwrap_or(0));
            }
        }
    }
    Ok(Dataset {
        classes,
        angles,
        patches,
        class_of,
        angle_of,
    })
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len as u64);
    b.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// A batch transform of patches `(n, M, N)` to `(n, channels, 1, 1)`.
type Forward<'a> = dyn Fn(ndarray::ArrayView3<f64>) -> Result<ndarray::Array4<f64>, AppError> + 'a;

/// `log(S + 1e-4)` of the order-1 and order-2 channels of `forward` (global averaging),
/// one row per patch.
fn features(
    patches: &Array3<f64>,
    orders: &[usize],
    what: &str,
    forward: &Forward,
) -> Result<Array2<f64>, AppError> {
    let keep: Vec<usize> = (0..orders.len()).filter(|&c| orders[c] > 0).collect();
    let n = patches.dim().0;
    let mut out = Array2::zeros((n, keep.len()));
    let pb = bar(n, what);
    let chunk = 16;
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        let sx = forward(patches.slice(s![start..end, .., ..]))?;
        for (b, row) in sx.outer_iter().enumerate() {
            for (f, &c) in keep.iter().enumerate() {
                out[[start + b, f]] = (row[[c, 0, 0]].max(0.0) + 1e-4).ln();
            }
        }
        pb.inc((end - start) as u64);
    }
    pb.finish_and_clear();
    Ok(out)
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
    let var = v.iter().map(|e| (e - m).powi(2)).sum::<f64>() / v.len().max(1) as f64;
    (m, var.sqrt())
}

/// A stratified half split of `0..y.len()`, shuffled with `seed`.
fn half_split(y: &[usize], seed: u64) -> (Vec<usize>, Vec<usize>) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    let classes = y.iter().max().map_or(0, |m| m + 1);
    for c in 0..classes {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
        idx.shuffle(&mut rng);
        let h = idx.len() / 2;
        train.extend_from_slice(&idx[..h]);
        test.extend_from_slice(&idx[h..]);
    }
    (train, test)
}

fn run(args: Args) -> Result<(), AppError> {
    let t_start = Instant::now();
    scattering_apps::io::prepare_folder(&args.out)?;
    let grid = if args.quick { 2 } else { 4 };
    let j = args.j.unwrap_or(if args.quick { 3 } else { 5 });
    if args.patch < (1 << j) {
        return Err(AppError::Usage(format!(
            "--patch {} is smaller than 2^J = {}",
            args.patch,
            1 << j
        )));
    }
    let data = load(&args.data, args.patch, grid)?;
    let (n_classes, n_angles) = (data.classes.len(), data.angles.len());
    eprintln!(
        "{} classes x {} angles, {} patches of {} x {}",
        n_classes,
        n_angles,
        data.patches.dim().0,
        args.patch,
        args.patch
    );
    let side = (args.patch, args.patch);
    let trans = Scattering2dParams::new(side, j)
        .l(args.l)
        .average(Averaging::Global)
        .build()?;
    let rigid = RigidMotionParams::new(side, j)
        .l(2 * args.l)
        .k(args.k)
        .average(Averaging::Global)
        .build()?;
    let mut feature_seconds = BTreeMap::new();
    let t0 = Instant::now();
    let orders: Vec<usize> = trans.meta().iter().map(|p| p.order).collect();
    let xt = features(&data.patches, &orders, "patches (translation)", &|v| {
        Ok(trans.forward(v)?)
    })?;
    feature_seconds.insert("translation".to_string(), t0.elapsed().as_secs_f64());
    let t0 = Instant::now();
    let orders: Vec<usize> = rigid.meta().iter().map(|p| p.order).collect();
    let xr = features(&data.patches, &orders, "patches (rigid motion)", &|v| {
        Ok(rigid.forward(v)?)
    })?;
    feature_seconds.insert("rigid_motion".to_string(), t0.elapsed().as_secs_f64());
    let feats: [(&str, &Array2<f64>); 2] = [("translation", &xt), ("rigid_motion", &xr)];
    let classifiers = ["affine", "logistic"];
    let y = &data.class_of;
    let n = y.len();

    // Protocol (a): train on one angle, test on the others.
    let mut one_angle = Vec::new();
    let mut by_angle = BTreeMap::new();
    let mut confusions = Vec::new();
    let pb = bar(
        feats.len() * classifiers.len() * n_angles,
        "fits (one angle)",
    );
    for (fname, x) in feats {
        for cl in classifiers {
            let mut runs = Vec::new();
            let mut conf = Array2::<f64>::zeros((n_classes, n_classes));
            for a in 0..n_angles {
                let train: Vec<usize> = (0..n).filter(|&i| data.angle_of[i] == a).collect();
                let test: Vec<usize> = (0..n).filter(|&i| data.angle_of[i] != a).collect();
                let pred = fit_predict(cl, x.view(), y, &train, &test)?;
                let truth: Vec<usize> = test.iter().map(|&i| y[i]).collect();
                runs.push(error_rate(&pred, &truth));
                for (&p, &t) in pred.iter().zip(&truth) {
                    conf[[t, p]] += 1.0;
                }
                if a == 0 {
                    let per: Vec<(u32, f64)> = (1..n_angles)
                        .map(|b| {
                            let idx: Vec<usize> = (0..test.len())
                                .filter(|&k| data.angle_of[test[k]] == b)
                                .collect();
                            let p: Vec<usize> = idx.iter().map(|&k| pred[k]).collect();
                            let t: Vec<usize> = idx.iter().map(|&k| truth[k]).collect();
                            (data.angles[b], error_rate(&p, &t))
                        })
                        .collect();
                    by_angle.insert(format!("{fname}/{cl}"), per);
                }
                pb.inc(1);
            }
            if cl == "affine" {
                confusions.push((fname, conf));
            }
            let (m, sd) = mean_std(&runs);
            one_angle.push(Result1 {
                features: fname.to_string(),
                classifier: cl.to_string(),
                error: m,
                error_std: sd,
                runs,
            });
        }
    }
    pb.finish_and_clear();

    // Protocol (b): random halves over all angles.
    let seeds: Vec<u64> = if args.quick {
        vec![0, 1]
    } else {
        (0..5).collect()
    };
    let mut half = Vec::new();
    let pb = bar(
        feats.len() * classifiers.len() * seeds.len(),
        "fits (random half)",
    );
    for (fname, x) in feats {
        for cl in classifiers {
            let mut runs = Vec::new();
            for &seed in &seeds {
                let (train, test) = half_split(y, seed);
                let pred = fit_predict(cl, x.view(), y, &train, &test)?;
                let truth: Vec<usize> = test.iter().map(|&i| y[i]).collect();
                runs.push(error_rate(&pred, &truth));
                pb.inc(1);
            }
            let (m, sd) = mean_std(&runs);
            half.push(Result1 {
                features: fname.to_string(),
                classifier: cl.to_string(),
                error: m,
                error_std: sd,
                runs,
            });
        }
    }
    pb.finish_and_clear();

    let metrics = Metrics {
        data: args.data.display().to_string(),
        classes: data.classes.clone(),
        angles: data.angles.clone(),
        patches_per_image: grid * grid,
        patch: args.patch,
        j,
        l_translation: args.l,
        l_rigid: 2 * args.l,
        k: args.k,
        features: feats
            .iter()
            .map(|(f, x)| (f.to_string(), x.ncols()))
            .collect(),
        protocols: vec![
            Protocol {
                name: "train_one_angle",
                description: "train on the patches of one angle, test on the other angles; mean over the training angles".into(),
                results: one_angle,
            },
            Protocol {
                name: "random_half",
                description: format!(
                    "half of each class's patches over all angles for training, {} seeds",
                    seeds.len()
                ),
                results: half,
            },
        ],
        error_by_test_angle: by_angle,
    };
    write_outputs(
        &args,
        &data,
        &metrics,
        &confusions,
        feature_seconds,
        t_start,
    )
}

fn write_outputs(
    args: &Args,
    data: &Dataset,
    metrics: &Metrics,
    confusions: &[(&str, Array2<f64>)],
    feature_seconds: BTreeMap<String, f64>,
    t_start: Instant,
) -> Result<(), AppError> {
    let mut out = Outputs::new();
    let dir = &args.out;
    let mut table = String::from(
        "| protocol | features | classifier | error (%) | std (%) |\n|---|---|---|---|---|\n",
    );
    for p in &metrics.protocols {
        for r in &p.results {
            table += &format!(
                "| {} | {} | {} | {:.2} | {:.2} |\n",
                p.name,
                r.features,
                r.classifier,
                100.0 * r.error,
                100.0 * r.error_std
            );
        }
    }
    out.text(&dir.join("table.md"), &table)?;
    out.json(&dir.join("metrics.json"), metrics)?;
    // A patch of each class (rows) at each angle (columns).
    let per = metrics.patches_per_image;
    let side = metrics.patch;
    let rows: Vec<Vec<Panel>> = (0..data.classes.len())
        .map(|c| {
            (0..data.angles.len())
                .map(|a| {
                    let k = (c * data.angles.len() + a) * per;
                    Panel {
                        caption: format!("{} {}°", data.classes[c], data.angles[a]),
                        data: data
                            .patches
                            .index_axis(Axis(0), k)
                            .iter()
                            .copied()
                            .collect(),
                        shape: (side, side),
                    }
                })
                .collect()
        })
        .collect();
    let png = dir.join("patches.png");
    let tmp = out.temp_path(&png)?;
    image_grid_png(&png, &tmp, "a patch of each class at each rotation", &rows)?;
    let series: Vec<Series> = metrics
        .error_by_test_angle
        .iter()
        .map(|(name, pts)| Series {
            name: name.clone(),
            points: pts.iter().map(|&(a, e)| (a as f64, 100.0 * e)).collect(),
        })
        .collect();
    let png = dir.join("error_by_angle.png");
    let tmp = out.temp_path(&png)?;
    curves_png(
        &png,
        &tmp,
        &format!("trained at {}°: test error by rotation", data.angles[0]),
        ("test angle (degrees)", "error (%)"),
        &series,
        (false, false),
    )?;
    for (fname, conf) in confusions {
        let png = dir.join(format!("confusion_{fname}.png"));
        let tmp = out.temp_path(&png)?;
        confusion_png(
            &png,
            &tmp,
            &format!("{fname} scattering, affine classifier, trained on one angle"),
            conf.view(),
            &data.classes,
        )?;
    }
    out.json(
        &dir.join("timings.json"),
        &Timings {
            feature_seconds,
            total_seconds: t_start.elapsed().as_secs_f64(),
        },
    )?;
    out.commit()?;
    eprint!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("rotated-textures: {e}");
        std::process::exit(1);
    }
}
