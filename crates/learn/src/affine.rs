//! The affine-space classifier of Bruna & Mallat (2013): each class is modelled by its mean plus
//! the span of its first `d` principal directions, and a sample goes to the class whose affine
//! space is closest. `d` is chosen by cross-validation.

use crate::cv::stratified_kfold;
use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use crate::linalg::{a_b, at_b, sym_eig_desc};
use crate::metrics::error_rate;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Hyper-parameters of the affine-space classifier.
#[derive(Debug, Clone)]
pub struct AffineSpace {
    /// Candidate dimensions of the class spaces; cross-validation picks one. A single
    /// candidate skips cross-validation.
    pub dims: Vec<usize>,
    /// Number of folds for choosing the dimension (>= 2).
    pub folds: usize,
    /// Seed of the fold shuffling.
    pub seed: u64,
}

/// One class's affine space.
#[derive(Debug, Clone)]
struct ClassSpace {
    label: usize,
    mean: Array1<f64>,
    /// Principal directions as columns (features × kept dimensions), by decreasing variance.
    basis: Array2<f64>,
}

/// A fitted affine-space classifier.
#[derive(Debug, Clone)]
pub struct AffineModel {
    spaces: Vec<ClassSpace>,
    /// The dimension used by [`AffineModel::predict`].
    pub dim: usize,
    /// Cross-validated error for every candidate dimension, `(dim, error)`; empty if none ran.
    pub cv_errors: Vec<(usize, f64)>,
}

impl AffineSpace {
    /// Candidate dimensions `dims`, `folds`-fold cross-validation.
    pub fn new(dims: Vec<usize>, folds: usize) -> Self {
        Self {
            dims,
            folds,
            seed: 0,
        }
    }

    /// Fits on rows `x` with labels `y`: cross-validates the dimension, then refits on all rows.
    pub fn fit(&self, x: ArrayView2<f64>, y: &[usize]) -> Result<AffineModel> {
        check_rows(x.nrows(), y.len())?;
        check_finite2(x, "features")?;
        if self.dims.is_empty() {
            return Err(LearnError::Param("no candidate dimension".into()));
        }
        let max_dim = *self.dims.iter().max().unwrap_or(&0);
        let (dim, cv_errors) = if self.dims.len() == 1 {
            (self.dims[0], Vec::new())
        } else {
            if self.folds < 2 {
                return Err(LearnError::Param(format!(
                    "need >= 2 folds, got {}",
                    self.folds
                )));
            }
            let mut wrong = vec![0usize; self.dims.len()];
            for fold in stratified_kfold(y, self.folds, self.seed)? {
                let xt = x.select(Axis(0), &fold.train);
                let yt: Vec<usize> = fold.train.iter().map(|&i| y[i]).collect();
                let model = fit_spaces(xt.view(), &yt, max_dim)?;
                let xv = x.select(Axis(0), &fold.test);
                let yv: Vec<usize> = fold.test.iter().map(|&i| y[i]).collect();
                for (w, pred) in wrong
                    .iter_mut()
                    .zip(predict_dims(&model, xv.view(), &self.dims))
                {
                    *w += (error_rate(&pred, &yv) * yv.len() as f64).round() as usize;
                }
            }
            let errs: Vec<(usize, f64)> = self
                .dims
                .iter()
                .zip(&wrong)
                .map(|(&d, &w)| (d, w as f64 / y.len() as f64))
                .collect();
            // Smallest error; ties go to the smaller dimension.
            let best = errs
                .iter()
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
                .map(|e| e.0)
                .unwrap_or(0);
            (best, errs)
        };
        let spaces = fit_spaces(x, y, dim)?;
        Ok(AffineModel {
            spaces,
            dim,
            cv_errors,
        })
    }
}

impl AffineModel {
    /// Label of the nearest class space for every row.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>> {
        self.check(x)?;
        Ok(predict_dims(&self.spaces, x, &[self.dim])
            .pop()
            .unwrap_or_default())
    }

    /// Predictions for several dimensions at once (each at most the fitted one).
    pub fn predict_dims(&self, x: ArrayView2<f64>, dims: &[usize]) -> Result<Vec<Vec<usize>>> {
        self.check(x)?;
        Ok(predict_dims(&self.spaces, x, dims))
    }

    fn check(&self, x: ArrayView2<f64>) -> Result<()> {
        let d = self.spaces.first().map_or(0, |s| s.mean.len());
        check_features(d, x.ncols())?;
        check_finite2(x, "features")
    }
}

/// Mean and `max_dim` leading principal directions of every class. Uses the Gram matrix of
/// the class (samples × samples) when it is smaller than the covariance (features × features).
fn fit_spaces(x: ArrayView2<f64>, y: &[usize], max_dim: usize) -> Result<Vec<ClassSpace>> {
    let mut labels: Vec<usize> = y.to_vec();
    labels.sort_unstable();
    labels.dedup();
    if labels.len() < 2 {
        return Err(LearnError::NotEnoughData(
            "a classifier needs at least two classes".into(),
        ));
    }
    labels
        .into_iter()
        .map(|label| {
            let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == label).collect();
            let xc = x.select(Axis(0), &rows);
            let mean = xc
                .mean_axis(Axis(0))
                .ok_or_else(|| LearnError::NotEnoughData("empty class".into()))?;
            let xc = xc - &mean;
            let (n, d) = xc.dim();
            let keep = max_dim.min(n.saturating_sub(1)).min(d);
            let basis = if keep == 0 {
                Array2::zeros((d, 0))
            } else if d <= n {
                let (_, v) = sym_eig_desc(at_b(xc.view(), xc.view()).view())?;
                v.slice(ndarray::s![.., ..keep]).to_owned()
            } else {
                // xc = U S Vᵀ: the right singular vectors are xcᵀ U / S.
                let (s2, u) = sym_eig_desc(a_b(xc.view(), xc.t()).view())?;
                let top = s2[0].max(0.0);
                let keep = s2.iter().take(keep).filter(|&&l| l > 1e-12 * top).count();
                let mut v = at_b(xc.view(), u.slice(ndarray::s![.., ..keep]));
                for (mut col, &l) in v.columns_mut().into_iter().zip(s2.iter()) {
                    col /= l.sqrt();
                }
                v
            };
            Ok(ClassSpace { label, mean, basis })
        })
        .collect()
}

/// Predicted labels for every dimension in `dims` (clamped to each class's basis size).
fn predict_dims(spaces: &[ClassSpace], x: ArrayView2<f64>, dims: &[usize]) -> Vec<Vec<usize>> {
    let n = x.nrows();
    let sq: Array1<f64> = x.map_axis(Axis(1), |r| r.dot(&r));
    // dist[c][d][i]: squared distance of row i to class c's space of dimension dims[d].
    let dists: Vec<Vec<Vec<f64>>> = spaces
        .par_iter()
        .map(|s| {
            let xm = x.dot(&s.mean);
            let mm = s.mean.dot(&s.mean);
            // Projections of (x - mean) on the basis.
            let p = a_b(x, s.basis.view()) - s.mean.dot(&s.basis);
            dims.iter()
                .map(|&d| {
                    let d = d.min(s.basis.ncols());
                    (0..n)
                        .map(|i| {
                            let r2 = sq[i] - 2.0 * xm[i] + mm;
                            let pr: f64 = p.row(i).iter().take(d).map(|v| v * v).sum();
                            r2 - pr
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    (0..dims.len())
        .map(|d| {
            (0..n)
                .map(|i| {
                    let mut best = (f64::INFINITY, 0);
                    for (c, s) in spaces.iter().enumerate() {
                        if dists[c][d][i] < best.0 {
                            best = (dists[c][d][i], s.label);
                        }
                    }
                    best.1
                })
                .collect()
        })
        .collect()
}

crate::estimator::classifier!(AffineSpace, AffineModel);
