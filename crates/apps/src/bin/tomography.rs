//! `tomography`: sparse-view and limited-angle tomography of random-ellipse phantoms, by
//! filtered back-projection, Tikhonov, total variation, l1 of wavelet coefficients and the
//! scattering regulariser (the slide "Tomography Results"). Every penalty weight is chosen
//! on a validation split, never on the test split.
//!
//! ```text
//! tomography --out out/tomography                 # 128 x 128, 50 / 10 / 20 phantoms
//! tomography --out out/tomography --quick         # 48 x 48, 6 / 3 / 3 phantoms
//! tomography --angles 20 --limited 120 --noise-snr 30 --out out/tomography
//! ```
//! Writes `DIR/metrics.json`, `DIR/table.md`, `DIR/tomography.png` (original, FBP, TV, l1,
//! scattering for three test images) and the wall times in `DIR/timings.json`.

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, Normal};
use scattering_apps::io::Outputs;
use scattering_apps::synthesis::{image_grid_png, progress_bar, Panel};
use scattering_apps::AppError;
use scattering_inverse::metrics::{psnr, ssim};
use scattering_inverse::phantom::{random_ellipses, shepp_logan};
use scattering_inverse::solve::{l1_wavelet, tikhonov, tv};
use scattering_inverse::{
    CoefficientRegression, LinearOperator, Radon, RampFilter, ScatteringSolver, Stopping,
    Wavelet2d, WaveletFamily,
};
use scattering_models::{Representation, ScatteringMoments};
use scattering_transform::{Averaging, Padding, Scattering2dParams};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Parser)]
#[command(
    about = "Sparse-view and limited-angle tomography: FBP, Tikhonov, TV, l1-wavelet and scattering-regularised reconstructions"
)]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/tomography")]
    out: std::path::PathBuf,
    /// Small run: 48 x 48 phantoms, 6 / 3 / 3 in the splits, fewer iterations.
    #[arg(long)]
    quick: bool,
    /// Number of views of the sparse-view setting (over 180 degrees).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=1000))]
    angles: u32,
    /// Angular range in degrees of the limited-angle setting (as many views as degrees).
    #[arg(long, default_value_t = 120.0)]
    limited: f64,
    /// Signal-to-noise ratio of the measurements in dB (additive Gaussian noise).
    #[arg(long, default_value_t = 30.0)]
    noise_snr: f64,
    /// Seed of the phantoms and the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Methods to run (fbp, tikhonov, tv, l1, scattering); scattering starts from TV's
    /// estimate, so it needs tv.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fbp,tikhonov,tv,l1,scattering"
    )]
    methods: Vec<String>,
    /// Hide the progress bars.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Serialize, Clone)]
struct MethodRow {
    name: String,
    psnr: f64,
    ssim: f64,
    /// The penalty weight chosen on the validation split (none for FBP).
    weight: Option<f64>,
}

#[derive(Serialize)]
struct Setting {
    name: String,
    angles_degrees: (f64, f64),
    views: usize,
    noise_snr_db: f64,
    methods: Vec<MethodRow>,
}

#[derive(Serialize)]
struct Metrics {
    size: usize,
    splits: (usize, usize, usize),
    settings: Vec<Setting>,
}

type Image = ndarray::Array2<f64>;

/// The five methods, each reconstructing from a sinogram with a penalty weight.
struct Methods<'a> {
    radon: &'a Radon,
    wavelet: Wavelet2d,
    /// Locally averaged scattering (J = 3, L = 8, order 2) of the phantoms.
    phi: &'a dyn Representation,
    /// Learned on the training phantoms: their scattering from that of their TV estimate.
    map: Option<CoefficientRegression>,
    iterations: usize,
}

impl Methods<'_> {
    const NAMES: [&'static str; 5] = ["fbp", "tikhonov", "tv", "l1", "scattering"];

    fn grid(name: &str) -> Vec<f64> {
        match name {
            "tikhonov" => vec![1.0, 10.0, 100.0, 1000.0],
            // The full run (128², 300 iterations) chose the top of the previous grids for
            // all three (2.5, 12.5, 1e5): one step further each.
            "tv" => vec![0.1, 0.5, 2.5, 12.5],
            "l1" => vec![0.5, 2.5, 12.5, 62.5],
            "scattering" => vec![1e3, 1e4, 1e5, 1e6],
            _ => vec![0.0],
        }
    }

    /// The method's estimate from `y`; the scattering method starts from `start` (the TV
    /// estimate at TV's chosen weight).
    fn run(
        &self,
        name: &str,
        y: &Image,
        weight: f64,
        start: Option<&Image>,
    ) -> Result<Image, AppError> {
        let stop = Stopping {
            max_iterations: self.iterations,
            tolerance: 1e-7,
        };
        Ok(match name {
            "fbp" => self.radon.fbp(y.view(), RampFilter::Hann)?,
            "tikhonov" => tikhonov(self.radon, y.view(), weight, stop)?.x,
            "tv" => tv(self.radon, y.view(), weight, stop)?.x,
            "l1" => l1_wavelet(self.radon, y.view(), weight, &self.wavelet, stop)?.x,
            _ => {
                let (Some(start), Some(map)) = (start, self.map.as_ref()) else {
                    return Err(AppError::Usage(
                        "the scattering method needs its TV start and learned map".into(),
                    ));
                };
                // The phantom's local scattering, estimated from the TV estimate's; then the
                // image fitting both the sinogram and that estimate.
                let flat: Vec<f64> = start.iter().copied().collect();
                let target = map.predict(&self.phi.forward(&flat)?)?;
                ScatteringSolver {
                    max_iterations: self.iterations as u64,
                    ..Default::default()
                }
                .regularised(
                    self.radon,
                    y.view(),
                    self.phi,
                    &target,
                    weight,
                    start.view(),
                )?
                .x
            }
        })
    }
}

fn noisy(radon: &Radon, x: &Image, snr_db: f64, rng: &mut StdRng) -> Result<Image, AppError> {
    let y = radon.apply(x.view())?;
    let power = y.mapv(|v| v * v).mean().unwrap_or(0.0);
    let sigma = (power / 10f64.powf(snr_db / 10.0)).sqrt();
    let normal = Normal::new(0.0, sigma.max(f64::MIN_POSITIVE))
        .map_err(|e| AppError::Usage(format!("noise level: {e}")))?;
    Ok(y.mapv(|v| v + normal.sample(rng)))
}

fn run(a: Args) -> Result<(), AppError> {
    scattering_apps::io::prepare_folder(&a.out)?;
    if !(a.limited.is_finite() && a.limited >= 10.0 && a.limited <= 180.0) {
        return Err(AppError::Usage(format!(
            "--limited must be an angular range in degrees between 10 and 180, got {}",
            a.limited
        )));
    }
    if !(a.noise_snr.is_finite() && a.noise_snr > 0.0 && a.noise_snr <= 200.0) {
        return Err(AppError::Usage(format!(
            "--noise-snr must be in (0, 200] dB, got {}",
            a.noise_snr
        )));
    }
    for m in &a.methods {
        if !Methods::NAMES.contains(&m.as_str()) {
            return Err(AppError::Usage(format!(
                "unknown method '{m}' ({})",
                Methods::NAMES.join(", ")
            )));
        }
    }
    if a.methods.iter().any(|m| m == "scattering") && !a.methods.iter().any(|m| m == "tv") {
        return Err(AppError::Usage(
            "--methods: scattering starts from the TV estimate, so it needs tv too".into(),
        ));
    }
    // In the fixed order, so TV runs before the scattering method that starts from it.
    let chosen: Vec<&str> = Methods::NAMES
        .into_iter()
        .filter(|n| a.methods.iter().any(|m| m == n))
        .collect();
    let (size, splits, iterations) = if a.quick {
        (48, (6, 3, 3), 60)
    } else {
        (128, (50, 10, 20), 300)
    };
    let draw = |offset: u64, count: usize| -> Vec<Image> {
        (0..count)
            .map(|k| {
                random_ellipses(
                    size,
                    12,
                    a.seed.wrapping_mul(1000).wrapping_add(offset + k as u64),
                )
            })
            .collect()
    };
    let (train, val, mut test) = (
        draw(0, splits.0),
        draw(100_000, splits.1),
        draw(200_000, splits.2),
    );
    // The Shepp-Logan phantom joins the test split, for the figure.
    test[0] = shepp_logan(size);
    // Local scattering, one position per 8 x 8 block: the prior the scattering method
    // estimates from the TV reconstruction, learned on the training phantoms.
    let phi = ScatteringMoments::from_transform(
        Scattering2dParams::new((size, size), 3)
            .l(8)
            .max_order(2)
            .average(Averaging::Local)
            .padding(Padding::Periodic)
            .build()?,
    );
    let channels = phi.transform().output_shape().0;
    let deg = std::f64::consts::PI / 180.0;
    let sparse: Vec<f64> = (0..a.angles)
        .map(|k| k as f64 * 180.0 / a.angles as f64 * deg)
        .collect();
    let views = a.limited.round() as usize;
    let limited: Vec<f64> = (0..views)
        .map(|k| k as f64 * a.limited / views as f64 * deg)
        .collect();
    let settings = [
        ("sparse_views", sparse, (0.0, 180.0)),
        ("limited_angle", limited, (0.0, a.limited)),
    ];
    let total = settings.len() as u64
        * chosen
            .iter()
            .map(|m| (Methods::grid(m).len() * splits.1 + splits.2) as u64)
            .sum::<u64>()
        + if chosen.contains(&"scattering") {
            (settings.len() * splits.0) as u64
        } else {
            0
        };
    let pb = progress_bar(total, "reconstructions", !a.no_progress);
    let mut rng = StdRng::seed_from_u64(a.seed ^ 0x5eed);
    let mut out_settings = Vec::new();
    let mut timings: BTreeMap<String, f64> = BTreeMap::new();
    let mut figure_rows: Vec<Vec<Panel>> = Vec::new();
    for (name, angles, range) in &settings {
        let radon = Radon::new((size, size), angles, None)?;
        let mut methods = Methods {
            radon: &radon,
            wavelet: Wavelet2d::new((size, size), WaveletFamily::Db2, 3)?,
            phi: &phi,
            map: None,
            iterations,
        };
        let yval: Vec<Image> = val
            .iter()
            .map(|x| noisy(&radon, x, a.noise_snr, &mut rng))
            .collect::<Result<_, _>>()?;
        let ytest: Vec<Image> = test
            .iter()
            .map(|x| noisy(&radon, x, a.noise_snr, &mut rng))
            .collect::<Result<_, _>>()?;
        let mut rows = Vec::new();
        let mut estimates: BTreeMap<&str, Vec<Image>> = BTreeMap::new();
        // TV estimates at TV's chosen weight, the scattering method's starts.
        let (mut val_starts, mut tv_weight) = (Vec::new(), 0.0);
        for &m in &chosen {
            pb.set_message(format!("{name}: {m}"));
            if m == "scattering" {
                pb.set_message(format!("{name}: learning the scattering prior"));
                let (mut inputs, mut targets) = (Vec::new(), Vec::new());
                for x in &train {
                    let y = noisy(&radon, x, a.noise_snr, &mut rng)?;
                    let start = methods.run("tv", &y, tv_weight, None)?;
                    inputs.push(phi.forward(&start.iter().copied().collect::<Vec<_>>())?);
                    targets.push(phi.forward(&x.iter().copied().collect::<Vec<_>>())?);
                    pb.inc(1);
                }
                methods.map = Some(CoefficientRegression::fit(
                    &inputs, &targets, channels, channels, 1e-3,
                )?);
            }
            let test_starts = estimates.get("tv").cloned().unwrap_or_default();
            // The weight with the best mean validation PSNR.
            let mut best = (f64::NEG_INFINITY, 0.0);
            for w in Methods::grid(m) {
                let mut score = 0.0;
                let mut outs = Vec::new();
                for (k, (x, y)) in val.iter().zip(&yval).enumerate() {
                    let e = methods.run(m, y, w, val_starts.get(k))?;
                    score += psnr(e.view(), x.view(), 1.0)?;
                    outs.push(e);
                    pb.inc(1);
                }
                if score > best.0 {
                    best = (score, w);
                    if m == "tv" {
                        val_starts = outs;
                    }
                }
            }
            if m == "tv" {
                tv_weight = best.1;
            }
            let t = Instant::now();
            let mut ests = Vec::new();
            let (mut p, mut s) = (0.0, 0.0);
            for (k, (x, y)) in test.iter().zip(&ytest).enumerate() {
                let e = methods.run(m, y, best.1, test_starts.get(k))?;
                p += psnr(e.view(), x.view(), 1.0)?;
                s += ssim(e.view(), x.view(), 1.0)?;
                ests.push(e);
                pb.inc(1);
            }
            let mut seconds = t.elapsed().as_secs_f64() / test.len() as f64;
            if m == "scattering" {
                // Its TV start is part of its cost.
                seconds += timings.get(&format!("{name}/tv")).copied().unwrap_or(0.0);
            }
            timings.insert(format!("{name}/{m}"), seconds);
            let n = test.len() as f64;
            rows.push(MethodRow {
                name: m.into(),
                psnr: p / n,
                ssim: s / n,
                weight: (m != "fbp").then_some(best.1),
            });
            estimates.insert(m, ests);
        }
        for (k, original) in test.iter().take(3).enumerate() {
            let mut row = vec![Panel {
                caption: format!("{name}: original {k}"),
                data: original.iter().copied().collect(),
                shape: (size, size),
            }];
            for m in ["fbp", "tv", "l1", "scattering"] {
                if let Some(e) = estimates.get(m).and_then(|v| v.get(k)) {
                    row.push(Panel {
                        caption: m.into(),
                        data: e.iter().copied().collect(),
                        shape: (size, size),
                    });
                }
            }
            figure_rows.push(row);
        }
        out_settings.push(Setting {
            name: (*name).into(),
            angles_degrees: *range,
            views: angles.len(),
            noise_snr_db: a.noise_snr,
            methods: rows,
        });
    }
    pb.finish_and_clear();
    let mut table = format!(
        "Tomography of {size} x {size} random-ellipse phantoms (test split of {}, the first replaced by Shepp-Logan), noise SNR {} dB; weights chosen on {} validation phantoms. Mean PSNR (dB) / SSIM.\n\n| setting | views | method | PSNR | SSIM | weight |\n|---|---:|---|---:|---:|---:|\n",
        splits.2, a.noise_snr, splits.1
    );
    for s in &out_settings {
        for r in &s.methods {
            table += &format!(
                "| {} | {} | {} | {:.2} | {:.3} | {} |\n",
                s.name,
                s.views,
                r.name,
                r.psnr,
                r.ssim,
                r.weight.map(|w| format!("{w}")).unwrap_or_default()
            );
        }
    }
    let mut out = Outputs::new();
    let png = a.out.join("tomography.png");
    let tmp = out.temp_path(&png)?;
    image_grid_png(
        &png,
        &tmp,
        "tomography: original, FBP, TV, l1, scattering",
        &figure_rows,
    )?;
    out.json(
        &a.out.join("metrics.json"),
        &Metrics {
            size,
            splits,
            settings: out_settings,
        },
    )?;
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
        eprintln!("tomography: {e}");
        std::process::exit(1);
    }
}
