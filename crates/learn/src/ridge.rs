//! Ridge (Tikhonov-regularised least squares) regression with an intercept and any number of
//! outputs. A whole path of penalties costs one eigendecomposition.

use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use crate::estimator::{column, single_output, Fit, Predict};
use crate::linalg::{a_b, at_b, sym_eig_desc};
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// An affine map `x ↦ x · coef + intercept` (rows of `x` are samples).
#[derive(Debug, Clone)]
pub struct LinearModel {
    /// Coefficients, shape (features, outputs).
    pub coef: Array2<f64>,
    /// Intercept per output.
    pub intercept: Array1<f64>,
}

impl LinearModel {
    /// Predictions, shape (samples, outputs).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.coef.nrows(), x.ncols())?;
        check_finite2(x, "features")?;
        Ok(x.dot(&self.coef) + &self.intercept)
    }
}

/// Ridge regression: minimises `‖y − x w − b‖² + alpha ‖w‖²` (the intercept `b` is not
/// penalised). `alpha = 0` gives the minimum-norm least-squares solution.
#[derive(Debug, Clone, Copy)]
pub struct Ridge {
    /// Penalty on the squared norm of the coefficients (>= 0).
    pub alpha: f64,
}

impl Ridge {
    /// Ridge with penalty `alpha`.
    pub fn new(alpha: f64) -> Self {
        Self { alpha }
    }

    /// Fits on rows `x` (samples × features) and targets `y` (samples × outputs).
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<LinearModel> {
        let mut path = Self::fit_path(&[self.alpha], x, y)?;
        path.pop()
            .ok_or_else(|| LearnError::Param("empty penalty list".into()))
    }

    /// Fits one model per penalty in `alphas` from a single eigendecomposition of the Gram
    /// matrix (primal when features <= samples, dual otherwise).
    pub fn fit_path(
        alphas: &[f64],
        x: ArrayView2<f64>,
        y: ArrayView2<f64>,
    ) -> Result<Vec<LinearModel>> {
        check_rows(x.nrows(), y.nrows())?;
        check_finite2(x, "features")?;
        check_finite2(y, "targets")?;
        if let Some(a) = alphas.iter().find(|a| !(a.is_finite() && **a >= 0.0)) {
            return Err(LearnError::Param(format!(
                "ridge penalty must be finite and >= 0, got {a}"
            )));
        }
        let x_mean = x
            .mean_axis(Axis(0))
            .ok_or_else(|| LearnError::NotEnoughData("no samples".into()))?;
        let y_mean = y
            .mean_axis(Axis(0))
            .ok_or_else(|| LearnError::NotEnoughData("no samples".into()))?;
        let xc = &x - &x_mean;
        let yc = &y - &y_mean;
        let (n, d) = xc.dim();
        let models = if d <= n {
            let (lam, v) = sym_eig_desc(at_b(xc.view(), xc.view()).view())?;
            let b = at_b(v.view(), at_b(xc.view(), yc.view()).view());
            alphas
                .iter()
                .map(|&alpha| {
                    let scaled = scale_rows(&b, &lam, alpha);
                    a_b(v.view(), scaled.view())
                })
                .collect::<Vec<_>>()
        } else {
            let k = a_b(xc.view(), xc.t());
            let (lam, u) = sym_eig_desc(k.view())?;
            let c = at_b(u.view(), yc.view());
            alphas
                .iter()
                .map(|&alpha| {
                    let dual = a_b(u.view(), scale_rows(&c, &lam, alpha).view());
                    at_b(xc.view(), dual.view())
                })
                .collect()
        };
        Ok(models
            .into_iter()
            .map(|coef| {
                let intercept = &y_mean - &x_mean.dot(&coef);
                LinearModel { coef, intercept }
            })
            .collect())
    }
}

/// Row k of `b` divided by `lam[k] + alpha`; directions with a vanishing denominator are dropped
/// (pseudo-inverse).
fn scale_rows(b: &Array2<f64>, lam: &Array1<f64>, alpha: f64) -> Array2<f64> {
    let top = lam.iter().cloned().fold(0.0, f64::max).max(alpha);
    let mut out = b.clone();
    for (mut row, &l) in out.rows_mut().into_iter().zip(lam) {
        let den = l.max(0.0) + alpha;
        let f = if den > 1e-12 * top { 1.0 / den } else { 0.0 };
        row.mapv_inplace(|v| v * f);
    }
    out
}

/// The penalty path: one decomposition serves every candidate penalty.
fn ridge_each(
    candidates: &[Ridge],
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
) -> Result<Vec<Result<LinearModel>>> {
    let alphas: Vec<f64> = candidates.iter().map(|c| c.alpha).collect();
    match Ridge::fit_path(&alphas, x, y) {
        Ok(models) => Ok(models.into_iter().map(Ok).collect()),
        // A bad penalty among the candidates: fit one by one so only it fails.
        Err(LearnError::Param(_)) => Ok(candidates.iter().map(|c| c.fit(x, y)).collect()),
        Err(e) => Err(e),
    }
}

impl Fit<Array2<f64>> for Ridge {
    type Model = LinearModel;
    fn fit(&self, x: ArrayView2<f64>, y: &Array2<f64>) -> Result<LinearModel> {
        Ridge::fit(self, x, y.view())
    }
    fn fit_each(
        candidates: &[Self],
        x: ArrayView2<f64>,
        y: &Array2<f64>,
    ) -> Result<Vec<Result<LinearModel>>> {
        ridge_each(candidates, x, y.view())
    }
}

impl Fit<[f64]> for Ridge {
    type Model = LinearModel;
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<LinearModel> {
        Ridge::fit(self, x, column(y).view())
    }
    fn fit_each(
        candidates: &[Self],
        x: ArrayView2<f64>,
        y: &[f64],
    ) -> Result<Vec<Result<LinearModel>>> {
        ridge_each(candidates, x, column(y).view())
    }
}

impl Predict<Array2<f64>> for LinearModel {
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        LinearModel::predict(self, x)
    }
}

impl Predict<Vec<f64>> for LinearModel {
    fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<f64>> {
        single_output(LinearModel::predict(self, x)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn exact_fit_without_penalty_and_shrinkage_with_it() {
        // y = 2 x0 - x1 + 3, exactly.
        let x = array![[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 5.0], [1.0, 2.0]];
        let y = x
            .map_axis(Axis(1), |r| 2.0 * r[0] - r[1] + 3.0)
            .insert_axis(Axis(1));
        let m = Ridge::new(0.0).fit(x.view(), y.view()).unwrap();
        assert!((m.coef[[0, 0]] - 2.0).abs() < 1e-10 && (m.coef[[1, 0]] + 1.0).abs() < 1e-10);
        assert!((m.intercept[0] - 3.0).abs() < 1e-10);
        let path = Ridge::fit_path(&[0.0, 1.0, 100.0], x.view(), y.view()).unwrap();
        let norms: Vec<f64> = path
            .iter()
            .map(|m| m.coef.iter().map(|c| c * c).sum())
            .collect();
        assert!(norms[0] > norms[1] && norms[1] > norms[2]);
        assert!(Ridge::new(-1.0).fit(x.view(), y.view()).is_err());
        assert!(Ridge::new(1.0)
            .fit(x.view(), y.slice(ndarray::s![..3, ..]))
            .is_err());
    }

    #[test]
    fn primal_and_dual_routes_agree() {
        // 4 samples, 6 features: dual route; compare with the primal normal equations.
        let x = Array2::from_shape_fn((4, 6), |(i, j)| {
            ((i * 7 + j * 3) % 5) as f64 + 0.1 * j as f64
        });
        let y = Array2::from_shape_fn((4, 2), |(i, k)| (i + k) as f64);
        let m = Ridge::new(0.5).fit(x.view(), y.view()).unwrap();
        let xc = &x - &x.mean_axis(Axis(0)).unwrap();
        let yc = &y - &y.mean_axis(Axis(0)).unwrap();
        let a = xc.t().dot(&xc) + Array2::<f64>::eye(6) * 0.5;
        let w = crate::linalg::solve_spd(a.view(), xc.t().dot(&yc).view()).unwrap();
        assert!((&w - &m.coef).iter().all(|v| v.abs() < 1e-10));
    }
}
