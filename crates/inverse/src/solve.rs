//! Solvers of the classic regularised inversions `min_x ½‖A x − y‖² + λ R(x)`:
//! total variation by the primal-dual method of Chambolle and Pock, the l1 norm of
//! orthogonal wavelet coefficients by FISTA, and Tikhonov by conjugate gradients.

use crate::error::{InverseError, Result};
use crate::operator::{check, LinearOperator};
use crate::regularise::{
    gradient, gradient_adjoint, operator_norm_squared, project_dual, total_variation, Wavelet2d,
};
use ndarray::{Array2, ArrayView2};

/// When to stop.
#[derive(Debug, Clone, Copy)]
pub struct Stopping {
    /// Iteration cap (>= 1).
    pub max_iterations: usize,
    /// Stop when the objective changes by less than this fraction of its value over one
    /// iteration.
    pub tolerance: f64,
}

impl Default for Stopping {
    fn default() -> Self {
        Self {
            max_iterations: 500,
            tolerance: 1e-7,
        }
    }
}

/// An estimate and how it was reached.
#[derive(Debug, Clone)]
pub struct Solution {
    /// The estimate.
    pub x: Array2<f64>,
    /// The objective after every iteration.
    pub loss_curve: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
}

fn check_problem(
    op: &dyn LinearOperator,
    y: ArrayView2<f64>,
    lambda: f64,
    stop: Stopping,
) -> Result<()> {
    check(y, op.output_shape(), "the measurements")?;
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(InverseError::Param(format!(
            "the penalty weight must be finite and >= 0, got {lambda}"
        )));
    }
    if stop.max_iterations == 0 || !(stop.tolerance.is_finite() && stop.tolerance >= 0.0) {
        return Err(InverseError::Param(format!(
            "need at least one iteration and a tolerance >= 0, got {} and {}",
            stop.max_iterations, stop.tolerance
        )));
    }
    Ok(())
}

fn data_term(op: &dyn LinearOperator, x: ArrayView2<f64>, y: ArrayView2<f64>) -> f64 {
    0.5 * (op.apply_unchecked(x) - y).mapv(|v| v * v).sum()
}

/// Whether the last two values of `curve` differ by less than `tol` of the last.
fn settled(curve: &[f64], tol: f64) -> bool {
    match curve {
        [.., a, b] => (a - b).abs() <= tol * b.abs().max(f64::MIN_POSITIVE),
        _ => false,
    }
}

/// `min_x ½‖A x − y‖² + λ TV(x)` (isotropic TV) by Chambolle-Pock on `K = (A, ∇)`, from
/// `Aᵀ y` scaled to the data. Step sizes `τ = σ = 0.99 / ‖K‖`.
pub fn tv(
    op: &dyn LinearOperator,
    y: ArrayView2<f64>,
    lambda: f64,
    stop: Stopping,
) -> Result<Solution> {
    check_problem(op, y, lambda, stop)?;
    let a2 = operator_norm_squared(op, 30);
    let l = (a2 + 8.0).sqrt();
    let (tau, sigma) = (0.99 / l, 0.99 / l);
    let mut x = op.adjoint_unchecked(y);
    x /= a2.max(f64::MIN_POSITIVE);
    let mut xbar = x.clone();
    let mut q = Array2::zeros(op.output_shape());
    let shape = op.input_shape();
    let (mut pi, mut pj) = (Array2::zeros(shape), Array2::zeros(shape));
    let mut curve = Vec::new();
    for it in 0..stop.max_iterations {
        // Dual ascent: the data part's conjugate prox, then the TV part's projection.
        let ax = op.apply_unchecked(xbar.view());
        ndarray::Zip::from(&mut q)
            .and(&ax)
            .and(y)
            .for_each(|q, &a, &yv| *q = (*q + sigma * (a - yv)) / (1.0 + sigma));
        let (gi, gj) = gradient(xbar.view());
        pi.scaled_add(sigma, &gi);
        pj.scaled_add(sigma, &gj);
        project_dual(&mut pi, &mut pj, lambda);
        // Primal descent (G = 0) and extrapolation.
        let step = op.adjoint_unchecked(q.view()) + gradient_adjoint(pi.view(), pj.view());
        let next = &x - &(step * tau);
        xbar = &next * 2.0 - &x;
        x = next;
        curve.push(data_term(op, x.view(), y) + lambda * total_variation(x.view()));
        if settled(&curve, stop.tolerance) {
            return Ok(Solution {
                x,
                loss_curve: curve,
                iterations: it + 1,
            });
        }
    }
    Ok(Solution {
        x,
        iterations: stop.max_iterations,
        loss_curve: curve,
    })
}

/// `min_x ½‖A x − y‖² + λ ‖W x‖₁` over the detail coefficients of an orthogonal wavelet
/// transform `W`, by FISTA (Beck and Teboulle) with step `1 / ‖A‖²`, from zero.
pub fn l1_wavelet(
    op: &dyn LinearOperator,
    y: ArrayView2<f64>,
    lambda: f64,
    wavelet: &Wavelet2d,
    stop: Stopping,
) -> Result<Solution> {
    check_problem(op, y, lambda, stop)?;
    let lip = operator_norm_squared(op, 30).max(f64::MIN_POSITIVE);
    let shape = op.input_shape();
    let mut c = Array2::zeros(shape);
    let mut z = c.clone();
    let mut t = 1.0f64;
    let mut curve = Vec::new();
    let mut iterations = stop.max_iterations;
    for it in 0..stop.max_iterations {
        let xz = wavelet.inverse(z.view())?;
        let r = op.apply_unchecked(xz.view()) - y;
        let g = wavelet.forward(op.adjoint_unchecked(r.view()).view())?;
        let mut next = &z - &(g / lip);
        wavelet.shrink(&mut next, lambda / lip);
        let t_next = 0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt());
        z = &next + &((&next - &c) * ((t - 1.0) / t_next));
        c = next;
        t = t_next;
        let x = wavelet.inverse(c.view())?;
        curve.push(data_term(op, x.view(), y) + lambda * wavelet.detail_l1(c.view()));
        if settled(&curve, stop.tolerance) {
            iterations = it + 1;
            break;
        }
    }
    Ok(Solution {
        x: wavelet.inverse(c.view())?,
        loss_curve: curve,
        iterations,
    })
}

/// `min_x ½‖A x − y‖² + ½ λ ‖x‖²` (Tikhonov) by conjugate gradients on the normal
/// equations `(Aᵀ A + λ I) x = Aᵀ y`, from zero.
pub fn tikhonov(
    op: &dyn LinearOperator,
    y: ArrayView2<f64>,
    lambda: f64,
    stop: Stopping,
) -> Result<Solution> {
    check_problem(op, y, lambda, stop)?;
    let normal =
        |v: &Array2<f64>| op.adjoint_unchecked(op.apply_unchecked(v.view()).view()) + v * lambda;
    let mut x = Array2::zeros(op.input_shape());
    let mut r = op.adjoint_unchecked(y);
    let mut p = r.clone();
    let mut rr = r.mapv(|v| v * v).sum();
    let mut curve = Vec::new();
    let mut iterations = stop.max_iterations;
    for it in 0..stop.max_iterations {
        if rr == 0.0 {
            iterations = it;
            break;
        }
        let ap = normal(&p);
        let alpha = rr / (&p * &ap).sum();
        x.scaled_add(alpha, &p);
        r.scaled_add(-alpha, &ap);
        let rr_next = r.mapv(|v| v * v).sum();
        p = &r + &(p * (rr_next / rr));
        rr = rr_next;
        curve.push(data_term(op, x.view(), y) + 0.5 * lambda * x.mapv(|v| v * v).sum());
        if settled(&curve, stop.tolerance) {
            iterations = it + 1;
            break;
        }
    }
    Ok(Solution {
        x,
        loss_curve: curve,
        iterations,
    })
}
