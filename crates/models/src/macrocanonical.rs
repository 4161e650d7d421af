//! Maximum-entropy (macrocanonical) models: `p_θ(x) ∝ exp(−θ·Φ(x)) · ν(x)`, with `θ` fitted so
//! that `E_θ[Φ] = μ`. The gradient of the negative log-likelihood in `θ` is `μ − E_θ[Φ]`; the
//! expectation is estimated by parallel MALA chains that keep running between updates
//! (stochastic approximation, Younes 1989), and `θ` moves by Adam.
//!
//! `ν` is a wide Gaussian reference measure `N(0, base_std²)` per coordinate: moments such as
//! `mean |x * ψ|` grow only linearly, so without it `exp(−θ·Φ)` may not be normalisable while
//! `θ` is still far from its fit. When `Φ` contains `mean(x²)` the reference is absorbed into
//! `θ` and the fitted model does not depend on it.

use crate::error::{check_finite, check_len, ModelError, Result};
use crate::representation::Representation;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Settings of the maximum-entropy fit.
#[derive(Debug, Clone, Copy)]
pub struct Macrocanonical {
    /// Seed of the chains (chain `c` uses `seed + c`).
    pub seed: u64,
    /// Number of parallel MALA chains, i.e. samples per estimate of `E_θ[Φ]`.
    pub chains: usize,
    /// Number of updates of `θ`.
    pub iterations: usize,
    /// MALA steps of every chain between two updates.
    pub langevin_steps: usize,
    /// Initial MALA step size (adapted per chain towards 57% acceptance).
    pub step: f64,
    /// Adam learning rate on `θ̃ = θ |μ| / n` (moments are means, so `θ` grows with the
    /// signal length `n`; `θ̃` is of order one).
    pub learning_rate: f64,
    /// Standard deviation of the white-noise start of the chains.
    pub init_std: f64,
    /// Standard deviation of the Gaussian reference measure (`f64::INFINITY` for none).
    pub base_std: f64,
}

impl Default for Macrocanonical {
    fn default() -> Self {
        Self {
            seed: 0,
            chains: 8,
            iterations: 1000,
            langevin_steps: 5,
            step: 1e-2,
            learning_rate: 0.01,
            init_std: 1.0,
            base_std: 10.0,
        }
    }
}

/// A fitted maximum-entropy model.
#[derive(Debug, Clone)]
pub struct MaxEntFit {
    /// The fitted `θ` (in the units of `Φ`).
    pub theta: Vec<f64>,
    /// The final state of every chain: samples of the fitted model.
    pub samples: Vec<Vec<f64>>,
    /// `‖Ē − μ‖ / ‖μ‖` after every update, `Ē` the mean of `Φ` over the chains.
    pub mismatch_curve: Vec<f64>,
    /// The moment mismatch reached: `‖Ē − μ‖ / ‖μ‖` with `Ē` averaged over the chains and the
    /// last quarter of the updates (a lower-variance estimate of `E_θ[Φ]`).
    pub moment_rel_error: f64,
    /// MALA acceptance rate over the whole run.
    pub acceptance: f64,
}

struct Chain {
    x: Vec<f64>,
    u: f64,
    grad: Vec<f64>,
    phi: Vec<f64>,
    step: f64,
    rng: StdRng,
    accepted: usize,
    proposed: usize,
}

/// Energy `θ·Φ(x) + |x|²/(2 s²)`, its gradient and `Φ(x)`.
fn energy(
    phi: &dyn Representation,
    theta: &[f64],
    inv_var: f64,
    x: &[f64],
) -> Result<(f64, Vec<f64>, Vec<f64>)> {
    let m = phi.forward(x)?;
    let mut g = phi.backward(x, theta)?;
    let mut u: f64 = m.iter().zip(theta).map(|(a, b)| a * b).sum();
    if inv_var > 0.0 {
        u += 0.5 * inv_var * x.iter().map(|v| v * v).sum::<f64>();
        g.iter_mut().zip(x).for_each(|(gi, xi)| *gi += inv_var * xi);
    }
    Ok((u, g, m))
}

impl Chain {
    /// One MALA step at the current `θ` (the cached energy must be for this `θ`).
    fn mala(&mut self, phi: &dyn Representation, theta: &[f64], inv_var: f64) -> Result<()> {
        let h = self.step;
        let noise = (2.0 * h).sqrt();
        let y: Vec<f64> = self
            .x
            .iter()
            .zip(&self.grad)
            .map(|(xi, gi)| {
                let z: f64 = StandardNormal.sample(&mut self.rng);
                xi - h * gi + noise * z
            })
            .collect();
        let (uy, gy, my) = energy(phi, theta, inv_var, &y)?;
        // log q(a | b) = −|a − b + h ∇U(b)|² / (4h)
        let log_q = |a: &[f64], b: &[f64], gb: &[f64]| -> f64 {
            -a.iter()
                .zip(b)
                .zip(gb)
                .map(|((ai, bi), gi)| (ai - bi + h * gi).powi(2))
                .sum::<f64>()
                / (4.0 * h)
        };
        let log_alpha = -uy + self.u + log_q(&self.x, &y, &gy) - log_q(&y, &self.x, &self.grad);
        self.proposed += 1;
        let accept = log_alpha.is_finite() && self.rng.random::<f64>().ln() < log_alpha;
        if accept {
            self.accepted += 1;
            self.x = y;
            self.u = uy;
            self.grad = gy;
            self.phi = my;
        }
        // Robbins-Monro-like adaptation: stationary when 57.4% of the proposals are accepted.
        let a = 0.02;
        self.step *= if accept {
            1.0 + a * (1.0 - 0.574)
        } else {
            1.0 - a * 0.574
        };
        Ok(())
    }
}

impl Macrocanonical {
    /// Fits `θ` so that the model's expected moments match `target`.
    pub fn fit(&self, phi: &dyn Representation, target: &[f64]) -> Result<MaxEntFit> {
        check_len("target", target.len(), phi.output_len())?;
        check_finite("target", target)?;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if self.chains == 0
            || self.langevin_steps == 0
            || !positive(self.step)
            || !positive(self.learning_rate)
            || !positive(self.init_std)
            || self.base_std.is_nan()
            || self.base_std <= 0.0
        {
            return Err(ModelError::Param(
                "chains and langevin_steps must be >= 1; step, learning_rate, init_std and \
                 base_std must be > 0"
                    .into(),
            ));
        }
        let k = target.len();
        let norm = target.iter().map(|v| v * v).sum::<f64>().sqrt();
        let max_abs = target.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if max_abs == 0.0 {
            return Err(ModelError::Param("the target moments are all zero".into()));
        }
        // θ is parametrised as θ_k = n θ̃_k / s_k: moments are means, so the energy θ·Φ is
        // extensive in n, and Adam then works on θ̃ of order one.
        // Moments near zero (e.g. the mean) are scaled by the rms moment instead, or a unit
        // step of θ̃ would be a huge force.
        let rms = norm / (k as f64).sqrt();
        let scale: Vec<f64> = target.iter().map(|v| v.abs().max(rms)).collect();
        let inv_var = if self.base_std.is_finite() {
            1.0 / (self.base_std * self.base_std)
        } else {
            0.0
        };
        let n = phi.input_len();
        let theta_of = |tt: &[f64]| -> Vec<f64> {
            tt.iter()
                .zip(&scale)
                .map(|(a, s)| n as f64 * a / s)
                .collect()
        };
        let mut tt = vec![0.0; k];
        let mut theta = theta_of(&tt);
        let mut chains: Vec<Chain> = (0..self.chains)
            .map(|c| {
                let mut rng = StdRng::seed_from_u64(self.seed.wrapping_add(c as u64));
                let x: Vec<f64> = (0..n)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        self.init_std * z
                    })
                    .collect();
                let (u, grad, m) = energy(phi, &theta, inv_var, &x)?;
                Ok(Chain {
                    x,
                    u,
                    grad,
                    phi: m,
                    step: self.step,
                    rng,
                    accepted: 0,
                    proposed: 0,
                })
            })
            .collect::<Result<_>>()?;
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        let (mut m1, mut m2) = (vec![0.0; k], vec![0.0; k]);
        let mut curve = Vec::with_capacity(self.iterations);
        let tail_from = self.iterations - self.iterations / 4;
        let mut tail_sum = vec![0.0; k];
        let mut tail_count = 0usize;
        let mismatch = |e: &[f64]| -> f64 {
            e.iter()
                .zip(target)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt()
                / norm
        };
        for it in 0..self.iterations.max(1) {
            chains.par_iter_mut().try_for_each(|ch| -> Result<()> {
                for _ in 0..self.langevin_steps {
                    ch.mala(phi, &theta, inv_var)?;
                }
                Ok(())
            })?;
            let mean: Vec<f64> = (0..k)
                .map(|i| chains.iter().map(|c| c.phi[i]).sum::<f64>() / chains.len() as f64)
                .collect();
            curve.push(mismatch(&mean));
            if it >= tail_from {
                tail_sum.iter_mut().zip(&mean).for_each(|(s, m)| *s += m);
                tail_count += 1;
            }
            if it + 1 >= self.iterations {
                break;
            }
            // Adam step on θ̃ with gradient (μ − E_θ[Φ]) / s.
            let t = (it + 1) as i32;
            for i in 0..k {
                let g = (target[i] - mean[i]) / scale[i];
                m1[i] = b1 * m1[i] + (1.0 - b1) * g;
                m2[i] = b2 * m2[i] + (1.0 - b2) * g * g;
                let mh = m1[i] / (1.0 - b1.powi(t));
                let vh = m2[i] / (1.0 - b2.powi(t));
                tt[i] -= self.learning_rate * mh / (vh.sqrt() + eps);
            }
            theta = theta_of(&tt);
            // The cached energies and gradients of the chains belong to the old θ.
            chains.par_iter_mut().try_for_each(|ch| -> Result<()> {
                let (u, g, m) = energy(phi, &theta, inv_var, &ch.x)?;
                ch.u = u;
                ch.grad = g;
                ch.phi = m;
                Ok(())
            })?;
        }
        let tail: Vec<f64> = tail_sum
            .iter()
            .map(|s| s / tail_count.max(1) as f64)
            .collect();
        let (acc, prop) = chains
            .iter()
            .fold((0, 0), |(a, p), c| (a + c.accepted, p + c.proposed));
        Ok(MaxEntFit {
            theta,
            samples: chains.into_iter().map(|c| c.x).collect(),
            mismatch_curve: curve,
            moment_rel_error: if tail_count > 0 {
                mismatch(&tail)
            } else {
                f64::NAN
            },
            acceptance: acc as f64 / prop.max(1) as f64,
        })
    }
}
