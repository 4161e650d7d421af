//! `scatter`: scattering coefficients of signals on the command line.
//!
//! ```text
//! scatter time --input clip.wav --output out/clip.npy -J 8 -Q 8 --png out/clip.png
//! ```
//! writes `out/clip.npy` (batch, channel, time; float64, Kymatio's channel order),
//! `out/clip.meta.json` (parameters and one label per channel) and the figure.

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array3, Axis};
use scattering_apps::figures::{time_scattering_png, TimeAxis};
use scattering_apps::io::{meta_path, read_signals, Outputs};
use scattering_apps::AppError;
use scattering_transform::{Averaging, Padding, Real, Scattering1d, Scattering1dParams};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "scatter",
    version,
    about = "Scattering transforms of signals and images"
)]
struct Cli {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Subcommand)]
enum Kind {
    /// 1D time scattering of signals (.npy, .wav or .csv).
    Time(TimeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum AverageArg {
    Local,
    Global,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum PaddingArg {
    Reflect,
    Periodic,
}

#[derive(Clone, Copy, ValueEnum)]
enum PrecisionArg {
    F64,
    F32,
}

#[derive(clap::Args)]
struct TimeArgs {
    /// Input: .npy (1-D signal or 2-D batch of rows, float32/float64), .wav (channels
    /// become rows) or .csv (first column).
    #[arg(long)]
    input: PathBuf,
    /// Output .npy of shape (batch, channel, time), float64; metadata goes beside it
    /// as OUTPUT.meta.json.
    #[arg(long)]
    output: PathBuf,
    /// Number of octaves: wavelets reach scales of 2^J samples.
    #[arg(short = 'J', long = "J", default_value_t = 6)]
    j: usize,
    /// Wavelets per octave: Q1 or Q1,Q2 (Q2 defaults to 1).
    #[arg(short = 'Q', long = "Q", default_value = "8")]
    q: String,
    /// Averaging scale in samples (default 2^J).
    #[arg(short = 'T', long = "T")]
    t: Option<usize>,
    /// Highest scattering order (0, 1 or 2).
    #[arg(long, default_value_t = 2)]
    max_order: usize,
    /// Averaging: local (low-pass at T), global (time mean) or none (full-rate moduli).
    #[arg(long, value_enum, default_value = "local")]
    average: AverageArg,
    /// Boundary handling.
    #[arg(long, value_enum, default_value = "reflect")]
    padding: PaddingArg,
    /// Arithmetic of the transform (output is float64 either way).
    #[arg(long, value_enum, default_value = "f64")]
    precision: PrecisionArg,
    /// Also draw the first- and second-order coefficients of the first signal as a PNG.
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(Serialize)]
struct TimeMeta<'a> {
    transform: &'static str,
    input: String,
    sample_rate: Option<u32>,
    shape: [usize; 3],
    params: &'a Scattering1dParams,
    t: usize,
    /// Input samples between consecutive output frames.
    stride: usize,
    padded_length: usize,
    precision: &'static str,
    channels: &'a [scattering_transform::PathMeta],
}

fn parse_q(q: &str) -> Result<(usize, usize), AppError> {
    let bad = || {
        AppError::Usage(format!(
            "-Q expects Q1 or Q1,Q2 with positive integers, got `{q}`"
        ))
    };
    let parts: Vec<&str> = q.split(',').map(str::trim).collect();
    let num = |s: &str| s.parse::<usize>().map_err(|_| bad());
    match parts.as_slice() {
        [a] => Ok((num(a)?, 1)),
        [a, b] => Ok((num(a)?, num(b)?)),
        _ => Err(bad()),
    }
}

/// Transforms the batch in chunks so a progress bar can follow large inputs.
fn run_batches<T: Real>(
    s: &Scattering1d<T>,
    data: &ndarray::Array2<f64>,
) -> Result<Array3<f64>, AppError> {
    let (c, t) = s.output_shape();
    let batch = data.nrows();
    let chunk = (1usize << 22).div_ceil(data.ncols()).clamp(1, 4096);
    let bar = if batch > chunk {
        let b = ProgressBar::new(batch as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} signals ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let mut out = Array3::zeros((batch, c, t));
    for start in (0..batch).step_by(chunk) {
        let end = (start + chunk).min(batch);
        let sx = s.forward(data.slice(s![start..end, ..]))?;
        out.slice_mut(s![start..end, .., ..])
            .assign(&sx.mapv(|v| v.as_f64()));
        bar.inc((end - start) as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

fn time(args: TimeArgs) -> Result<(), AppError> {
    if args.output.extension().and_then(|e| e.to_str()) != Some("npy") {
        return Err(AppError::Usage(format!(
            "--output must end in .npy, got {}",
            args.output.display()
        )));
    }
    let signals = read_signals(&args.input)?;
    let n = signals.data.ncols();
    let mut params = Scattering1dParams::new(n, args.j)
        .q(parse_q(&args.q)?)
        .max_order(args.max_order)
        .average(match args.average {
            AverageArg::Local => Averaging::Local,
            AverageArg::Global => Averaging::Global,
            AverageArg::None => Averaging::None,
        })
        .padding(match args.padding {
            PaddingArg::Reflect => Padding::Reflect,
            PaddingArg::Periodic => Padding::Periodic,
        });
    if let Some(t) = args.t {
        params = params.t(t);
    }
    let (out, meta, t, padded, precision) = match args.precision {
        PrecisionArg::F64 => {
            let s = params.clone().build()?;
            let out = run_batches(&s, &signals.data)?;
            (out, s.meta().to_vec(), s.t(), s.padded_len(), "f64")
        }
        PrecisionArg::F32 => {
            let s = params.clone().build_f32()?;
            let out = run_batches(&s, &signals.data)?;
            (out, s.meta().to_vec(), s.t(), s.padded_len(), "f32")
        }
    };
    let stride = match args.average {
        AverageArg::Local => 1usize << (usize::BITS - 1 - t.leading_zeros()),
        AverageArg::Global => n,
        AverageArg::None => 1,
    };
    let (b, c, tt) = out.dim();
    let mut outputs = Outputs::new();
    outputs.npy(&args.output, &out)?;
    outputs.json(
        &meta_path(&args.output),
        &TimeMeta {
            transform: "time",
            input: args.input.display().to_string(),
            sample_rate: signals.sample_rate,
            shape: [b, c, tt],
            params: &params,
            t,
            stride,
            padded_length: padded,
            precision,
            channels: &meta,
        },
    )?;
    if let Some(png) = &args.png {
        let tmp = outputs.temp_path(png)?;
        let name = args
            .input
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let title = format!(
            "time scattering of {name}: J = {}, Q = {}, T = {t}",
            args.j, args.q
        );
        time_scattering_png(
            png,
            &tmp,
            out.index_axis(Axis(0), 0),
            &meta,
            TimeAxis {
                stride,
                sample_rate: signals.sample_rate,
            },
            &title,
        )?;
    }
    outputs.commit()?;
    eprintln!(
        "wrote {} ({b} x {c} x {tt}){}",
        args.output.display(),
        args.png
            .as_ref()
            .map_or_else(String::new, |p| format!(" and {}", p.display()))
    );
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.kind {
        Kind::Time(a) => time(a),
    };
    if let Err(e) = result {
        eprintln!("scatter: error: {e}");
        std::process::exit(1);
    }
}
