//! Inversion with scattering: reconstruction of a signal from its scattering coefficients,
//! and the scattering regulariser `λ/2 ‖Φ x − t‖²` added to a data term.
//!
//! Both reuse the microcanonical sampler of `scattering-models` (L-BFGS on
//! `½‖Φ x − μ‖² / ‖μ‖²`): reconstruction is a draw whose moments match `S x`; the
//! regularised inversion is a draw of the concatenated representation `(A x, sqrt(λ) Φ x)`
//! matching `(y, sqrt(λ) t)`, whose loss is `(½‖A x − y‖² + λ/2 ‖Φ x − t‖²) / ‖μ‖²`.

use crate::error::{InverseError, Result};
use crate::operator::{check, LinearOperator};
use ndarray::{Array2, ArrayView2};
use scattering_models::{Microcanonical, ModelError, Representation};

fn model_error(e: ModelError) -> InverseError {
    InverseError::Param(e.to_string())
}

/// A linear operator as a representation (`x ↦ A x`, flattened row-major), so that a data
/// term can join scattering moments in one sampler.
pub struct OperatorRepresentation<'a> {
    op: &'a dyn LinearOperator,
}

impl<'a> OperatorRepresentation<'a> {
    /// Wraps `op`.
    pub fn new(op: &'a dyn LinearOperator) -> Self {
        Self { op }
    }
}

fn as_image(v: &[f64], shape: (usize, usize)) -> scattering_models::Result<Array2<f64>> {
    Array2::from_shape_vec(shape, v.to_vec()).map_err(|_| {
        ModelError::Param(format!(
            "{} values for a {} x {} image",
            v.len(),
            shape.0,
            shape.1
        ))
    })
}

impl Representation for OperatorRepresentation<'_> {
    fn input_len(&self) -> usize {
        let (m, n) = self.op.input_shape();
        m * n
    }
    fn output_len(&self) -> usize {
        let (m, n) = self.op.output_shape();
        m * n
    }
    fn forward(&self, x: &[f64]) -> scattering_models::Result<Vec<f64>> {
        let x = as_image(x, self.op.input_shape())?;
        let y = self
            .op
            .apply(x.view())
            .map_err(|e| ModelError::Param(e.to_string()))?;
        Ok(y.into_iter().collect())
    }
    fn backward(&self, _x: &[f64], v: &[f64]) -> scattering_models::Result<Vec<f64>> {
        let v = as_image(v, self.op.output_shape())?;
        let g = self
            .op
            .adjoint(v.view())
            .map_err(|e| ModelError::Param(e.to_string()))?;
        Ok(g.into_iter().collect())
    }
}

/// How a scattering inversion runs.
#[derive(Debug, Clone, Copy)]
pub struct ScatteringSolver {
    /// Seed of the white-noise start (reconstruction).
    pub seed: u64,
    /// L-BFGS iteration cap.
    pub max_iterations: u64,
    /// Stop when the relative loss falls below this.
    pub tolerance: f64,
}

impl Default for ScatteringSolver {
    fn default() -> Self {
        Self {
            seed: 0,
            max_iterations: 500,
            tolerance: 1e-12,
        }
    }
}

/// A signal recovered from coefficients.
#[derive(Debug, Clone)]
pub struct Reconstruction {
    /// The estimate (flattened like the representation's input).
    pub x: Vec<f64>,
    /// `‖Φ x~ − t‖ / ‖t‖`.
    pub relative_error: f64,
    /// The loss `½‖Φ x − t‖² / ‖t‖²` at every evaluation.
    pub loss_curve: Vec<f64>,
    /// L-BFGS iterations run.
    pub iterations: u64,
}

impl ScatteringSolver {
    fn sampler(&self, init_std: f64) -> Result<Microcanonical> {
        if self.max_iterations == 0 || !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(InverseError::Param(format!(
                "need at least one iteration and a tolerance >= 0, got {} and {}",
                self.max_iterations, self.tolerance
            )));
        }
        Ok(Microcanonical {
            seed: self.seed,
            init_std,
            max_iters: self.max_iterations,
            tol: self.tolerance,
            memory: 20,
        })
    }

    /// Finds `x~` with `Φ x~ = target` by L-BFGS from white noise (seeded, of standard
    /// deviation `init_std`): the inverse scattering transform. `Φ` is any representation;
    /// [`scattering_models::ScatteringMoments`] wraps any scattering transform (1D or 2D,
    /// local or global averaging, any order).
    pub fn reconstruct(
        &self,
        phi: &dyn Representation,
        target: &[f64],
        init_std: f64,
    ) -> Result<Reconstruction> {
        if !(init_std.is_finite() && init_std > 0.0) {
            return Err(InverseError::Param(format!(
                "the start's standard deviation must be positive, got {init_std}"
            )));
        }
        let s = self
            .sampler(init_std)?
            .sample(phi, target)
            .map_err(model_error)?;
        Ok(Reconstruction {
            x: s.x,
            relative_error: s.moment_rel_error,
            loss_curve: s.loss_curve,
            iterations: s.iterations,
        })
    }

    /// `min_x ½‖A x − y‖² + λ/2 ‖Φ x − t‖²` from `x0`: the scattering-regularised inversion
    /// (Dokmanic, Bruna, Mallat and de Hoop), `t` being coefficients estimated from data
    /// (e.g. learned from training images, or from the measurements).
    pub fn regularised(
        &self,
        op: &dyn LinearOperator,
        y: ArrayView2<f64>,
        phi: &dyn Representation,
        target: &[f64],
        lambda: f64,
        x0: ArrayView2<f64>,
    ) -> Result<crate::solve::Solution> {
        check(y, op.output_shape(), "the measurements")?;
        check(x0, op.input_shape(), "the start")?;
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(InverseError::Param(format!(
                "the penalty weight must be finite and >= 0, got {lambda}"
            )));
        }
        if phi.input_len() != x0.len() || phi.output_len() != target.len() {
            return Err(InverseError::Param(format!(
                "the representation maps {} values to {}, got an image of {} and a target of {}",
                phi.input_len(),
                phi.output_len(),
                x0.len(),
                target.len()
            )));
        }
        let w = lambda.sqrt();
        let joint = Joint {
            data: OperatorRepresentation::new(op),
            prior: phi,
            weight: w,
        };
        let mut mu: Vec<f64> = y.iter().copied().collect();
        mu.extend(target.iter().map(|v| w * v));
        let start: Vec<f64> = x0.iter().copied().collect();
        let s = self
            .sampler(1.0)?
            .sample_from(&joint, &mu, start)
            .map_err(model_error)?;
        let scale: f64 = mu.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE);
        Ok(crate::solve::Solution {
            x: Array2::from_shape_vec(op.input_shape(), s.x)
                .map_err(|e| InverseError::Param(e.to_string()))?,
            loss_curve: s.loss_curve.iter().map(|l| l * scale).collect(),
            iterations: s.iterations as usize,
        })
    }
}

/// `x ↦ (A x, w Φ x)`: the data term and the weighted prior in one representation.
struct Joint<'a> {
    data: OperatorRepresentation<'a>,
    prior: &'a dyn Representation,
    weight: f64,
}

impl Representation for Joint<'_> {
    fn input_len(&self) -> usize {
        self.data.input_len()
    }
    fn output_len(&self) -> usize {
        self.data.output_len() + self.prior.output_len()
    }
    fn forward(&self, x: &[f64]) -> scattering_models::Result<Vec<f64>> {
        let mut out = self.data.forward(x)?;
        out.extend(self.prior.forward(x)?.into_iter().map(|v| self.weight * v));
        Ok(out)
    }
    fn backward(&self, x: &[f64], v: &[f64]) -> scattering_models::Result<Vec<f64>> {
        let k = self.data.output_len();
        if v.len() != self.output_len() {
            return Err(ModelError::Param(format!(
                "cotangent of {} values, expected {}",
                v.len(),
                self.output_len()
            )));
        }
        let mut g = self.data.backward(x, &v[..k])?;
        let w: Vec<f64> = v[k..].iter().map(|a| self.weight * a).collect();
        for (a, b) in g.iter_mut().zip(self.prior.backward(x, &w)?) {
            *a += b;
        }
        Ok(g)
    }
}

/// The relative L2 error `‖s x~(· − τ) − x‖ / ‖x‖` minimised over circular shifts `τ` and
/// signs `s = ±1` (both leave translation-invariant scattering unchanged), with the best
/// `(τ, s)`.
pub fn best_shift_error(
    truth: ArrayView2<f64>,
    estimate: ArrayView2<f64>,
) -> Result<(f64, (usize, usize), f64)> {
    check(estimate, truth.dim(), "the estimate")?;
    check(truth, truth.dim(), "the reference")?;
    let (m, n) = truth.dim();
    let norm = truth
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let mut best = (f64::INFINITY, (0, 0), 1.0);
    for di in 0..m {
        for dj in 0..n {
            for sign in [1.0, -1.0] {
                let mut e = 0.0;
                for i in 0..m {
                    for j in 0..n {
                        let d = sign * estimate[[(i + di) % m, (j + dj) % n]] - truth[[i, j]];
                        e += d * d;
                    }
                }
                if e < best.0 {
                    best = (e, (di, dj), sign);
                }
            }
        }
    }
    Ok(((best.0 / norm).sqrt(), best.1, best.2))
}
