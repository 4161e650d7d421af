//! The error type of `scattering-learn`.

use ndarray::{ArrayView1, ArrayView2};

/// Everything a fit or a prediction can reject. Every variant names the cause in one line.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// Arrays whose shapes do not fit together (rows of `x` and `y`, feature counts, ...).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A hyper-parameter outside its domain (negative ridge penalty, k < 2 folds, ...).
    #[error("invalid parameter: {0}")]
    Param(String),
    /// A NaN or infinite value in user data.
    #[error("non-finite value (NaN or infinity) in {0}")]
    NonFinite(&'static str),
    /// Too few samples (or classes) for the requested fit.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// A factorisation failed (a matrix that should be positive definite is not).
    #[error("linear algebra failed: {0}")]
    Linalg(String),
    /// An error reported by an underlying linfa estimator.
    #[error("fit failed: {0}")]
    Fit(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, LearnError>;

pub(crate) fn check_finite2(x: ArrayView2<f64>, what: &'static str) -> Result<()> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(LearnError::NonFinite(what))
    }
}

pub(crate) fn check_finite1(x: ArrayView1<f64>, what: &'static str) -> Result<()> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(LearnError::NonFinite(what))
    }
}

pub(crate) fn check_rows(n_x: usize, n_y: usize) -> Result<()> {
    if n_x != n_y {
        return Err(LearnError::Shape(format!(
            "x has {n_x} rows but the targets have {n_y}"
        )));
    }
    if n_x == 0 {
        return Err(LearnError::NotEnoughData("no samples".into()));
    }
    Ok(())
}

pub(crate) fn check_features(expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(LearnError::Shape(format!(
            "the model was fitted on {expected} features, got {got}"
        )));
    }
    Ok(())
}
