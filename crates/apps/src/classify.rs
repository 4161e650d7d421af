//! The classifiers the classification experiments share, fitted with their
//! hyperparameters chosen on the training rows only.

use crate::AppError;
use ndarray::{ArrayView2, Axis};
use scattering_learn::{error_rate, AffineSpace, Fit, GridSearch, Logistic, Predict, Standardizer};

/// Fits `classifier` (`"affine"`: Bruna and Mallat's affine-space classifier, its
/// dimension by 4-fold CV; otherwise multinomial logistic regression, its penalty by
/// 4-fold CV) on the standardised `train` rows of `x` and predicts the `test` rows.
pub fn fit_predict(
    classifier: &str,
    x: ArrayView2<f64>,
    y: &[usize],
    train: &[usize],
    test: &[usize],
) -> Result<Vec<usize>, AppError> {
    let (xtr, xte) = (x.select(Axis(0), train), x.select(Axis(0), test));
    let ytr: Vec<usize> = train.iter().map(|&i| y[i]).collect();
    let st = Standardizer::fit(xtr.view())?;
    let (xtr, xte) = (st.transform(xtr.view())?, st.transform(xte.view())?);
    let per_class = ytr.len() / (ytr.iter().max().map_or(1, |m| m + 1));
    Ok(match classifier {
        "affine" => {
            // Dimensions that leave a few rows per class in each CV fold.
            let cap = (per_class * 3 / 4).saturating_sub(1).max(1);
            let dims: Vec<usize> = [1, 2, 4, 8, 16, 32, 64]
                .into_iter()
                .filter(|&d| d <= cap)
                .collect();
            AffineSpace::new(dims, 4)
                .fit(xtr.view(), &ytr)?
                .predict(xte.view())?
        }
        _ => {
            let candidates = [0.1, 1.0, 10.0]
                .map(|alpha| Logistic {
                    alpha,
                    ..Logistic::default()
                })
                .to_vec();
            let search: GridSearch<Logistic, [usize]> =
                GridSearch::new(candidates, 4, 0, |t: &[usize], p: &[usize]| {
                    error_rate(p, t)
                });
            search.fit(xtr.view(), &ytr[..])?.predict(xte.view())?
        }
    })
}
