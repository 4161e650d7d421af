//! Line and scatter plots for the experiment binaries (learning curves, predicted vs true).

use crate::error::AppError;
use crate::figures::{drawing_error, register_font};
use plotters::prelude::*;
use std::path::Path;

/// One named curve of `(x, y)` points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

fn bounds(series: &[Series], log: (bool, bool)) -> ((f64, f64), (f64, f64)) {
    let pts = series.iter().flat_map(|s| s.points.iter());
    let ok = |v: f64, l: bool| v.is_finite() && (!l || v > 0.0);
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in pts {
        if ok(x, log.0) && ok(y, log.1) {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if !x0.is_finite() {
        return ((1.0, 10.0), (1.0, 10.0));
    }
    let pad = |a: f64, b: f64, l: bool| {
        if l {
            (a / 1.3, b * 1.3)
        } else {
            let m = ((b - a) * 0.05).max(1e-12);
            (a - m, b + m)
        }
    };
    (pad(x0, x1, log.0), pad(y0, y1, log.1))
}

/// The corner of the plot the curves cross least, for the legend: each curve is sampled
/// along its segments in axis coordinates scaled to `[0, 1]` (log where the axis is),
/// and the corner box of the legend's rough size with the fewest samples wins.
fn legend_corner(
    series: &[Series],
    ((x0, x1), (y0, y1)): ((f64, f64), (f64, f64)),
    log: (bool, bool),
) -> SeriesLabelPosition {
    let unit = |v: f64, a: f64, b: f64, l: bool| {
        if l {
            (v.ln() - a.ln()) / (b.ln() - a.ln())
        } else {
            (v - a) / (b - a)
        }
    };
    let (w, h) = (0.36, 0.07 * (series.len() as f64 + 1.0));
    // Upper right, upper left, lower right, lower left: x and y ranges.
    let corners = [
        ((1.0 - w, 1.0), (1.0 - h, 1.0)),
        ((0.0, w), (1.0 - h, 1.0)),
        ((1.0 - w, 1.0), (0.0, h)),
        ((0.0, w), (0.0, h)),
    ];
    let mut count = [0usize; 4];
    // Counted in that order, so ties go to the upper right.
    for s in series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .filter(|p| (!log.0 || p.0 > 0.0) && (!log.1 || p.1 > 0.0))
            .map(|p| (unit(p.0, x0, x1, log.0), unit(p.1, y0, y1, log.1)))
            .collect();
        let samples = pts.windows(2).flat_map(|ab| {
            (0..16).map(move |i| {
                let t = i as f64 / 16.0;
                (
                    ab[0].0 + t * (ab[1].0 - ab[0].0),
                    ab[0].1 + t * (ab[1].1 - ab[0].1),
                )
            })
        });
        for (x, y) in samples.chain(pts.iter().copied()) {
            for (c, (xs, ys)) in count.iter_mut().zip(&corners) {
                if (xs.0..=xs.1).contains(&x) && (ys.0..=ys.1).contains(&y) {
                    *c += 1;
                }
            }
        }
    }
    let best = (0..4).min_by_key(|&i| count[i]).unwrap_or(0);
    match best {
        0 => SeriesLabelPosition::UpperRight,
        1 => SeriesLabelPosition::UpperLeft,
        2 => SeriesLabelPosition::LowerRight,
        _ => SeriesLabelPosition::LowerLeft,
    }
}

/// A short axis label: three significant digits without trailing zeros, thousands as `k`
/// from 10,000 up, exponents below 0.001 (log axes otherwise print `40000.0` beside `50000.0`).
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a == 0.0 {
        return format!("{v}");
    }
    if a < 1e-3 {
        return format!("{v:.0e}");
    }
    let (scaled, suffix) = if a >= 1e4 { (v / 1e3, "k") } else { (v, "") };
    let digits = (2 - scaled.abs().log10().floor() as i32).max(0) as usize;
    let mut t = format!("{scaled:.digits$}");
    if t.contains('.') {
        t = t.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    t + suffix
}

/// Draws curves with markers and a legend; `log` selects logarithmic x and y axes.
pub fn curves_png(
    path: &Path,
    tmp: &Path,
    title: &str,
    labels: (&str, &str),
    series: &[Series],
    log: (bool, bool),
) -> Result<(), AppError> {
    register_font();
    let root = BitMapBackend::new(tmp, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
    let ((x0, x1), (y0, y1)) = bounds(series, log);
    let corner = legend_corner(series, ((x0, x1), (y0, y1)), log);
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart.map_err(|e| drawing_error(path, e))?;
            chart
                .configure_mesh()
                .x_desc(labels.0)
                .y_desc(labels.1)
                .label_style(("sans-serif", 15))
                .x_label_formatter(&|v| tick_label(*v))
                .y_label_formatter(&|v| tick_label(*v))
                .draw()
                .map_err(|e| drawing_error(path, e))?;
            for (k, s) in series.iter().enumerate() {
                let color = Palette99::pick(k).to_rgba();
                let pts: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(|e| drawing_error(path, e))?
                    .label(s.name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))
                    .map_err(|e| drawing_error(path, e))?;
            }
            chart
                .configure_series_labels()
                .position(corner)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .draw()
                .map_err(|e| drawing_error(path, e))?;
        }};
    }
    match log {
        (true, true) => {
            draw!(builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale()))
        }
        (true, false) => draw!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)),
        (false, true) => draw!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())),
        (false, false) => draw!(builder.build_cartesian_2d(x0..x1, y0..y1)),
    }
    root.present().map_err(|e| drawing_error(path, e))
}

/// Scatter plot of predicted against true values with the diagonal, one colour per group.
pub fn scatter_png(
    path: &Path,
    tmp: &Path,
    title: &str,
    labels: (&str, &str),
    groups: &[Series],
) -> Result<(), AppError> {
    register_font();
    let root = BitMapBackend::new(tmp, (800, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
    let ((x0, x1), (y0, y1)) = bounds(groups, (false, false));
    let (lo, hi) = (x0.min(y0), x1.max(y1));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(lo..hi, lo..hi)
        .map_err(|e| drawing_error(path, e))?;
    chart
        .configure_mesh()
        .x_desc(labels.0)
        .y_desc(labels.1)
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| drawing_error(path, e))?;
    chart
        .draw_series(LineSeries::new(
            vec![(lo, lo), (hi, hi)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| drawing_error(path, e))?;
    for (k, g) in groups.iter().enumerate() {
        let color = Palette99::pick(k).mix(0.5);
        chart
            .draw_series(
                g.points
                    .iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .map(|&p| Circle::new(p, 2, color.filled())),
            )
            .map_err(|e| drawing_error(path, e))?
            .label(g.name.clone())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, Palette99::pick(k).filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(|e| drawing_error(path, e))?;
    root.present().map_err(|e| drawing_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_goes_where_the_curves_are_not() {
        let line = |pts: &[(f64, f64)]| Series {
            name: "c".into(),
            points: pts.to_vec(),
        };
        let at = |series: &[Series], log| legend_corner(series, bounds(series, log), log);
        // A falling curve leaves the upper right and lower left free: the upper right.
        let falling = [line(&[(1.0, 10.0), (1000.0, 2.0)])];
        assert!(matches!(
            at(&falling, (true, true)),
            SeriesLabelPosition::UpperRight
        ));
        // A rising one and a flat top one leave only the lower right.
        let rising = [
            line(&[(0.0, 0.0), (10.0, 10.0)]),
            line(&[(0.0, 10.0), (10.0, 10.0)]),
        ];
        assert!(matches!(
            at(&rising, (false, false)),
            SeriesLabelPosition::LowerRight
        ));
    }

    #[test]
    fn tick_labels_are_short() {
        let cases = [
            (40000.0, "40k"),
            (12500.0, "12.5k"),
            (2656.0, "2656"),
            (54.0, "54"),
            (0.25, "0.25"),
            (0.0123456, "0.0123"),
            (-3.5, "-3.5"),
            (0.0002, "2e-4"),
            (0.0, "0"),
        ];
        for (v, want) in cases {
            assert_eq!(tick_label(v), want, "{v}");
        }
    }

    /// A figure that cannot be written names the file and the system's reason, not
    /// plotters' `Debug` output.
    #[test]
    fn unwritable_figure_gives_the_system_reason() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("missing").join("curve.png");
        let series = [Series {
            name: "a".into(),
            points: vec![(1.0, 1.0), (2.0, 3.0)],
        }];
        let e = curves_png(&png, &png, "t", ("x", "y"), &series, (false, false))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("curve.png: cannot write the image: No such file or directory"),
            "{e}"
        );
        assert!(!e.contains("ImageError") && !e.contains("backend"), "{e}");
    }
}
