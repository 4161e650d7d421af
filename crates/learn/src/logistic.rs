//! Multinomial logistic regression (softmax) through `linfa-logistic` (L-BFGS).

use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use linfa::traits::{Fit, Predict};
use linfa::Dataset;
use linfa_logistic::{MultiFittedLogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2, ArrayView2};

/// Softmax regression: minimises the summed cross-entropy plus `alpha / 2 ‖W‖²` (so `alpha = 1`
/// is scikit-learn's `C = 1`).
#[derive(Debug, Clone, Copy)]
pub struct Logistic {
    /// L2 penalty (>= 0).
    pub alpha: f64,
    /// Iteration cap of the L-BFGS solver.
    pub max_iterations: u64,
    /// Stop when the gradient of the per-sample mean loss falls below this (the solver sees
    /// the summed loss, so the tolerance is multiplied by the number of samples).
    pub gradient_tolerance: f64,
}

impl Default for Logistic {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            max_iterations: 200,
            gradient_tolerance: 1e-4,
        }
    }
}

/// A fitted multinomial logistic model.
pub struct LogisticModel {
    inner: MultiFittedLogisticRegression<f64, usize>,
    n_features: usize,
}

impl Logistic {
    /// Fits labels `y` (any `usize` values, at least two distinct) from rows `x`.
    pub fn fit(&self, x: ArrayView2<f64>, y: &[usize]) -> Result<LogisticModel> {
        check_rows(x.nrows(), y.len())?;
        check_finite2(x, "features")?;
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(LearnError::Param(format!(
                "logistic penalty must be >= 0, got {}",
                self.alpha
            )));
        }
        if y.iter().all(|&c| c == y[0]) {
            return Err(LearnError::NotEnoughData(
                "a classifier needs at least two classes".into(),
            ));
        }
        let ds = Dataset::new(x.to_owned(), Array1::from(y.to_vec()));
        let inner = MultiLogisticRegression::default()
            .alpha(self.alpha)
            .max_iterations(self.max_iterations)
            .gradient_tolerance(self.gradient_tolerance * y.len() as f64)
            .fit(&ds)
            .map_err(|e| LearnError::Fit(e.to_string()))?;
        Ok(LogisticModel {
            inner,
            n_features: x.ncols(),
        })
    }
}

impl LogisticModel {
    /// Most probable label of every row.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>> {
        check_features(self.n_features, x.ncols())?;
        check_finite2(x, "features")?;
        Ok(self.inner.predict(&x.to_owned()).to_vec())
    }

    /// Class probabilities, shape (samples, classes), columns in [`LogisticModel::classes`] order.
    pub fn predict_probabilities(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.n_features, x.ncols())?;
        check_finite2(x, "features")?;
        Ok(self.inner.predict_probabilities(&x))
    }

    /// The labels seen in training, in column order.
    pub fn classes(&self) -> &[usize] {
        self.inner.classes()
    }
}

crate::estimator::classifier!(Logistic, LogisticModel);
