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

/// A random phantom of `count` ellipses (seeded): centres inside the unit disc, semi-axes
/// from 0.05 to 0.5, any rotation, intensities from -0.5 to 1 (so ellipses overlap into
/// several levels, "textures of intensity"), the sum clipped to `[0, 1]`. Training,
/// validation and test sets are draws with different seeds.
pub fn random_ellipses(n: usize, count: usize, seed: u64) -> Array2<f64> {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(seed);
    let list: Vec<Ellipse> = (0..count)
        .map(|k| {
            let r = 0.7 * rng.random::<f64>().sqrt();
            let a = rng.random_range(0.0..std::f64::consts::TAU);
            Ellipse {
                // The first ellipse is a large positive body, as in a scan.
                intensity: if k == 0 {
                    rng.random_range(0.3..0.6)
                } else {
                    rng.random_range(-0.5..1.0)
                },
                a: if k == 0 {
                    0.8
                } else {
                    rng.random_range(0.05..0.5)
                },
                b: if k == 0 {
                    0.7
                } else {
                    rng.random_range(0.05..0.5)
                },
                x0: if k == 0 { 0.0 } else { r * a.cos() },
                y0: if k == 0 { 0.0 } else { r * a.sin() },
                phi: rng.random_range(0.0..180.0),
            }
        })
        .collect();
    ellipses(n, &list).mapv(|v| v.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phantoms_have_the_expected_values() {
        let s = shepp_logan(64);
        // Centre of the brain: 1 - 0.8 = 0.2; corners are outside the skull.
        assert!((s[[31, 31]] - 0.2).abs() < 1e-12, "{}", s[[31, 31]]);
        assert_eq!(s[[0, 0]], 0.0);
        let a = random_ellipses(64, 8, 1);
        let b = random_ellipses(64, 8, 1);
        let c = random_ellipses(64, 8, 2);
        assert_eq!(a, b, "seeded");
        assert_ne!(a, c);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        // Several intensity levels, and a body covering a good part of the field.
        let mut levels: Vec<i64> = a.iter().map(|v| (v * 1e6).round() as i64).collect();
        levels.sort_unstable();
        levels.dedup();
        assert!(levels.len() >= 4, "{} levels", levels.len());
        assert!(a.iter().filter(|&&v| v > 0.0).count() > 64 * 64 / 3);
    }
}
