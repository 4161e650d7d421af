//! The 2D Ising model on a periodic square lattice, sampled with Wolff cluster updates (no
//! critical slowing down), with the energy series and its integrated autocorrelation time to
//! check equilibration.

use crate::error::{ModelError, Result};
use rand::Rng;

/// Critical inverse temperature of the square-lattice Ising model, `ln(1 + √2) / 2`.
pub const BETA_CRITICAL: f64 = 0.440_686_793_509_771_5;

/// A periodic `l × l` lattice of ±1 spins.
#[derive(Debug, Clone)]
pub struct Ising {
    /// Side length.
    pub l: usize,
    /// Spins, row-major.
    pub spins: Vec<i8>,
}

impl Ising {
    /// All spins up.
    pub fn new(l: usize) -> Result<Self> {
        if l < 2 {
            return Err(ModelError::Param(format!(
                "Ising lattice side must be >= 2, got {l}"
            )));
        }
        Ok(Self {
            l,
            spins: vec![1; l * l],
        })
    }

    fn neighbours(&self, i: usize) -> [usize; 4] {
        let l = self.l;
        let (r, c) = (i / l, i % l);
        [
            ((r + l - 1) % l) * l + c,
            ((r + 1) % l) * l + c,
            r * l + (c + l - 1) % l,
            r * l + (c + 1) % l,
        ]
    }

    /// Energy per site, `−(1/N) Σ_<ij> s_i s_j` (each bond once).
    pub fn energy_per_site(&self) -> f64 {
        let l = self.l;
        let mut e = 0i64;
        for i in 0..l * l {
            let n = self.neighbours(i);
            e -= i64::from(self.spins[i])
                * (i64::from(self.spins[n[1]]) + i64::from(self.spins[n[3]]));
        }
        e as f64 / (l * l) as f64
    }

    /// Magnetisation per site.
    pub fn magnetisation(&self) -> f64 {
        self.spins.iter().map(|&s| f64::from(s)).sum::<f64>() / self.spins.len() as f64
    }

    /// One Wolff update at inverse temperature `beta`: grows a cluster of aligned spins from a
    /// random seed, adding each aligned neighbour with probability `1 − e^{−2β}`, and flips it.
    /// Returns the cluster size.
    pub fn wolff_step(&mut self, beta: f64, rng: &mut impl Rng, stack: &mut Vec<usize>) -> usize {
        let p_add = 1.0 - (-2.0 * beta).exp();
        let seed = rng.random_range(0..self.spins.len());
        let s0 = self.spins[seed];
        self.spins[seed] = -s0;
        stack.clear();
        stack.push(seed);
        let mut size = 1;
        while let Some(i) = stack.pop() {
            for j in self.neighbours(i) {
                if self.spins[j] == s0 && rng.random::<f64>() < p_add {
                    self.spins[j] = -s0;
                    stack.push(j);
                    size += 1;
                }
            }
        }
        size
    }

    /// Runs Wolff updates until about `sweeps × N` spins have been flipped, recording the
    /// energy per site after every sweep's worth of flips.
    pub fn run(&mut self, beta: f64, sweeps: usize, rng: &mut impl Rng) -> Result<Vec<f64>> {
        if !(beta.is_finite() && beta > 0.0) {
            return Err(ModelError::Param(format!("beta must be > 0, got {beta}")));
        }
        let n = self.spins.len();
        let mut stack = Vec::with_capacity(n);
        let mut energies = Vec::with_capacity(sweeps);
        let mut flipped = 0;
        while energies.len() < sweeps {
            flipped += self.wolff_step(beta, rng, &mut stack);
            while flipped >= n && energies.len() < sweeps {
                flipped -= n;
                energies.push(self.energy_per_site());
            }
        }
        Ok(energies)
    }

    /// The spins as an `l × l` image of ±1.
    pub fn image(&self) -> Vec<f64> {
        self.spins.iter().map(|&s| f64::from(s)).collect()
    }
}

/// Integrated autocorrelation time `τ = 1/2 + Σ_{t≥1} ρ(t)` of a series, summed up to the
/// first lag where the estimated autocorrelation turns negative (Geyer's initial positive
/// sequence, simplified). Independent samples give `τ ≈ 1/2`.
pub fn autocorrelation_time(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return f64::NAN;
    }
    let m = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64;
    if var == 0.0 {
        return 0.5;
    }
    let mut tau = 0.5;
    for t in 1..n / 2 {
        let rho =
            (0..n - t).map(|i| (x[i] - m) * (x[i + t] - m)).sum::<f64>() / ((n - t) as f64 * var);
        if rho <= 0.0 {
            break;
        }
        tau += rho;
    }
    tau
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    #[test]
    fn critical_energy_is_near_minus_sqrt2_and_equilibrates_fast() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut m = Ising::new(64).unwrap();
        assert_eq!(
            m.energy_per_site(),
            -2.0,
            "all up: two satisfied bonds per site"
        );
        m.run(BETA_CRITICAL, 100, &mut rng).unwrap();
        let e = m.run(BETA_CRITICAL, 400, &mut rng).unwrap();
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        // Infinite-lattice value −√2 = −1.4142; finite-size corrections at L = 64 are ~1e-2.
        assert!(
            (mean + std::f64::consts::SQRT_2).abs() < 0.03,
            "energy per site {mean}"
        );
        // Wolff updates decorrelate the energy within a few sweeps even at T_c.
        let tau = autocorrelation_time(&e);
        assert!(tau < 5.0, "autocorrelation time {tau} sweeps");
    }

    #[test]
    fn ordered_and_disordered_phases() {
        let mut rng = StdRng::seed_from_u64(6);
        let mut cold = Ising::new(32).unwrap();
        cold.run(0.7, 50, &mut rng).unwrap();
        assert!(cold.magnetisation().abs() > 0.9);
        let mut hot = Ising::new(32).unwrap();
        hot.run(0.2, 50, &mut rng).unwrap();
        assert!(hot.magnetisation().abs() < 0.2);
        assert!(Ising::new(1).is_err());
        let iid: Vec<f64> = (0..2000).map(|_| rng.random::<f64>()).collect();
        assert!((autocorrelation_time(&iid) - 0.5).abs() < 0.1);
        // An AR(1) series with coefficient 0.9 has τ = (1 + 0.9) / (2 (1 − 0.9)) = 9.5.
        let mut ar = vec![0.0f64; 20000];
        for t in 1..ar.len() {
            ar[t] = 0.9 * ar[t - 1] + rng.random::<f64>() - 0.5;
        }
        let tau = autocorrelation_time(&ar);
        assert!((tau - 9.5).abs() < 2.0, "AR(1) tau {tau}");
    }
}
