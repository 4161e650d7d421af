//! Regularisers with proximal maps: isotropic total variation and the l1 norm of orthogonal
//! wavelet coefficients (Haar and Daubechies), and the power method for `‖A‖`.

use crate::error::{InverseError, Result};
use crate::operator::LinearOperator;
use ndarray::{Array2, ArrayView2};

/// The discrete gradient (forward differences, zero across the last row and column):
/// `(d/di, d/dj)`.
pub fn gradient(x: ArrayView2<f64>) -> (Array2<f64>, Array2<f64>) {
    let (m, n) = x.dim();
    let gi = Array2::from_shape_fn((m, n), |(i, j)| {
        if i + 1 < m {
            x[[i + 1, j]] - x[[i, j]]
        } else {
            0.0
        }
    });
    let gj = Array2::from_shape_fn((m, n), |(i, j)| {
        if j + 1 < n {
            x[[i, j + 1]] - x[[i, j]]
        } else {
            0.0
        }
    });
    (gi, gj)
}

/// The adjoint of [`gradient`] (minus the discrete divergence).
pub fn gradient_adjoint(gi: ArrayView2<f64>, gj: ArrayView2<f64>) -> Array2<f64> {
    let (m, n) = gi.dim();
    Array2::from_shape_fn((m, n), |(i, j)| {
        let a = if i + 1 < m { gi[[i, j]] } else { 0.0 };
        let b = if i > 0 { gi[[i - 1, j]] } else { 0.0 };
        let c = if j + 1 < n { gj[[i, j]] } else { 0.0 };
        let d = if j > 0 { gj[[i, j - 1]] } else { 0.0 };
        b - a + d - c
    })
}

/// Isotropic total variation `Σ sqrt((d/di x)² + (d/dj x)²)`.
pub fn total_variation(x: ArrayView2<f64>) -> f64 {
    let (gi, gj) = gradient(x);
    gi.iter().zip(&gj).map(|(a, b)| a.hypot(*b)).sum()
}

/// An orthogonal wavelet family (periodic boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveletFamily {
    /// Haar (2 taps).
    Haar,
    /// Daubechies with 2 vanishing moments (4 taps, "db2").
    Db2,
    /// Daubechies with 4 vanishing moments (8 taps, "db4").
    Db4,
}

impl WaveletFamily {
    /// The low-pass (scaling) filter, normalised to unit l2 norm.
    fn low_pass(self) -> Vec<f64> {
        match self {
            WaveletFamily::Haar => vec![std::f64::consts::FRAC_1_SQRT_2; 2],
            WaveletFamily::Db2 => {
                let (s3, d) = (3f64.sqrt(), 4.0 * 2f64.sqrt());
                vec![
                    (1.0 + s3) / d,
                    (3.0 + s3) / d,
                    (3.0 - s3) / d,
                    (1.0 - s3) / d,
                ]
            }
            WaveletFamily::Db4 => vec![
                0.230_377_813_308_855_23,
                0.714_846_570_552_541_5,
                0.630_880_767_929_590_4,
                -0.027_983_769_416_983_85,
                -0.187_034_811_718_881_14,
                0.030_841_381_835_986_965,
                0.032_883_011_666_982_945,
                -0.010_597_401_784_997_278,
            ],
        }
    }
}

/// A periodic orthogonal 2D wavelet transform with `levels` levels: the coefficients are
/// stored in place of the image (Mallat's layout, the coarsest approximation in the top-left
/// `m / 2^levels x n / 2^levels` corner).
#[derive(Debug, Clone)]
pub struct Wavelet2d {
    shape: (usize, usize),
    levels: usize,
    low: Vec<f64>,
    high: Vec<f64>,
}

impl Wavelet2d {
    /// The transform of `shape` images; each side divisible by `2^levels`, and the
    /// coarsest side at least the filter length.
    pub fn new(shape: (usize, usize), family: WaveletFamily, levels: usize) -> Result<Self> {
        let low = family.low_pass();
        let f = 1usize << levels.min(30);
        let coarse = (shape.0 / f, shape.1 / f);
        if levels == 0
            || levels > 30
            || !shape.0.is_multiple_of(f)
            || !shape.1.is_multiple_of(f)
            || coarse.0 < low.len()
            || coarse.1 < low.len()
        {
            return Err(InverseError::Param(format!(
                "{levels} wavelet levels need sides divisible by 2^levels whose quotient is at least {} (the filter length), got {shape:?}",
                low.len()
            )));
        }
        // Quadrature mirror: g[k] = (-1)^k h[L - 1 - k].
        let l = low.len();
        let high = (0..l)
            .map(|k| if k % 2 == 0 { 1.0 } else { -1.0 } * low[l - 1 - k])
            .collect();
        Ok(Self {
            shape,
            levels,
            low,
            high,
        })
    }

    /// The size of the coarsest approximation block.
    pub fn coarse_shape(&self) -> (usize, usize) {
        (self.shape.0 >> self.levels, self.shape.1 >> self.levels)
    }

    /// One analysis step along a line of even length `n`: approximations then details.
    fn analyse(&self, x: &[f64], out: &mut [f64]) {
        let n = x.len();
        let h = n / 2;
        for k in 0..h {
            let (mut a, mut d) = (0.0, 0.0);
            for (t, (&lo, &hi)) in self.low.iter().zip(&self.high).enumerate() {
                let v = x[(2 * k + t) % n];
                a += lo * v;
                d += hi * v;
            }
            out[k] = a;
            out[h + k] = d;
        }
    }

    /// The inverse (= adjoint) of [`Self::analyse`].
    fn synthesise(&self, c: &[f64], out: &mut [f64]) {
        let n = c.len();
        let h = n / 2;
        out.iter_mut().for_each(|v| *v = 0.0);
        for k in 0..h {
            for (t, (&lo, &hi)) in self.low.iter().zip(&self.high).enumerate() {
                out[(2 * k + t) % n] += lo * c[k] + hi * c[h + k];
            }
        }
    }

    fn lines(&self, a: &mut Array2<f64>, rows: usize, cols: usize, inverse: bool) {
        let mut buf = vec![0.0; rows.max(cols)];
        let mut out = vec![0.0; rows.max(cols)];
        for axis in [1, 0] {
            let len = if axis == 1 { cols } else { rows };
            let count = if axis == 1 { rows } else { cols };
            for r in 0..count {
                for (t, b) in buf[..len].iter_mut().enumerate() {
                    *b = if axis == 1 { a[[r, t]] } else { a[[t, r]] };
                }
                if inverse {
                    self.synthesise(&buf[..len], &mut out[..len]);
                } else {
                    self.analyse(&buf[..len], &mut out[..len]);
                }
                for (t, &o) in out[..len].iter().enumerate() {
                    if axis == 1 {
                        a[[r, t]] = o;
                    } else {
                        a[[t, r]] = o;
                    }
                }
            }
        }
    }

    /// The coefficients of `x`.
    pub fn forward(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        crate::operator::check(x, self.shape, "the image")?;
        let mut a = x.to_owned();
        for level in 0..self.levels {
            self.lines(&mut a, self.shape.0 >> level, self.shape.1 >> level, false);
        }
        Ok(a)
    }

    /// The image of coefficients `c` (the inverse and the adjoint: the transform is
    /// orthogonal).
    pub fn inverse(&self, c: ArrayView2<f64>) -> Result<Array2<f64>> {
        crate::operator::check(c, self.shape, "the coefficients")?;
        let mut a = c.to_owned();
        for level in (0..self.levels).rev() {
            self.lines(&mut a, self.shape.0 >> level, self.shape.1 >> level, true);
        }
        Ok(a)
    }

    /// Soft thresholding by `t` of every coefficient but the coarsest approximations (the
    /// proximal map of `t ‖detail coefficients‖₁`).
    pub fn shrink(&self, c: &mut Array2<f64>, t: f64) {
        let (cm, cn) = self.coarse_shape();
        for ((i, j), v) in c.indexed_iter_mut() {
            if i >= cm || j >= cn {
                *v = v.signum() * (v.abs() - t).max(0.0);
            }
        }
    }

    /// `‖detail coefficients‖₁`.
    pub fn detail_l1(&self, c: ArrayView2<f64>) -> f64 {
        let (cm, cn) = self.coarse_shape();
        c.indexed_iter()
            .filter(|((i, j), _)| *i >= cm || *j >= cn)
            .map(|(_, v)| v.abs())
            .sum()
    }
}

/// `‖A‖²` (the largest eigenvalue of `Aᵀ A`) by `iterations` steps of the power method from a
/// fixed start; a slight overestimate (`x 1.01`) keeps step sizes on the safe side.
pub fn operator_norm_squared(op: &dyn LinearOperator, iterations: usize) -> f64 {
    let shape = op.input_shape();
    let mut x = Array2::from_shape_fn(shape, |(i, j)| 1.0 + ((i * 7 + j * 13) % 5) as f64);
    let mut lambda = 0.0;
    for _ in 0..iterations.max(1) {
        let norm = x.mapv(|v| v * v).sum().sqrt();
        if norm == 0.0 {
            return 0.0;
        }
        x /= norm;
        let y = op.apply_unchecked(x.view());
        let z = op.adjoint_unchecked(y.view());
        lambda = (&z * &x).sum();
        x = z;
    }
    1.01 * lambda
}

/// Projects a field of 2-vectors pointwise onto the disc of radius `bound` (the proximal
/// map of the dual of `bound ‖·‖_{2,1}`).
pub(crate) fn project_dual(pi: &mut Array2<f64>, pj: &mut Array2<f64>, bound: f64) {
    ndarray::Zip::from(pi).and(pj).for_each(|a, b| {
        let n = a.hypot(*b);
        if n > bound {
            let s = bound / n;
            *a *= s;
            *b *= s;
        }
    });
}
