//! Kernel ridge regression with Gaussian or Laplacian kernels: ridge regression in the
//! feature space of the kernel, solved in its dual form (one n × n system).

use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use crate::linalg::{a_b, solve_spd};
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};

/// A positive definite kernel on feature vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// `exp(-gamma ‖x − y‖²)`.
    Gaussian {
        /// Inverse squared length scale (> 0).
        gamma: f64,
    },
    /// `exp(-gamma ‖x − y‖²) + weight x·y`: a linear trend (e.g. an extensive energy) plus
    /// smooth corrections, in one model.
    GaussianPlusLinear {
        /// Inverse squared length scale of the Gaussian part (> 0).
        gamma: f64,
        /// Weight of the linear part (>= 0).
        weight: f64,
    },
    /// `exp(-gamma ‖x − y‖₁)`, the kernel of Rupp et al.'s Coulomb-matrix regression.
    Laplacian {
        /// Inverse length scale (> 0).
        gamma: f64,
    },
}

impl Kernel {
    pub(crate) fn check(&self) -> Result<()> {
        let (g, w) = match self {
            Kernel::Gaussian { gamma } | Kernel::Laplacian { gamma } => (*gamma, 0.0),
            Kernel::GaussianPlusLinear { gamma, weight } => (*gamma, *weight),
        };
        if !(w.is_finite() && w >= 0.0) {
            return Err(LearnError::Param(format!(
                "linear kernel weight must be >= 0, got {w}"
            )));
        }
        if g.is_finite() && g > 0.0 {
            Ok(())
        } else {
            Err(LearnError::Param(format!(
                "kernel gamma must be > 0, got {g}"
            )))
        }
    }

    /// The kernel matrix `k(a_i, b_j)`, shape (rows of a, rows of b).
    pub fn matrix(&self, a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
        match *self {
            Kernel::Gaussian { gamma } => {
                Kernel::GaussianPlusLinear { gamma, weight: 0.0 }.matrix(a, b)
            }
            Kernel::GaussianPlusLinear { gamma, weight } => {
                let na: Array1<f64> = a.map_axis(Axis(1), |r| r.dot(&r));
                let nb: Array1<f64> = b.map_axis(Axis(1), |r| r.dot(&r));
                let mut k = a_b(a, b.t());
                Zip::indexed(&mut k).par_for_each(|(i, j), v| {
                    *v = (-gamma * (na[i] + nb[j] - 2.0 * *v).max(0.0)).exp() + weight * *v;
                });
                k
            }
            Kernel::Laplacian { gamma } => {
                let mut k = Array2::zeros((a.nrows(), b.nrows()));
                Zip::indexed(&mut k).par_for_each(|(i, j), v| {
                    let d: f64 = a
                        .row(i)
                        .iter()
                        .zip(b.row(j))
                        .map(|(x, y)| (x - y).abs())
                        .sum();
                    *v = (-gamma * d).exp();
                });
                k
            }
        }
    }
}

/// Squared Euclidean distances `‖a_i − b_j‖²`, shape (rows of a, rows of b), by the same
/// expansion as [`Kernel::matrix`]: `exp(-gamma D)` of them equals the Gaussian kernel
/// matrix, so several widths can share one product.
pub(crate) fn sq_distances(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let na: Array1<f64> = a.map_axis(Axis(1), |r| r.dot(&r));
    let nb: Array1<f64> = b.map_axis(Axis(1), |r| r.dot(&r));
    let mut d = a_b(a, b.t());
    Zip::indexed(&mut d).par_for_each(|(i, j), v| {
        *v = (na[i] + nb[j] - 2.0 * *v).max(0.0);
    });
    d
}

/// Kernel ridge regression: minimises `‖y − K c‖² + alpha cᵀ K c` over dual coefficients `c`,
/// targets centred first.
#[derive(Debug, Clone, Copy)]
pub struct KernelRidge {
    /// The kernel.
    pub kernel: Kernel,
    /// Ridge penalty (> 0).
    pub alpha: f64,
}

/// A fitted kernel ridge model: keeps its training rows.
#[derive(Debug, Clone)]
pub struct KernelRidgeModel {
    kernel: Kernel,
    train: Array2<f64>,
    dual: Array2<f64>,
    y_mean: Array1<f64>,
}

impl KernelRidge {
    /// Fits rows `x` to targets `y` (samples × outputs) by a Cholesky solve.
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<KernelRidgeModel> {
        let (k, yc, y_mean) = prepare(&self.kernel, &[self.alpha], x, y)?;
        let mut a = k;
        a.diag_mut().mapv_inplace(|v| v + self.alpha);
        let dual = solve_spd(a.view(), yc.view())?;
        Ok(KernelRidgeModel {
            kernel: self.kernel,
            train: x.to_owned(),
            dual,
            y_mean,
        })
    }

    /// One model per penalty in `alphas`, sharing one kernel matrix (a Cholesky solve each,
    /// several times cheaper than an eigendecomposition for a handful of penalties).
    pub fn fit_path(
        kernel: Kernel,
        alphas: &[f64],
        x: ArrayView2<f64>,
        y: ArrayView2<f64>,
    ) -> Result<Vec<KernelRidgeModel>> {
        let (k, yc, y_mean) = prepare(&kernel, alphas, x, y)?;
        let train = x.to_owned();
        alphas
            .iter()
            .map(|&alpha| {
                let mut a = k.clone();
                a.diag_mut().mapv_inplace(|v| v + alpha);
                let dual = solve_spd(a.view(), yc.view())?;
                Ok(KernelRidgeModel {
                    kernel,
                    train: train.clone(),
                    dual,
                    y_mean: y_mean.clone(),
                })
            })
            .collect()
    }
}

fn prepare(
    kernel: &Kernel,
    alphas: &[f64],
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
) -> Result<(Array2<f64>, Array2<f64>, Array1<f64>)> {
    check_rows(x.nrows(), y.nrows())?;
    check_finite2(x, "features")?;
    check_finite2(y, "targets")?;
    kernel.check()?;
    if let Some(a) = alphas.iter().find(|a| !(a.is_finite() && **a > 0.0)) {
        return Err(LearnError::Param(format!(
            "kernel ridge penalty must be > 0, got {a}"
        )));
    }
    let y_mean = y
        .mean_axis(Axis(0))
        .ok_or_else(|| LearnError::NotEnoughData("no samples".into()))?;
    Ok((kernel.matrix(x, x), &y - &y_mean, y_mean))
}

impl KernelRidgeModel {
    /// Predictions, shape (samples, outputs).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.train.ncols(), x.ncols())?;
        check_finite2(x, "features")?;
        let k = self.kernel.matrix(x, self.train.view());
        Ok(a_b(k.view(), self.dual.view()) + &self.y_mean)
    }
}

crate::estimator::regressor!(KernelRidge, KernelRidgeModel);

#[cfg(test)]
mod tests {

    /// Widths sharing one distance product give the kernel matrix exactly.
    #[test]
    fn gaussian_of_shared_distances_is_the_kernel_matrix() {
        let a = Array2::from_shape_fn((7, 4), |(i, j)| ((i * 3 + j) as f64).sin());
        let b = Array2::from_shape_fn((5, 4), |(i, j)| ((i + 2 * j) as f64).cos());
        let d = sq_distances(a.view(), b.view());
        for gamma in [0.1, 2.0] {
            let k = Kernel::Gaussian { gamma }.matrix(a.view(), b.view());
            assert_eq!(d.mapv(|v| (-gamma * v).exp()), k);
        }
        assert!(d.iter().all(|&v| v >= 0.0));
        let direct = (a.row(2).to_owned() - b.row(3)).mapv(|v| v * v).sum();
        assert!((d[[2, 3]] - direct).abs() < 1e-12);
    }

    use super::*;
    use ndarray::Array2;

    #[test]
    fn learns_a_smooth_nonlinear_function_that_linear_ridge_cannot() {
        // y = sin(3 x0) + x1^2 on a grid of [-1, 1]^2.
        let pts: Vec<(f64, f64)> = (0..20)
            .flat_map(|i| (0..20).map(move |j| (i as f64 / 9.5 - 1.0, j as f64 / 9.5 - 1.0)))
            .collect();
        let f = |a: f64, b: f64| (3.0 * a).sin() + b * b;
        let x = Array2::from_shape_fn(
            (pts.len(), 2),
            |(i, k)| if k == 0 { pts[i].0 } else { pts[i].1 },
        );
        let y = Array2::from_shape_fn((pts.len(), 1), |(i, _)| f(pts[i].0, pts[i].1));
        let xt = Array2::from_shape_fn((50, 2), |(i, k)| {
            ((i * 37 + k * 11) % 100) as f64 / 55.0 - 0.9
        });
        let yt = Array2::from_shape_fn((50, 1), |(i, _)| f(xt[[i, 0]], xt[[i, 1]]));
        let rel = |p: Array2<f64>| {
            (&p - &yt).mapv(|e| e * e).sum().sqrt() / yt.mapv(|e| e * e).sum().sqrt()
        };
        let model = KernelRidge {
            kernel: Kernel::Gaussian { gamma: 2.0 },
            alpha: 1e-6,
        }
        .fit(x.view(), y.view())
        .unwrap();
        let e_krr = rel(model.predict(xt.view()).unwrap());
        assert!(e_krr < 1e-3, "kernel ridge error {e_krr}");
        let lin = crate::Ridge::new(1e-6).fit(x.view(), y.view()).unwrap();
        assert!(rel(lin.predict(xt.view()).unwrap()) > 0.2);
        // The path agrees with the single fit.
        let path = KernelRidge::fit_path(
            Kernel::Gaussian { gamma: 2.0 },
            &[1e-6, 1.0],
            x.view(),
            y.view(),
        )
        .unwrap();
        let d = (&path[0].predict(xt.view()).unwrap() - &model.predict(xt.view()).unwrap())
            .mapv(f64::abs)
            .fold(0.0, |a: f64, &b| a.max(b));
        assert!(d < 1e-6, "path vs cholesky {d}");
        let lap = KernelRidge {
            kernel: Kernel::Laplacian { gamma: 1.0 },
            alpha: 1e-4,
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert!(rel(lap.predict(xt.view()).unwrap()) < 0.05);
        // A linear target: the Gaussian-plus-linear kernel extrapolates it, the Gaussian does not.
        let ylin = x
            .map_axis(Axis(1), |r| 5.0 * r[0] - 2.0 * r[1])
            .insert_axis(Axis(1));
        let far = ndarray::array![[3.0, -2.0], [-4.0, 1.0]];
        let truth = far.map_axis(Axis(1), |r| 5.0 * r[0] - 2.0 * r[1]);
        let gl = KernelRidge {
            kernel: Kernel::GaussianPlusLinear {
                gamma: 2.0,
                weight: 10.0,
            },
            alpha: 1e-6,
        }
        .fit(x.view(), ylin.view())
        .unwrap();
        let g = KernelRidge {
            kernel: Kernel::Gaussian { gamma: 2.0 },
            alpha: 1e-6,
        }
        .fit(x.view(), ylin.view())
        .unwrap();
        let err = |m: &KernelRidgeModel| {
            (&m.predict(far.view()).unwrap().column(0) - &truth)
                .mapv(f64::abs)
                .sum()
        };
        assert!(
            err(&gl) < 0.2 * err(&g),
            "linear part should extrapolate: {} vs {}",
            err(&gl),
            err(&g)
        );
        assert!(KernelRidge {
            kernel: Kernel::Gaussian { gamma: 0.0 },
            alpha: 1.0
        }
        .fit(x.view(), y.view())
        .is_err());
        assert!(KernelRidge {
            kernel: Kernel::Gaussian { gamma: 1.0 },
            alpha: 0.0
        }
        .fit(x.view(), y.view())
        .is_err());
    }
}
