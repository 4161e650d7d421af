//! 2D incompressible turbulence: a pseudo-spectral solver of the vorticity equation on the
//! periodic square `[0, 2π)²`,
//! `∂ω/∂t + u·∇ω = −ν (−Δ)^p ω − μ ω + f`, `u = ∇⊥ψ`, `Δψ = −ω`,
//! with 2/3-rule dealiasing, an integrating factor for the linear terms (Heun's method for
//! the rest), large-scale friction `μ`, hyperviscosity `ν (−Δ)^p`, and white-in-time random
//! forcing on a ring of wavenumbers around `k_f`.

use crate::error::{ModelError, Result};
use num_complex::Complex64;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use scattering_engine::fourier2d::Fft2d;

/// Parameters of the flow.
#[derive(Debug, Clone, Copy)]
pub struct TurbulenceParams {
    /// Grid side (a power of two is fastest).
    pub n: usize,
    /// Hyperviscosity coefficient `ν`.
    pub nu: f64,
    /// Hyperviscosity order `p` (1 is ordinary viscosity).
    pub p: i32,
    /// Linear friction `μ` (removes the inverse-cascade energy at large scales).
    pub mu: f64,
    /// Forcing wavenumber.
    pub k_f: f64,
    /// Energy injection rate of the forcing.
    pub epsilon: f64,
    /// Time step.
    pub dt: f64,
}

impl Default for TurbulenceParams {
    fn default() -> Self {
        Self {
            n: 128,
            nu: 2e-14,
            p: 4,
            mu: 0.1,
            k_f: 6.0,
            epsilon: 0.5,
            dt: 5e-3,
        }
    }
}

/// The solver state: the vorticity's Fourier coefficients and the FFT plans.
pub struct Turbulence {
    prm: TurbulenceParams,
    w: Vec<Complex64>,
    fft: Fft2d<f64>,
    k: Vec<f64>,
    /// Time elapsed.
    pub time: f64,
    scratch: [Vec<Complex64>; 4],
}

impl Turbulence {
    /// A flow at rest.
    pub fn new(prm: TurbulenceParams) -> Result<Self> {
        if prm.n < 8
            || !(prm.dt > 0.0
                && prm.nu >= 0.0
                && prm.mu >= 0.0
                && prm.epsilon >= 0.0
                && prm.k_f >= 1.0)
            || prm.p < 1
        {
            return Err(ModelError::Param(format!(
                "invalid turbulence parameters {prm:?}"
            )));
        }
        if prm.k_f + 1.0 > prm.n as f64 / 3.0 {
            return Err(ModelError::Param(format!(
                "forcing wavenumber {} beyond the dealiased range of n = {}",
                prm.k_f, prm.n
            )));
        }
        let n = prm.n;
        let k = (0..n)
            .map(|i| {
                if i <= n / 2 {
                    i as f64
                } else {
                    i as f64 - n as f64
                }
            })
            .collect();
        Ok(Self {
            prm,
            w: vec![Complex64::default(); n * n],
            fft: Fft2d::new(n, n),
            k,
            time: 0.0,
            scratch: std::array::from_fn(|_| vec![Complex64::default(); n * n]),
        })
    }

    fn fft2(&self, a: &mut [Complex64], inverse: bool) {
        self.fft.process(a, inverse);
    }

    /// `−FFT(u·∇ω)`, dealiased, written to `out`.
    fn nonlinear(&mut self, w: &[Complex64], out: &mut [Complex64]) {
        let n = self.prm.n;
        let cut = n as f64 / 3.0;
        // Work arrays are taken out of `self` so the FFT helper can borrow it meanwhile.
        let [mut u, mut v, mut wx, mut wy] = std::mem::take(&mut self.scratch);
        for i in 0..n {
            for j in 0..n {
                let (ky, kx) = (self.k[i], self.k[j]);
                let k2 = kx * kx + ky * ky;
                let idx = i * n + j;
                let psi = if k2 > 0.0 {
                    w[idx] / k2
                } else {
                    Complex64::default()
                };
                let ik = |k: f64, z: Complex64| Complex64::new(-k * z.im, k * z.re);
                u[idx] = ik(ky, psi); // u = ∂ψ/∂y
                v[idx] = -ik(kx, psi); // v = −∂ψ/∂x
                wx[idx] = ik(kx, w[idx]);
                wy[idx] = ik(ky, w[idx]);
            }
        }
        self.fft2(&mut u, true);
        self.fft2(&mut v, true);
        self.fft2(&mut wx, true);
        self.fft2(&mut wy, true);
        for idx in 0..n * n {
            out[idx] = Complex64::new(-(u[idx].re * wx[idx].re + v[idx].re * wy[idx].re), 0.0);
        }
        self.fft2(out, false);
        for i in 0..n {
            for j in 0..n {
                if self.k[i].abs() >= cut || self.k[j].abs() >= cut {
                    out[i * n + j] = Complex64::default();
                }
            }
        }
        self.scratch = [u, v, wx, wy];
    }

    /// Advances `steps` time steps.
    pub fn step(&mut self, steps: usize, rng: &mut impl Rng) {
        let n = self.prm.n;
        let TurbulenceParams {
            nu,
            p,
            mu,
            dt,
            k_f,
            epsilon,
            ..
        } = self.prm;
        let decay: Vec<f64> = (0..n * n)
            .map(|idx| {
                let (ky, kx) = (self.k[idx / n], self.k[idx % n]);
                let k2 = kx * kx + ky * ky;
                (-(nu * k2.powi(p) + mu) * dt).exp()
            })
            .collect();
        // Forced ring |k| in [k_f − 1, k_f + 1]; amplitude so that the mean injection is ε.
        let ring: Vec<usize> = (0..n * n)
            .filter(|&idx| {
                let k = (self.k[idx / n].powi(2) + self.k[idx % n].powi(2)).sqrt();
                (k - k_f).abs() <= 1.0
            })
            .collect();
        // White forcing of vorticity amplitude a per mode injects energy a² Σ 1/(2 k²) per unit
        // time (in these units, with the N² normalisation of the FFT).
        let inj: f64 = ring
            .iter()
            .map(|&idx| 1.0 / (self.k[idx / n].powi(2) + self.k[idx % n].powi(2)))
            .sum::<f64>()
            * 0.5
            / ((n * n) as f64).powi(2);
        let amp = (epsilon / inj.max(f64::MIN_POSITIVE)).sqrt();
        let mut n0 = vec![Complex64::default(); n * n];
        let mut n1 = vec![Complex64::default(); n * n];
        let mut a = vec![Complex64::default(); n * n];
        let mut w = vec![Complex64::default(); n * n];
        for _ in 0..steps {
            w.copy_from_slice(&self.w);
            self.nonlinear(&w, &mut n0);
            for idx in 0..n * n {
                a[idx] = decay[idx] * (w[idx] + dt * n0[idx]);
            }
            self.nonlinear(&a, &mut n1);
            for idx in 0..n * n {
                self.w[idx] = decay[idx] * (w[idx] + 0.5 * dt * n0[idx]) + 0.5 * dt * n1[idx];
            }
            // Random forcing increment; Hermitian symmetry is restored by the real projection
            // below.
            for &idx in &ring {
                let (re, im): (f64, f64) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
                self.w[idx] += amp * dt.sqrt() * Complex64::new(re, im) / std::f64::consts::SQRT_2;
            }
            self.project_real();
            self.time += dt;
        }
    }

    /// Keeps the vorticity real (drops the anti-Hermitian part the forcing adds).
    fn project_real(&mut self) {
        let mut w = self.w.clone();
        self.fft2(&mut w, true);
        w.iter_mut().for_each(|v| v.im = 0.0);
        self.fft2(&mut w, false);
        self.w = w;
    }

    /// The vorticity field, row-major `n × n`.
    pub fn vorticity(&self) -> Vec<f64> {
        let mut w = self.w.clone();
        self.fft2(&mut w, true);
        w.iter().map(|v| v.re).collect()
    }

    /// Mean kinetic energy `½ mean |u|²`.
    pub fn energy(&self) -> f64 {
        self.spectrum().iter().sum()
    }

    /// Shell-summed energy spectrum `E(k)`, `k = 0..n/2` (integer shells), with
    /// `Σ_k E(k)` the mean kinetic energy.
    pub fn spectrum(&self) -> Vec<f64> {
        let n = self.prm.n;
        let mut e = vec![0.0; n / 2 + 1];
        let norm = ((n * n) as f64).powi(2);
        for idx in 0..n * n {
            let (ky, kx) = (self.k[idx / n], self.k[idx % n]);
            let k2 = kx * kx + ky * ky;
            if k2 == 0.0 {
                continue;
            }
            let shell = k2.sqrt().round() as usize;
            if shell < e.len() {
                e[shell] += 0.5 * self.w[idx].norm_sqr() / k2 / norm;
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn forced_flow_reaches_a_steady_state_with_a_steep_enstrophy_cascade() {
        let mut rng = StdRng::seed_from_u64(3);
        let prm = TurbulenceParams {
            n: 64,
            nu: 1e-11,
            p: 4,
            mu: 0.1,
            k_f: 4.0,
            epsilon: 0.5,
            dt: 1e-2,
        };
        let mut t = Turbulence::new(prm).unwrap();
        t.step(1500, &mut rng);
        let e1 = t.energy();
        let mut spec = vec![0.0; 33];
        let mut energies = Vec::new();
        for _ in 0..20 {
            t.step(50, &mut rng);
            energies.push(t.energy());
            for (s, v) in spec.iter_mut().zip(t.spectrum()) {
                *s += v / 20.0;
            }
        }
        let e2 = energies.iter().sum::<f64>() / energies.len() as f64;
        println!("energy {e1} -> {e2}; spectrum {spec:?}");
        assert!(e1.is_finite() && e2 > 0.0);
        // Statistically stationary: the mean energy over the last stretch is within 30% of the
        // value at its start (friction balances forcing at E ≈ ε / (2 μ) at most).
        assert!((e2 / e1 - 1.0).abs() < 0.3, "energy drifts: {e1} -> {e2}");
        // Enstrophy-cascade range k_f + 2 .. n/3 − 4: slope of log E(k) near −3 (Kraichnan;
        // friction and finite resolution steepen it), within [−4.5, −2.5].
        let ks: Vec<f64> = (6..=17).map(|k| (k as f64).ln()).collect();
        let es: Vec<f64> = (6..=17).map(|k| spec[k].ln()).collect();
        let n = ks.len() as f64;
        let (mx, my) = (ks.iter().sum::<f64>() / n, es.iter().sum::<f64>() / n);
        let slope = ks
            .iter()
            .zip(&es)
            .map(|(a, b)| (a - mx) * (b - my))
            .sum::<f64>()
            / ks.iter().map(|a| (a - mx).powi(2)).sum::<f64>();
        assert!(
            (-4.5..=-2.5).contains(&slope),
            "inertial-range slope {slope}"
        );
    }
}
