//! A Gaussian-kernel classifier at the sizes of CIFAR-10 and MNIST (50,000-100,000 rows,
//! where the exact kernel matrix takes 20-80 GB): kernel ridge regression restricted to
//! the span of `m` landmark rows (Nystrom; Rudi, Camoriano and Rosasco 2015), one-vs-all
//! with targets ±1 and an unpenalised intercept, the largest score wins: the kernel-ridge
//! counterpart of a Gaussian SVM.
//!
//! With `K_nm` the kernel between the rows and the landmarks, centred over the rows, the
//! coefficients solve `(K_nmᵀ K_nm + lambda K_mm) c = K_nmᵀ y`: the same model as ridge on
//! the Nystrom features `K_nm K_mm^(-1/2)`, without the `m^3` eigendecompositions, so `m`
//! can be 10,000 or more. The squared distances to the landmarks are computed once (stored
//! in f32) and shared by every width; `K_nmᵀ K_nm` is accumulated block by block of rows
//! (never the whole `K_nm`), and every penalty costs one Cholesky factorisation.
//!
//! The kernel width and the ridge penalty are chosen on a validation split: the width as a
//! multiple of the inverse median squared distance between training rows (the usual
//! heuristic), the penalty as a multiple of the number of rows.

use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use crate::kernel_approx::Nystrom;
use crate::kernel_ridge::{sq_distances, Kernel};
use crate::linalg::{a_b, add_gram_lower, at_b, solve_spd};
use crate::metrics::error_rate;
use ndarray::{s, Array1, Array2, ArrayView2, Axis, Zip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Hyper-parameters and search grid of [`NystromClassifier`].
#[derive(Debug, Clone)]
pub struct NystromClassifier {
    /// Landmark rows (all rows when the training set is smaller). The cost is about
    /// `n m d` for the distances plus, per width, `n m^2 / 2` and one `m^3 / 3` Cholesky
    /// factorisation per penalty; the memory `4 n m` bytes plus three `m x m` matrices.
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
    kernel: Kernel,
    landmarks: Array2<f64>,
    /// Coefficients of the landmarks' kernel functions, (landmarks, classes).
    coef: Array2<f64>,
    intercept: Array1<f64>,
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
        let landmarks = Nystrom {
            kernel: Kernel::Gaussian { gamma: 1.0 },
            n_landmarks: self.n_landmarks,
            seed: self.seed,
        }
        .landmarks(x)?;
        let m = landmarks.nrows();
        // One distance product for every width: it (rows x landmarks x features) is most
        // of the cost. Stored in f32, half the memory; the kernel's relative error stays
        // near 1e-7.
        let d_ll = sq_distances(landmarks.view(), landmarks.view());
        let mut d_x = Array2::<f32>::zeros((n, m));
        for (k, mut out) in d_x.axis_chunks_iter_mut(Axis(0), BLOCK).enumerate() {
            let rows = x.slice(s![k * BLOCK..k * BLOCK + out.nrows(), ..]);
            let d = sq_distances(rows, landmarks.view());
            Zip::from(&mut out)
                .and(&d)
                .par_for_each(|o, &v| *o = v as f32);
        }
        let d_val = sq_distances(x_val, landmarks.view());
        let y_mean = targets
            .mean_axis(Axis(0))
            .ok_or_else(|| LearnError::NotEnoughData("no samples".into()))?;
        let mut best: Option<NystromClassifierModel> = None;
        for &scale in &self.gamma_scales {
            let gamma = scale / d2;
            let kernel = Kernel::Gaussian { gamma };
            // K_nmᵀ K_nm (lower triangle), K_nmᵀ y and the column means of K_nm, a block of
            // rows at a time.
            let mut gram = Array2::<f64>::zeros((m, m));
            let mut rhs = Array2::<f64>::zeros((m, classes.len()));
            let mut mean = Array1::<f64>::zeros(m);
            for (k, d) in d_x.axis_chunks_iter(Axis(0), BLOCK).enumerate() {
                let mut kb = Array2::<f64>::zeros(d.raw_dim());
                Zip::from(&mut kb)
                    .and(&d)
                    .par_for_each(|o, &v| *o = (-gamma * f64::from(v)).exp());
                add_gram_lower(&mut gram, kb.view());
                let tb = targets.slice(s![k * BLOCK..k * BLOCK + kb.nrows(), ..]);
                rhs += &at_b(kb.view(), tb);
                mean += &kb.sum_axis(Axis(0));
            }
            mean /= n as f64;
            // Centring the rows (the intercept): K_nmᵀ K_nm - n mu muᵀ, K_nmᵀ (y - ȳ).
            let nf = n as f64;
            Zip::indexed(&mut gram).par_for_each(|(i, j), g| {
                if j <= i {
                    *g -= nf * mean[i] * mean[j];
                }
            });
            for (i, mut r) in rhs.rows_mut().into_iter().enumerate() {
                r.zip_mut_with(&y_mean, |v, &ym| *v -= nf * mean[i] * ym);
            }
            let k_mm = d_ll.mapv(|v| (-gamma * v).exp());
            let k_val = d_val.mapv(|v| (-gamma * v).exp());
            // The best penalty of this width (the first of equals).
            let mut top: Option<(f64, usize, Array2<f64>, Array1<f64>)> = None;
            for (a, &alpha) in self.alphas.iter().enumerate() {
                let coef = solve_penalised(&gram, &k_mm, alpha * nf, &rhs)?;
                let intercept = &y_mean - &mean.dot(&coef);
                let scores = a_b(k_val.view(), coef.view()) + &intercept;
                let acc = accuracy(&argmax_classes(&scores, &classes), y_val);
                if top.as_ref().is_none_or(|t| acc > t.0) {
                    top = Some((acc, a, coef, intercept));
                }
            }
            let Some((acc, a, coef, intercept)) = top else {
                continue;
            };
            if best.as_ref().is_none_or(|b| acc > b.validation_accuracy) {
                best = Some(NystromClassifierModel {
                    kernel,
                    landmarks: landmarks.clone(),
                    coef,
                    intercept,
                    classes: classes.clone(),
                    gamma,
                    gamma_scale: scale,
                    alpha: self.alphas[a],
                    validation_accuracy: acc,
                });
            }
        }
        best.ok_or_else(|| LearnError::Fit("no hyper-parameters were tried".into()))
    }
}

/// Rows per block of the kernel matrices: 2,048 x 10,000 landmarks is 160 MB in f64.
const BLOCK: usize = 2048;

/// Solves `(gram + lambda k_mm) c = rhs` from the lower triangles, by Cholesky. A
/// landmark set with near-duplicates makes both matrices singular along the same
/// directions: a jitter on the diagonal, from `1e-12` of its largest entry up to `1e-6`,
/// is then added until the factorisation succeeds.
fn solve_penalised(
    gram: &Array2<f64>,
    k_mm: &Array2<f64>,
    lambda: f64,
    rhs: &Array2<f64>,
) -> Result<Array2<f64>> {
    let mut a = Array2::<f64>::zeros(gram.raw_dim());
    Zip::indexed(&mut a)
        .and(gram)
        .and(k_mm)
        .par_for_each(|(i, j), o, &g, &k| {
            if j <= i {
                *o = g + lambda * k;
            }
        });
    let top = a.diag().iter().copied().fold(0.0, f64::max);
    let mut jitter = 0.0;
    loop {
        match solve_spd(a.view(), rhs.view()) {
            Ok(c) => return Ok(c),
            Err(e) if jitter >= 1e-6 * top => return Err(e),
            Err(_) => {
                let next = if jitter == 0.0 {
                    1e-12 * top
                } else {
                    100.0 * jitter
                };
                a.diag_mut().mapv_inplace(|v| v + next - jitter);
                jitter = next;
            }
        }
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
        check_features(self.landmarks.ncols(), x.ncols())?;
        check_finite2(x, "features")?;
        let mut out = Array2::zeros((x.nrows(), self.classes.len()));
        for (k, mut o) in out.axis_chunks_iter_mut(Axis(0), BLOCK).enumerate() {
            let rows = x.slice(s![k * BLOCK..k * BLOCK + o.nrows(), ..]);
            let kb = self.kernel.matrix(rows, self.landmarks.view());
            o.assign(&(a_b(kb.view(), self.coef.view()) + &self.intercept));
        }
        Ok(out)
    }

    /// The labels seen in training, in column order.
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    /// Number of landmark rows.
    pub fn n_landmarks(&self) -> usize {
        self.landmarks.nrows()
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
        assert_eq!(m.n_landmarks(), 100);
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

    /// The Cholesky solve in the landmarks' span is ridge regression (with intercept) on
    /// the Nystrom features `K_nm K_mm^(-1/2)`: the same scores, up to the f32 storage of
    /// the distances (scores of order 1 agree to about 1e-6).
    #[test]
    fn equals_ridge_on_nystrom_features() {
        use crate::kernel_approx::Nystrom;
        use crate::ridge::Ridge;
        let mut rng = StdRng::seed_from_u64(7);
        let mut data = |n: usize| {
            let x = Array2::from_shape_simple_fn((n, 8), || rng.random_range(-1.0..1.0));
            let y: Vec<usize> = x
                .rows()
                .into_iter()
                .map(|r| usize::from(r[0] * r[1] > 0.0) + usize::from(r[2] > 0.5))
                .collect();
            (x, y)
        };
        let ((x, y), (xv, yv), (xt, _)) = (data(300), data(80), data(50));
        let (scale, alpha) = (0.7, 1e-3);
        let m = NystromClassifier {
            n_landmarks: 120,
            gamma_scales: vec![scale],
            alphas: vec![alpha],
            seed: 3,
        }
        .fit(x.view(), &y, xv.view(), &yv)
        .unwrap();
        let map = Nystrom {
            kernel: Kernel::Gaussian { gamma: m.gamma },
            n_landmarks: 120,
            seed: 3,
        }
        .fit(x.view())
        .unwrap();
        let targets = Array2::from_shape_fn((300, 3), |(i, c)| if y[i] == c { 1.0 } else { -1.0 });
        let ridge = Ridge::new(alpha * 300.0)
            .fit(map.transform(x.view()).unwrap().view(), targets.view())
            .unwrap();
        let want = ridge
            .predict(map.transform(xt.view()).unwrap().view())
            .unwrap();
        let got = m.scores(xt.view()).unwrap();
        let err = (&got - &want)
            .mapv(f64::abs)
            .fold(0.0, |a: f64, &b| a.max(b));
        assert!(err < 1e-5, "largest score difference {err}");
        assert_eq!(m.classes(), &[0, 1, 2]);
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
