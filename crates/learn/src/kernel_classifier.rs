//! A Gaussian-kernel classifier at the sizes of CIFAR-10 and MNIST (50,000-60,000 rows,
//! where the exact kernel matrix takes 20-29 GB): a [`Nystrom`] map on `m` landmark rows,
//! then one-vs-all ridge regression on the mapped features (targets ±1, the largest score
//! wins), the kernel-ridge counterpart of a Gaussian SVM.
//!
//! The kernel width and the ridge penalty are chosen on a validation split: the width as a
//! multiple of the inverse median squared distance between training rows (the usual
//! heuristic), the penalty as a multiple of the number of rows. One eigendecomposition of
//! the mapped Gram matrix serves the whole penalty path ([`Ridge::fit_path`]), and one
//! product of the rows with the landmarks serves every width (only the exponential and the
//! map differ), so the search costs little more than one map.

use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use crate::kernel_approx::{Nystrom, NystromMap};
use crate::kernel_ridge::{sq_distances, Kernel};
use crate::metrics::error_rate;
use crate::ridge::{LinearModel, Ridge};
use ndarray::{Array2, ArrayView2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Hyper-parameters and search grid of [`NystromClassifier`].
#[derive(Debug, Clone)]
pub struct NystromClassifier {
    /// Landmark rows of the Nystrom map (all rows when the training set is smaller).
    pub n_landmarks: usize,
    /// Candidate widths: `gamma = scale / median squared distance`.
    pub gamma_scales: Vec<f64>,
    /// Candidate ridge penalties, as multiples of the number of training rows.
    pub alphas: Vec<f64>,
    /// Seed of the landmark choice and of the median estimate.
    pub seed: u64,
}

impl Default for NystromClassifier {
    fn default() -> Self {
        Self {
            n_landmarks: 4000,
            gamma_scales: vec![0.5, 1.0, 2.0],
            alphas: (-7..=0).map(|k| 10f64.powi(k)).collect(),
            seed: 0,
        }
    }
}

/// A fitted [`NystromClassifier`].
#[derive(Debug, Clone)]
pub struct NystromClassifierModel {
    map: NystromMap,
    ridge: LinearModel,
    classes: Vec<usize>,
    /// The kernel's `gamma`.
    pub gamma: f64,
    /// The chosen width, as a multiple of the inverse median squared distance.
    pub gamma_scale: f64,
    /// The chosen penalty, as a multiple of the number of training rows.
    pub alpha: f64,
    /// Accuracy on the validation rows of the chosen hyper-parameters.
    pub validation_accuracy: f64,
}

/// The median squared Euclidean distance between up to 2,000 random pairs of distinct
/// rows of `x` (1 when all sampled pairs coincide): the scale of a Gaussian kernel's
/// width heuristic.
pub fn median_sq_distance(x: ArrayView2<f64>, seed: u64) -> f64 {
    let n = x.nrows();
    if n < 2 {
        return 1.0;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut d: Vec<f64> = (0..2000)
        .map(|_| {
            let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
            x.row(a)
                .iter()
                .zip(x.row(b))
                .map(|(u, v)| (u - v).powi(2))
                .sum::<f64>()
        })
        .filter(|&v| v > 0.0)
        .collect();
    d.sort_by(f64::total_cmp);
    d.get(d.len() / 2).copied().unwrap_or(1.0)
}

/// The class of the largest score of every row: `classes[k]` for the column `k` of each
/// row's maximum (the first of equals).
pub fn argmax_classes(scores: &Array2<f64>, classes: &[usize]) -> Vec<usize> {
    scores
        .rows()
        .into_iter()
        .map(|r| {
            let k = r
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |b, (k, &v)| if v > b.1 { (k, v) } else { b },
                )
                .0;
            classes.get(k).copied().unwrap_or(k)
        })
        .collect()
}

fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
    1.0 - error_rate(pred, truth)
}

impl NystromClassifier {
    /// Fits on `(x, y)` for every width and penalty of the grid and keeps the one with the
    /// best accuracy on `(x_val, y_val)` (the first of equals).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[usize],
        x_val: ArrayView2<f64>,
        y_val: &[usize],
    ) -> Result<NystromClassifierModel> {
        check_rows(x.nrows(), y.len())?;
        check_rows(x_val.nrows(), y_val.len())?;
        check_features(x.ncols(), x_val.ncols())?;
        check_finite2(x, "features")?;
        check_finite2(x_val, "validation features")?;
        if self.gamma_scales.is_empty()
            || self.alphas.is_empty()
            || self
                .gamma_scales
                .iter()
                .chain(&self.alphas)
                .any(|v| !(v.is_finite() && *v > 0.0))
        {
            return Err(LearnError::Param(
                "the width and penalty grids must be non-empty, positive and finite".into(),
            ));
        }
        if y_val.is_empty() {
            return Err(LearnError::NotEnoughData(
                "the validation split is empty".into(),
            ));
        }
        let mut classes = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return Err(LearnError::NotEnoughData(
                "a classifier needs at least two classes".into(),
            ));
        }
        let n = x.nrows();
        let targets = Array2::from_shape_fn((n, classes.len()), |(i, c)| {
            if y[i] == classes[c] {
                1.0
            } else {
                -1.0
            }
        });
        let d2 = median_sq_distance(x, self.seed);
        let alphas: Vec<f64> = self.alphas.iter().map(|a| a * n as f64).collect();
        // One set of landmarks and one distance product for every width: the product
        // (rows x landmarks x features) is most of the cost.
        let landmarks = Nystrom {
            kernel: Kernel::Gaussian { gamma: 1.0 },
            n_landmarks: self.n_landmarks,
            seed: self.seed,
        }
        .landmarks(x)?;
        let d_ll = sq_distances(landmarks.view(), landmarks.view());
        let d_x = sq_distances(x, landmarks.view());
        let d_val = sq_distances(x_val, landmarks.view());
        let mut best: Option<NystromClassifierModel> = None;
        for &scale in &self.gamma_scales {
            let gamma = scale / d2;
            let gauss = |d: &Array2<f64>| {
                let mut k = d.clone();
                k.par_mapv_inplace(|v| (-gamma * v).exp());
                k
            };
            let kernel = Kernel::Gaussian { gamma };
            let map = NystromMap::factor(kernel, landmarks.clone(), gauss(&d_ll))?;
            let z = map.project(gauss(&d_x).view());
            let models = Ridge::fit_path(&alphas, z.view(), targets.view())?;
            drop(z);
            let z_val = map.project(gauss(&d_val).view());
            // The best penalty of this width (the first of equals).
            let mut top: Option<(f64, usize)> = None;
            for (k, ridge) in models.iter().enumerate() {
                let acc = accuracy(
                    &argmax_classes(&ridge.predict(z_val.view())?, &classes),
                    y_val,
                );
                if top.is_none_or(|t| acc > t.0) {
                    top = Some((acc, k));
                }
            }
            let Some((acc, k)) = top else { continue };
            if best.as_ref().is_none_or(|b| acc > b.validation_accuracy) {
                best = Some(NystromClassifierModel {
                    map,
                    ridge: models.into_iter().nth(k).ok_or_else(|| {
                        LearnError::Fit("the penalty path is shorter than its grid".into())
                    })?,
                    classes: classes.clone(),
                    gamma,
                    gamma_scale: scale,
                    alpha: self.alphas[k],
                    validation_accuracy: acc,
                });
            }
        }
        best.ok_or_else(|| LearnError::Fit("no hyper-parameters were tried".into()))
    }
}

impl NystromClassifierModel {
    /// The class of every row.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>> {
        Ok(argmax_classes(&self.scores(x)?, &self.classes))
    }

    /// The one-vs-all ridge outputs, shape (rows, classes), columns in
    /// [`NystromClassifierModel::classes`] order: the class with the largest is predicted,
    /// and sums over views of one image (a flip) vote.
    pub fn scores(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let z = self.map.transform(x)?;
        self.ridge.predict(z.view())
    }

    /// The labels seen in training, in column order.
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    /// Number of features of the Nystrom map (its numerical rank).
    pub fn n_features(&self) -> usize {
        self.map.n_features()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logistic::Logistic;
    use rand_distr::StandardNormal;

    /// Two concentric rings in the plane (radius 1 and 2, noise 0.15): no linear
    /// classifier does better than chance.
    fn rings(n: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut x = Array2::zeros((n, 2));
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 2;
            let t: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let r = 1.0 + c as f64 + 0.15 * rng.sample::<f64, _>(StandardNormal);
            x[[i, 0]] = r * t.cos();
            x[[i, 1]] = r * t.sin();
            y.push(c * 3 + 1); // labels 1 and 4: any usize values
        }
        (x, y)
    }

    #[test]
    fn separates_rings_that_a_linear_model_cannot() {
        let (x, y) = rings(600, 1);
        let (xv, yv) = rings(200, 2);
        let (xt, yt) = rings(400, 3);
        let m = NystromClassifier {
            n_landmarks: 100,
            ..Default::default()
        }
        .fit(x.view(), &y, xv.view(), &yv)
        .unwrap();
        let acc = accuracy(&m.predict(xt.view()).unwrap(), &yt);
        assert!(acc > 0.95, "kernel accuracy {acc}");
        assert!(m.validation_accuracy > 0.95);
        assert!(m.n_features() <= 100);
        assert!([0.5, 1.0, 2.0].contains(&m.gamma_scale));
        let lin = Logistic::default().fit(x.view(), &y).unwrap();
        let lin_acc = accuracy(&lin.predict(xt.view()).unwrap(), &yt);
        assert!(lin_acc < 0.7, "linear accuracy {lin_acc}");
    }

    #[test]
    fn the_search_keeps_the_best_validation_accuracy() {
        let (x, y) = rings(300, 4);
        let (xv, yv) = rings(100, 5);
        let base = NystromClassifier {
            n_landmarks: 60,
            ..Default::default()
        };
        let full = base.fit(x.view(), &y, xv.view(), &yv).unwrap();
        // Any single point of the grid does no better on validation.
        for &g in &base.gamma_scales {
            for &a in &base.alphas {
                let one = NystromClassifier {
                    gamma_scales: vec![g],
                    alphas: vec![a],
                    ..base.clone()
                }
                .fit(x.view(), &y, xv.view(), &yv)
                .unwrap();
                assert!(one.validation_accuracy <= full.validation_accuracy + 1e-12);
            }
        }
    }

    #[test]
    fn median_distance_of_a_known_set() {
        // Two points at distance 3: every distinct pair has squared distance 9.
        let x = ndarray::array![[0.0, 0.0], [3.0, 0.0]];
        assert_eq!(median_sq_distance(x.view(), 0), 9.0);
        assert_eq!(median_sq_distance(x.slice(ndarray::s![..1, ..]), 0), 1.0);
    }

    #[test]
    fn bad_input_is_refused() {
        let (x, y) = rings(40, 6);
        let c = NystromClassifier::default();
        assert!(c.fit(x.view(), &y[..39], x.view(), &y).is_err());
        assert!(c.fit(x.view(), &vec![0; 40], x.view(), &y).is_err());
        assert!(c
            .fit(x.view(), &y, x.slice(ndarray::s![..0, ..]), &[])
            .is_err());
        let bad = NystromClassifier {
            alphas: vec![],
            ..Default::default()
        };
        assert!(bad.fit(x.view(), &y, x.view(), &y).is_err());
        let bad = NystromClassifier {
            gamma_scales: vec![-1.0],
            ..Default::default()
        };
        assert!(bad.fit(x.view(), &y, x.view(), &y).is_err());
        let mut xn = x.clone();
        xn[[0, 0]] = f64::NAN;
        assert!(c.fit(xn.view(), &y, x.view(), &y).is_err());
        let m = c.fit(x.view(), &y, x.view(), &y).unwrap();
        assert!(m.predict(ndarray::Array2::zeros((2, 3)).view()).is_err());
    }
}
