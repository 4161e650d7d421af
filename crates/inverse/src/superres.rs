//! The classic super-resolution estimators the scattering estimates are compared with:
//! bicubic interpolation and the best linear estimator learned on training patches.

use crate::error::{InverseError, Result};
use crate::operator::{check, AntiAlias, BlurSubsample, LinearOperator};
use faer::{Mat, Side};
use ndarray::{Array2, ArrayView2};

/// Keys' cubic convolution kernel (a = -0.5, the usual "bicubic").
fn keys(t: f64) -> f64 {
    let t = t.abs();
    if t < 1.0 {
        (1.5 * t - 2.5) * t * t + 1.0
    } else if t < 2.0 {
        ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    } else {
        0.0
    }
}

/// Where the low-resolution sample `0` sits on the fine grid of `op`: the centre of the
/// first block for box averaging, the first fine pixel for Gaussian blur and decimation.
pub fn sample_offset(op: &BlurSubsample, filter: AntiAlias) -> f64 {
    match filter {
        AntiAlias::Box => 0.5 * (op.factor() as f64 - 1.0),
        AntiAlias::Gaussian { .. } => 0.0,
    }
}

/// Bicubic interpolation of `y` onto a grid `factor` times finer, the low-resolution sample
/// `(i, j)` placed at fine position `(i factor + offset, j factor + offset)`; edges are
/// replicated.
pub fn bicubic(y: ArrayView2<f64>, factor: usize, offset: f64) -> Result<Array2<f64>> {
    let (m, n) = y.dim();
    if factor == 0 || m == 0 || n == 0 || !offset.is_finite() {
        return Err(InverseError::Param(format!(
            "bicubic needs a non-empty image, a factor >= 1 and a finite offset, got {m} x {n}, {factor}, {offset}"
        )));
    }
    check(y, (m, n), "the low-resolution image")?;
    let f = factor as f64;
    // Weights and taps per fine coordinate, shared by rows and columns.
    let taps = |len: usize, fine: usize| -> Vec<[(usize, f64); 4]> {
        (0..fine)
            .map(|p| {
                let u = (p as f64 - offset) / f;
                let base = u.floor() as isize;
                let mut w = [(0usize, 0.0); 4];
                for (k, slot) in w.iter_mut().enumerate() {
                    let idx = base - 1 + k as isize;
                    let clamped = idx.clamp(0, len as isize - 1) as usize;
                    *slot = (clamped, keys(u - idx as f64));
                }
                w
            })
            .collect()
    };
    let (tr, tc) = (taps(m, m * factor), taps(n, n * factor));
    let rows = Array2::from_shape_fn((m, n * factor), |(i, q)| {
        tc[q].iter().map(|&(j, w)| w * y[[i, j]]).sum::<f64>()
    });
    Ok(Array2::from_shape_fn((m * factor, n * factor), |(p, q)| {
        tr[p].iter().map(|&(i, w)| w * rows[[i, q]]).sum::<f64>()
    }))
}

/// The affine least-squares map from the rows of `a` (samples x inputs) to those of `b`
/// (samples x outputs): both centred, then `(AᵀA + ridge · v I) W = AᵀB` with `v` the mean
/// input variance (times the sample count), solved by Cholesky. Returns `W` and the column
/// means of `a` and `b`.
fn affine_ridge(
    mut a: Mat<f64>,
    mut b: Mat<f64>,
    ridge: f64,
    what: &str,
) -> Result<(Array2<f64>, Vec<f64>, Vec<f64>)> {
    let rows = a.nrows();
    let centre = |m: &mut Mat<f64>| -> Vec<f64> {
        (0..m.ncols())
            .map(|c| {
                let mu = (0..rows).map(|r| m[(r, c)]).sum::<f64>() / rows as f64;
                (0..rows).for_each(|r| m[(r, c)] -= mu);
                mu
            })
            .collect()
    };
    let (mean_in, mean_out) = (centre(&mut a), centre(&mut b));
    let mut gram = a.transpose() * &a;
    let mut w = a.transpose() * &b;
    let din = a.ncols();
    let var = (0..din).map(|c| gram[(c, c)]).sum::<f64>() / din as f64;
    for c in 0..din {
        gram[(c, c)] += ridge * var.max(f64::MIN_POSITIVE);
    }
    let chol = gram.llt(Side::Lower).map_err(|_| {
        InverseError::Param(format!(
            "the {what} are degenerate (constant inputs?); raise the ridge"
        ))
    })?;
    faer::linalg::solvers::Solve::solve_in_place(&chol, w.as_mut());
    let weights = Array2::from_shape_fn((din, b.ncols()), |(i, o)| w[(i, o)]);
    Ok((weights, mean_in, mean_out))
}

/// The best linear estimator of high-resolution blocks from low-resolution patches:
/// `x̂ = Σ_xy Σ_y⁻¹ (y − ȳ) + x̄`, learned by ridge-regularised least squares on training
/// pairs. Each low-resolution pixel's `patch x patch` neighbourhood (edges replicated)
/// predicts the `factor x factor` block it came from.
#[derive(Debug, Clone)]
pub struct BestLinear {
    patch: usize,
    factor: usize,
    /// (patch², factor²) weights.
    weights: Array2<f64>,
    mean_in: Vec<f64>,
    mean_out: Vec<f64>,
}

fn patch_of(y: ArrayView2<f64>, i: usize, j: usize, patch: usize, out: &mut [f64]) {
    let (m, n) = y.dim();
    let r = (patch / 2) as isize;
    let mut k = 0;
    for di in -r..=r {
        for dj in -r..=r {
            let a = (i as isize + di).clamp(0, m as isize - 1) as usize;
            let b = (j as isize + dj).clamp(0, n as isize - 1) as usize;
            out[k] = y[[a, b]];
            k += 1;
        }
    }
}

impl BestLinear {
    /// Learns the estimator for `op` from high-resolution training images (each of the
    /// operator's input shape), with an odd `patch` side and ridge weight `ridge` (relative to
    /// the mean input variance).
    pub fn fit(
        op: &BlurSubsample,
        train: &[Array2<f64>],
        patch: usize,
        ridge: f64,
    ) -> Result<Self> {
        if patch.is_multiple_of(2) || train.is_empty() || !(ridge.is_finite() && ridge >= 0.0) {
            return Err(InverseError::Param(format!(
                "the best linear estimator needs an odd patch side, training images and a ridge >= 0, got {patch}, {} images, {ridge}",
                train.len()
            )));
        }
        let f = op.factor();
        let (din, dout) = (patch * patch, f * f);
        let mut pairs: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        for x in train {
            let y = op.apply(x.view())?;
            let (m, n) = y.dim();
            for i in 0..m {
                for j in 0..n {
                    let mut p = vec![0.0; din];
                    patch_of(y.view(), i, j, patch, &mut p);
                    let block: Vec<f64> = (0..dout)
                        .map(|k| x[[i * f + k / f, j * f + k % f]])
                        .collect();
                    pairs.push((p, block));
                }
            }
        }
        let a = Mat::<f64>::from_fn(pairs.len(), din, |r, c| pairs[r].0[c]);
        let b = Mat::<f64>::from_fn(pairs.len(), dout, |r, c| pairs[r].1[c]);
        let (weights, mean_in, mean_out) = affine_ridge(a, b, ridge, "training patches")?;
        Ok(Self {
            patch,
            factor: f,
            weights,
            mean_in,
            mean_out,
        })
    }

    /// The estimate of the high-resolution image from `y`.
    pub fn predict(&self, y: ArrayView2<f64>) -> Result<Array2<f64>> {
        let (m, n) = y.dim();
        check(y, (m, n), "the low-resolution image")?;
        let f = self.factor;
        let mut out = Array2::zeros((m * f, n * f));
        let mut p = vec![0.0; self.patch * self.patch];
        for i in 0..m {
            for j in 0..n {
                patch_of(y, i, j, self.patch, &mut p);
                for c in 0..f * f {
                    let v: f64 = p
                        .iter()
                        .zip(&self.mean_in)
                        .enumerate()
                        .map(|(a, (v, mu))| (v - mu) * self.weights[[a, c]])
                        .sum();
                    out[[i * f + c / f, j * f + c % f]] = v + self.mean_out[c];
                }
            }
        }
        Ok(out)
    }
}

/// A linear estimate of one family of coefficient maps from another (Bruna, Sprechmann and
/// LeCun's scattering super-resolution): inputs and targets are laid out `(channels,
/// positions)`, as a scattering transform flattens its `(channels, rows, columns)` output,
/// and at every position the target channels are an affine function of the input channels,
/// the same at all positions. Learned by ridge-regularised least squares over every position
/// of every training pair. With one position per vector it is a plain multivariate ridge
/// regression (e.g. of globally averaged moments).
#[derive(Debug, Clone)]
pub struct CoefficientRegression {
    channels_in: usize,
    channels_out: usize,
    /// `(channels_in, channels_out)`.
    weights: Array2<f64>,
    mean_in: Vec<f64>,
    mean_out: Vec<f64>,
}

impl CoefficientRegression {
    /// Fits the map from `inputs[k]` (`channels_in x P` values) to `targets[k]`
    /// (`channels_out x P`), with ridge weight `ridge` relative to the mean input variance.
    pub fn fit(
        inputs: &[Vec<f64>],
        targets: &[Vec<f64>],
        channels_in: usize,
        channels_out: usize,
        ridge: f64,
    ) -> Result<Self> {
        if inputs.is_empty() || inputs.len() != targets.len() {
            return Err(InverseError::Param(format!(
                "need as many targets as inputs, and at least one pair, got {} and {}",
                inputs.len(),
                targets.len()
            )));
        }
        if channels_in == 0 || channels_out == 0 || !(ridge.is_finite() && ridge >= 0.0) {
            return Err(InverseError::Param(format!(
                "need channels and a ridge >= 0, got {channels_in}, {channels_out} and {ridge}"
            )));
        }
        let positions = inputs[0].len() / channels_in;
        for (x, y) in inputs.iter().zip(targets) {
            if positions == 0
                || x.len() != channels_in * positions
                || y.len() != channels_out * positions
            {
                return Err(InverseError::Param(format!(
                    "every input must hold {channels_in} x {positions} values and every target {channels_out} x {positions}, got {} and {}",
                    x.len(),
                    y.len()
                )));
            }
            if x.iter().chain(y).any(|v| !v.is_finite()) {
                return Err(InverseError::NonFinite("the training coefficients"));
            }
        }
        let rows = inputs.len() * positions;
        // Samples as rows: position p of pair k is row k P + p.
        let design = |v: &[Vec<f64>], c: usize| {
            Mat::<f64>::from_fn(rows, c, |r, ch| {
                v[r / positions][ch * positions + r % positions]
            })
        };
        let (weights, mean_in, mean_out) = affine_ridge(
            design(inputs, channels_in),
            design(targets, channels_out),
            ridge,
            "training coefficients",
        )?;
        Ok(Self {
            channels_in,
            channels_out,
            weights,
            mean_in,
            mean_out,
        })
    }

    /// The estimated target (`channels_out x P`) of one input (`channels_in x P`).
    pub fn predict(&self, input: &[f64]) -> Result<Vec<f64>> {
        let positions = input.len() / self.channels_in;
        if positions == 0 || input.len() != self.channels_in * positions {
            return Err(InverseError::Param(format!(
                "the input must hold a multiple of {} values, got {}",
                self.channels_in,
                input.len()
            )));
        }
        if input.iter().any(|v| !v.is_finite()) {
            return Err(InverseError::NonFinite("the input coefficients"));
        }
        let mut out = vec![0.0; self.channels_out * positions];
        for p in 0..positions {
            for o in 0..self.channels_out {
                let mut v = self.mean_out[o];
                for i in 0..self.channels_in {
                    v += (input[i * positions + p] - self.mean_in[i]) * self.weights[[i, o]];
                }
                out[o * positions + p] = v;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::random_ellipses;

    /// Bicubic reproduces linear ramps exactly away from the edges and passes through the
    /// samples it interpolates.
    #[test]
    fn bicubic_interpolates_and_reproduces_ramps() {
        let y = Array2::from_shape_fn((8, 8), |(i, j)| 2.0 * i as f64 - j as f64);
        let up = bicubic(y.view(), 2, 0.0).unwrap();
        for i in 0..8 {
            for j in 0..8 {
                assert!((up[[2 * i, 2 * j]] - y[[i, j]]).abs() < 1e-12);
            }
        }
        for p in 4..12 {
            for q in 4..12 {
                let want = 2.0 * p as f64 / 2.0 - q as f64 / 2.0;
                assert!((up[[p, q]] - want).abs() < 1e-12, "({p}, {q})");
            }
        }
        assert!(bicubic(y.view(), 0, 0.0).is_err());
    }

    /// On held-out phantoms, the learned linear estimator beats bicubic (it knows the
    /// operator), and both beat nearest-neighbour upsampling.
    #[test]
    fn best_linear_beats_bicubic_on_held_out_images() {
        let op = BlurSubsample::new((64, 64), 1, AntiAlias::Box).unwrap();
        let train: Vec<Array2<f64>> = (0..6).map(|s| random_ellipses(64, 12, s)).collect();
        let model = BestLinear::fit(&op, &train, 5, 1e-6).unwrap();
        let mse = |a: &Array2<f64>, b: &Array2<f64>| (a - b).mapv(|v| v * v).mean().unwrap_or(0.0);
        let (mut e_lin, mut e_bic, mut e_nn) = (0.0, 0.0, 0.0);
        for s in 100..104 {
            let x = random_ellipses(64, 12, s);
            let y = op.apply(x.view()).unwrap();
            e_lin += mse(&model.predict(y.view()).unwrap(), &x);
            let off = sample_offset(&op, AntiAlias::Box);
            e_bic += mse(&bicubic(y.view(), 2, off).unwrap(), &x);
            e_nn += mse(&(op.adjoint(y.view()).unwrap() * 4.0), &x);
        }
        assert!(
            e_lin < e_bic && e_bic < e_nn,
            "linear {e_lin}, bicubic {e_bic}, nearest {e_nn}"
        );
        assert!(BestLinear::fit(&op, &train, 4, 1e-6).is_err());
        assert!(BestLinear::fit(&op, &[], 5, 1e-6).is_err());
    }

    /// An exact affine relation between channels, the same at every position, is recovered
    /// (ridge 0); bad shapes and NaN are refused.
    #[test]
    fn coefficient_regression_recovers_an_affine_map() {
        let (cin, cout, p) = (3, 2, 5);
        let w = [[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]];
        let bias = [0.25, -1.0];
        let make = |k: usize| -> (Vec<f64>, Vec<f64>) {
            let x: Vec<f64> = (0..cin * p)
                .map(|i| ((i * 7 + k * 13) % 11) as f64 / 11.0 + (k as f64).sin())
                .collect();
            let mut y = vec![0.0; cout * p];
            for q in 0..p {
                for o in 0..cout {
                    y[o * p + q] = bias[o] + (0..cin).map(|i| x[i * p + q] * w[i][o]).sum::<f64>();
                }
            }
            (x, y)
        };
        let (xs, ys): (Vec<_>, Vec<_>) = (0..6).map(make).unzip();
        let r = CoefficientRegression::fit(&xs, &ys, cin, cout, 0.0).unwrap();
        let (x, y) = make(9);
        let got = r.predict(&x).unwrap();
        for (a, b) in got.iter().zip(&y) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!(CoefficientRegression::fit(&xs, &ys[..2], cin, cout, 0.0).is_err());
        assert!(CoefficientRegression::fit(&xs, &ys, 4, cout, 0.0).is_err());
        assert!(r.predict(&x[..4]).is_err());
        let mut bad = xs.clone();
        bad[0][0] = f64::NAN;
        assert!(CoefficientRegression::fit(&bad, &ys, cin, cout, 0.0).is_err());
    }
}
