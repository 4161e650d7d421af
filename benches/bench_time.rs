//! `bench-time CONFIG [REPEATS] [f64|f32]`: times one benchmark configuration in a fresh process and
//! prints one JSON line (median and all run times in seconds, peak resident memory in MiB),
//! for `scripts/bench-vs-kymatio`. The filter build is timed apart from the transform.

use scattering_benches::{image_batch, input_batch, IMAGE_CONFIGS, TIME_CONFIGS};
use scattering_transform::{Scattering1dParams, Scattering2dParams, SolidScattering3dParams};

/// Name of the 3D configuration.
const SOLID_CONFIG: &str = "3D_J2_L2_64cube_B1";
use std::time::Instant;

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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(name) = args.get(1) else {
        let names: Vec<_> = TIME_CONFIGS.iter().map(|c| c.name).collect();
        eprintln!(
            "usage: bench-time CONFIG [REPEATS]; configs: {}",
            names.join(", ")
        );
        std::process::exit(2);
    };
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(7);
    let precision = args.get(3).map_or("f64", String::as_str);
    if name == SOLID_CONFIG {
        // 3D J=2 L=2 on a 64^3 volume, batch 1 (Kymatio's defaults otherwise).
        let x = ndarray::Array4::from_shape_vec(
            (1, 64, 64, 64),
            input_batch(1, 64 * 64 * 64).into_raw_vec_and_offset().0,
        )
        .unwrap_or_else(|_| unreachable!());
        let p = SolidScattering3dParams::new((64, 64, 64), 2, 2);
        let t0 = Instant::now();
        match precision {
            "f64" => time_solid(p.build(), t0, &x, name, precision, repeats),
            _ => time_solid(p.build_f32(), t0, &x, name, precision, repeats),
        }
        return;
    }
    if let Some(cfg) = IMAGE_CONFIGS.iter().find(|c| c.name == name) {
        let x = image_batch(cfg.batch, cfg.side);
        let p = Scattering2dParams::new((cfg.side, cfg.side), cfg.j).l(cfg.l);
        let t0 = Instant::now();
        match precision {
            "f64" => time_image(p.build(), t0, &x, cfg.name, precision, repeats),
            _ => time_image(p.build_f32(), t0, &x, cfg.name, precision, repeats),
        }
        return;
    }
    let Some(cfg) = TIME_CONFIGS.iter().find(|c| c.name == name) else {
        eprintln!("unknown config {name}");
        std::process::exit(2);
    };
    let x = input_batch(cfg.batch, cfg.n);
    let params = Scattering1dParams::new(cfg.n, cfg.j).q((cfg.q, 1));
    let t0 = Instant::now();
    match precision {
        "f64" => run(params.build(), t0, &x, cfg.name, precision, repeats),
        "f32" => run(params.build_f32(), t0, &x, cfg.name, precision, repeats),
        other => {
            eprintln!("precision must be f64 or f32, got {other}");
            std::process::exit(2);
        }
    }
}

fn run<T: scattering_transform::Real>(
    built: scattering_transform::Result<scattering_transform::Scattering1d<T>>,
    t0: Instant,
    x: &ndarray::Array2<f64>,
    name: &str,
    precision: &str,
    repeats: usize,
) {
    let s = match built {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let build = t0.elapsed().as_secs_f64();
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        let out = s.forward(x.view());
        times.push(t.elapsed().as_secs_f64());
        if let Err(e) = out {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{{\"name\": \"{}\", \"precision\": \"{precision}\", \"median_s\": {median:.6}, \"build_s\": {build:.6}, \"times_s\": {:?}, \"peak_rss_mib\": {:.1}, \"threads\": {}}}",
        name,
        times,
        peak_rss_mib(),
        rayon_threads()
    );
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn time_image<T: scattering_transform::Real>(
    built: scattering_transform::Result<scattering_transform::Scattering2d<T>>,
    t0: Instant,
    x: &ndarray::Array3<f64>,
    name: &str,
    precision: &str,
    repeats: usize,
) {
    let s = match built {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let build = t0.elapsed().as_secs_f64();
    let times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            if let Err(e) = s.forward(x.view()) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            t.elapsed().as_secs_f64()
        })
        .collect();
    report(name, precision, build, times);
}

fn report(name: &str, precision: &str, build: f64, times: Vec<f64>) {
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{{\"name\": \"{name}\", \"precision\": \"{precision}\", \"median_s\": {median:.6}, \"build_s\": {build:.6}, \"times_s\": {times:?}, \"peak_rss_mib\": {:.1}, \"threads\": {}}}",
        peak_rss_mib(),
        rayon_threads()
    );
}

fn time_solid<T: scattering_transform::Real>(
    built: scattering_transform::Result<scattering_transform::SolidHarmonicScattering3d<T>>,
    t0: Instant,
    x: &ndarray::Array4<f64>,
    name: &str,
    precision: &str,
    repeats: usize,
) {
    let s = match built {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let build = t0.elapsed().as_secs_f64();
    let times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            if let Err(e) = s.forward(x.view()) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            t.elapsed().as_secs_f64()
        })
        .collect();
    report(name, precision, build, times);
}
