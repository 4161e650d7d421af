//! Frequential wavelets: Morlet filters along log-frequency (the first-order channel axis
//! of a scalogram), with a spin, as Kymatio's joint time-frequency scattering builds them
//! (main branch, Andén, Lostanlen and Mallat).
//!
//! The axis is the index `n1` of the first-order wavelets, zero-padded to a length
//! `n_fr`; its signals are complex (second-order wavelet coefficients stacked over `n1`),
//! so a wavelet and its mirror carry different information: spin `+1` (`xi_fr > 0`)
//! responds to frequencies that rise with time, spin `-1` to falling ones.

use crate::bank1d::{anden_generator, max_dyadic_subsampling, Filter1d, Reduction};
use crate::error::{invalid, Result};
use crate::morlet1d::{gauss_1d, morlet_1d, periodize};

/// The constants of Kymatio's banks: smallest bandwidth `sigma0 / 2^J`, neighbours meeting
/// at `r_psi` of their peak, aliasing tolerance `alpha`.
const SIGMA0: f64 = 0.1;
const R_PSI: f64 = std::f64::consts::FRAC_1_SQRT_2;
const ALPHA: f64 = 5.0;

/// One frequential filter: a Morlet wavelet (spin `+1` or `-1`) or the Gaussian low-pass
/// (spin 0) along log-frequency.
#[derive(Debug, Clone, PartialEq)]
pub struct FrequentialFilter {
    /// Centre frequency in cycles per channel; negative for spin `-1`, 0 for the low-pass.
    pub xi: f64,
    /// Bandwidth in cycles per channel.
    pub sigma: f64,
    /// Largest safe dyadic subsampling after this filter (`J_fr` for the low-pass).
    pub j: usize,
    /// `+1` (rising), `-1` (falling) or 0 (the low-pass).
    pub spin: i8,
    /// The spectrum, length `n_fr`, DFT bin order, unit l1 norm in the log-frequency domain.
    pub h: Vec<f64>,
}

/// The frequential filter bank of joint time-frequency scattering, in Kymatio's `n_fr`
/// order: the spin-0 low-pass of width `2^J_fr`, then the spin `+1` wavelets by decreasing
/// `xi`, then their mirrors (spin `-1`) in the same order.
///
/// ```
/// use scattering_filters::FrequentialBank;
/// let bank = FrequentialBank::new(120, 3, 2)?;
/// assert_eq!(bank.filters.len(), 15);
/// assert_eq!(bank.filters[0].spin, 0);
/// // A spin -1 wavelet is the mirror of its spin +1 twin.
/// let (up, down) = (&bank.filters[1], &bank.filters[8]);
/// // (up to the tail Kymatio's periodisation truncates asymmetrically).
/// assert!((1..120).all(|k| (up.h[k] - down.h[120 - k]).abs() < 1e-4));
/// # Ok::<(), scattering_filters::FilterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FrequentialBank {
    /// Length of the (zero-padded) log-frequency axis.
    pub n: usize,
    /// Largest frequential scale: wavelets span up to ~`2^J_fr` channels.
    pub j_fr: usize,
    /// Frequential wavelets per octave.
    pub q_fr: usize,
    /// Low-pass, spin +1 wavelets, spin -1 wavelets (Kymatio's `n_fr` order).
    pub filters: Vec<FrequentialFilter>,
}

impl FrequentialBank {
    /// The bank on an axis of `n` channels, with scales up to `2^j_fr` and `q_fr` wavelets
    /// per octave.
    pub fn new(n: usize, j_fr: usize, q_fr: usize) -> Result<Self> {
        if j_fr == 0 || j_fr > 16 {
            return Err(invalid("J_fr", format!("must be in 1..=16, got {j_fr}")));
        }
        if q_fr == 0 || q_fr > crate::bank1d::MAX_Q {
            return Err(invalid(
                "Q_fr",
                format!("must be in 1..={}, got {q_fr}", crate::bank1d::MAX_Q),
            ));
        }
        if n < 2 {
            return Err(invalid(
                "N_fr",
                format!("the log-frequency axis needs at least 2 channels, got {n}"),
            ));
        }
        let sigma_low = SIGMA0 / (1u64 << j_fr) as f64;
        let mut filters = vec![FrequentialFilter {
            xi: 0.0,
            sigma: sigma_low,
            j: j_fr,
            spin: 0,
            h: gauss_1d(n, sigma_low)?,
        }];
        let pairs = anden_generator(j_fr, q_fr, SIGMA0, R_PSI);
        for spin in [1i8, -1] {
            for &(xi, sigma) in &pairs {
                let xi = xi * f64::from(spin);
                filters.push(FrequentialFilter {
                    xi,
                    sigma,
                    j: max_dyadic_subsampling(xi, sigma, ALPHA),
                    spin,
                    h: morlet_1d(n, xi, sigma)?,
                });
            }
        }
        Ok(Self {
            n,
            j_fr,
            q_fr,
            filters,
        })
    }

    /// The number of filters of spin 0 and `+1` (those a real signal needs).
    pub fn n_up(&self) -> usize {
        self.filters.iter().filter(|f| f.spin >= 0).count()
    }

    /// Littlewood-Paley sum for complex signals: `sum_f |h_f(w)|^2` over every filter.
    /// Its maximum bounds the energy the frequential wavelet transform can create.
    pub fn littlewood_paley(&self) -> Vec<f64> {
        let mut lp = vec![0.0; self.n];
        for f in &self.filters {
            for (a, v) in lp.iter_mut().zip(&f.h) {
                *a += v * v;
            }
        }
        lp
    }
}

/// The frequential averaging low-pass of width `f` channels on an axis of `n`, with its
/// levels (sum of folds) for subsamplings `2^0 .. 2^max_level` (those that divide `n`).
pub fn frequential_lowpass(n: usize, f: usize, max_level: usize) -> Result<Filter1d> {
    if f == 0 {
        return Err(invalid(
            "F",
            "the frequential averaging width must be at least 1",
        ));
    }
    let sigma = SIGMA0 / f as f64;
    let h = gauss_1d(n, sigma)?;
    let mut levels = vec![h];
    for k in 1..=max_level {
        if !n.is_multiple_of(1 << k) {
            break;
        }
        levels.push(periodize(&levels[0], 1 << k, Reduction::Sum));
    }
    Ok(Filter1d {
        xi: 0.0,
        sigma,
        j: usize::BITS as usize - 1 - f.leading_zeros() as usize,
        levels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wavelets_have_zero_mean_and_spins_mirror() {
        let b = FrequentialBank::new(64, 3, 1).unwrap();
        let n_w = (b.filters.len() - 1) / 2;
        for f in &b.filters[1..] {
            assert!(f.h[0].abs() < 1e-12);
        }
        for i in 0..n_w {
            let (u, d) = (&b.filters[1 + i], &b.filters[1 + n_w + i]);
            assert_eq!(u.spin, 1);
            assert_eq!(d.spin, -1);
            assert!(u.xi > 0.0 && (u.xi + d.xi).abs() < 1e-15);
            let diff = (1..64).fold(0.0f64, |m, k| m.max((u.h[k] - d.h[64 - k]).abs()));
            assert!(diff < 1e-4, "xi {} diff {diff}", u.xi);
        }
        assert_eq!(b.n_up(), 1 + n_w);
    }

    #[test]
    fn littlewood_paley_is_bounded_and_covers_the_band() {
        // Both spins together cover the axis up to the largest centre frequency 0.35
        // (Kymatio leaves the band near Nyquist to the last wavelet's tail), and no
        // frequency gains more than the frame's ripple.
        let n = 128;
        let b = FrequentialBank::new(n, 4, 2).unwrap();
        let lp = b.littlewood_paley();
        let max = lp.iter().cloned().fold(0.0, f64::max);
        assert!(max <= 1.25 && max > 0.9, "max {max}");
        let freqs = crate::morlet1d::fft_frequencies(n);
        let min = lp
            .iter()
            .zip(&freqs)
            .filter(|(_, w)| w.abs() <= 0.35)
            .fold(f64::INFINITY, |m, (v, _)| m.min(*v));
        assert!(min > 0.35, "min {min}");
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(FrequentialBank::new(64, 0, 1).is_err());
        assert!(FrequentialBank::new(64, 3, 0).is_err());
        assert!(FrequentialBank::new(1, 3, 1).is_err());
        assert!(frequential_lowpass(64, 0, 2).is_err());
    }

    #[test]
    fn lowpass_levels_sum_folds() {
        let p = frequential_lowpass(120, 8, 3).unwrap();
        assert_eq!(p.levels.len(), 4);
        assert_eq!(p.j, 3);
        assert!((p.levels[0][0] - 1.0).abs() < 1e-12);
        assert!((p.levels[3].iter().sum::<f64>() - p.levels[0].iter().sum::<f64>()).abs() < 1e-9);
    }
}
