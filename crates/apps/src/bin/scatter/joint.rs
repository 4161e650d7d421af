//! `scatter joint`: joint time-frequency scattering of signals.

use super::{check_outputs, check_transform_memory, parse_q, PrecisionArg};
use ndarray::{Array2, ArrayD, Axis};
use scattering_apps::figures::{joint_scattering_png, JointFigure};
use scattering_apps::io::{meta_path, read_signals, Outputs};
use scattering_apps::AppError;
use scattering_transform::{
    Averaging, JointFormat, PathMetaJoint, Real, TimeFrequencyParams, TimeFrequencyScattering,
};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `scatter joint`.
#[derive(clap::Args)]
pub struct JointArgs {
    /// Input: .npy (1-D signal or 2-D batch of rows), .wav (channels become rows) or .csv.
    #[arg(long)]
    input: PathBuf,
    /// Output .npy, float64, in Kymatio's layout for the format: (batch, channel, time)
    /// or (batch, channel, log-frequency row, time); metadata beside it.
    #[arg(long)]
    output: PathBuf,
    /// Number of octaves in time: wavelets reach scales of 2^J samples.
    #[arg(short = 'J', long = "J", default_value_t = 6)]
    j: usize,
    /// Wavelets per octave: Q1 or Q1,Q2 (Q2 defaults to 1).
    #[arg(short = 'Q', long = "Q", default_value = "8")]
    q: String,
    /// Largest frequential scale, 2^J_fr first-order channels.
    #[arg(long = "j-fr", default_value_t = 3)]
    j_fr: usize,
    /// Frequential wavelets per octave.
    #[arg(long = "q-fr", default_value_t = 1)]
    q_fr: usize,
    /// Time averaging: a width in samples (default 2^J) or `global`.
    #[arg(short = 'T', long = "T")]
    t: Option<String>,
    /// Log-frequency averaging: a width in channels (default 2^J_fr), `global`, or 0 (none;
    /// time format only).
    #[arg(short = 'F', long = "F")]
    f: Option<String>,
    /// Time subsampling, a power of two (default: 2^floor(log2 T)).
    #[arg(long)]
    stride: Option<usize>,
    /// Log-frequency subsampling, a power of two (default: 2^floor(log2 F)).
    #[arg(long = "stride-fr")]
    stride_fr: Option<usize>,
    /// Output layout: `time` (channels of single rows, with the zeroth order) or `joint`
    /// (one channel per joint path, rows along log-frequency).
    #[arg(long, value_enum, default_value = "time")]
    format: FormatArg,
    /// Arithmetic of the transform (output is float64 either way).
    #[arg(long, value_enum, default_value = "f64")]
    precision: PrecisionArg,
    /// Also draw the first signal's scalogram and the spin-up and spin-down energy of each
    /// second-order path as a PNG.
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum FormatArg {
    Time,
    Joint,
}

#[derive(Serialize)]
struct JointMeta<'a> {
    transform: &'static str,
    input: String,
    sample_rate: Option<u32>,
    shape: Vec<usize>,
    params: &'a TimeFrequencyParams,
    padded_length: usize,
    n_fr: usize,
    precision: &'static str,
    channels: &'a [PathMetaJoint],
}

/// `Some(width)`, or the averaging mode a keyword names.
fn parse_width(
    flag: &str,
    v: &Option<String>,
    zero_ok: bool,
) -> Result<(Option<usize>, Averaging), AppError> {
    match v.as_deref().map(str::trim) {
        None => Ok((None, Averaging::Local)),
        Some("global") => Ok((None, Averaging::Global)),
        Some(s) => match s.parse::<usize>() {
            Ok(0) if zero_ok => Ok((None, Averaging::None)),
            Ok(w) if w > 0 => Ok((Some(w), Averaging::Local)),
            _ => Err(AppError::Usage(format!(
                "{flag} expects a positive width or `global`{}, got `{s}`",
                if zero_ok { " (or 0 for none)" } else { "" }
            ))),
        },
    }
}

/// The parameters the flags describe, for signals of length `n`.
fn params(args: &JointArgs, n: usize) -> Result<TimeFrequencyParams, AppError> {
    let (t, avg) = parse_width("-T", &args.t, false)?;
    let (f, avg_fr) = parse_width("-F", &args.f, true)?;
    let mut p = TimeFrequencyParams::new(n, args.j, args.j_fr)
        .q(parse_q(&args.q)?)
        .q_fr(args.q_fr)
        .average(avg)
        .average_fr(avg_fr)
        .format(match args.format {
            FormatArg::Time => JointFormat::Time,
            FormatArg::Joint => JointFormat::Joint,
        });
    if let Some(t) = t {
        p = p.t(t);
    }
    if let Some(f) = f {
        p = p.f(f);
    }
    if let Some(s) = args.stride {
        p = p.stride(s);
    }
    if let Some(s) = args.stride_fr {
        p = p.stride_fr(s);
    }
    Ok(p)
}

/// Refuses a job whose output and buffers would not fit in the memory budget.
fn check_memory<T: Real>(s: &TimeFrequencyScattering<T>, batch: usize) -> Result<(), AppError> {
    let per_sample: usize = s.output_shape().iter().product();
    check_transform_memory(
        "joint scattering",
        batch * per_sample,
        s.workspace_bytes(),
        "cut the signal into shorter pieces, lower J or Q, or use --precision f32",
    )
}

fn transform<T: Real>(
    s: &TimeFrequencyScattering<T>,
    data: &Array2<f64>,
) -> Result<ArrayD<f64>, AppError> {
    check_memory(s, data.nrows())?;
    Ok(s.forward(data.view())?.mapv(|v| v.as_f64()))
}

/// Runs `scatter joint`.
pub fn joint(args: JointArgs) -> Result<(), AppError> {
    check_outputs(&args.output, args.png.as_deref())?;
    let signals = read_signals(&args.input)?;
    let p = params(&args, signals.data.ncols())?;
    let (out, meta, padded, n_fr, fig, precision) = match args.precision {
        PrecisionArg::F64 => {
            let s = p.clone().build()?;
            let out = transform(&s, &signals.data)?;
            let fig = JointFigure::of(&s, out.index_axis(Axis(0), 0), signals.sample_rate);
            (out, s.meta().to_vec(), s.padding().0, s.n_fr(), fig, "f64")
        }
        PrecisionArg::F32 => {
            let s = p.clone().build_f32()?;
            let out = transform(&s, &signals.data)?;
            let fig = JointFigure::of(&s, out.index_axis(Axis(0), 0), signals.sample_rate);
            (out, s.meta().to_vec(), s.padding().0, s.n_fr(), fig, "f32")
        }
    };
    let mut outputs = Outputs::new();
    outputs.npy(&args.output, &out)?;
    outputs.json(
        &meta_path(&args.output),
        &JointMeta {
            transform: "joint",
            input: args.input.display().to_string(),
            sample_rate: signals.sample_rate,
            shape: out.shape().to_vec(),
            params: &p,
            padded_length: padded,
            n_fr,
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
            "joint time-frequency scattering of {name}: J = {}, Q = {}, J_fr = {}, Q_fr = {}",
            args.j, args.q, args.j_fr, args.q_fr
        );
        joint_scattering_png(png, &tmp, &fig, &title)?;
    }
    outputs.commit()?;
    eprintln!(
        "wrote {} {:?}{}",
        args.output.display(),
        out.shape(),
        args.png
            .as_ref()
            .map_or_else(String::new, |p| format!(" and {}", p.display()))
    );
    Ok(())
}
