//! Standardisation: zero mean and unit variance per feature, learnt on training data only.

use crate::error::{check_features, check_finite2, LearnError, Result};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};

/// Per-feature mean and scale learnt by [`Standardizer::fit`].
///
/// Constant features (standard deviation below `1e-12` times the largest one, or exactly 0) keep
/// scale 1 so they map to 0 rather than to NaN.
#[derive(Debug, Clone)]
pub struct Standardizer {
    /// Mean of every feature over the training rows.
    pub mean: Array1<f64>,
    /// Standard deviation of every feature (1 for constant features).
    pub scale: Array1<f64>,
}

impl Standardizer {
    /// Learns mean and standard deviation of each column of `x` (rows are samples).
    pub fn fit(x: ArrayView2<f64>) -> Result<Self> {
        if x.nrows() == 0 {
            return Err(LearnError::NotEnoughData(
                "no samples to standardise".into(),
            ));
        }
        check_finite2(x, "features")?;
        let mean = x
            .mean_axis(Axis(0))
            .ok_or_else(|| LearnError::NotEnoughData("no samples".into()))?;
        let mut scale = x.var_axis(Axis(0), 0.0).mapv(f64::sqrt);
        let top = scale.iter().cloned().fold(0.0, f64::max);
        scale.mapv_inplace(|s| if s <= 1e-12 * top || s == 0.0 { 1.0 } else { s });
        Ok(Self { mean, scale })
    }

    /// Returns `(x - mean) / scale`.
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_features(self.mean.len(), x.ncols())?;
        check_finite2(x, "features")?;
        let mut out = x.to_owned();
        out -= &self.mean;
        out /= &self.scale;
        Ok(out)
    }

    /// `x <- (x - mean) / scale` in place: no copy of a large matrix.
    pub fn transform_inplace(&self, mut x: ArrayViewMut2<f64>) -> Result<()> {
        check_features(self.mean.len(), x.ncols())?;
        check_finite2(x.view(), "features")?;
        x -= &self.mean;
        x /= &self.scale;
        Ok(())
    }

    /// Fits on `x` and returns it transformed.
    pub fn fit_transform(x: ArrayView2<f64>) -> Result<(Self, Array2<f64>)> {
        let s = Self::fit(x)?;
        let t = s.transform(x)?;
        Ok((s, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn in_place_transform_equals_the_copy_and_checks_its_input() {
        let x = array![[1.0, 5.0, 2.0], [3.0, 1.0, 2.0], [8.0, 0.0, 2.0]];
        let s = Standardizer::fit(x.view()).unwrap();
        let mut y = x.clone();
        s.transform_inplace(y.view_mut()).unwrap();
        assert_eq!(y, s.transform(x.view()).unwrap());
        assert!(s
            .transform_inplace(Array2::zeros((2, 2)).view_mut())
            .is_err());
        let mut bad = x.clone();
        bad[[0, 0]] = f64::NAN;
        assert!(s.transform_inplace(bad.view_mut()).is_err());
    }

    #[test]
    fn standardised_columns_have_zero_mean_unit_variance_and_constants_map_to_zero() {
        let x = array![[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]];
        let (s, t) = Standardizer::fit_transform(x.view()).unwrap();
        for j in [0, 2] {
            let c = t.column(j);
            assert!(c.mean().unwrap().abs() < 1e-12);
            assert!((c.var(0.0) - 1.0).abs() < 1e-12);
        }
        assert!(t.column(1).iter().all(|&v| v == 0.0));
        assert_eq!(s.scale[1], 1.0);
        assert!(s.transform(array![[1.0, 2.0]].view()).is_err());
        assert!(Standardizer::fit(array![[f64::NAN]].view()).is_err());
    }
}
