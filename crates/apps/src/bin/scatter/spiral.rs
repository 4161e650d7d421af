//! `scatter spiral`: spiral scattering of signals.

use super::{check_outputs, check_transform_memory, parse_q, PrecisionArg};
use ndarray::{Array2, Array3, Axis};
use scattering_apps::figures::{spiral_scattering_png, SpiralFigure};
use scattering_apps::io::{meta_path, read_signals, Outputs};
use scattering_apps::AppError;
use scattering_transform::{Averaging, PathMetaSpiral, Real, SpiralParams, SpiralScattering};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `scatter spiral`.
#[derive(clap::Args)]
pub struct SpiralArgs {
    /// Input: .npy (1-D signal or 2-D batch of rows), .wav (channels become rows) or .csv.
    #[arg(long)]
    input: PathBuf,
    /// Output .npy of shape (batch, channel, time), float64; metadata beside it.
    #[arg(long)]
    output: PathBuf,
    /// Number of octaves in time: wavelets reach scales of 2^J samples.
    #[arg(short = 'J', long = "J", default_value_t = 8)]
    j: usize,
    /// Wavelets per octave: Q1 or Q1,Q2. Q1 is the number of chroma bins of the spiral.
    #[arg(short = 'Q', long = "Q", default_value = "12")]
    q: String,
    /// Scales of the chroma wavelets (2^J_chroma <= Q1).
    #[arg(long = "j-chroma", default_value_t = 2)]
    j_chroma: usize,
    /// Scales of the octave wavelets.
    #[arg(long = "j-octave", default_value_t = 2)]
    j_octave: usize,
    /// Time averaging: a width in samples (default 2^J) or `global`.
    #[arg(short = 'T', long = "T")]
    t: Option<String>,
    /// Arithmetic of the transform (output is float64 either way).
    #[arg(long, value_enum, default_value = "f64")]
    precision: PrecisionArg,
    /// Also draw the first signal's spiral energies (order 1 by chroma and octave filter,
    /// order 2 by temporal modulation and chroma filter) as a PNG.
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(Serialize)]
struct SpiralMeta<'a> {
    transform: &'static str,
    input: String,
    sample_rate: Option<u32>,
    shape: [usize; 3],
    params: &'a SpiralParams,
    /// Octaves on the spiral and first-order channels rolled on it.
    spiral: (usize, usize),
    precision: &'static str,
    channels: &'a [PathMetaSpiral],
}

fn params(args: &SpiralArgs, n: usize) -> Result<SpiralParams, AppError> {
    let mut p = SpiralParams::new(n, args.j)
        .q(parse_q(&args.q)?)
        .j_chroma(args.j_chroma)
        .j_octave(args.j_octave);
    match args.t.as_deref().map(str::trim) {
        None => {}
        Some("global") => p = p.average(Averaging::Global),
        Some(s) => match s.parse::<usize>() {
            Ok(t) if t > 0 => p = p.t(t),
            _ => {
                return Err(AppError::Usage(format!(
                    "-T expects a positive width or `global`, got `{s}`"
                )))
            }
        },
    }
    Ok(p)
}

fn transform<T: Real>(
    s: &SpiralScattering<T>,
    data: &Array2<f64>,
) -> Result<Array3<f64>, AppError> {
    check_transform_memory(
        "spiral scattering",
        data.nrows() * s.meta().len() * s.output_shape()[1],
        s.workspace_bytes(),
        "cut the signal into shorter pieces or lower J",
    )?;
    Ok(s.forward(data.view())?.mapv(|v| v.as_f64()))
}

/// Runs `scatter spiral`.
pub fn spiral(args: SpiralArgs) -> Result<(), AppError> {
    check_outputs(&args.output, args.png.as_deref())?;
    let signals = read_signals(&args.input)?;
    let p = params(&args, signals.data.ncols())?;
    let (out, meta, size, fig, precision) = match args.precision {
        PrecisionArg::F64 => {
            let s = p.clone().build()?;
            let out = transform(&s, &signals.data)?;
            let fig = SpiralFigure::of(&s, out.index_axis(Axis(0), 0), signals.sample_rate);
            (out, s.meta().to_vec(), s.spiral_size(), fig, "f64")
        }
        PrecisionArg::F32 => {
            let s = p.clone().build_f32()?;
            let out = transform(&s, &signals.data)?;
            let fig = SpiralFigure::of(&s, out.index_axis(Axis(0), 0), signals.sample_rate);
            (out, s.meta().to_vec(), s.spiral_size(), fig, "f32")
        }
    };
    let (b, c, t) = out.dim();
    let mut outputs = Outputs::new();
    outputs.npy(&args.output, &out)?;
    outputs.json(
        &meta_path(&args.output),
        &SpiralMeta {
            transform: "spiral",
            input: args.input.display().to_string(),
            sample_rate: signals.sample_rate,
            shape: [b, c, t],
            params: &p,
            spiral: size,
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
            "spiral scattering of {name}: J = {}, Q = {}, J_chroma = {}, J_octave = {}",
            args.j, args.q, args.j_chroma, args.j_octave
        );
        spiral_scattering_png(png, &tmp, &fig, &title)?;
    }
    outputs.commit()?;
    eprintln!("wrote {} ({b} x {c} x {t})", args.output.display());
    Ok(())
}
