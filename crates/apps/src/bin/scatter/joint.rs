//! `scatter joint`: joint time-frequency scattering of signals.

use super::{check_outputs, parse_q, PrecisionArg};
use ndarray::{Array2, ArrayD, Axis};
use scattering_apps::figures::{joint_scattering_png, JointFigure, TimeAxis};
use scattering_apps::io::{gb, memory_budget_bytes, meta_path, read_signals, Outputs};
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
    let threads = rayon::current_num_threads() as u64;
    let need =
        (batch * per_sample * 16) as u64 + threads * s.workspace_bytes() as u64 + (100 << 20);
    let budget = memory_budget_bytes();
    if need > budget {
        return Err(AppError::Usage(format!(
            "joint scattering of this input needs about {} and {} may be used \
             (SCATTERING_MEMORY_LIMIT_GB sets it): cut the signal into shorter pieces, lower J \
             or Q, or use --precision f32",
            gb(need),
            gb(budget)
        )));
    }
    Ok(())
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
            let fig = figure(&s, &out, signals.sample_rate);
            (out, s.meta().to_vec(), s.padding().0, s.n_fr(), fig, "f64")
        }
        PrecisionArg::F32 => {
            let s = p.clone().build_f32()?;
            let out = transform(&s, &signals.data)?;
            let fig = figure(&s, &out, signals.sample_rate);
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

/// The rows of channel `c` of one sample's coefficients: `(rows, time)` in the joint
/// format, one row in the time format.
fn rows_of(sx: &ArrayD<f64>, c: usize) -> Array2<f64> {
    let v = sx.index_axis(Axis(0), c);
    match v.ndim() {
        2 => v
            .into_dimensionality::<ndarray::Ix2>()
            .map_or_else(|_| Array2::zeros((0, 0)), |a| a.to_owned()),
        _ => {
            let r = v.iter().copied().collect::<Vec<f64>>();
            Array2::from_shape_vec((1, r.len()), r).unwrap_or_else(|_| Array2::zeros((0, 0)))
        }
    }
}

/// The figure's data for the first signal of `out`.
fn figure<T: Real>(
    s: &TimeFrequencyScattering<T>,
    out: &ArrayD<f64>,
    sr: Option<u32>,
) -> JointFigure {
    let sx = out.index_axis(Axis(0), 0).to_owned();
    let meta = s.meta();
    let bank = s.bank();
    let fr = &s.frequential_bank().filters;
    let n_w = (fr.len() - 1) / 2;
    let q1 = s.params().q.0 as f64;
    // Scalogram: the first-order spin-0 path, rows that cover wavelets (not padding).
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut row_xi = Vec::new();
    for (c, m) in meta.iter().enumerate() {
        if m.order != 1 || m.n_fr != Some(0) {
            continue;
        }
        let r = rows_of(&sx, c);
        let spacing = if r.nrows() > 1 {
            s.n_fr() / r.nrows()
        } else {
            0
        };
        for (i, row) in r.axis_iter(Axis(0)).enumerate() {
            let n1 = m.n1_sampled.unwrap_or(i * spacing);
            if let Some(p) = bank.psi1.get(n1) {
                rows.push(row.to_vec());
                row_xi.push(p.xi);
            }
        }
    }
    let t_len = rows.first().map_or(0, Vec::len);
    let scalogram = Array2::from_shape_fn((rows.len(), t_len), |(r, t)| rows[r][t]);
    // Second-order energy by (n2, frequential wavelet) and spin.
    let n2s: Vec<usize> = {
        let mut v: Vec<usize> = meta.iter().filter_map(|m| m.n2).collect();
        v.dedup();
        v
    };
    let mut up = Array2::zeros((n2s.len(), n_w));
    let mut down = Array2::zeros((n2s.len(), n_w));
    for (c, m) in meta.iter().enumerate() {
        let (Some(n2), Some(n_fr)) = (m.n2, m.n_fr) else {
            continue;
        };
        let Some(r) = n2s.iter().position(|&v| v == n2) else {
            continue;
        };
        let e: f64 = sx.index_axis(Axis(0), c).iter().map(|v| v * v).sum();
        match m.spin {
            1 => up[[r, n_fr - 1]] += e,
            -1 => down[[r, n_fr - 1 - n_w]] += e,
            _ => {}
        }
    }
    let stride = s.params().stride.unwrap_or(
        1usize << (usize::BITS - 1 - s.params().t.unwrap_or(1 << s.params().j).leading_zeros()),
    );
    JointFigure {
        scalogram,
        row_xi,
        axis: TimeAxis {
            stride,
            sample_rate: sr,
        },
        up,
        down,
        xi2: n2s.iter().map(|&n2| bank.psi2[n2].xi).collect(),
        xi_fr: fr[1..=n_w].iter().map(|f| f.xi * q1).collect(),
    }
}
