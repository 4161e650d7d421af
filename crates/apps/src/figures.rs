//! PNG figures: time-scattering coefficients as labelled heat maps.

use crate::error::AppError;
use ndarray::{Array2, ArrayView2};
use ndarray::{ArrayD, Axis};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use scattering_transform::{PathMeta1d, Real, SpiralScattering, TimeFrequencyScattering};
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();

/// Registers the embedded DejaVu Sans (so figures need no system fonts).
pub fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        // Only fails on a corrupt font, which the tests would catch.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

fn fig_err(path: &Path, e: impl std::fmt::Display) -> AppError {
    AppError::Figure {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A plotting error as a reason a user can act on: plotters prints its backend errors
/// with `Debug` (`Drawing backend error: ImageError(IoError(...))`), so the cause is taken
/// out of the wrapping.
pub(crate) fn drawing_error(
    path: &Path,
    e: DrawingAreaErrorKind<plotters_bitmap::BitMapBackendError>,
) -> AppError {
    use plotters_backend::DrawingErrorKind;
    use plotters_bitmap::BitMapBackendError as B;
    let reason = match e {
        DrawingAreaErrorKind::BackendError(DrawingErrorKind::DrawingError(b)) => match b {
            B::IOError(io) => format!("cannot write the image: {io}"),
            // From plotters' own `image` version; PNG encoding of a drawn buffer only
            // fails on writing, and this error's text is then the system's.
            B::ImageError(im) => format!("cannot write the image: {im}"),
            #[allow(unreachable_patterns)] // GIF encoding, when plotters has the feature
            other => format!("the drawing failed: {other}"),
        },
        DrawingAreaErrorKind::BackendError(DrawingErrorKind::FontError(f)) => {
            format!("the embedded font failed: {f}")
        }
        other => format!("the drawing failed: {other}"),
    };
    AppError::Figure {
        path: path.to_path_buf(),
        reason,
    }
}

/// Time axis of a time-scattering output: samples (or seconds) per output frame.
#[derive(Debug, Clone, Copy)]
pub struct TimeAxis {
    /// Input samples between two output frames.
    pub stride: usize,
    /// Sample rate in Hz, when known: axes are then in seconds and Hz.
    pub sample_rate: Option<u32>,
}

/// Averages groups of columns so a heat map has at most `max_cols` columns.
fn shrink_columns(a: ArrayView2<f64>, max_cols: usize) -> (Array2<f64>, usize) {
    let cols = a.ncols();
    let group = cols.div_ceil(max_cols).max(1);
    let out_cols = cols.div_ceil(group);
    let out = Array2::from_shape_fn((a.nrows(), out_cols), |(r, c)| {
        let s = c * group;
        let e = (s + group).min(cols);
        (s..e).map(|k| a[[r, k]]).sum::<f64>() / (e - s) as f64
    });
    (out, group)
}

/// Draws the order-1 and order-2 coefficients of one signal (`(channel, time)`, channels
/// labelled by `meta`) as two log-scale heat maps, high frequencies at the top.
pub fn time_scattering_png(
    path: &Path,
    tmp: &Path,
    sx: ArrayView2<f64>,
    meta: &[PathMeta1d],
    axis: TimeAxis,
    title: &str,
) -> Result<(), AppError> {
    register_font();
    let order =
        |o: usize| -> Vec<usize> { (0..meta.len()).filter(|&c| meta[c].order == o).collect() };
    let (c1, c2) = (order(1), order(2));
    if c1.is_empty() {
        return Err(fig_err(
            path,
            "no first-order coefficients to draw (max order 0)",
        ));
    }
    let (width, height) = (1400u32, if c2.is_empty() { 560 } else { 1000 });
    let root = BitMapBackend::new(tmp, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 26))
        .map_err(|e| drawing_error(path, e))?;
    let panels: Vec<(&str, &Vec<usize>)> = if c2.is_empty() {
        vec![("order 1: |x * ψλ1| * φ", &c1)]
    } else {
        vec![
            ("order 1: |x * ψλ1| * φ", &c1),
            (
                "order 2: ||x * ψλ1| * ψλ2| * φ   (grouped by λ1; λ2 rises within each group)",
                &c2,
            ),
        ]
    };
    let areas = root.split_evenly((panels.len(), 1));
    let freq = |xi: f64| match axis.sample_rate {
        Some(sr) => format!("{:.0} Hz", xi * sr as f64),
        None => format!("{xi:.3}"),
    };
    for ((caption, chans), area) in panels.into_iter().zip(areas.iter()) {
        let rows = chans.len();
        let data = Array2::from_shape_fn((rows, sx.ncols()), |(r, t)| sx[[chans[r], t]]);
        let (data, group) = shrink_columns(data.view(), 1100);
        let logs = data.mapv(|v| (v.abs() + 1e-12).log10());
        let hi = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        // Four decades of dynamic range below the peak.
        let lo = hi - 4.0;
        let frames = data.ncols();
        let t_of = |c: f64| -> f64 {
            let samples = c * (group * axis.stride) as f64;
            axis.sample_rate.map_or(samples, |sr| samples / sr as f64)
        };
        let x_desc = if axis.sample_rate.is_some() {
            "time (s)"
        } else {
            "time (samples)"
        };
        let y_desc = if axis.sample_rate.is_some() {
            "λ1 centre frequency"
        } else {
            "λ1 (cycles/sample)"
        };
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..t_of(frames as f64), 0f64..rows as f64)
            .map_err(|e| drawing_error(path, e))?;
        let label_meta = |r: &f64| -> String {
            // Row 0 is drawn at the top: the highest frequency.
            let idx = rows
                .saturating_sub(1 + r.floor().max(0.0) as usize)
                .min(rows - 1);
            freq(meta[chans[idx]].xi[0])
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .y_labels(8)
            .y_label_formatter(&label_meta)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| drawing_error(path, e))?;
        let cells = (0..rows).flat_map(|r| (0..frames).map(move |c| (r, c)));
        chart
            .draw_series(cells.map(|(r, c)| {
                let v = ((logs[[r, c]] - lo) / (hi - lo)).clamp(0.0, 1.0);
                let y = (rows - 1 - r) as f64;
                Rectangle::new(
                    [(t_of(c as f64), y), (t_of(c as f64 + 1.0), y + 1.0)],
                    ViridisRGB::get_color(v).filled(),
                )
            }))
            .map_err(|e| drawing_error(path, e))?;
    }
    root.present().map_err(|e| drawing_error(path, e))?;
    Ok(())
}

/// Draws an image beside its scattering coefficients (`(channel, M', N')`, labelled by
/// `meta`): order 1 as a J x L mosaic (rows: scale j, columns: orientation), order 2 as
/// a mosaic of (j1, j2) rows by relative orientation `theta2 - theta1`, averaged over
/// `theta1`. Each order on its own log colour scale.
#[allow(clippy::too_many_arguments)]
pub fn image_scattering_png(
    path: &Path,
    tmp: &Path,
    image: ArrayView2<f64>,
    sx: ndarray::ArrayView3<f64>,
    meta: &[scattering_transform::PathMeta2d],
    j: usize,
    l: usize,
    title: &str,
) -> Result<(), AppError> {
    register_font();
    let (_, a, b) = sx.dim();
    let tile = |rows: usize, cols: usize, f: &dyn Fn(usize, usize) -> Option<Array2<f64>>| {
        let mut m = Array2::from_elem((rows * (a + 1), cols * (b + 1)), f64::NAN);
        for r in 0..rows {
            for c in 0..cols {
                if let Some(t) = f(r, c) {
                    m.slice_mut(ndarray::s![
                        r * (a + 1)..r * (a + 1) + a,
                        c * (b + 1)..c * (b + 1) + b
                    ])
                    .assign(&t);
                }
            }
        }
        m
    };
    let chan = |pred: &dyn Fn(&scattering_transform::PathMeta2d) -> bool| -> Vec<usize> {
        (0..meta.len()).filter(|&c| pred(&meta[c])).collect()
    };
    let order1 = tile(j, l, &|r, c| {
        chan(&|p| p.order == 1 && p.j == [r] && p.theta == [c])
            .first()
            .map(|&ch| sx.index_axis(ndarray::Axis(0), ch).to_owned())
    });
    let pairs: Vec<(usize, usize)> = (0..j)
        .flat_map(|a| (a + 1..j).map(move |b| (a, b)))
        .collect();
    let order2 = tile(pairs.len(), l, &|r, c| {
        let (j1, j2) = pairs[r];
        let chans =
            chan(&|p| p.order == 2 && p.j == [j1, j2] && (p.theta[1] + l - p.theta[0]) % l == c);
        if chans.is_empty() {
            return None;
        }
        let mut acc = Array2::zeros((a, b));
        for &ch in &chans {
            acc += &sx.index_axis(ndarray::Axis(0), ch);
        }
        Some(acc / chans.len() as f64)
    });
    let mut panels: Vec<(String, Array2<f64>, bool)> = vec![
        ("input".into(), image.to_owned(), false),
        (
            format!("order 1: rows j = 0..{}, columns θ = 0..{}", j - 1, l - 1),
            order1,
            true,
        ),
    ];
    if !pairs.is_empty() && meta.iter().any(|p| p.order == 2) {
        panels.push((
            "order 2: rows (j1, j2), columns θ2 - θ1 (mean over θ1)".into(),
            order2,
            true,
        ));
    }
    heat_panels(path, tmp, title, &panels)
}

/// Draws an image beside its rigid-motion scattering (`(channel, M', N')`, labelled by
/// `meta`, with global angular averaging): order 1 as a column of maps per scale `j1`;
/// order 2 as a matrix of spatial means, rows `(j1, j2)`, columns the relative angle
/// `theta2` (blocks) by angular filter (low-pass, then `k` = 0, 1, ... with spins + and -).
/// Both orders on log colour scales.
pub fn rigid_scattering_png(
    path: &Path,
    tmp: &Path,
    image: ArrayView2<f64>,
    sx: ndarray::ArrayView3<f64>,
    meta: &[scattering_transform::PathMetaRigid],
    title: &str,
) -> Result<(), AppError> {
    register_font();
    let (_, a, b) = sx.dim();
    let order1: Vec<usize> = (0..meta.len()).filter(|&c| meta[c].order == 1).collect();
    let mut panels: Vec<(String, Array2<f64>, bool)> =
        vec![("input".into(), image.to_owned(), false)];
    if !order1.is_empty() {
        // A near-square grid of maps, j1 in reading order.
        let cols = (order1.len() as f64).sqrt().ceil() as usize;
        let rows = order1.len().div_ceil(cols);
        let mut m = Array2::from_elem((rows * (a + 1), cols * (b + 1)), f64::NAN);
        for (i, &c) in order1.iter().enumerate() {
            let (r, q) = (i / cols, i % cols);
            m.slice_mut(ndarray::s![
                r * (a + 1)..r * (a + 1) + a,
                q * (b + 1)..q * (b + 1) + b
            ])
            .assign(&sx.index_axis(ndarray::Axis(0), c));
        }
        panels.push((
            format!(
                "order 1: j1 = 0..{} in reading order (mean over angles)",
                order1.len() - 1
            ),
            m,
            true,
        ));
    }
    let second: Vec<usize> = (0..meta.len()).filter(|&c| meta[c].order == 2).collect();
    if !second.is_empty() {
        let mut pairs: Vec<(Option<usize>, Option<usize>, Option<usize>)> = Vec::new();
        let mut cols: Vec<(Option<usize>, Option<usize>, i8)> = Vec::new();
        for &c in &second {
            let p = &meta[c];
            let row = (p.j1, p.j2, p.dj);
            if !pairs.contains(&row) {
                pairs.push(row);
            }
            let col = (p.theta2, p.k, p.spin);
            if !cols.contains(&col) {
                cols.push(col);
            }
        }
        let mut m = Array2::from_elem((pairs.len(), cols.len()), f64::NAN);
        for &c in &second {
            let p = &meta[c];
            let r = pairs.iter().position(|&q| q == (p.j1, p.j2, p.dj));
            let k = cols.iter().position(|&q| q == (p.theta2, p.k, p.spin));
            if let (Some(r), Some(k)) = (r, k) {
                m[[r, k]] = sx
                    .index_axis(ndarray::Axis(0), c)
                    .mean()
                    .unwrap_or(f64::NAN);
            }
        }
        panels.push((
            "order 2: rows (j1, j2), columns θ2 by angular filter".into(),
            m,
            true,
        ));
    }
    heat_panels(path, tmp, title, &panels)
}

/// A region of a bitmap figure.
type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// A white canvas of `n` panels of `panel` pixels side by side under `title`: the titled
/// root (to `present`) and the panel areas.
fn panel_row<'a>(
    path: &Path,
    tmp: &'a Path,
    panel: (u32, u32),
    title: &str,
    n: usize,
) -> Result<(Area<'a>, Vec<Area<'a>>), AppError> {
    let n = n.max(1);
    let root = BitMapBackend::new(tmp, (panel.0 * n as u32, panel.1)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| drawing_error(path, e))?;
    let areas = root.split_evenly((1, n));
    Ok((root, areas))
}

/// Heat-map panels side by side under a title: `(caption, values, log colour scale)`;
/// NaN cells are left blank. Log panels span three decades below their maximum.
fn heat_panels(
    path: &Path,
    tmp: &Path,
    title: &str,
    panels: &[(String, Array2<f64>, bool)],
) -> Result<(), AppError> {
    let (root, areas) = panel_row(path, tmp, (500, 560), title, panels.len())?;
    for ((caption, data, log), area) in panels.iter().zip(areas.iter()) {
        let (rows, cols) = data.dim();
        let vals = data.mapv(|v| if *log { (v.abs() + 1e-12).log10() } else { v });
        let finite = || vals.iter().cloned().filter(|v| v.is_finite());
        let hi = finite().fold(f64::NEG_INFINITY, f64::max);
        let lo = if *log {
            hi - 3.0
        } else {
            finite().fold(f64::INFINITY, f64::min)
        };
        let mut chart = ChartBuilder::on(area)
            .caption(caption.as_str(), ("sans-serif", 15))
            .margin(10)
            .build_cartesian_2d(0f64..cols as f64, 0f64..rows as f64)
            .map_err(|e| drawing_error(path, e))?;
        let cells = (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c)));
        chart
            .draw_series(
                cells
                    .filter(|&(r, c)| vals[[r, c]].is_finite())
                    .map(|(r, c)| {
                        let v = ((vals[[r, c]] - lo) / (hi - lo).max(1e-300)).clamp(0.0, 1.0);
                        let color = if *log {
                            ViridisRGB::get_color(v)
                        } else {
                            let g = (v * 255.0) as u8;
                            RGBColor(g, g, g)
                        };
                        let y = (rows - 1 - r) as f64;
                        Rectangle::new([(c as f64, y), (c as f64 + 1.0, y + 1.0)], color.filled())
                    }),
            )
            .map_err(|e| drawing_error(path, e))?;
    }
    root.present().map_err(|e| drawing_error(path, e))?;
    Ok(())
}

/// A confusion matrix (rows: true class, columns: predicted class, counts), coloured by
/// the fraction of each true class, with the counts written in the cells.
pub fn confusion_png(
    path: &Path,
    tmp: &Path,
    title: &str,
    counts: ArrayView2<f64>,
    classes: &[String],
) -> Result<(), AppError> {
    register_font();
    let k = counts.nrows();
    let side = (60 * k as u32 + 200).clamp(400, 1400);
    let root = BitMapBackend::new(tmp, (side + 60, side)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
    let names: Vec<String> = classes.to_vec();
    let label = move |v: &f64| -> String {
        let i = v.floor();
        if i >= 0.0 && (i as usize) < names.len() && (v - i - 0.5).abs() < 1e-9 {
            names[i as usize].clone()
        } else {
            String::new()
        }
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..k as f64, 0f64..k as f64)
        .map_err(|e| drawing_error(path, e))?;
    let ylabel = label.clone();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(2 * k + 1)
        .y_labels(2 * k + 1)
        .x_label_formatter(&label)
        .y_label_formatter(&|v: &f64| ylabel(&(k as f64 - v)))
        .x_desc("predicted")
        .y_desc("true")
        .draw()
        .map_err(|e| drawing_error(path, e))?;
    for t in 0..k {
        let total: f64 = counts.row(t).sum();
        for p in 0..k {
            let frac = counts[[t, p]] / total.max(1.0);
            let y = (k - 1 - t) as f64;
            let color = ViridisRGB::get_color(frac);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(p as f64, y), (p as f64 + 1.0, y + 1.0)],
                    color.filled(),
                )))
                .map_err(|e| drawing_error(path, e))?;
            let ink = if frac > 0.6 { BLACK } else { WHITE };
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{}", counts[[t, p]].round()),
                    (p as f64 + 0.35, y + 0.6),
                    ("sans-serif", 14).into_font().color(&ink),
                )))
                .map_err(|e| drawing_error(path, e))?;
        }
    }
    root.present().map_err(|e| drawing_error(path, e))?;
    Ok(())
}

/// What the figure of joint time-frequency scattering shows for one signal.
pub struct JointFigure {
    /// The first-order spin-0 path, `(log-frequency row, time)`, row 0 the highest
    /// frequency: the scalogram smoothed along log-frequency.
    pub scalogram: Array2<f64>,
    /// Centre frequency (cycles per sample) of each scalogram row.
    pub row_xi: Vec<f64>,
    /// Time axis of the scalogram.
    pub axis: TimeAxis,
    /// Second-order energy by `(n2, frequential wavelet)`, for spin +1 and spin -1.
    pub up: Array2<f64>,
    /// See `up`.
    pub down: Array2<f64>,
    /// Temporal modulation frequency of each `n2` (cycles per sample), rows of `up`.
    pub xi2: Vec<f64>,
    /// Frequential wavelet centre frequencies in cycles per octave, columns of `up`.
    pub xi_fr: Vec<f64>,
}

/// Draws joint time-frequency scattering: the smoothed scalogram on top, and below it the
/// second-order energy of each path for spin +1 (rising frequencies) beside spin -1
/// (falling), on one log colour scale, with each spin's share of the energy.
pub fn joint_scattering_png(
    path: &Path,
    tmp: &Path,
    fig: &JointFigure,
    title: &str,
) -> Result<(), AppError> {
    register_font();
    let root = BitMapBackend::new(tmp, (1400, 1100)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 24))
        .map_err(|e| drawing_error(path, e))?;
    let (top, bottom) = root.split_vertically(480);
    let hz = |xi: f64| match fig.axis.sample_rate {
        Some(sr) => format!("{:.0} Hz", xi * sr as f64),
        None => format!("{xi:.3}"),
    };
    // Scalogram.
    {
        let (data, group) = shrink_columns(fig.scalogram.view(), 1100);
        let logs = data.mapv(|v| (v.abs() + 1e-12).log10());
        let hi = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lo = hi - 4.0;
        let (rows, frames) = data.dim();
        let t_of = |c: f64| -> f64 {
            let samples = c * (group * fig.axis.stride) as f64;
            fig.axis
                .sample_rate
                .map_or(samples, |sr| samples / sr as f64)
        };
        let mut chart = ChartBuilder::on(&top)
            .caption(
                "order 1, spin 0: the scalogram |x * ψλ1| * φT, smoothed along log-frequency",
                ("sans-serif", 18),
            )
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..t_of(frames as f64), 0f64..rows.max(1) as f64)
            .map_err(|e| drawing_error(path, e))?;
        let xi = fig.row_xi.clone();
        // Labels at row centres, at most about 12 of them.
        let step = rows.div_ceil(12).max(1);
        let ylabel = move |r: &f64| -> String {
            let i = r.floor();
            if (r - i - 0.5).abs() > 1e-9 || i < 0.0 {
                return String::new();
            }
            let idx = rows.saturating_sub(1 + i as usize);
            if idx % step != 0 {
                return String::new();
            }
            xi.get(idx).map_or_else(String::new, |v| hz(*v))
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(if fig.axis.sample_rate.is_some() {
                "time (s)"
            } else {
                "time (samples)"
            })
            .y_desc("λ1 centre frequency")
            .y_labels(2 * rows + 1)
            .y_label_formatter(&ylabel)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| drawing_error(path, e))?;
        let cells = (0..rows).flat_map(|r| (0..frames).map(move |c| (r, c)));
        chart
            .draw_series(cells.map(|(r, c)| {
                let v = ((logs[[r, c]] - lo) / (hi - lo)).clamp(0.0, 1.0);
                let y = (rows - 1 - r) as f64;
                Rectangle::new(
                    [(t_of(c as f64), y), (t_of(c as f64 + 1.0), y + 1.0)],
                    ViridisRGB::get_color(v).filled(),
                )
            }))
            .map_err(|e| drawing_error(path, e))?;
    }
    // Spin energies on a shared scale.
    let total = fig.up.sum() + fig.down.sum();
    let peak = fig
        .up
        .iter()
        .chain(fig.down.iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let share = |a: &Array2<f64>| 100.0 * a.sum() / total.max(f64::MIN_POSITIVE);
    let rates: Vec<String> = fig
        .xi2
        .iter()
        .map(|v| match fig.axis.sample_rate {
            Some(s) => format!("{:.1} Hz", v * s as f64),
            None => format!("{v:.4}"),
        })
        .collect();
    let fr: Vec<String> = fig.xi_fr.iter().map(|v| format!("{v:.2}")).collect();
    let halves = bottom.split_evenly((1, 2));
    for ((caption, values), area) in [
        (
            format!("spin +1 (rising): {:.1}% of order-2 energy", share(&fig.up)),
            &fig.up,
        ),
        (
            format!(
                "spin -1 (falling): {:.1}% of order-2 energy",
                share(&fig.down)
            ),
            &fig.down,
        ),
    ]
    .iter()
    .zip(halves.iter())
    {
        heat_panel(
            path,
            area,
            caption,
            values,
            &rates,
            &fr,
            (
                "frequential wavelet (cycles per octave)",
                "λ2 temporal modulation",
            ),
            Some(peak),
        )?;
    }
    root.present().map_err(|e| drawing_error(path, e))?;
    Ok(())
}

/// A labelled heat map of `values` (rows drawn top to bottom) on a log colour scale with
/// four decades below the peak (`peak`, or the panel's own), in `area`.
#[allow(clippy::too_many_arguments)]
fn heat_panel(
    path: &Path,
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    caption: &str,
    values: &Array2<f64>,
    row_labels: &[String],
    col_labels: &[String],
    axes: (&str, &str),
    peak: Option<f64>,
) -> Result<(), AppError> {
    let (rows, cols) = values.dim();
    let logs = values.mapv(|v| (v.abs() + 1e-30).log10());
    let hi = peak.map_or_else(
        || logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        |p| (p + 1e-30).log10(),
    );
    let lo = hi - 4.0;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(50)
        .y_label_area_size(100)
        .build_cartesian_2d(0f64..cols.max(1) as f64, 0f64..rows.max(1) as f64)
        .map_err(|e| drawing_error(path, e))?;
    let centre = |v: &f64| -> Option<usize> {
        let i = v.floor();
        ((v - i - 0.5).abs() < 1e-9 && i >= 0.0).then_some(i as usize)
    };
    let rstep = rows.div_ceil(16).max(1);
    let ylabel = |v: &f64| -> String {
        centre(v)
            .map(|i| rows.saturating_sub(1 + i))
            .filter(|i| i % rstep == 0)
            .and_then(|i| row_labels.get(i).cloned())
            .unwrap_or_default()
    };
    let xlabel = |v: &f64| -> String {
        centre(v)
            .and_then(|i| col_labels.get(i).cloned())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(2 * cols + 1)
        .y_labels(2 * rows + 1)
        .x_label_formatter(&xlabel)
        .y_label_formatter(&ylabel)
        .x_desc(axes.0)
        .y_desc(axes.1)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| drawing_error(path, e))?;
    let cells = (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c)));
    chart
        .draw_series(cells.map(|(r, c)| {
            let v = ((logs[[r, c]] - lo) / (hi - lo)).clamp(0.0, 1.0);
            let y = (rows - 1 - r) as f64;
            Rectangle::new(
                [(c as f64, y), (c as f64 + 1.0, y + 1.0)],
                ViridisRGB::get_color(v).filled(),
            )
        }))
        .map_err(|e| drawing_error(path, e))?;
    Ok(())
}

/// What the figure of spiral scattering shows for one signal.
pub struct SpiralFigure {
    /// First-order spiral energy by `(octave filter, chroma filter)`.
    pub order1: Array2<f64>,
    /// Second-order energy by `(n2, chroma filter)`, octave low-pass.
    pub order2: Array2<f64>,
    /// Signed chroma filter frequencies (cycles per octave), columns.
    pub chroma: Vec<f64>,
    /// Signed octave filter frequencies (cycles per octave), rows of `order1`.
    pub octave: Vec<f64>,
    /// Temporal modulation of each `n2` (cycles per sample), rows of `order2`.
    pub xi2: Vec<f64>,
    /// Sample rate, when known (rates in Hz then).
    pub sample_rate: Option<u32>,
}

/// Draws spiral scattering: the first-order spiral energy by chroma and octave filter, and
/// the second-order energy by temporal modulation and chroma filter, where a glissando
/// draws its ridge (rate = speed x chroma frequency) on the spin of its direction.
pub fn spiral_scattering_png(
    path: &Path,
    tmp: &Path,
    fig: &SpiralFigure,
    title: &str,
) -> Result<(), AppError> {
    register_font();
    let root = BitMapBackend::new(tmp, (1400, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 24))
        .map_err(|e| drawing_error(path, e))?;
    let halves = root.split_evenly((1, 2));
    let signed = |v: &f64| format!("{v:+.2}");
    let chroma: Vec<String> = fig.chroma.iter().map(signed).collect();
    let octave: Vec<String> = fig.octave.iter().map(signed).collect();
    let xi2: Vec<String> = fig
        .xi2
        .iter()
        .map(|v| match fig.sample_rate {
            Some(sr) => format!("{:.1} Hz", v * sr as f64),
            None => format!("{v:.2e}"),
        })
        .collect();
    heat_panel(
        path,
        &halves[0],
        "order 1: |S1 * chroma * octave| on the spiral",
        &fig.order1,
        &octave,
        &chroma,
        (
            "chroma filter (cycles per octave)",
            "octave filter (cycles per octave)",
        ),
        None,
    )?;
    heat_panel(
        path,
        &halves[1],
        "order 2: |U1 * ψλ2 * chroma| (octave low-pass)",
        &fig.order2,
        &xi2,
        &chroma,
        (
            "chroma filter (cycles per octave)",
            "λ2 temporal modulation",
        ),
        None,
    )?;
    root.present().map_err(|e| drawing_error(path, e))?;
    Ok(())
}

/// The rows of channel `c` of one sample's coefficients: `(rows, time)` in the joint
/// format, one row in the time format.
fn joint_rows_of(sx: &ArrayD<f64>, c: usize) -> Array2<f64> {
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

impl JointFigure {
    /// The figure's data for one signal's coefficients `sx` (either output format).
    pub fn of<T: Real>(
        s: &TimeFrequencyScattering<T>,
        sx: ndarray::ArrayViewD<f64>,
        sr: Option<u32>,
    ) -> JointFigure {
        let sx = sx.to_owned();
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
            let r = joint_rows_of(&sx, c);
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
}

impl SpiralFigure {
    /// The figure's data for one signal's coefficients `sx` `(channel, time)`.
    pub fn of<T: Real>(
        s: &SpiralScattering<T>,
        sx: ArrayView2<f64>,
        sr: Option<u32>,
    ) -> SpiralFigure {
        let q1 = s.params().q.0 as f64;
        let chroma: Vec<f64> = s.chroma_bank().filters.iter().map(|f| f.xi * q1).collect();
        let octave: Vec<f64> = s.octave_bank().filters.iter().map(|f| f.xi).collect();
        let n2s: Vec<usize> = {
            let mut v: Vec<usize> = s.meta().iter().filter_map(|m| m.n2).collect();
            v.dedup();
            v
        };
        let mut order1 = Array2::zeros((octave.len(), chroma.len()));
        let mut order2 = Array2::zeros((n2s.len(), chroma.len()));
        for (c, m) in s.meta().iter().enumerate() {
            let (Some(a), Some(b)) = (m.chroma, m.octave) else {
                continue;
            };
            let e: f64 = sx.index_axis(Axis(0), c).iter().map(|v| v * v).sum();
            match m.n2 {
                None => order1[[b, a]] += e,
                Some(n2) if m.spin_octave == 0 => {
                    if let Some(r) = n2s.iter().position(|&v| v == n2) {
                        order2[[r, a]] += e;
                    }
                }
                _ => {}
            }
        }
        SpiralFigure {
            order1,
            order2,
            chroma,
            octave,
            xi2: n2s.iter().map(|&n2| s.bank().psi2[n2].xi).collect(),
            sample_rate: sr,
        }
    }
}

/// Cochleagrams side by side (`(caption, (bands, frames) envelopes)`, low bands in row
/// 0), on one log colour scale (four decades below the largest value of all panels), the
/// band centres `centres` (Hz) on the vertical axis and time over `seconds`.
pub fn cochleagrams_png(
    path: &Path,
    tmp: &Path,
    title: &str,
    panels: &[(String, Array2<f64>)],
    centres: &[f64],
    seconds: f64,
) -> Result<(), AppError> {
    register_font();
    let peak = panels
        .iter()
        .flat_map(|(_, a)| a.iter().cloned())
        .fold(0.0f64, f64::max);
    let (root, areas) = panel_row(path, tmp, (430, 480), title, panels.len())?;
    for ((caption, a), area) in panels.iter().zip(areas.iter()) {
        // heat_panel draws row 0 at the top: high bands first.
        let flipped = Array2::from_shape_fn(a.dim(), |(r, c)| a[[a.nrows() - 1 - r, c]]);
        let rows: Vec<String> = (0..a.nrows())
            .map(|r| {
                let f = centres.get(a.nrows() - 1 - r).copied().unwrap_or(0.0);
                if f >= 1000.0 {
                    format!("{:.1} kHz", f / 1000.0)
                } else {
                    format!("{f:.0} Hz")
                }
            })
            .collect();
        let cols = a.ncols();
        let step = cols.div_ceil(5).max(1);
        let col_labels: Vec<String> = (0..cols)
            .map(|c| {
                if c % step == 0 {
                    format!("{:.2}", seconds * c as f64 / cols.max(1) as f64)
                } else {
                    String::new()
                }
            })
            .collect();
        heat_panel(
            path,
            area,
            caption,
            &flipped,
            &rows,
            &col_labels,
            ("time (s)", "subband"),
            Some(peak),
        )?;
    }
    root.present().map_err(|e| drawing_error(path, e))?;
    Ok(())
}

/// Square matrices side by side (`(caption, matrix)`) on one linear colour scale from
/// `range.0` to `range.1`, row 0 at the top, e.g. envelope correlations between subbands.
pub fn matrices_png(
    path: &Path,
    tmp: &Path,
    title: &str,
    panels: &[(String, Array2<f64>)],
    range: (f64, f64),
) -> Result<(), AppError> {
    register_font();
    let (root, areas) = panel_row(path, tmp, (400, 440), title, panels.len())?;
    for ((caption, a), area) in panels.iter().zip(areas.iter()) {
        let (rows, cols) = a.dim();
        let mut chart = ChartBuilder::on(area)
            .caption(caption.as_str(), ("sans-serif", 16))
            .margin(12)
            .build_cartesian_2d(0f64..cols.max(1) as f64, 0f64..rows.max(1) as f64)
            .map_err(|e| drawing_error(path, e))?;
        let cells = (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c)));
        chart
            .draw_series(cells.map(|(r, c)| {
                let v = ((a[[r, c]] - range.0) / (range.1 - range.0).max(1e-300)).clamp(0.0, 1.0);
                let y = (rows - 1 - r) as f64;
                Rectangle::new(
                    [(c as f64, y), (c as f64 + 1.0, y + 1.0)],
                    ViridisRGB::get_color(v).filled(),
                )
            }))
            .map_err(|e| drawing_error(path, e))?;
    }
    root.present().map_err(|e| drawing_error(path, e))?;
    Ok(())
}
