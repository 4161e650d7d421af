//! The shape every learner shares: an estimator (hyper-parameters) [`Fit`]s a model to rows
//! and targets, the model [`Predict`]s targets of new rows. Cross-validation, grid search
//! and standardisation are written once on these traits (see [`crate::cv`]).
//!
//! Targets are class labels (`[usize]`), one real value per row (`[f64]`) or a matrix of
//! outputs (`Array2<f64>`); predictions come back in the owned form of the same kind.

use crate::error::{check_rows, LearnError, Result};
use crate::preprocess::Standardizer;
use ndarray::{Array2, ArrayView2, Axis};
use std::borrow::Borrow;

/// Targets of a supervised problem, one per row of the features.
pub trait Targets {
    /// The owned form: what [`Predict`] returns and what row selection gives.
    type Owned: Borrow<Self>;
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// The targets of `rows`, in that order.
    fn select(&self, rows: &[usize]) -> Self::Owned;
    /// Targets for `n` rows put together from parts, each `(rows, values of those rows)`;
    /// rows no part names are zero.
    fn assemble(n: usize, parts: &[(Vec<usize>, Self::Owned)]) -> Result<Self::Owned>;
}

fn assemble_vec<T: Copy + Default>(n: usize, parts: &[(Vec<usize>, Vec<T>)]) -> Result<Vec<T>> {
    let mut out = vec![T::default(); n];
    for (rows, vals) in parts {
        check_rows(rows.len(), vals.len())?;
        for (&r, &v) in rows.iter().zip(vals) {
            *out.get_mut(r)
                .ok_or_else(|| LearnError::Param(format!("row {r} of {n}")))? = v;
        }
    }
    Ok(out)
}

impl Targets for [usize] {
    type Owned = Vec<usize>;
    fn n_rows(&self) -> usize {
        self.len()
    }
    fn select(&self, rows: &[usize]) -> Vec<usize> {
        rows.iter().map(|&i| self[i]).collect()
    }
    fn assemble(n: usize, parts: &[(Vec<usize>, Vec<usize>)]) -> Result<Vec<usize>> {
        assemble_vec(n, parts)
    }
}

impl Targets for [f64] {
    type Owned = Vec<f64>;
    fn n_rows(&self) -> usize {
        self.len()
    }
    fn select(&self, rows: &[usize]) -> Vec<f64> {
        rows.iter().map(|&i| self[i]).collect()
    }
    fn assemble(n: usize, parts: &[(Vec<usize>, Vec<f64>)]) -> Result<Vec<f64>> {
        assemble_vec(n, parts)
    }
}

impl Targets for Array2<f64> {
    type Owned = Array2<f64>;
    fn n_rows(&self) -> usize {
        self.nrows()
    }
    fn select(&self, rows: &[usize]) -> Array2<f64> {
        self.select(Axis(0), rows)
    }
    fn assemble(n: usize, parts: &[(Vec<usize>, Array2<f64>)]) -> Result<Array2<f64>> {
        let cols = parts.first().map_or(0, |p| p.1.ncols());
        let mut out = Array2::zeros((n, cols));
        for (rows, vals) in parts {
            check_rows(rows.len(), vals.nrows())?;
            if vals.ncols() != cols {
                return Err(LearnError::Shape(format!(
                    "parts with {} and {cols} outputs",
                    vals.ncols()
                )));
            }
            for (&r, v) in rows.iter().zip(vals.rows()) {
                if r >= n {
                    return Err(LearnError::Param(format!("row {r} of {n}")));
                }
                out.row_mut(r).assign(&v);
            }
        }
        Ok(out)
    }
}

/// A fitted model: predictions of type `Out` for rows `x` (samples × features).
pub trait Predict<Out> {
    /// Predictions, one per row.
    fn predict(&self, x: ArrayView2<f64>) -> Result<Out>;
}

/// An estimator: hyper-parameters that fit a model to rows `x` and targets `y`.
pub trait Fit<Y: Targets + ?Sized> {
    /// The fitted model.
    type Model: Predict<Y::Owned>;

    /// Fits on rows `x` (samples × features) and their targets.
    fn fit(&self, x: ArrayView2<f64>, y: &Y) -> Result<Self::Model>;

    /// One model per candidate setting, all fitted to the same data (a grid search's inner
    /// loop). A candidate that cannot be fitted (an ill-conditioned penalty, say) gives its
    /// own error; errors in the data fail the whole call. Estimators that share work across
    /// settings (one decomposition for every penalty) override this.
    fn fit_each(candidates: &[Self], x: ArrayView2<f64>, y: &Y) -> Result<Vec<Result<Self::Model>>>
    where
        Self: Sized,
    {
        check_rows(x.nrows(), y.n_rows())?;
        Ok(candidates.iter().map(|c| c.fit(x, y)).collect())
    }
}

/// An estimator fitted on standardised features: the [`Standardizer`] is learnt on the
/// training rows only and applied to every row the model predicts.
#[derive(Debug, Clone)]
pub struct Standardized<E>(pub E);

/// A model of [`Standardized`]: the scaler and the inner model.
#[derive(Debug, Clone)]
pub struct StandardizedModel<M> {
    /// The per-feature scaling learnt on the training rows.
    pub scaler: Standardizer,
    /// The model fitted on the scaled rows.
    pub model: M,
}

impl<Out, M: Predict<Out>> Predict<Out> for StandardizedModel<M> {
    fn predict(&self, x: ArrayView2<f64>) -> Result<Out> {
        self.model.predict(self.scaler.transform(x)?.view())
    }
}

impl<Y: Targets + ?Sized, E: Fit<Y> + Clone> Fit<Y> for Standardized<E> {
    type Model = StandardizedModel<E::Model>;

    fn fit(&self, x: ArrayView2<f64>, y: &Y) -> Result<Self::Model> {
        let (scaler, xs) = Standardizer::fit_transform(x)?;
        Ok(StandardizedModel {
            model: self.0.fit(xs.view(), y)?,
            scaler,
        })
    }

    fn fit_each(
        candidates: &[Self],
        x: ArrayView2<f64>,
        y: &Y,
    ) -> Result<Vec<Result<Self::Model>>> {
        // One scaling for every candidate, and the inner estimator's shared work.
        let (scaler, xs) = Standardizer::fit_transform(x)?;
        let inner: Vec<E> = candidates.iter().map(|c| c.0.clone()).collect();
        Ok(E::fit_each(&inner, xs.view(), y)?
            .into_iter()
            .map(|m| {
                m.map(|model| StandardizedModel {
                    scaler: scaler.clone(),
                    model,
                })
            })
            .collect())
    }
}

/// One real target per row as a one-column matrix.
pub(crate) fn column(y: &[f64]) -> Array2<f64> {
    Array2::from_shape_fn((y.len(), 1), |(i, _)| y[i])
}

/// The predictions of a one-output model as one value per row.
pub(crate) fn single_output(p: Array2<f64>) -> Result<Vec<f64>> {
    if p.ncols() != 1 {
        return Err(LearnError::Shape(format!(
            "one value per row asked of a model with {} outputs",
            p.ncols()
        )));
    }
    Ok(p.column(0).to_vec())
}

/// Implements [`Fit`] for matrix targets and for one real target per row, and [`Predict`]
/// of both forms, for a regressor whose inherent `fit` takes `(x, y: ArrayView2)` and whose
/// model's inherent `predict` returns `Array2`.
macro_rules! regressor {
    ($est:ty, $model:ty) => {
        impl $crate::estimator::Fit<ndarray::Array2<f64>> for $est {
            type Model = $model;
            fn fit(
                &self,
                x: ndarray::ArrayView2<f64>,
                y: &ndarray::Array2<f64>,
            ) -> $crate::error::Result<$model> {
                <$est>::fit(self, x, y.view())
            }
        }
        impl $crate::estimator::Fit<[f64]> for $est {
            type Model = $model;
            fn fit(&self, x: ndarray::ArrayView2<f64>, y: &[f64]) -> $crate::error::Result<$model> {
                <$est>::fit(self, x, $crate::estimator::column(y).view())
            }
        }
        impl $crate::estimator::Predict<ndarray::Array2<f64>> for $model {
            fn predict(
                &self,
                x: ndarray::ArrayView2<f64>,
            ) -> $crate::error::Result<ndarray::Array2<f64>> {
                <$model>::predict(self, x)
            }
        }
        impl $crate::estimator::Predict<Vec<f64>> for $model {
            fn predict(&self, x: ndarray::ArrayView2<f64>) -> $crate::error::Result<Vec<f64>> {
                $crate::estimator::single_output(<$model>::predict(self, x)?)
            }
        }
    };
}
pub(crate) use regressor;

/// Implements [`Fit`] for class labels and [`Predict`] of labels for a classifier whose
/// inherent `fit` takes `(x, y: &[usize])` and whose model's inherent `predict` returns
/// `Vec<usize>`.
macro_rules! classifier {
    ($est:ty, $model:ty) => {
        impl $crate::estimator::Fit<[usize]> for $est {
            type Model = $model;
            fn fit(
                &self,
                x: ndarray::ArrayView2<f64>,
                y: &[usize],
            ) -> $crate::error::Result<$model> {
                <$est>::fit(self, x, y)
            }
        }
        impl $crate::estimator::Predict<Vec<usize>> for $model {
            fn predict(&self, x: ndarray::ArrayView2<f64>) -> $crate::error::Result<Vec<usize>> {
                <$model>::predict(self, x)
            }
        }
    };
}
pub(crate) use classifier;
