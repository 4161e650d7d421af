//! `bench-time CONFIG [REPEATS] [f64|f32]`: times one benchmark configuration in a fresh
//! process and prints one JSON line (median and all run times in seconds, filter-build
//! time, peak resident memory in MiB), for `scripts/bench-vs-kymatio`.

use scattering_benches::{image_batch, input_batch, IMAGE_CONFIGS, JOINT_CONFIGS, TIME_CONFIGS};
use scattering_transform::{
    Result, Scattering1dParams, Scattering2dParams, SolidHarmonicScattering3dParams,
    TimeFrequencyParams,
};
use std::time::Instant;

/// Name of the 3D configuration (J=2, L=2 on a 64^3 volume, batch 1).
const SOLID_CONFIG: &str = "3D_J2_L2_64cube_B1";

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

/// Builds with `build` (timed), runs `forward` `repeats` times, prints the JSON line.
fn measure<S, O>(
    name: &str,
    precision: &str,
    repeats: usize,
    build: impl FnOnce() -> Result<S>,
    forward: impl Fn(&S) -> Result<O>,
) {
    let t0 = Instant::now();
    let s = build().unwrap_or_else(|e| fail(e));
    let build_s = t0.elapsed().as_secs_f64();
    let times: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let t = Instant::now();
            forward(&s).unwrap_or_else(|e| fail(e));
            t.elapsed().as_secs_f64()
        })
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{{\"name\": \"{name}\", \"precision\": \"{precision}\", \"median_s\": {median:.6}, \"build_s\": {build_s:.6}, \"times_s\": {times:?}, \"peak_rss_mib\": {:.1}, \"threads\": {threads}}}",
        peak_rss_mib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(name) = args.get(1) else {
        let mut names: Vec<_> = TIME_CONFIGS.iter().map(|c| c.name).collect();
        names.extend(IMAGE_CONFIGS.iter().map(|c| c.name));
        names.extend(JOINT_CONFIGS.iter().map(|c| c.name));
        names.push(SOLID_CONFIG);
        eprintln!(
            "usage: bench-time CONFIG [REPEATS] [f64|f32]; configs: {}",
            names.join(", ")
        );
        std::process::exit(2);
    };
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(7);
    let precision = args.get(3).map_or("f64", String::as_str);
    let f32 = match precision {
        "f64" => false,
        "f32" => true,
        other => {
            eprintln!("precision must be f64 or f32, got {other}");
            std::process::exit(2);
        }
    };
    if name == SOLID_CONFIG {
        let x = ndarray::Array4::from_shape_vec(
            (1, 64, 64, 64),
            input_batch(1, 64 * 64 * 64).into_raw_vec_and_offset().0,
        )
        .unwrap_or_else(|e| fail(e));
        let p = SolidHarmonicScattering3dParams::new((64, 64, 64), 2, 2);
        if f32 {
            measure(
                name,
                precision,
                repeats,
                || p.build_f32(),
                |s| s.forward(x.view()),
            );
        } else {
            measure(
                name,
                precision,
                repeats,
                || p.build(),
                |s| s.forward(x.view()),
            );
        }
    } else if let Some(cfg) = JOINT_CONFIGS.iter().find(|c| c.name == name) {
        let x = input_batch(cfg.batch, cfg.n);
        let p = TimeFrequencyParams::new(cfg.n, cfg.j, cfg.j_fr)
            .q(cfg.q)
            .q_fr(cfg.q_fr);
        if f32 {
            let x = x.mapv(|v| v as f32);
            measure(
                name,
                precision,
                repeats,
                || p.build_f32(),
                |s| s.forward(x.view()),
            );
        } else {
            measure(
                name,
                precision,
                repeats,
                || p.build(),
                |s| s.forward(x.view()),
            );
        }
    } else if let Some(cfg) = IMAGE_CONFIGS.iter().find(|c| c.name == name) {
        let x = image_batch(cfg.batch, cfg.side);
        let p = Scattering2dParams::new((cfg.side, cfg.side), cfg.j).l(cfg.l);
        if f32 {
            measure(
                name,
                precision,
                repeats,
                || p.build_f32(),
                |s| s.forward(x.view()),
            );
        } else {
            measure(
                name,
                precision,
                repeats,
                || p.build(),
                |s| s.forward(x.view()),
            );
        }
    } else if let Some(cfg) = TIME_CONFIGS.iter().find(|c| c.name == name) {
        let x = input_batch(cfg.batch, cfg.n);
        let p = Scattering1dParams::new(cfg.n, cfg.j).q((cfg.q, 1));
        if f32 {
            measure(
                name,
                precision,
                repeats,
                || p.build_f32(),
                |s| s.forward(x.view()),
            );
        } else {
            measure(
                name,
                precision,
                repeats,
                || p.build(),
                |s| s.forward(x.view()),
            );
        }
    } else {
        eprintln!("unknown config {name}");
        std::process::exit(2);
    }
}
