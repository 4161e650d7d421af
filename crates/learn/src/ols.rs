//! Orthogonal least squares: greedy forward selection of the features that best explain a
//! target, each step choosing the column whose part orthogonal to the already chosen ones
//! removes the most residual energy (Chen, Billings & Luo, 1989).

use crate::error::{check_finite1, check_finite2, check_rows, LearnError, Result};
use crate::estimator::{column, single_output, Fit, Predict};
use crate::ridge::{LinearModel, Ridge};
use ndarray::{Array1, ArrayView1, ArrayView2, Axis};

/// The outcome of [`orthogonal_least_squares`].
#[derive(Debug, Clone)]
pub struct OlsPath {
    /// Selected feature indices, in the order chosen.
    pub selected: Vec<usize>,
    /// Residual sum of squares after each selection (after centring).
    pub residual: Vec<f64>,
}

/// Selects up to `n_select` columns of `x` (centred, with an implicit intercept) to explain `y`.
/// Stops early when the remaining columns are numerically in the span of the chosen ones.
pub fn orthogonal_least_squares(
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    n_select: usize,
) -> Result<OlsPath> {
    check_rows(x.nrows(), y.len())?;
    check_finite2(x, "features")?;
    check_finite1(y, "targets")?;
    if n_select == 0 {
        return Err(LearnError::Param("select at least one feature".into()));
    }
    let mean = x
        .mean_axis(Axis(0))
        .ok_or_else(|| LearnError::NotEnoughData("no samples".into()))?;
    // Columns orthogonalised against the chosen ones so far (Gram-Schmidt, updated in place).
    let mut w = (&x - &mean).reversed_axes().as_standard_layout().to_owned();
    let mut r: Array1<f64> = &y - y.mean().unwrap_or(0.0);
    let norms0: Vec<f64> = w.rows().into_iter().map(|c| c.dot(&c)).collect();
    let mut alive: Vec<bool> = norms0.iter().map(|&n| n > 0.0).collect();
    let mut path = OlsPath {
        selected: Vec::new(),
        residual: Vec::new(),
    };
    for _ in 0..n_select.min(x.ncols()) {
        let mut best: Option<(usize, f64)> = None;
        for (j, col) in w.rows().into_iter().enumerate() {
            if !alive[j] {
                continue;
            }
            let nn = col.dot(&col);
            // Columns that have lost (almost) all their norm are dependent on the chosen ones.
            if nn <= 1e-10 * norms0[j] {
                alive[j] = false;
                continue;
            }
            let gain = col.dot(&r).powi(2) / nn;
            if best.is_none_or(|(_, g)| gain > g) {
                best = Some((j, gain));
            }
        }
        let Some((j, _)) = best else { break };
        let q = {
            let c = w.row(j);
            &c / c.dot(&c).sqrt()
        };
        alive[j] = false;
        r = &r - &(&q * q.dot(&r));
        for (k, mut col) in w.rows_mut().into_iter().enumerate() {
            if alive[k] {
                let c = q.dot(&col);
                col.scaled_add(-c, &q);
            }
        }
        path.selected.push(j);
        path.residual.push(r.dot(&r));
    }
    Ok(path)
}

/// Sparse linear regression: [`orthogonal_least_squares`] picks `features` columns, then
/// least squares (a ridge penalty of 1e-8) on those alone.
#[derive(Debug, Clone, Copy)]
pub struct ForwardSelection {
    /// How many features to keep (>= 1).
    pub features: usize,
}

/// A [`ForwardSelection`] model: the chosen columns and the linear model on them.
#[derive(Debug, Clone)]
pub struct SelectedLinearModel {
    /// Indices of the chosen features, in the order chosen.
    pub columns: Vec<usize>,
    /// The fit on those columns.
    pub model: LinearModel,
}

impl SelectedLinearModel {
    fn of(path: &OlsPath, k: usize, x: ArrayView2<f64>, y: &[f64]) -> Result<Self> {
        let columns = path.selected[..k.min(path.selected.len())].to_vec();
        let model = Ridge::new(1e-8).fit(x.select(Axis(1), &columns).view(), column(y).view())?;
        Ok(Self { columns, model })
    }
}

impl Predict<Vec<f64>> for SelectedLinearModel {
    fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<f64>> {
        if let Some(&c) = self.columns.iter().find(|&&c| c >= x.ncols()) {
            return Err(LearnError::Shape(format!(
                "feature {c} chosen, rows have {}",
                x.ncols()
            )));
        }
        single_output(
            self.model
                .predict(x.select(Axis(1), &self.columns).view())?,
        )
    }
}

impl Fit<[f64]> for ForwardSelection {
    type Model = SelectedLinearModel;
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<SelectedLinearModel> {
        let path = orthogonal_least_squares(x, ArrayView1::from(y), self.features)?;
        SelectedLinearModel::of(&path, self.features, x, y)
    }
    /// One selection path, as long as the largest candidate, serves them all.
    fn fit_each(
        candidates: &[Self],
        x: ArrayView2<f64>,
        y: &[f64],
    ) -> Result<Vec<Result<SelectedLinearModel>>> {
        let kmax = candidates.iter().map(|c| c.features).max().unwrap_or(1);
        let path = orthogonal_least_squares(x, ArrayView1::from(y), kmax)?;
        Ok(candidates
            .iter()
            .map(|c| {
                if c.features == 0 {
                    return Err(LearnError::Param("select at least one feature".into()));
                }
                SelectedLinearModel::of(&path, c.features, x, y)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{rngs::StdRng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn selects_the_planted_features_first() {
        let mut rng = StdRng::seed_from_u64(11);
        let x = Array2::from_shape_fn((300, 40), |_| StandardNormal.sample(&mut rng));
        let noise: Array1<f64> = Array1::from_shape_fn(300, |_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            0.01 * z
        });
        let y = 3.0 * &x.column(7) - 2.0 * &x.column(21) + 1.0 * &x.column(33) + noise + 5.0;
        let path = orthogonal_least_squares(x.view(), y.view(), 5).unwrap();
        let mut first3 = path.selected[..3].to_vec();
        first3.sort_unstable();
        assert_eq!(first3, vec![7, 21, 33]);
        assert_eq!(path.selected[0], 7, "largest coefficient first");
        // After the three planted features only noise is left.
        assert!(path.residual[2] < 300.0 * 0.01f64.powi(2) * 1.5);
        assert!(path.residual.windows(2).all(|w| w[1] <= w[0] + 1e-12));
    }

    #[test]
    fn duplicate_columns_are_not_selected_twice() {
        let x = ndarray::array![
            [1.0, 1.0, 0.0],
            [2.0, 2.0, 1.0],
            [3.0, 3.0, 0.0],
            [4.0, 4.0, 1.0]
        ];
        let y = ndarray::array![1.0, 2.0, 3.0, 4.0];
        let path = orthogonal_least_squares(x.view(), y.view(), 3).unwrap();
        assert!(!(path.selected.contains(&0) && path.selected.contains(&1)));
        assert!(orthogonal_least_squares(x.view(), y.view(), 0).is_err());
    }
}
