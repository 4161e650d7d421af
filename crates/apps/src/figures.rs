//! PNG figures: time-scattering coefficients as labelled heat maps.

use crate::error::AppError;
use ndarray::{Array2, ArrayView2};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use scattering_transform::PathMeta;
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
    meta: &[PathMeta],
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
    root.fill(&WHITE).map_err(|e| fig_err(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 26))
        .map_err(|e| fig_err(path, e))?;
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
            .map_err(|e| fig_err(path, e))?;
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
            .map_err(|e| fig_err(path, e))?;
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
            .map_err(|e| fig_err(path, e))?;
    }
    root.present().map_err(|e| fig_err(path, e))?;
    Ok(())
}
