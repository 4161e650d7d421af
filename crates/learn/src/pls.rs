//! Partial least squares regression (multi-output), through `linfa-pls`.

use crate::error::{check_features, check_finite2, check_rows, LearnError, Result};
use linfa::traits::{Fit, Predict};
use linfa::Dataset;
use linfa_pls::PlsRegression;
use ndarray::{Array2, ArrayView2};

/// PLS regression with `n_components` latent directions (NIPALS), features and targets
/// standardised internally.
#[derive(Debug, Clone, Copy)]
pub struct Pls {
    /// Number of latent components (>= 1, at most the number of features).
    pub n_components: usize,
}

/// A fitted PLS model.
pub struct PlsModel {
    inner: PlsRegression<f64>,
    n_features: usize,
}

impl Pls {
    /// PLS with `n_components` components.
    pub fn new(n_components: usize) -> Self {
        Self { n_components }
    }

    /// Fits on rows `x` (samples × features) and targets `y` (samples × outputs).
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<PlsModel> {
        check_rows(x.nrows(), y.nrows())?;
        check_finite2(x, "features")?;
        check_finite2(y, "targets")?;
        if self.n_components == 0 || self.n_components > x.ncols() || self.n_components >= x.nrows()
        {
            return Err(LearnError::Param(format!(
                "PLS needs 1 <= components <= min(features, samples - 1); got {} for {}x{}",
                self.n_components,
                x.nrows(),
                x.ncols()
            )));
        }
        let ds = Dataset::new(x.to_owned(), y.to_owned());
        let inner = PlsRegression::params(self.n_components)
            .fit(&ds)
            .map_err(|e| match e {
                // linfa-pls says "Constant residual detected in power method", or that the
                // power method did not converge: both when a component finds only round-off.
                linfa_pls::PlsError::PowerMethodConstantResidualError()
                | linfa_pls::PlsError::PowerMethodNotConvergedError(_) => LearnError::Fit(format!(
                    "PLS with {} components: the features (or targets) leave nothing to explain \
                     before the last component (constant columns, or fewer independent \
                     directions than components); use fewer components",
                    self.n_components
                )),
                e => LearnError::Fit(format!("PLS: {e}")),
            })?;
        Ok(PlsModel {
            inner,
            n_features: x.ncols(),
        })
    }
}

impl PlsModel {
    /// Predictions, shape (samples, outputs).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.n_features, x.ncols())?;
        check_finite2(x, "features")?;
        Ok(self.inner.predict(&x.to_owned()))
    }
}

crate::estimator::regressor!(Pls, PlsModel);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn recovers_a_planted_rank_two_map() {
        // Latent-variable model: x = t Pᵀ + noise (20 features), y = t Q (3 outputs), with two
        // latent factors t. The map from x to y has rank 2 and lives on the span of P.
        let mut rng = StdRng::seed_from_u64(3);
        let mut g = |r, c| Array2::from_shape_fn((r, c), |_| StandardNormal.sample(&mut rng));
        let (p, q) = (g(20, 2), g(2, 3));
        let t = g(400, 2);
        let x = t.dot(&p.t()) + g(400, 20) * 0.01;
        let y = t.dot(&q);
        let model = Pls::new(2).fit(x.view(), y.view()).unwrap();
        let tt = g(200, 2);
        let xt = tt.dot(&p.t()) + g(200, 20) * 0.01;
        let yt = tt.dot(&q);
        let rel = |pred: &Array2<f64>| {
            (pred - &yt).mapv(|e| e * e).sum().sqrt() / yt.mapv(|e| e * e).sum().sqrt()
        };
        let pred = model.predict(xt.view()).unwrap();
        assert!(rel(&pred) < 0.02, "relative error {}", rel(&pred));
        // One component cannot carry a rank-2 map.
        let one = Pls::new(1)
            .fit(x.view(), y.view())
            .unwrap()
            .predict(xt.view())
            .unwrap();
        assert!(rel(&one) > 0.1, "rank-1 error {}", rel(&one));
        assert!(Pls::new(0).fit(x.view(), y.view()).is_err());
        // Features of rank one: the second component finds a zero residual, and the
        // message says what to change (linfa-pls says "Constant residual detected").
        let rank1 = Array2::from_shape_fn((x.nrows(), 4), |(i, _)| x[[i, 0]]);
        let e = Pls::new(3)
            .fit(rank1.view(), y.view())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("use fewer components"), "{e}");
    }
}
