//! `scatter`: scattering coefficients of signals on the command line.
//!
//! ```text
//! scatter time --input clip.wav --output out/clip.npy -J 8 -Q 8 --png out/clip.png
//! scatter joint --input clip.wav --output out/joint.npy -J 8 -Q 8,2 --j-fr 3 --png out/joint.png
//! ```
//! writes `out/clip.npy` (batch, channel, time; float64, Kymatio's channel order),
//! `out/clip.meta.json` (parameters and one label per channel) and the figure.

mod joint;
mod spiral;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array3, Axis};
use scattering_apps::figures::{
    image_scattering_png, rigid_scattering_png, time_scattering_png, TimeAxis,
};
use scattering_apps::io::{
    gb, memory_budget_bytes, meta_path, prepare_destination, read_images, read_signals,
    read_volumes, Outputs,
};
use scattering_apps::stream::{NpyTimeWriter, SignalStream};
use scattering_apps::AppError;
use scattering_transform::{
    AngularAveraging, Averaging, BlockedScattering1d, Padding, Real, RigidMotionParams,
    Scattering1d, Scattering1dParams, Scattering2dParams, SolidHarmonicScattering3dParams,
};
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
    /// 2D scattering of images (.png, .jpg, or .npy of shape (M, N) or (batch, M, N)).
    Image(ImageArgs),
    /// Rigid-motion (roto-translation) scattering of images, invariant to rotations
    /// (.png, .jpg, or .npy of shape (M, N) or (batch, M, N)).
    Rigid(RigidArgs),
    /// 3D solid harmonic scattering of volumes (.npy of shape (Z, Y, X) or (batch, Z, Y, X)).
    Solid(SolidArgs),
    /// Joint time-frequency scattering of signals (.npy, .wav or .csv), Kymatio's
    /// TimeFrequencyScattering: spin +1 paths follow rising frequencies, spin -1 falling.
    Joint(joint::JointArgs),
    /// Spiral scattering of signals (.npy, .wav or .csv): the scalogram rolled on the pitch
    /// spiral (chroma within the octave, octave) and scattered along time, chroma and octave.
    Spiral(spiral::SpiralArgs),
}

#[derive(clap::Args)]
struct ImageArgs {
    /// Input image(s).
    #[arg(long)]
    input: PathBuf,
    /// Output .npy of shape (batch, channel, M / 2^J, N / 2^J), float64; metadata beside it.
    #[arg(long)]
    output: PathBuf,
    /// Number of scales.
    #[arg(short = 'J', long = "J", default_value_t = 3)]
    j: usize,
    /// Number of orientations.
    #[arg(short = 'L', long = "L", default_value_t = 8)]
    l: usize,
    /// Highest scattering order (0, 1 or 2).
    #[arg(long, default_value_t = 2)]
    max_order: usize,
    /// Boundary handling (periodic needs sides divisible by 2^J).
    #[arg(long, value_enum, default_value = "reflect")]
    padding: PaddingArg,
    /// Averaging: local (low-pass at 2^J, Kymatio) or global (mean over the image).
    #[arg(long, value_enum, default_value = "local")]
    average: ImageAverageArg,
    /// Arithmetic of the transform (output is float64 either way).
    #[arg(long, value_enum, default_value = "f64")]
    precision: PrecisionArg,
    /// Also draw the first image beside its order-1 and order-2 mosaics as a PNG.
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RigidArgs {
    /// Input image(s).
    #[arg(long)]
    input: PathBuf,
    /// Output .npy of shape (batch, channel, M / 2^J, N / 2^J), float64; metadata beside it.
    #[arg(long)]
    output: PathBuf,
    /// Number of spatial scales.
    #[arg(short = 'J', long = "J", default_value_t = 3)]
    j: usize,
    /// Number of angles over [0, 2 pi) (even; divisible by 4 for 90-degree invariance).
    #[arg(short = 'L', long = "L", default_value_t = 8)]
    l: usize,
    /// Number of angular wavelet scales (at most log2(L) - 1).
    #[arg(short = 'K', long = "K", default_value_t = 2)]
    k: usize,
    /// Highest scattering order (0, 1 or 2).
    #[arg(long, default_value_t = 2)]
    max_order: usize,
    /// Boundary handling (periodic needs sides divisible by 2^J).
    #[arg(long, value_enum, default_value = "reflect")]
    padding: PaddingArg,
    /// Spatial averaging: local (low-pass at 2^J) or global (mean over the image).
    #[arg(long, value_enum, default_value = "local")]
    average: ImageAverageArg,
    /// Angular averaging: global (rotation invariant) or window (keeps the L angles).
    #[arg(long, value_enum, default_value = "global")]
    angular: AngularArg,
    /// Average every path over the first scale (Sifre and Mallat's scale-invariant variant).
    #[arg(long)]
    scale_invariant: bool,
    /// Arithmetic of the transform (output is float64 either way).
    #[arg(long, value_enum, default_value = "f64")]
    precision: PrecisionArg,
    /// Also draw the first image beside its order-1 maps and order-2 means as a PNG.
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AngularArg {
    Global,
    Window,
}

#[derive(clap::Args)]
struct SolidArgs {
    /// Input volume(s), .npy.
    #[arg(long)]
    input: PathBuf,
    /// Output .npy of shape (batch, paths, L + 1, powers), float64 (Kymatio's layout).
    #[arg(long)]
    output: PathBuf,
    /// Largest scale index (widths sigma0 2^j, j = 0..=J).
    #[arg(short = 'J', long = "J", default_value_t = 2)]
    j: usize,
    /// Largest harmonic order.
    #[arg(short = 'L', long = "L", default_value_t = 2)]
    l: usize,
    /// Exponents q of the integrals sum U^q, comma-separated (positive).
    // A leading minus is taken as the value, so a negative exponent gets the message that
    // names it rather than clap's "unexpected argument '-0'".
    #[arg(long, default_value = "0.5,1,2", allow_hyphen_values = true)]
    powers: String,
    /// Width of the finest wavelet in voxels.
    #[arg(long, default_value_t = 1.0)]
    sigma0: f64,
    /// Highest scattering order (1 or 2).
    #[arg(long, default_value_t = 2)]
    max_order: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum AverageArg {
    Local,
    Global,
    None,
}

/// 2D scattering always averages (its unaveraged moduli would be a ragged list).
#[derive(Clone, Copy, ValueEnum)]
enum ImageAverageArg {
    Local,
    Global,
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
    /// Averaging scale in samples (default 2^J); only with local averaging.
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
    /// Transform in overlapping blocks of this many samples (memory bounded by the block,
    /// output equal to the whole-signal transform). Signals longer than 2^20 samples are
    /// always transformed in blocks (of 2^16 samples, or longer when the filters need it).
    #[arg(long)]
    block: Option<usize>,
}

/// Signals longer than this are transformed in blocks.
const LONG_SIGNAL: usize = 1 << 20;

#[derive(Serialize)]
struct BlockInfo {
    /// Window length in samples.
    block_len: usize,
    /// Samples read on each side of a block's outputs.
    margin: usize,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    blocks: Option<BlockInfo>,
    channels: &'a [scattering_transform::PathMeta1d],
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
    check_outputs(&args.output, args.png.as_deref())?;
    let stream = SignalStream::open(&args.input)?;
    let n = stream.len;
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
        if !matches!(args.average, AverageArg::Local) {
            return Err(AppError::Usage(
                "-T sets the scale of local averaging; drop it or use --average local".into(),
            ));
        }
        params = params.t(t);
    }
    if args.block.is_some() || n > LONG_SIGNAL {
        return time_blocked(&args, stream, params);
    }
    drop(stream);
    let signals = read_signals(&args.input)?;
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
            blocks: None,
            channels: &meta,
        },
    )?;
    if let Some(png) = &args.png {
        let axis = TimeAxis {
            stride,
            sample_rate: signals.sample_rate,
        };
        draw_time(
            &args,
            png,
            &mut outputs,
            out.index_axis(Axis(0), 0),
            &meta,
            axis,
            t,
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

/// `scatter time` on long signals: read, transformed and written block by block
/// (`BlockedScattering1d`), so memory stays bounded whatever the length; the figure shows
/// the first signal's coefficients decimated to at most 4096 frames.
fn time_blocked(
    args: &TimeArgs,
    mut stream: SignalStream,
    params: Scattering1dParams,
) -> Result<(), AppError> {
    if params.average == Averaging::Global {
        return Err(AppError::Usage(format!(
            "signals longer than {LONG_SIGNAL} samples are transformed in blocks, which compute \
             local averaging or none; use --average local with a large -T and average the output"
        )));
    }
    // By default 2^16 samples, or longer when the filters' margins need it.
    let need = BlockedScattering1d::<f64>::min_block(&params)?;
    let len = args
        .block
        .unwrap_or_else(|| (1usize << 16).max((4 * need).next_power_of_two()));
    match args.precision {
        PrecisionArg::F64 => {
            let s = BlockedScattering1d::<f64>::new(params.clone(), len)?;
            write_blocked(args, &mut stream, &s, "f64")
        }
        PrecisionArg::F32 => {
            let s = BlockedScattering1d::<f32>::new(params.clone(), len)?;
            write_blocked(args, &mut stream, &s, "f32")
        }
    }
}

fn write_blocked<T: Real>(
    args: &TimeArgs,
    stream: &mut SignalStream,
    s: &BlockedScattering1d<T>,
    precision: &'static str,
) -> Result<(), AppError> {
    let (c, t_out) = s.output_shape();
    let b = stream.rows;
    let mut outputs = Outputs::new();
    let tmp = outputs.temp_path(&args.output)?;
    let mut writer = NpyTimeWriter::create(&tmp, [b, c, t_out])?;
    let dec = t_out.div_ceil(4096);
    let mut preview = ndarray::Array2::<f64>::zeros((c, t_out.div_ceil(dec)));
    let bar = ProgressBar::new(t_out as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent}% of the signal ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut buf = ndarray::Array2::<f64>::zeros((b, 0));
    s.forward_with::<AppError>(
        b,
        |start, mut win| {
            if buf.ncols() != win.ncols() {
                buf = ndarray::Array2::zeros((b, win.ncols()));
            }
            stream.read(start, buf.view_mut())?;
            win.zip_mut_with(&buf, |w, v| *w = T::of(*v));
            Ok(())
        },
        |t0, coeffs| {
            let coeffs = coeffs.mapv(|v| v.as_f64());
            writer.write(t0, coeffs.view())?;
            for k in (t0.div_ceil(dec) * dec..t0 + coeffs.dim().2).step_by(dec) {
                preview
                    .column_mut(k / dec)
                    .assign(&coeffs.slice(s![0, .., k - t0]));
            }
            bar.inc(coeffs.dim().2 as u64);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    writer.finish()?;
    let p = s.params();
    let t = p.t.unwrap_or(1 << p.j);
    let stride = match p.average {
        Averaging::None => 1,
        _ => 1usize << (usize::BITS - 1 - t.leading_zeros()),
    };
    outputs.json(
        &meta_path(&args.output),
        &TimeMeta {
            transform: "time",
            input: args.input.display().to_string(),
            sample_rate: stream.sample_rate,
            shape: [b, c, t_out],
            params: p,
            t,
            stride,
            padded_length: p.padded_length()?,
            precision,
            blocks: Some(BlockInfo {
                block_len: s.block_len(),
                margin: s.margin(),
            }),
            channels: s.meta(),
        },
    )?;
    if let Some(png) = &args.png {
        let axis = TimeAxis {
            stride: stride * dec,
            sample_rate: stream.sample_rate,
        };
        draw_time(args, png, &mut outputs, preview.view(), s.meta(), axis, t)?;
    }
    outputs.commit()?;
    eprintln!(
        "wrote {} ({b} x {c} x {t_out}, in blocks of {} samples)",
        args.output.display(),
        s.block_len()
    );
    Ok(())
}

/// Refuses, before the filters are built, an image whose transform would not fit in the
/// memory budget, naming what it would need. The working memory of one image, measured
/// (release build, 2 threads, J = 3 and 5, L = 4 and 8, 512^2 to 2048^2): about
/// (450 + 25 L) bytes per padded pixel in f64 and 60% of that in f32, plus 200 MB; images
/// of a batch go through one at a time at these sizes.
fn check_image_memory(
    params: &Scattering2dParams,
    precision: PrecisionArg,
) -> Result<(), AppError> {
    let (mp, np) = params.padded_shape()?;
    let per_pixel = 450.0 + 25.0 * params.l as f64;
    let factor = match precision {
        PrecisionArg::F64 => 1.0,
        PrecisionArg::F32 => 0.6,
    };
    let need = (200u64 << 20) + (mp as f64 * np as f64 * per_pixel * factor) as u64;
    let budget = memory_budget_bytes();
    if need > budget {
        let (m, n) = params.shape;
        return Err(AppError::Usage(format!(
            "a {m} x {n} image (padded to {mp} x {np}) needs about {} for J = {}, L = {} in {}; \
             {} may be used (SCATTERING_MEMORY_LIMIT_GB sets it): crop the image into tiles, \
             use --precision f32 or a smaller L",
            gb(need),
            params.j,
            params.l,
            if factor == 1.0 { "f64" } else { "f32" },
            gb(budget)
        )));
    }
    Ok(())
}

/// The figure of `scatter time`: the coefficients `sx` (channel, time) of the first signal.
fn draw_time(
    args: &TimeArgs,
    png: &std::path::Path,
    outputs: &mut Outputs,
    sx: ndarray::ArrayView2<f64>,
    meta: &[scattering_transform::PathMeta1d],
    axis: TimeAxis,
    t: usize,
) -> Result<(), AppError> {
    let tmp = outputs.temp_path(png)?;
    let name = args
        .input
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let title = format!(
        "time scattering of {name}: J = {}, Q = {}, T = {t}",
        args.j, args.q
    );
    time_scattering_png(png, &tmp, sx, meta, axis, &title)
}

/// Refuses a transform whose output (`values` float64s, kept twice while converted) and
/// per-thread buffers (`workspace` bytes) would not fit in the memory budget.
fn check_transform_memory(
    what: &str,
    values: usize,
    workspace: usize,
    advice: &str,
) -> Result<(), AppError> {
    let threads = rayon::current_num_threads() as u64;
    let need = 16 * values as u64 + threads * workspace as u64 + (100 << 20);
    let budget = memory_budget_bytes();
    if need > budget {
        return Err(AppError::Usage(format!(
            "{what} of this input needs about {} and {} may be used \
             (SCATTERING_MEMORY_LIMIT_GB sets it): {advice}",
            gb(need),
            gb(budget)
        )));
    }
    Ok(())
}

/// The output must be a `.npy`, and it and the figure must be writable: checked before the
/// computation, not after it.
fn check_outputs(output: &std::path::Path, png: Option<&std::path::Path>) -> Result<(), AppError> {
    if output.extension().and_then(|e| e.to_str()) != Some("npy") {
        return Err(AppError::Usage(format!(
            "--output must end in .npy, got {}",
            output.display()
        )));
    }
    prepare_destination(output)?;
    prepare_destination(&meta_path(output))?;
    if let Some(png) = png {
        prepare_destination(png)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct ImageMeta<'a> {
    transform: &'static str,
    input: String,
    shape: [usize; 4],
    params: &'a Scattering2dParams,
    padded_shape: (usize, usize),
    precision: &'static str,
    channels: &'a [scattering_transform::PathMeta2d],
}

/// Transforms one chunk of images.
type ChunkFn<'a> = dyn Fn(ndarray::ArrayView3<f64>) -> Result<ndarray::Array4<f64>, AppError> + 'a;

/// Runs `f` on the images `x` in chunks of about 4 M pixels, with a progress bar, and
/// joins the outputs.
fn in_chunks(x: &Array3<f64>, f: &ChunkFn) -> Result<ndarray::Array4<f64>, AppError> {
    let (count, m, n) = x.dim();
    let chunk = ((1usize << 22) / (m * n)).clamp(1, 1024);
    let bar = progress(count, chunk);
    let mut parts = Vec::new();
    for start in (0..count).step_by(chunk) {
        let end = (start + chunk).min(count);
        parts.push(f(x.slice(s![start..end, .., ..]))?);
        bar.inc((end - start) as u64);
    }
    bar.finish_and_clear();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    ndarray::concatenate(Axis(0), &views).map_err(|e| AppError::Usage(e.to_string()))
}

fn image(args: ImageArgs) -> Result<(), AppError> {
    check_outputs(&args.output, args.png.as_deref())?;
    let x = read_images(&args.input)?;
    let (_, m, n) = x.dim();
    let params = Scattering2dParams::new((m, n), args.j)
        .l(args.l)
        .max_order(args.max_order)
        .average(match args.average {
            ImageAverageArg::Local => Averaging::Local,
            ImageAverageArg::Global => Averaging::Global,
        })
        .padding(match args.padding {
            PaddingArg::Reflect => Padding::Reflect,
            PaddingArg::Periodic => Padding::Periodic,
        });
    check_image_memory(&params, args.precision)?;
    let (out, meta, padded, precision) = match args.precision {
        PrecisionArg::F64 => {
            let s = params.clone().build()?;
            let out = in_chunks(&x, &|v| Ok(s.forward(v)?))?;
            (out, s.meta().to_vec(), s.padded_shape(), "f64")
        }
        PrecisionArg::F32 => {
            let s = params.clone().build_f32()?;
            let out = in_chunks(&x, &|v| Ok(s.forward(v)?.mapv(f64::from)))?;
            (out, s.meta().to_vec(), s.padded_shape(), "f32")
        }
    };
    let (b, c, h, w) = out.dim();
    let mut outputs = Outputs::new();
    outputs.npy(&args.output, &out)?;
    outputs.json(
        &meta_path(&args.output),
        &ImageMeta {
            transform: "image",
            input: args.input.display().to_string(),
            shape: [b, c, h, w],
            params: &params,
            padded_shape: padded,
            precision,
            channels: &meta,
        },
    )?;
    if let Some(png) = &args.png {
        let tmp = outputs.temp_path(png)?;
        let title = format!("image scattering: J = {}, L = {}", args.j, args.l);
        image_scattering_png(
            png,
            &tmp,
            x.index_axis(Axis(0), 0),
            out.index_axis(Axis(0), 0),
            &meta,
            args.j,
            args.l,
            &title,
        )?;
    }
    outputs.commit()?;
    eprintln!("wrote {} ({b} x {c} x {h} x {w})", args.output.display());
    Ok(())
}

#[derive(Serialize)]
struct RigidMeta<'a> {
    transform: &'static str,
    input: String,
    shape: [usize; 4],
    params: &'a RigidMotionParams,
    padded_shape: (usize, usize),
    precision: &'static str,
    channels: &'a [scattering_transform::PathMetaRigid],
}

fn rigid(args: RigidArgs) -> Result<(), AppError> {
    if args.png.is_some() && args.angular == AngularArg::Window {
        return Err(AppError::Usage(
            "--png draws the rotation invariants: use it with --angular global".into(),
        ));
    }
    check_outputs(&args.output, args.png.as_deref())?;
    let x = read_images(&args.input)?;
    let (_, m, n) = x.dim();
    let params = RigidMotionParams::new((m, n), args.j)
        .l(args.l)
        .k(args.k)
        .max_order(args.max_order)
        .average(match args.average {
            ImageAverageArg::Local => Averaging::Local,
            ImageAverageArg::Global => Averaging::Global,
        })
        .padding(match args.padding {
            PaddingArg::Reflect => Padding::Reflect,
            PaddingArg::Periodic => Padding::Periodic,
        })
        .angular(match args.angular {
            AngularArg::Global => AngularAveraging::Global,
            AngularArg::Window => AngularAveraging::Window,
        })
        .scale_invariant(args.scale_invariant);
    check_rigid_memory(&params, args.precision)?;
    let (out, meta, padded, precision) = match args.precision {
        PrecisionArg::F64 => {
            let s = params.clone().build()?;
            let out = in_chunks(&x, &|v| Ok(s.forward(v)?))?;
            (out, s.meta().to_vec(), s.padded_shape(), "f64")
        }
        PrecisionArg::F32 => {
            let s = params.clone().build_f32()?;
            let out = in_chunks(&x, &|v| Ok(s.forward(v)?.mapv(f64::from)))?;
            (out, s.meta().to_vec(), s.padded_shape(), "f32")
        }
    };
    let (b, c, h, w) = out.dim();
    let mut outputs = Outputs::new();
    outputs.npy(&args.output, &out)?;
    outputs.json(
        &meta_path(&args.output),
        &RigidMeta {
            transform: "rigid",
            input: args.input.display().to_string(),
            shape: [b, c, h, w],
            params: &params,
            padded_shape: padded,
            precision,
            channels: &meta,
        },
    )?;
    if let Some(png) = &args.png {
        let tmp = outputs.temp_path(png)?;
        let title = format!(
            "rigid-motion scattering: J = {}, L = {}, K = {}",
            args.j, args.l, args.k
        );
        rigid_scattering_png(
            png,
            &tmp,
            x.index_axis(Axis(0), 0),
            out.index_axis(Axis(0), 0),
            &meta,
            &title,
        )?;
    }
    outputs.commit()?;
    eprintln!("wrote {} ({b} x {c} x {h} x {w})", args.output.display());
    Ok(())
}

/// Refuses an image whose rigid-motion transform would not fit in the memory budget. Per
/// padded pixel and thread, the workspace holds `L / 2` first-layer paths at every level
/// (complex field, modulus, spectrum: about 27 L bytes in f64 over the levels) and `2 L`
/// complex maps at level 1 (8 L bytes), with its FFT buffers (about 100 bytes).
fn check_rigid_memory(params: &RigidMotionParams, precision: PrecisionArg) -> Result<(), AppError> {
    let (m, n) = params.shape;
    let side = |s: usize| ((s + (1 << params.j)) / (1 << params.j) + 1) * (1 << params.j);
    let (mp, np) = (side(m), side(n));
    let factor = match precision {
        PrecisionArg::F64 => 1.0,
        PrecisionArg::F32 => 0.5,
    };
    let threads = rayon::current_num_threads() as f64;
    let per_pixel = (100.0 + 35.0 * params.l as f64) * threads * factor;
    let need = (200u64 << 20) + (mp as f64 * np as f64 * per_pixel) as u64;
    let budget = memory_budget_bytes();
    if need > budget {
        return Err(AppError::Usage(format!(
            "a {m} x {n} image needs about {} for the rigid-motion transform with L = {}; {} may \
             be used (SCATTERING_MEMORY_LIMIT_GB sets it): crop it into tiles, use \
             --precision f32 or a smaller L",
            gb(need),
            params.l,
            gb(budget)
        )));
    }
    Ok(())
}

#[derive(Serialize)]
struct SolidMeta<'a> {
    transform: &'static str,
    input: String,
    shape: [usize; 4],
    /// Axis 1 of the output; axis 2 is l = 0..=L, axis 3 the powers.
    paths: &'a [scattering_transform::PathMeta3d],
    params: &'a SolidHarmonicScattering3dParams,
    /// Order-0 invariants sum |x|^q, one row per volume.
    order0: Vec<Vec<f64>>,
}

fn solid(args: SolidArgs) -> Result<(), AppError> {
    check_outputs(&args.output, None)?;
    let powers: Vec<f64> = args
        .powers
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            AppError::Usage(format!(
                "--powers expects numbers like 0.5,1,2, got `{}`",
                args.powers
            ))
        })?;
    let x = read_volumes(&args.input)?;
    let (bn, zz, yy, xx) = x.dim();
    let params = SolidHarmonicScattering3dParams::new((zz, yy, xx), args.j, args.l)
        .sigma0(args.sigma0)
        .max_order(args.max_order)
        .integral_powers(powers);
    let s = params.clone().build()?;
    let bar = progress(bn, 1);
    let mut parts = Vec::new();
    for b in 0..bn {
        parts.push(s.forward(x.slice(s![b..b + 1, .., .., ..]))?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let out = ndarray::concatenate(Axis(0), &views).map_err(|e| AppError::Usage(e.to_string()))?;
    let order0 = s.order0(x.view())?;
    let (b, p, l, q) = out.dim();
    let mut outputs = Outputs::new();
    outputs.npy(&args.output, &out)?;
    outputs.json(
        &meta_path(&args.output),
        &SolidMeta {
            transform: "solid",
            input: args.input.display().to_string(),
            shape: [b, p, l, q],
            paths: s.meta(),
            params: &params,
            order0: order0.outer_iter().map(|r| r.to_vec()).collect(),
        },
    )?;
    outputs.commit()?;
    eprintln!("wrote {} ({b} x {p} x {l} x {q})", args.output.display());
    Ok(())
}

/// A progress bar over `total` items, shown only when there is more than one chunk.
fn progress(total: usize, chunk: usize) -> ProgressBar {
    if total <= chunk {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(total as u64);
    b.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.kind {
        Kind::Time(a) => time(a),
        Kind::Image(a) => image(a),
        Kind::Rigid(a) => rigid(a),
        Kind::Solid(a) => solid(a),
        Kind::Joint(a) => joint::joint(a),
        Kind::Spiral(a) => spiral::spiral(a),
    };
    if let Err(e) = result {
        eprintln!("scatter: error: {e}");
        std::process::exit(1);
    }
}
