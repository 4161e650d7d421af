//! Microcanonical sampling: start from white noise and descend `½‖Φ(x) − μ‖² / ‖μ‖²` with
//! L-BFGS until the moments match the target. The result is a (nearly) uniform draw on the set
//! `{x : Φ(x) ≈ μ}` when the gradient flow mixes well (Bruna & Mallat, 2019).

use crate::error::{check_finite, check_len, ModelError, Result};
use crate::representation::Representation;
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use std::sync::Mutex;

/// Settings of the microcanonical sampler.
#[derive(Debug, Clone, Copy)]
pub struct Microcanonical {
    /// Seed of the white-noise start.
    pub seed: u64,
    /// Standard deviation of the white-noise start.
    pub init_std: f64,
    /// L-BFGS iteration cap.
    pub max_iters: u64,
    /// Stop when the relative loss falls below this.
    pub tol: f64,
    /// L-BFGS memory.
    pub memory: usize,
}

impl Default for Microcanonical {
    fn default() -> Self {
        Self {
            seed: 0,
            init_std: 1.0,
            max_iters: 500,
            tol: 1e-10,
            memory: 20,
        }
    }
}

/// One synthesis.
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// The sample (flattened like the representation's input).
    pub x: Vec<f64>,
    /// Loss `½‖Φx − μ‖² / ‖μ‖²` at every cost evaluation.
    pub loss_curve: Vec<f64>,
    /// Final relative moment error `‖Φx − μ‖ / ‖μ‖`.
    pub moment_rel_error: f64,
    /// L-BFGS iterations run.
    pub iterations: u64,
}

/// Called after every cost evaluation with the evaluation count and the loss (e.g. to drive a
/// progress bar). L-BFGS evaluates the cost about once per iteration, a little more when the
/// line search backtracks.
pub type Progress<'a> = &'a mut (dyn FnMut(usize, f64) + Send);

/// The cost and gradient for argmin. The loss curve and the last residual are borrowed
/// from the caller, so they survive however the run ends (argmin does not always hand
/// the problem back).
struct Problem<'a, 'p> {
    phi: &'a dyn Representation,
    target: &'a [f64],
    scale: f64,
    curve: &'a Mutex<Vec<f64>>,
    progress: Option<Mutex<Progress<'p>>>,
    /// The last point evaluated, its residual `Φx − μ` and the loss gradient there:
    /// L-BFGS (with the Moré-Thuente line search) asks for the cost and then the gradient
    /// at each point, and one [`Representation::forward_backward`] gives both.
    last: &'a LastEval,
}

/// The last point evaluated, its residual and its gradient.
type LastEval = Mutex<Option<(Vec<f64>, Vec<f64>, Vec<f64>)>>;

type ArgminResult<T> = std::result::Result<T, argmin::core::Error>;

impl Problem<'_, '_> {
    /// The residual and the gradient of the loss at `x`, from the cache when `x` was the
    /// last point.
    fn evaluate(&self, x: &[f64]) -> ArgminResult<(Vec<f64>, Vec<f64>)> {
        if let Ok(last) = self.last.lock() {
            if let Some((lx, r, g)) = last.as_ref() {
                if lx.as_slice() == x {
                    return Ok((r.clone(), g.clone()));
                }
            }
        }
        let scale = self.scale;
        let (m, g) = self
            .phi
            .forward_backward(x, &mut |m| {
                m.iter()
                    .zip(self.target)
                    .map(|(a, b)| (a - b) / scale)
                    .collect()
            })
            .map_err(|e| argmin::core::Error::msg(e.to_string()))?;
        let r: Vec<f64> = m.iter().zip(self.target).map(|(a, b)| a - b).collect();
        if let Ok(mut last) = self.last.lock() {
            *last = Some((x.to_vec(), r.clone(), g.clone()));
        }
        Ok((r, g))
    }

    /// The residual at `x` alone.
    fn residual(&self, x: &[f64]) -> ArgminResult<Vec<f64>> {
        if let Ok(last) = self.last.lock() {
            if let Some((lx, r, _)) = last.as_ref() {
                if lx.as_slice() == x {
                    return Ok(r.clone());
                }
            }
        }
        let m = self
            .phi
            .forward(x)
            .map_err(|e| argmin::core::Error::msg(e.to_string()))?;
        Ok(m.iter().zip(self.target).map(|(a, b)| a - b).collect())
    }
}

impl CostFunction for Problem<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> ArgminResult<f64> {
        let (r, _) = self.evaluate(x)?;
        let loss = 0.5 * r.iter().map(|v| v * v).sum::<f64>() / self.scale;
        let count = match self.curve.lock() {
            Ok(mut c) => {
                c.push(loss);
                c.len()
            }
            Err(_) => 0,
        };
        if let Some(Ok(mut f)) = self.progress.as_ref().map(|p| p.lock()) {
            f(count, loss);
        }
        Ok(loss)
    }
}

impl Gradient for Problem<'_, '_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> ArgminResult<Vec<f64>> {
        Ok(self.evaluate(x)?.1)
    }
}

impl Microcanonical {
    /// Draws one signal whose moments `Φ(x)` match `target`.
    pub fn sample(&self, phi: &dyn Representation, target: &[f64]) -> Result<Synthesis> {
        let x0 = self.white_noise(phi.input_len(), self.seed);
        self.run(phi, target, x0, None)
    }

    /// The white-noise start of [`Microcanonical::sample`] for signals of `n` values
    /// (seeded by `self.seed`, standard deviation `self.init_std`): to continue a descent
    /// from where another stopped with [`Microcanonical::sample_from`].
    pub fn start(&self, n: usize) -> Vec<f64> {
        self.white_noise(n, self.seed)
    }

    fn white_noise(&self, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                self.init_std * z
            })
            .collect()
    }

    /// Like [`Microcanonical::sample`], reporting every cost evaluation to `progress`.
    pub fn sample_with_progress(
        &self,
        phi: &dyn Representation,
        target: &[f64],
        progress: Progress<'_>,
    ) -> Result<Synthesis> {
        let x0 = self.white_noise(phi.input_len(), self.seed);
        self.run(phi, target, x0, Some(progress))
    }

    /// Like [`Microcanonical::sample_from`], reporting every cost evaluation to `progress`.
    pub fn sample_from_with_progress(
        &self,
        phi: &dyn Representation,
        target: &[f64],
        x0: Vec<f64>,
        progress: Progress<'_>,
    ) -> Result<Synthesis> {
        self.run(phi, target, x0, Some(progress))
    }

    /// The non-ergodic mixture model: one synthesis per target, each matching its own
    /// realisation's moments (seeds `seed, seed + 1, ...`), run in parallel. Use it when the
    /// realisations of a process differ too much for one averaged target to describe them.
    pub fn sample_mixture(
        &self,
        phi: &dyn Representation,
        targets: &[Vec<f64>],
    ) -> Result<Vec<Synthesis>> {
        if targets.is_empty() {
            return Err(ModelError::Param(
                "the mixture needs at least one target".into(),
            ));
        }
        targets
            .par_iter()
            .enumerate()
            .map(|(i, t)| {
                let x0 = self.white_noise(phi.input_len(), self.seed.wrapping_add(i as u64));
                self.run(phi, t, x0, None)
            })
            .collect()
    }

    /// Like [`Microcanonical::sample`], from a given starting point.
    pub fn sample_from(
        &self,
        phi: &dyn Representation,
        target: &[f64],
        x0: Vec<f64>,
    ) -> Result<Synthesis> {
        self.run(phi, target, x0, None)
    }

    fn run(
        &self,
        phi: &dyn Representation,
        target: &[f64],
        x0: Vec<f64>,
        progress: Option<Progress<'_>>,
    ) -> Result<Synthesis> {
        check_len("target", target.len(), phi.output_len())?;
        check_len("start", x0.len(), phi.input_len())?;
        check_finite("target", target)?;
        check_finite("start", &x0)?;
        if !(self.tol.is_finite() && self.tol >= 0.0) || self.memory == 0 {
            return Err(ModelError::Param(
                "tolerance must be >= 0 and memory >= 1".into(),
            ));
        }
        let scale = target
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        let (curve, last) = (Mutex::new(Vec::new()), Mutex::new(None));
        let problem = Problem {
            phi,
            target,
            scale,
            curve: &curve,
            progress: progress.map(Mutex::new),
            last: &last,
        };
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), self.memory)
            .with_tolerance_cost(0.0)
            .and_then(|s| s.with_tolerance_grad(0.0))
            .map_err(|e| ModelError::Optim(e.to_string()))?;
        let tol = self.tol;
        let start = x0.clone();
        let res = Executor::new(problem, solver)
            .configure(|state| state.param(x0).max_iters(self.max_iters).target_cost(tol))
            .run()
            .map_err(|e| ModelError::Optim(e.to_string()))?;
        let iterations = res.state().get_iter();
        // No best point means no iteration improved on the start.
        let x = res.state().get_best_param().cloned().unwrap_or(start);
        let check = Problem {
            phi,
            target,
            scale,
            curve: &curve,
            progress: None,
            last: &last,
        };
        let r = check
            .residual(&x)
            .map_err(|e| ModelError::Optim(e.to_string()))?;
        let loss_curve = curve.into_inner().unwrap_or_default();
        let moment_rel_error = (r.iter().map(|v| v * v).sum::<f64>() / scale).sqrt();
        Ok(Synthesis {
            x,
            loss_curve,
            moment_rel_error,
            iterations,
        })
    }
}
