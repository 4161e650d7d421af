//! `shepard-risset`: Shepard tones and Shepard-Risset glissandos on the pitch spiral.
//!
//! Generates a rising and a falling glissando, a rising Shepard scale, a stationary
//! Shepard tone and a tone whose partials are 1.1 octaves apart; writes them as WAV files;
//! transforms them with spiral and joint time-frequency scattering; and measures what the
//! spiral tests assert:
//! - a glissando at `v` octaves per second peaks, for a chroma wavelet at `k` cycles per
//!   octave, on the second-order wavelet nearest `v k` Hz, on the spin of its direction;
//! - a Shepard tone puts little energy on the octave wavelets (only its envelope varies
//!   along octaves), far less than partials 1.1 octaves apart.
//!
//! ```text
//! shepard-risset --out out/shepard-risset            # 4 kHz, 8 s, 0.5 octave/s
//! shepard-risset --out out/shepard-risset --quick    # 2 kHz, 3 s, 1 octave/s
//! ```

use clap::Parser;
use ndarray::{Array2, Axis};
use scattering_apps::audio::{shepard_risset, shepard_scale, shepard_tone, stationary, Envelope};
use scattering_apps::figures::{
    joint_scattering_png, spiral_scattering_png, JointFigure, SpiralFigure,
};
use scattering_apps::io::Outputs;
use scattering_apps::synthesis::progress_bar;
use scattering_apps::AppError;
use scattering_transform::{
    JointFormat, SpiralParams, SpiralScattering, TimeFrequencyParams, TimeFrequencyScattering,
};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(
    about = "Shepard tones and Shepard-Risset glissandos through spiral and joint scattering"
)]
struct Args {
    /// Output directory.
    #[arg(long, default_value = "out/shepard-risset")]
    out: PathBuf,
    /// Small run: 2 kHz, 3 s, 1 octave per second.
    #[arg(long)]
    quick: bool,
    /// Sample rate in Hz.
    #[arg(long)]
    sample_rate: Option<u32>,
    /// Length of each sound in seconds.
    #[arg(long)]
    seconds: Option<f64>,
    /// Glissando speed in octaves per second.
    #[arg(long)]
    speed: Option<f64>,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Serialize)]
struct RidgePoint {
    direction: &'static str,
    spin: i8,
    chroma_cycles_per_octave: f64,
    predicted_hz: f64,
    peak_hz: f64,
}

#[derive(Serialize)]
struct SpinEnergy {
    direction: &'static str,
    spiral_up: f64,
    spiral_down: f64,
    joint_up: f64,
    joint_down: f64,
}

#[derive(Serialize)]
struct Metrics {
    sample_rate: u32,
    seconds: f64,
    speed_octaves_per_second: f64,
    j: usize,
    q: (usize, usize),
    ridge: Vec<RidgePoint>,
    spin_energy: Vec<SpinEnergy>,
    /// Octave-wavelet energy over octave-low-pass energy of the first-order spiral paths.
    octave_wavelet_share_shepard: f64,
    octave_wavelet_share_stretched: f64,
    seconds_elapsed: f64,
}

/// For each chroma wavelet of spin `spin`: its frequency (cycles per octave) and the
/// `xi2` (cycles per sample) of the second-order channel with the most energy.
fn ridge(s: &SpiralScattering, sx: &Array2<f64>, spin: i8) -> Vec<(f64, f64)> {
    let q1 = s.params().q.0 as f64;
    let mut out = Vec::new();
    for (ia, a) in s.chroma_bank().filters.iter().enumerate() {
        if a.spin != spin {
            continue;
        }
        let mut best = (0.0, 0.0);
        for (c, m) in s.meta().iter().enumerate() {
            if m.order == 2 && m.chroma == Some(ia) && m.spin_octave == 0 {
                let e: f64 = sx.row(c).iter().map(|v| v * v).sum();
                if e > best.0 {
                    best = (e, m.xi.unwrap_or(0.0));
                }
            }
        }
        out.push((a.xi.abs() * q1, best.1));
    }
    out
}

/// Second-order energy of each spin, spiral (chroma spin) and joint.
fn spins(
    sp: &SpiralScattering,
    sx: &Array2<f64>,
    jt: &TimeFrequencyScattering,
    jx: &ndarray::ArrayD<f64>,
) -> (f64, f64, f64, f64) {
    let (mut su, mut sd, mut ju, mut jd) = (0.0, 0.0, 0.0, 0.0);
    for (c, m) in sp.meta().iter().enumerate() {
        if m.order == 2 {
            let e: f64 = sx.row(c).iter().map(|v| v * v).sum();
            match m.spin_chroma {
                1 => su += e,
                -1 => sd += e,
                _ => {}
            }
        }
    }
    for (c, m) in jt.meta().iter().enumerate() {
        if m.order == 2 {
            let e: f64 = jx.index_axis(Axis(0), c).iter().map(|v| v * v).sum();
            match m.spin {
                1 => ju += e,
                -1 => jd += e,
                _ => {}
            }
        }
    }
    (su, sd, ju, jd)
}

/// Octave-wavelet share of the first-order spiral energy.
fn octave_share(s: &SpiralScattering, sx: &Array2<f64>) -> f64 {
    let (mut wav, mut low) = (0.0, 0.0);
    for (c, m) in s.meta().iter().enumerate() {
        if m.order == 1 && m.chroma.is_some() {
            let e: f64 = sx.row(c).iter().map(|v| v * v).sum();
            if m.spin_octave == 0 {
                low += e;
            } else {
                wav += e;
            }
        }
    }
    wav / low.max(f64::MIN_POSITIVE)
}

fn run(a: Args) -> Result<(), AppError> {
    let start = Instant::now();
    let sr = a.sample_rate.unwrap_or(if a.quick { 2000 } else { 4000 });
    let seconds = a.seconds.unwrap_or(if a.quick { 3.0 } else { 8.0 });
    let speed = a.speed.unwrap_or(if a.quick { 1.0 } else { 0.5 });
    if !(sr >= 500 && seconds > 0.0 && seconds <= 600.0 && speed.is_finite() && speed > 0.0) {
        return Err(AppError::Usage(
            "need --sample-rate >= 500, 0 < --seconds <= 600 and --speed > 0".into(),
        ));
    }
    let fs = f64::from(sr);
    let n = (seconds * fs).round() as usize;
    // The slowest chroma rate to resolve is `speed` Hz (one cycle per octave): the
    // second-order wavelets must reach it, 0.35 2^-J cycles per sample <= 0.7 speed / fs.
    let j = ((0.5 * fs / speed).log2().ceil() as usize).max(6);
    if n < (1 << j) {
        return Err(AppError::Usage(format!(
            "{seconds} s at {sr} Hz is shorter than the 2^{j} samples one cycle per octave \
             takes at {speed} octaves per second: use longer sounds or a faster glissando"
        )));
    }
    let q = (12, 2);
    let env = Envelope {
        centre_hz: fs / 16.0,
        octaves: 1.5,
    };
    let f0 = fs / 160.0;
    let pb = progress_bar(7, "shepard-risset", !a.no_progress);
    let spiral = SpiralParams::new(n, j).q(q).build()?;
    let joint = TimeFrequencyParams::new(n, j, 3)
        .q(q)
        .format(JointFormat::Joint)
        .build()?;
    pb.inc(1);
    let up = shepard_risset(n, fs, f0, speed, env);
    let down = shepard_risset(n, fs, f0, -speed, env);
    let mut scale = shepard_scale(fs, f0, 24, seconds / 24.0, true, env);
    // The steps round to whole samples: pad (or cut) to the transforms' length.
    scale.resize(n, 0.0);
    let tone = shepard_tone(n, fs, f0, env);
    // The octave comparison under a broad envelope (3 octaves), so that what varies along
    // octaves is the partials' placement, not the envelope.
    let broad = Envelope {
        octaves: 3.0,
        ..env
    };
    let flat_tone = shepard_tone(n, fs, f0, broad);
    let stretched: Vec<f64> = (-4..12)
        .map(|k| f0 * 2f64.powf(1.1 * f64::from(k)))
        .filter(|&f| (10.0..0.45 * fs).contains(&f))
        .collect();
    let stretched = stationary(n, fs, &stretched, broad);
    let mut out = Outputs::new();
    for (name, x) in [
        ("glissando_up.wav", &up),
        ("glissando_down.wav", &down),
        ("shepard_scale.wav", &scale),
        ("shepard_tone.wav", &tone),
    ] {
        out.wav(&a.out.join(name), x, sr)?;
    }
    let batch = |x: &[f64]| Array2::from_shape_vec((1, x.len()), x.to_vec());
    let to_err = |e: ndarray::ShapeError| AppError::Usage(e.to_string());
    let mut ridge_rows = Vec::new();
    let mut spin_rows = Vec::new();
    for (direction, x, spin) in [("rising", &up, 1i8), ("falling", &down, -1i8)] {
        let xb = batch(x).map_err(to_err)?;
        let sx = spiral.forward(xb.view())?.index_axis_move(Axis(0), 0);
        pb.inc(1);
        let jx = joint.forward(xb.view())?.index_axis_move(Axis(0), 0);
        pb.inc(1);
        for (cycles, xi2) in ridge(&spiral, &sx, spin) {
            ridge_rows.push(RidgePoint {
                direction,
                spin,
                chroma_cycles_per_octave: cycles,
                predicted_hz: speed * cycles,
                peak_hz: xi2 * fs,
            });
        }
        let (su, sd, ju, jd) = spins(&spiral, &sx, &joint, &jx);
        spin_rows.push(SpinEnergy {
            direction,
            spiral_up: su,
            spiral_down: sd,
            joint_up: ju,
            joint_down: jd,
        });
        let fig = a.out.join(format!("spiral_{direction}.png"));
        let tmp = out.temp_path(&fig)?;
        spiral_scattering_png(
            &fig,
            &tmp,
            &SpiralFigure::of(&spiral, sx.view(), Some(sr)),
            &format!(
                "Shepard-Risset glissando, {direction} at {speed} octave/s: spiral scattering"
            ),
        )?;
        let fig = a.out.join(format!("joint_{direction}.png"));
        let tmp = out.temp_path(&fig)?;
        joint_scattering_png(
            &fig,
            &tmp,
            &JointFigure::of(&joint, jx.view(), Some(sr)),
            &format!("Shepard-Risset glissando, {direction} at {speed} octave/s: joint scattering"),
        )?;
    }
    let share = |x: &[f64]| -> Result<f64, AppError> {
        let xb = batch(x).map_err(to_err)?;
        let sx = spiral.forward(xb.view())?.index_axis_move(Axis(0), 0);
        Ok(octave_share(&spiral, &sx))
    };
    let shepard_share = share(&flat_tone)?;
    let stretched_share = share(&stretched)?;
    pb.inc(1);
    let jx = joint
        .forward(batch(&scale).map_err(to_err)?.view())?
        .index_axis_move(Axis(0), 0);
    let fig = a.out.join("joint_scale.png");
    let tmp = out.temp_path(&fig)?;
    joint_scattering_png(
        &fig,
        &tmp,
        &JointFigure::of(&joint, jx.view(), Some(sr)),
        "Shepard scale, 24 rising semitones: joint scattering",
    )?;
    pb.finish_and_clear();
    let metrics = Metrics {
        sample_rate: sr,
        seconds,
        speed_octaves_per_second: speed,
        j,
        q,
        ridge: ridge_rows,
        spin_energy: spin_rows,
        octave_wavelet_share_shepard: shepard_share,
        octave_wavelet_share_stretched: stretched_share,
        seconds_elapsed: start.elapsed().as_secs_f64(),
    };
    let mut table = format!(
        "Shepard-Risset glissandos at {speed} octave/s ({sr} Hz, {seconds} s, J = {j}, Q = (12, 2)).\n\n\
         | direction | chroma wavelet (cycles/octave) | predicted rate (Hz) | peak rate (Hz) |\n|---|---:|---:|---:|\n"
    );
    for r in &metrics.ridge {
        table += &format!(
            "| {} (spin {:+}) | {:.2} | {:.3} | {:.3} |\n",
            r.direction, r.spin, r.chroma_cycles_per_octave, r.predicted_hz, r.peak_hz
        );
    }
    table += "\n| direction | spiral spin +1 / -1 energy | joint spin +1 / -1 energy |\n|---|---:|---:|\n";
    for s in &metrics.spin_energy {
        table += &format!(
            "| {} | {:.2} | {:.2} |\n",
            s.direction,
            s.spiral_up / s.spiral_down.max(f64::MIN_POSITIVE),
            s.joint_up / s.joint_down.max(f64::MIN_POSITIVE)
        );
    }
    table += &format!(
        "\nOctave-wavelet share of the first-order spiral energy (envelopes 3 octaves wide): Shepard tone {:.3}, partials 1.1 octaves apart {:.3}.\n",
        shepard_share, stretched_share
    );
    out.json(&a.out.join("metrics.json"), &metrics)?;
    out.text(&a.out.join("table.md"), &table)?;
    out.commit()?;
    println!("{table}");
    Ok(())
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("shepard-risset: {e}");
        std::process::exit(1);
    }
}
