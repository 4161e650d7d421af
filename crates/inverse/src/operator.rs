//! Linear forward operators `A` with their exact adjoints `Aᵀ`, and the blur-and-subsample
//! operator of super-resolution.

use crate::error::{InverseError, Result};
use ndarray::{Array2, ArrayView2};

/// A linear map between 2D arrays with its adjoint: `<A x, y> = <x, Aᵀ y>` to rounding.
/// [`LinearOperator::apply`] and [`LinearOperator::adjoint`] check shapes and finiteness,
/// then call the unchecked kernels an implementation provides.
pub trait LinearOperator: Sync {
    /// Shape of `x`.
    fn input_shape(&self) -> (usize, usize);
    /// Shape of `A x`.
    fn output_shape(&self) -> (usize, usize);
    /// `A x` for an `x` already checked.
    fn apply_unchecked(&self, x: ArrayView2<f64>) -> Array2<f64>;
    /// `Aᵀ y` for a `y` already checked.
    fn adjoint_unchecked(&self, y: ArrayView2<f64>) -> Array2<f64>;

    /// `A x`.
    fn apply(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check(x, self.input_shape(), "the image")?;
        Ok(self.apply_unchecked(x))
    }

    /// `Aᵀ y`.
    fn adjoint(&self, y: ArrayView2<f64>) -> Result<Array2<f64>> {
        check(y, self.output_shape(), "the measurements")?;
        Ok(self.adjoint_unchecked(y))
    }
}

/// Checks the shape and the finiteness of an input.
pub(crate) fn check(
    a: ArrayView2<f64>,
    expected: (usize, usize),
    what: &'static str,
) -> Result<()> {
    if a.dim() != expected {
        return Err(InverseError::Shape {
            what,
            expected,
            got: a.dim(),
        });
    }
    if !a.iter().all(|v| v.is_finite()) {
        return Err(InverseError::NonFinite(what));
    }
    Ok(())
}

/// The anti-aliasing filter applied before subsampling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AntiAlias {
    /// A periodic Gaussian of standard deviation `sigma` pixels (truncated at 4 sigma).
    Gaussian {
        /// Standard deviation in pixels of the fine grid (> 0).
        sigma: f64,
    },
    /// The mean of each `2^a x 2^a` block (a camera's pixel integration).
    Box,
}

/// Blur then keep every `2^a`-th pixel along both axes: the forward model of
/// super-resolution by `2^a`. Boundaries are periodic.
#[derive(Debug, Clone)]
pub struct BlurSubsample {
    shape: (usize, usize),
    factor: usize,
    /// Half of the symmetric 1D Gaussian kernel (centre first), empty for [`AntiAlias::Box`].
    taps: Vec<f64>,
}

impl BlurSubsample {
    /// The operator on `shape` images (each side divisible by `2^a`, `a` in `1..=6`).
    pub fn new(shape: (usize, usize), a: u32, filter: AntiAlias) -> Result<Self> {
        if !(1..=6).contains(&a) {
            return Err(InverseError::Param(format!(
                "the zoom exponent a (factor 2^a) must be in 1..=6, got {a}"
            )));
        }
        let factor = 1usize << a;
        if shape.0 == 0
            || shape.1 == 0
            || !shape.0.is_multiple_of(factor)
            || !shape.1.is_multiple_of(factor)
        {
            return Err(InverseError::Param(format!(
                "image sides must be positive multiples of the factor {factor}, got {shape:?}"
            )));
        }
        let taps = match filter {
            AntiAlias::Box => Vec::new(),
            AntiAlias::Gaussian { sigma } => {
                if !(sigma.is_finite() && sigma > 0.0 && 4.0 * sigma < shape.0.min(shape.1) as f64)
                {
                    return Err(InverseError::Param(format!(
                        "the blur's sigma must be positive and under a quarter of the smaller side, got {sigma}"
                    )));
                }
                let half = (4.0 * sigma).ceil() as usize;
                let g: Vec<f64> = (0..=half)
                    .map(|k| (-0.5 * (k as f64 / sigma).powi(2)).exp())
                    .collect();
                let total = g[0] + 2.0 * g[1..].iter().sum::<f64>();
                g.iter().map(|v| v / total).collect()
            }
        };
        Ok(Self {
            shape,
            factor,
            taps,
        })
    }

    /// The zoom factor `2^a`.
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Periodic separable Gaussian blur (symmetric, hence self-adjoint).
    fn blur(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let (m, n) = self.shape;
        let t = &self.taps;
        let wrap = |i: isize, len: usize| i.rem_euclid(len as isize) as usize;
        let rows = Array2::from_shape_fn((m, n), |(i, j)| {
            (1..t.len()).fold(t[0] * x[[i, j]], |s, k| {
                let k2 = k as isize;
                s + t[k] * (x[[i, wrap(j as isize - k2, n)]] + x[[i, wrap(j as isize + k2, n)]])
            })
        });
        Array2::from_shape_fn((m, n), |(i, j)| {
            (1..t.len()).fold(t[0] * rows[[i, j]], |s, k| {
                let k2 = k as isize;
                s + t[k]
                    * (rows[[wrap(i as isize - k2, m), j]] + rows[[wrap(i as isize + k2, m), j]])
            })
        })
    }
}

impl LinearOperator for BlurSubsample {
    fn input_shape(&self) -> (usize, usize) {
        self.shape
    }

    fn output_shape(&self) -> (usize, usize) {
        (self.shape.0 / self.factor, self.shape.1 / self.factor)
    }

    fn apply_unchecked(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let f = self.factor;
        if self.taps.is_empty() {
            let w = 1.0 / (f * f) as f64;
            Array2::from_shape_fn(self.output_shape(), |(i, j)| {
                w * x
                    .slice(ndarray::s![i * f..(i + 1) * f, j * f..(j + 1) * f])
                    .sum()
            })
        } else {
            let b = self.blur(x);
            Array2::from_shape_fn(self.output_shape(), |(i, j)| b[[i * f, j * f]])
        }
    }

    fn adjoint_unchecked(&self, y: ArrayView2<f64>) -> Array2<f64> {
        let f = self.factor;
        if self.taps.is_empty() {
            let w = 1.0 / (f * f) as f64;
            Array2::from_shape_fn(self.shape, |(i, j)| w * y[[i / f, j / f]])
        } else {
            let mut up = Array2::zeros(self.shape);
            for ((i, j), &v) in y.indexed_iter() {
                up[[i * f, j * f]] = v;
            }
            self.blur(up.view())
        }
    }
}

/// The identity on `shape` images: denoising as an inverse problem.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    /// The image shape.
    pub shape: (usize, usize),
}

impl LinearOperator for Identity {
    fn input_shape(&self) -> (usize, usize) {
        self.shape
    }

    fn output_shape(&self) -> (usize, usize) {
        self.shape
    }

    fn apply_unchecked(&self, x: ArrayView2<f64>) -> Array2<f64> {
        x.to_owned()
    }

    fn adjoint_unchecked(&self, y: ArrayView2<f64>) -> Array2<f64> {
        y.to_owned()
    }
}
