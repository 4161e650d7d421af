//! Multinomial logistic regression (softmax), fitted by L-BFGS on batched gradients.
//!
//! The cost and its gradient come from two dense products per evaluation (`X W` and
//! `Xᵀ (P − Y)`, faer's parallel matrix product), evaluated together and cached, since
//! L-BFGS asks for both at the same point. This replaced `linfa-logistic`, whose
//! per-iteration cost made the 60,000-image MNIST fit take 32 minutes.

use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2};
use std::sync::Mutex;

/// Softmax regression: minimises the summed cross-entropy plus `alpha / 2 ‖W‖²` (so `alpha = 1`
/// is scikit-learn's `C = 1`); the intercepts are not penalised.
#[derive(Debug, Clone, Copy)]
pub struct Logistic {
    /// L2 penalty (>= 0).
    pub alpha: f64,
    /// Iteration cap of the L-BFGS solver.
    pub max_iterations: u64,
    /// Stop when the gradient of the per-sample mean loss falls below this (Euclidean norm
    /// over all weights and intercepts), or when an iteration lowers that loss by less than
    /// `1e-10` times its value at the start.
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
#[derive(Debug, Clone)]
pub struct LogisticModel {
    /// Weights, (features, classes).
    weights: Array2<f64>,
    /// Intercepts, one per class.
    intercepts: Vec<f64>,
    classes: Vec<usize>,
    iterations: u64,
}

/// Relative change of the mean loss below which the fit stops.
const LOSS_TOLERANCE: f64 = 1e-10;

/// A C-contiguous array as a faer matrix, without copying.
fn faer_view<'a, S: ndarray::Data<Elem = f64>>(
    x: &'a ndarray::ArrayBase<S, ndarray::Ix2>,
) -> Option<MatRef<'a, f64>> {
    let s = x.as_slice()?;
    Some(MatRef::from_row_major_slice(s, x.nrows(), x.ncols()))
}

/// `z = x w + b`, row by row (n, k), into a row-major buffer.
fn scores(x: MatRef<f64>, w: &[f64], b: &[f64], z: &mut [f64]) {
    let (n, d, k) = (x.nrows(), x.ncols(), b.len());
    for row in z.chunks_exact_mut(k) {
        row.copy_from_slice(b);
    }
    let wm = MatRef::from_row_major_slice(w, d, k);
    let zm = MatMut::from_row_major_slice_mut(z, n, k);
    faer::linalg::matmul::matmul(zm, Accum::Add, x, wm, 1.0, Par::rayon(0));
}

/// The objective in the per-sample mean: cross-entropy plus `alpha / (2 n) ‖W‖²`.
struct Objective<'a> {
    x: MatRef<'a, f64>,
    /// Class index (0..k) of every row.
    y: &'a [usize],
    k: usize,
    alpha: f64,
    /// The last point and its cost and gradient.
    last: Mutex<Option<Evaluation>>,
}

/// A point, its cost and its gradient.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

impl Objective<'_> {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        if let Ok(last) = self.last.lock() {
            if let Some((t, c, g)) = last.as_ref() {
                if t.as_slice() == theta {
                    return (*c, g.clone());
                }
            }
        }
        let (n, d, k) = (self.x.nrows(), self.x.ncols(), self.k);
        let (w, b) = theta.split_at(d * k);
        let mut z = vec![0.0; n * k];
        scores(self.x, w, b, &mut z);
        // Softmax in place (z becomes P − Y), the loss summed on the way.
        let mut loss = 0.0;
        for (row, &c) in z.chunks_exact_mut(k).zip(self.y) {
            let m = row.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
            let s: f64 = row.iter().map(|&v| (v - m).exp()).sum();
            loss += m + s.ln() - row[c];
            for v in row.iter_mut() {
                *v = (*v - m).exp() / s;
            }
            row[c] -= 1.0;
        }
        let inv_n = 1.0 / n as f64;
        let penalty = 0.5 * self.alpha * w.iter().map(|v| v * v).sum::<f64>();
        let cost = (loss + penalty) * inv_n;
        let mut grad = vec![0.0; theta.len()];
        let (gw, gb) = grad.split_at_mut(d * k);
        gw.iter_mut()
            .zip(w)
            .for_each(|(g, &v)| *g = self.alpha * inv_n * v);
        let gm = MatMut::from_row_major_slice_mut(gw, d, k);
        let r = MatRef::from_row_major_slice(&z, n, k);
        faer::linalg::matmul::matmul(gm, Accum::Add, self.x.transpose(), r, inv_n, Par::rayon(0));
        for row in z.chunks_exact(k) {
            gb.iter_mut().zip(row).for_each(|(g, &v)| *g += v);
        }
        gb.iter_mut().for_each(|g| *g *= inv_n);
        if let Ok(mut last) = self.last.lock() {
            *last = Some((theta.to_vec(), cost, grad.clone()));
        }
        (cost, grad)
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, theta: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(theta).0)
    }
}

impl Gradient for Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, theta: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(theta).1)
    }
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
        if !(self.gradient_tolerance.is_finite() && self.gradient_tolerance >= 0.0) {
            return Err(LearnError::Param(format!(
                "logistic gradient tolerance must be >= 0, got {}",
                self.gradient_tolerance
            )));
        }
        if y.iter().all(|&c| c == y[0]) {
            return Err(LearnError::NotEnoughData(
                "a classifier needs at least two classes".into(),
            ));
        }
        let mut classes = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let index: Vec<usize> = y
            .iter()
            .map(|c| classes.binary_search(c).unwrap_or_default())
            .collect();
        // Copied only when not already row-major.
        let xs = x.as_standard_layout();
        let fx = faer_view(&xs).ok_or_else(|| LearnError::Fit("feature layout".into()))?;
        let (d, k) = (x.ncols(), classes.len());
        let objective = Objective {
            x: fx,
            y: &index,
            k,
            alpha: self.alpha,
            last: Mutex::new(None),
        };
        let start = vec![0.0; d * k + k];
        // At zero weights every class has probability 1 / k.
        let loss0 = (k as f64).ln();
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
            .with_tolerance_grad(self.gradient_tolerance)
            .and_then(|s| s.with_tolerance_cost(LOSS_TOLERANCE * loss0))
            .map_err(|e| LearnError::Fit(format!("logistic solver: {e}")))?;
        let res = Executor::new(objective, solver)
            .configure(|s| s.param(start.clone()).max_iters(self.max_iterations))
            .run()
            .map_err(|e| LearnError::Fit(format!("logistic fit: {e}")))?;
        let iterations = res.state().get_iter();
        let theta = res.state().get_best_param().cloned().unwrap_or(start);
        let (w, b) = theta.split_at(d * k);
        Ok(LogisticModel {
            weights: Array2::from_shape_vec((d, k), w.to_vec())
                .map_err(|e| LearnError::Fit(e.to_string()))?,
            intercepts: b.to_vec(),
            classes,
            iterations,
        })
    }
}

impl LogisticModel {
    fn scores(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.weights.nrows(), x.ncols())?;
        check_finite2(x, "features")?;
        let xs = x.as_standard_layout();
        let fx = faer_view(&xs).ok_or_else(|| LearnError::Fit("feature layout".into()))?;
        let w = self.weights.as_slice().unwrap_or_default();
        let mut z = vec![0.0; x.nrows() * self.classes.len()];
        scores(fx, w, &self.intercepts, &mut z);
        Array2::from_shape_vec((x.nrows(), self.classes.len()), z)
            .map_err(|e| LearnError::Fit(e.to_string()))
    }

    /// Most probable label of every row.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>> {
        let z = self.scores(x)?;
        Ok(z.rows()
            .into_iter()
            .map(|r| {
                let best = r
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |a, (i, &v)| if v > a.1 { (i, v) } else { a },
                    );
                self.classes[best.0]
            })
            .collect())
    }

    /// Class probabilities, shape (samples, classes), columns in [`LogisticModel::classes`] order.
    pub fn predict_probabilities(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let mut z = self.scores(x)?;
        for mut r in z.rows_mut() {
            let m = r.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
            r.mapv_inplace(|v| (v - m).exp());
            let s = r.sum();
            r.mapv_inplace(|v| v / s);
        }
        Ok(z)
    }

    /// The labels seen in training, in column order.
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    /// Weights, shape (features, classes).
    pub fn weights(&self) -> ArrayView2<'_, f64> {
        self.weights.view()
    }

    /// Intercepts, one per class.
    pub fn intercepts(&self) -> &[f64] {
        &self.intercepts
    }

    /// L-BFGS iterations the fit ran.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }
}

crate::estimator::classifier!(Logistic, LogisticModel);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// The gradient of the objective against central finite differences.
    #[test]
    fn gradient_matches_finite_differences() {
        let mut rng = StdRng::seed_from_u64(4);
        let (n, d, k) = (30, 4, 3);
        let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0));
        let y: Vec<usize> = (0..n).map(|i| i % k).collect();
        let objective = Objective {
            x: faer_view(&x).unwrap(),
            y: &y,
            k,
            alpha: 0.7,
            last: Mutex::new(None),
        };
        let theta: Vec<f64> = (0..d * k + k)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let (_, g) = objective.evaluate(&theta);
        let h = 1e-6;
        for i in 0..theta.len() {
            let (mut a, mut b) = (theta.clone(), theta.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (objective.evaluate(&a).0 - objective.evaluate(&b).0) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-8, "component {i}: {fd} vs {}", g[i]);
        }
    }

    /// Probabilities sum to one and the predicted label is the most probable; labels that
    /// are not 0..k come back as given.
    #[test]
    fn labels_and_probabilities_are_consistent() {
        let mut rng = StdRng::seed_from_u64(5);
        let y: Vec<usize> = (0..60).map(|i| [3, 7, 11][i % 3]).collect();
        let x = Array2::from_shape_fn((60, 2), |(i, j)| {
            let c = [3, 7, 11].iter().position(|&c| c == y[i]).unwrap_or(0) as f64;
            (if j == 0 { c * 3.0 } else { 0.0 }) + rng.random_range(-0.5..0.5)
        });
        let m = Logistic::default().fit(x.view(), &y).unwrap();
        assert_eq!(m.classes(), &[3, 7, 11]);
        let p = m.predict_probabilities(x.view()).unwrap();
        let pred = m.predict(x.view()).unwrap();
        for (r, l) in p.rows().into_iter().zip(&pred) {
            assert!((r.sum() - 1.0).abs() < 1e-12);
            let best = r
                .iter()
                .enumerate()
                .fold(0, |a, (i, &v)| if v > r[a] { i } else { a });
            assert_eq!(m.classes()[best], *l);
        }
        assert_eq!(pred, y, "separable classes");
    }
}
