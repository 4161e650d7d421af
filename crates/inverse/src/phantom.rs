//! Test images of tomography.

use ndarray::Array2;

/// One ellipse: intensity added inside, semi-axes `(a, b)`, centre `(x0, y0)` and rotation
/// `phi` (degrees), in the square `[-1, 1]²` with `y` up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipse {
    /// Intensity added inside the ellipse.
    pub intensity: f64,
    /// Semi-axis along the rotated `x` axis.
    pub a: f64,
    /// Semi-axis along the rotated `y` axis.
    pub b: f64,
    /// Centre, `x`.
    pub x0: f64,
    /// Centre, `y`.
    pub y0: f64,
    /// Rotation, degrees counter-clockwise.
    pub phi: f64,
}

/// The modified Shepp-Logan phantom (Toft's intensities, better contrast than the
/// original), ten ellipses.
pub const SHEPP_LOGAN: [Ellipse; 10] = {
    const fn e(intensity: f64, a: f64, b: f64, x0: f64, y0: f64, phi: f64) -> Ellipse {
        Ellipse {
            intensity,
            a,
            b,
            x0,
            y0,
            phi,
        }
    }
    [
        e(1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
        e(-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
        e(-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
        e(-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
        e(0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
        e(0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
        e(0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
        e(0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
        e(0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
        e(0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
    ]
};

/// Rasterises ellipses on an `n x n` grid covering `[-1, 1]²` (pixel centres tested).
pub fn ellipses(n: usize, list: &[Ellipse]) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        let x = (2 * j + 1) as f64 / n as f64 - 1.0;
        let y = 1.0 - (2 * i + 1) as f64 / n as f64;
        list.iter()
            .filter(|e| {
                let (s, c) = e.phi.to_radians().sin_cos();
                let (dx, dy) = (x - e.x0, y - e.y0);
                let u = (dx * c + dy * s) / e.a;
                let v = (-dx * s + dy * c) / e.b;
                u * u + v * v <= 1.0
            })
            .map(|e| e.intensity)
            .sum()
    })
}

/// The modified Shepp-Logan phantom on an `n x n` grid.
pub fn shepp_logan(n: usize) -> Array2<f64> {
    ellipses(n, &SHEPP_LOGAN)
}
