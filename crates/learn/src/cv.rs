//! k-fold cross-validation, written once for every learner: splits ([`kfold`],
//! [`stratified_kfold`]), out-of-fold predictions ([`cross_val_predict`]), held-out losses
//! of candidate settings ([`cross_val_losses`]) and the estimator that picks one
//! ([`GridSearch`]), nested inside an outer cross-validation when wanted.
//!
//! ```
//! use ndarray::Array2;
//! use scattering_learn::{cross_val_predict, kfold, mae, GridSearch, Ridge, Standardized};
//!
//! let x = Array2::from_shape_fn((40, 3), |(i, j)| ((i * (j + 2)) % 7) as f64);
//! let y: Vec<f64> = x.rows().into_iter().map(|r| 2.0 * r[0] - r[2] + 1.0).collect();
//! // Penalty chosen by an inner 3-fold CV inside each of 5 outer folds.
//! let ridge = GridSearch::new(
//!     [1e-6, 1e-2, 1e2].map(|a| Standardized(Ridge::new(a))).to_vec(),
//!     3,
//!     1,
//!     |t: &[f64], p: &[f64]| mae(p, t),
//! );
//! let (pred, models) = cross_val_predict(&ridge, x.view(), &y[..], &kfold(40, 5, 0)?)?;
//! assert!(mae(&pred, &y) < 1e-3);
//! assert!(models.iter().all(|m| m.chosen < 2));
//! # Ok::<(), scattering_learn::LearnError>(())
//! ```

use crate::error::{check_rows, LearnError, Result};
use crate::estimator::{Fit, Predict, Targets};
use ndarray::{ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::borrow::Borrow;

/// One split: indices of the training rows and of the held-out rows.
#[derive(Debug, Clone)]
pub struct Fold {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows to evaluate on.
    pub test: Vec<usize>,
}

/// Shuffles `0..n` with `seed` and cuts it into `k` folds of sizes differing by at most one.
/// Every index is held out exactly once.
pub fn kfold(n: usize, k: usize, seed: u64) -> Result<Vec<Fold>> {
    if k < 2 {
        return Err(LearnError::Param(format!("k-fold needs k >= 2, got {k}")));
    }
    if n < k {
        return Err(LearnError::NotEnoughData(format!(
            "{n} samples for {k} folds"
        )));
    }
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut StdRng::seed_from_u64(seed));
    Ok(split(&perm, k))
}

/// Like [`kfold`] but keeps the class proportions in every fold (each class is shuffled and
/// dealt round-robin over the folds).
pub fn stratified_kfold(labels: &[usize], k: usize, seed: u64) -> Result<Vec<Fold>> {
    if k < 2 {
        return Err(LearnError::Param(format!("k-fold needs k >= 2, got {k}")));
    }
    if labels.len() < k {
        return Err(LearnError::NotEnoughData(format!(
            "{} samples for {k} folds",
            labels.len()
        )));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let n_classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut order = Vec::with_capacity(labels.len());
    for c in 0..n_classes {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        idx.shuffle(&mut rng);
        order.extend(idx);
    }
    // Dealing `order` round-robin puts every class evenly into the folds.
    let mut tests = vec![Vec::new(); k];
    for (pos, &i) in order.iter().enumerate() {
        tests[pos % k].push(i);
    }
    Ok(folds_from_tests(labels.len(), tests))
}

/// Out-of-fold predictions: for each fold, a model fitted on its training rows predicts
/// its held-out rows. Returns the predictions in row order (rows no fold holds out are
/// zero) and each fold's model.
pub fn cross_val_predict<E, Y>(
    est: &E,
    x: ArrayView2<f64>,
    y: &Y,
    folds: &[Fold],
) -> Result<(Y::Owned, Vec<E::Model>)>
where
    E: Fit<Y>,
    Y: Targets + ?Sized,
{
    check_rows(x.nrows(), y.n_rows())?;
    let mut parts = Vec::with_capacity(folds.len());
    let mut models = Vec::with_capacity(folds.len());
    for f in folds {
        let yt = y.select(&f.train);
        let model = est.fit(x.select(Axis(0), &f.train).view(), yt.borrow())?;
        let pred = model.predict(x.select(Axis(0), &f.test).view())?;
        parts.push((f.test.clone(), pred));
        models.push(model);
    }
    Ok((Y::assemble(y.n_rows(), &parts)?, models))
}

/// Mean held-out `loss(truth, prediction)` of every candidate over `folds` (lower is
/// better). A candidate that cannot be fitted on some fold, or whose loss is NaN, scores
/// `+inf`.
pub fn cross_val_losses<E, Y, L>(
    candidates: &[E],
    x: ArrayView2<f64>,
    y: &Y,
    folds: &[Fold],
    loss: L,
) -> Result<Vec<f64>>
where
    E: Fit<Y>,
    Y: Targets + ?Sized,
    L: Fn(&Y, &Y) -> f64,
{
    check_rows(x.nrows(), y.n_rows())?;
    if folds.is_empty() {
        return Err(LearnError::Param("no folds".into()));
    }
    let mut total = vec![0.0; candidates.len()];
    for f in folds {
        let (yt, yv) = (y.select(&f.train), y.select(&f.test));
        let xv = x.select(Axis(0), &f.test);
        let models = E::fit_each(candidates, x.select(Axis(0), &f.train).view(), yt.borrow())?;
        for (t, m) in total.iter_mut().zip(models) {
            let l = match m {
                Ok(m) => loss(yv.borrow(), m.predict(xv.view())?.borrow()),
                Err(_) => f64::INFINITY,
            };
            *t += if l.is_nan() { f64::INFINITY } else { l };
        }
    }
    Ok(total.into_iter().map(|t| t / folds.len() as f64).collect())
}

/// An estimator that picks one of its candidates by k-fold cross-validation on the rows it
/// is fitted to, then refits that candidate on all of them. Inside
/// [`cross_val_predict`] this is nested cross-validation.
pub struct GridSearch<E, Y: ?Sized> {
    /// The candidate settings.
    pub candidates: Vec<E>,
    /// Folds of the inner cross-validation (>= 2).
    pub folds: usize,
    /// Seed of the inner fold shuffling.
    pub seed: u64,
    /// Held-out loss `loss(truth, prediction)`, lower is better.
    pub loss: fn(&Y, &Y) -> f64,
}

impl<E, Y: ?Sized> GridSearch<E, Y> {
    /// Picks among `candidates` by `folds`-fold cross-validation shuffled with `seed`.
    pub fn new(candidates: Vec<E>, folds: usize, seed: u64, loss: fn(&Y, &Y) -> f64) -> Self {
        Self {
            candidates,
            folds,
            seed,
            loss,
        }
    }
}

/// The model a [`GridSearch`] chose and refitted.
#[derive(Debug, Clone)]
pub struct GridSearchModel<M> {
    /// Index of the chosen candidate (the first of the smallest loss).
    pub chosen: usize,
    /// Mean held-out loss of every candidate.
    pub losses: Vec<f64>,
    /// The chosen candidate refitted on all rows.
    pub model: M,
}

impl<Out, M: Predict<Out>> Predict<Out> for GridSearchModel<M> {
    fn predict(&self, x: ArrayView2<f64>) -> Result<Out> {
        self.model.predict(x)
    }
}

impl<E: Fit<Y>, Y: Targets + ?Sized> Fit<Y> for GridSearch<E, Y> {
    type Model = GridSearchModel<E::Model>;

    fn fit(&self, x: ArrayView2<f64>, y: &Y) -> Result<Self::Model> {
        if self.candidates.is_empty() {
            return Err(LearnError::Param("grid search without candidates".into()));
        }
        let folds = kfold(y.n_rows(), self.folds, self.seed)?;
        let losses = cross_val_losses(&self.candidates, x, y, &folds, self.loss)?;
        let chosen = losses
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(k, _)| k);
        Ok(GridSearchModel {
            model: self.candidates[chosen].fit(x, y)?,
            chosen,
            losses,
        })
    }
}

fn split(perm: &[usize], k: usize) -> Vec<Fold> {
    let n = perm.len();
    let tests: Vec<Vec<usize>> = (0..k)
        .map(|f| perm[f * n / k..(f + 1) * n / k].to_vec())
        .collect();
    folds_from_tests(n, tests)
}

fn folds_from_tests(n: usize, tests: Vec<Vec<usize>>) -> Vec<Fold> {
    tests
        .into_iter()
        .map(|mut test| {
            test.sort_unstable();
            let mut held = vec![false; n];
            for &i in &test {
                held[i] = true;
            }
            let train = (0..n).filter(|&i| !held[i]).collect();
            Fold { train, test }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_is_held_out_once_and_folds_are_balanced() {
        let folds = kfold(103, 5, 7).unwrap();
        let mut seen = vec![0; 103];
        for f in &folds {
            assert!(f.test.len() == 20 || f.test.len() == 21);
            assert_eq!(f.train.len() + f.test.len(), 103);
            for &i in &f.test {
                seen[i] += 1;
                assert!(!f.train.contains(&i));
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
        assert!(kfold(3, 5, 0).is_err() && kfold(10, 1, 0).is_err());
    }

    #[test]
    fn stratified_folds_keep_class_proportions() {
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 10 == 0)).collect();
        for f in stratified_kfold(&labels, 5, 1).unwrap() {
            assert_eq!(f.test.iter().filter(|&&i| labels[i] == 1).count(), 2);
        }
    }
}
