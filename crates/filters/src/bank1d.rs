//! The 1D scattering filter bank: a low-pass `phi` and two wavelet families `psi1`,
//! `psi2`, each filter stored at every subsampling level the transform needs.

use crate::error::{invalid, FilterError, Result};
use crate::morlet1d::periodize;
use crate::wavelet::{Morlet, Wavelet1d};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt;

/// How a filter's spectrum is folded when it is applied to a signal subsampled by 2^k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Reduction {
    /// Sum of the folds (Kymatio main, 0.4): the subsampled filter keeps the energy of the
    /// full-rate one. The default, and the correct choice.
    #[default]
    Sum,
    /// Mean of the folds (Kymatio 0.3.0): loses a factor 2^k of energy per subsampled
    /// stage. Offered only to reproduce results computed with Kymatio 0.3.0.
    Mean,
}

/// Parameters of a 1D scattering filter bank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bank1dParams {
    /// Number of octaves covered by the wavelets; the largest wavelet support is ~2^J.
    pub j: usize,
    /// Wavelets per octave at the first and second order.
    pub q: (usize, usize),
    /// Support of the low-pass (averaging scale), in samples. Defaults to 2^J.
    pub t: usize,
    /// Minimal bandwidth is `sigma0 / 2^J` (Kymatio: 0.1).
    pub sigma0: f64,
    /// Neighbouring wavelets meet at this fraction of their peak (Kymatio: sqrt(1/2)).
    pub r_psi: f64,
    /// Aliasing tolerance: a filter may be subsampled by 2^j if `xi + alpha sigma < 2^-(j+1)`.
    pub alpha: f64,
    /// Folding of subsampled filters.
    pub reduction: Reduction,
}

/// The largest J accepted: 2^30 samples is already far beyond any realistic signal.
pub const MAX_J: usize = 30;
/// The largest number of wavelets per octave accepted.
pub const MAX_Q: usize = 64;

impl Bank1dParams {
    /// Validated parameters with Kymatio's defaults for everything but `J`, `Q` and `T`.
    /// `t = None` means `T = 2^J`.
    pub fn new(j: usize, q: (usize, usize), t: Option<usize>) -> Result<Self> {
        if j == 0 || j > MAX_J {
            return Err(invalid("J", format!("must be in 1..={MAX_J}, got {j}")));
        }
        if q.0 == 0 || q.1 == 0 || q.0 > MAX_Q || q.1 > MAX_Q {
            return Err(invalid(
                "Q",
                format!(
                    "both entries must be in 1..={MAX_Q}, got ({}, {})",
                    q.0, q.1
                ),
            ));
        }
        let t = t.unwrap_or(1 << j);
        if t == 0 {
            return Err(invalid("T", "the averaging scale must be at least 1"));
        }
        Ok(Self {
            j,
            q,
            t,
            sigma0: 0.1,
            r_psi: std::f64::consts::FRAC_1_SQRT_2,
            alpha: 5.0,
            reduction: Reduction::Sum,
        })
    }

    /// Checks the fields a caller may have set by hand: `sigma0 > 0`, `0 < r_psi < 1`,
    /// `alpha > 0`, all finite, besides the ranges [`Self::new`] checks.
    pub fn validate(&self) -> Result<()> {
        Self::new(self.j, self.q, Some(self.t))?;
        if !(self.sigma0.is_finite() && self.sigma0 > 0.0) {
            return Err(invalid(
                "sigma0",
                format!("must be positive, got {}", self.sigma0),
            ));
        }
        if !(self.r_psi.is_finite() && self.r_psi > 0.0 && self.r_psi < 1.0) {
            return Err(invalid(
                "r_psi",
                format!("must be in (0, 1), got {}", self.r_psi),
            ));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(invalid(
                "alpha",
                format!("must be positive, got {}", self.alpha),
            ));
        }
        Ok(())
    }

    /// `floor(log2(T))`: the subsampling of locally averaged coefficients.
    pub fn log2_t(&self) -> usize {
        usize::BITS as usize - 1 - self.t.leading_zeros() as usize
    }

    /// Bandwidth of the low-pass filter.
    pub fn sigma_low(&self) -> f64 {
        self.sigma0 / self.t as f64
    }
}

/// Bandwidth of a wavelet at `xi` in a family of `q` per octave whose neighbours meet
/// at `r` of their peak.
pub fn sigma_for_xi(xi: f64, q: usize, r: f64) -> f64 {
    let factor = 1.0 / 2f64.powf(1.0 / q as f64);
    let term1 = (1.0 - factor) / (1.0 + factor);
    let term2 = 1.0 / (2.0 * (1.0 / r).ln()).sqrt();
    xi * term1 * term2
}

/// Largest centre frequency of a family of `q` wavelets per octave.
pub fn xi_max(q: usize) -> f64 {
    (1.0 / (1.0 + 2f64.powf(3.0 / q as f64))).max(0.35)
}

/// The `(xi, sigma)` pairs of a bank (Andén's ScatNet layout, Kymatio's
/// `anden_generator`): a geometric progression of ratio 2^(1/Q) from `xi_max` down to the
/// point where the bandwidth would fall under `sigma0 / 2^J`, then `Q - 1` wavelets of
/// that minimal bandwidth in arithmetic progression, which tile the low frequencies.
pub fn anden_generator(j: usize, q: usize, sigma0: f64, r_psi: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut xi = xi_max(q);
    let mut sigma = sigma_for_xi(xi, q, r_psi);
    let sigma_min = sigma0 / 2f64.powi(j as i32);
    let step = 2f64.powf(1.0 / q as f64);
    if sigma <= sigma_min {
        xi = sigma;
    } else {
        out.push((xi, sigma));
        while sigma > sigma_min * step {
            xi /= step;
            sigma /= step;
            out.push((xi, sigma));
        }
    }
    let elbow = xi;
    for _ in 0..q.saturating_sub(1) {
        xi -= elbow / q as f64;
        out.push((xi, sigma_min));
    }
    out
}

/// Where the band-pass filters of a 1D bank sit: the `(xi, sigma)` pairs (centre frequency
/// and bandwidth, in cycles per sample) of a family of `q` wavelets per octave.
///
/// The bank asks for the pairs of order 1 with `q = Q1` and of order 2 with `q = Q2`;
/// each pair becomes one filter of the bank's [`Wavelet1d`] family. Pairs need
/// `0 < xi < 0.5` and `sigma > 0`; the bank refuses others with a typed error.
///
/// ```
/// use scattering_filters::{Bank1dParams, FilterBank1d, FrequencyLayout, Morlet};
/// // Constant-Q only: the octaves of Andén's layout without its linear low-frequency tail.
/// struct ConstantQ;
/// impl FrequencyLayout for ConstantQ {
///     fn name(&self) -> &str { "constant-q" }
///     fn centers(&self, p: &Bank1dParams, q: usize) -> Vec<(f64, f64)> {
///         let xi0 = scattering_filters::bank1d::xi_max(q);
///         (0..p.j * q)
///             .map(|k| {
///                 let xi = xi0 * 2f64.powf(-(k as f64) / q as f64);
///                 (xi, scattering_filters::bank1d::sigma_for_xi(xi, q, p.r_psi))
///             })
///             .collect()
///     }
/// }
/// let params = Bank1dParams::new(6, (8, 1), None)?;
/// let bank = FilterBank1d::with_family(4096, &params, &Morlet, &ConstantQ)?;
/// assert_eq!(bank.psi1.len(), 48);
/// # Ok::<(), scattering_filters::FilterError>(())
/// ```
pub trait FrequencyLayout: Send + Sync {
    /// Short name, reported in errors and metadata.
    fn name(&self) -> &str;
    /// The `(xi, sigma)` pairs of a family of `q` wavelets per octave, by decreasing `xi`.
    fn centers(&self, params: &Bank1dParams, q: usize) -> Vec<(f64, f64)>;
}

impl fmt::Debug for dyn FrequencyLayout + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FrequencyLayout({})", self.name())
    }
}

/// Andén's layout ([`anden_generator`]), the one of ScatNet and Kymatio, and the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AndenLayout;

impl FrequencyLayout for AndenLayout {
    fn name(&self) -> &str {
        "anden"
    }
    fn centers(&self, params: &Bank1dParams, q: usize) -> Vec<(f64, f64)> {
        anden_generator(params.j, q, params.sigma0, params.r_psi)
    }
}

/// Checks the pairs a layout returned.
fn check_centers(layout: &dyn FrequencyLayout, pairs: &[(f64, f64)], q: usize) -> Result<()> {
    if pairs.is_empty() {
        return Err(invalid(
            "layout",
            format!(
                "layout `{}` returned no wavelets for Q = {q}",
                layout.name()
            ),
        ));
    }
    for &(xi, sigma) in pairs {
        if !(xi.is_finite() && xi > 0.0 && xi < 0.5 && sigma.is_finite() && sigma > 0.0) {
            return Err(FilterError::Degenerate {
                xi,
                sigma,
                reason: format!(
                    "layout `{}` must give 0 < xi < 0.5 and sigma > 0",
                    layout.name()
                ),
            });
        }
    }
    Ok(())
}

/// Largest `j` such that a filter at `xi` of width `sigma` may be subsampled by 2^j
/// without aliasing: `|xi| + alpha sigma < 2^-(j+1)`.
pub fn max_dyadic_subsampling(xi: f64, sigma: f64, alpha: f64) -> usize {
    let upper = (xi.abs() + alpha * sigma).min(0.5);
    let j = (-upper.log2()).floor() - 1.0;
    j.max(0.0) as usize
}

/// One filter of a bank with its parameters and its spectrum at each subsampling level.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter1d {
    /// Centre frequency in cycles per sample (0 for the low-pass).
    pub xi: f64,
    /// Bandwidth in cycles per sample.
    pub sigma: f64,
    /// Largest safe dyadic subsampling after this filter (for `phi`: log2 T).
    pub j: usize,
    /// `levels[k]`: the spectrum for a signal subsampled by 2^k (length `N / 2^k`).
    pub levels: Vec<Vec<f64>>,
}

impl Filter1d {
    /// The spectrum at subsampling level `k`, if the bank built it.
    pub fn level(&self, k: usize) -> Option<&[f64]> {
        self.levels.get(k).map(Vec::as_slice)
    }

    fn with_levels(mut self, upto: usize, reduction: Reduction) -> Self {
        let n = self.levels[0].len();
        for k in 1..=upto {
            if !n.is_multiple_of(1 << k) {
                break;
            }
            let lev = periodize(&self.levels[0], 1 << k, reduction);
            self.levels.push(lev);
        }
        self
    }
}

/// A 1D scattering filter bank at a fixed (padded) signal length.
///
/// ```
/// use scattering_filters::{Bank1dParams, FilterBank1d};
/// let params = Bank1dParams::new(6, (8, 1), None)?;
/// let bank = FilterBank1d::new(2048, &params)?;
/// assert_eq!(bank.psi1.len(), 38);
/// assert_eq!(bank.psi2.len(), 7);
/// // Every wavelet has zero mean.
/// assert!(bank.psi1.iter().all(|f| f.levels[0][0].abs() < 1e-12));
/// # Ok::<(), scattering_filters::FilterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FilterBank1d {
    /// Length of the level-0 filters (the padded signal length).
    pub n: usize,
    /// The parameters it was built from.
    pub params: Bank1dParams,
    /// Name of the wavelet family.
    pub wavelet: String,
    /// Name of the frequency layout.
    pub layout: String,
    /// Low-pass filter.
    pub phi: Filter1d,
    /// First-order wavelets, by decreasing centre frequency.
    pub psi1: Vec<Filter1d>,
    /// Second-order wavelets, by decreasing centre frequency.
    pub psi2: Vec<Filter1d>,
}

impl FilterBank1d {
    /// A Morlet bank of length `n`.
    pub fn new(n: usize, params: &Bank1dParams) -> Result<Self> {
        Self::with_wavelet(n, params, &Morlet)
    }

    /// A bank of length `n` whose band-pass filters come from `wavelet`, in Andén's layout.
    pub fn with_wavelet(n: usize, params: &Bank1dParams, wavelet: &dyn Wavelet1d) -> Result<Self> {
        Self::with_family(n, params, wavelet, &AndenLayout)
    }

    /// A bank of length `n` with the filters of `wavelet` at the places `layout` gives.
    pub fn with_family(
        n: usize,
        params: &Bank1dParams,
        wavelet: &dyn Wavelet1d,
        layout: &dyn FrequencyLayout,
    ) -> Result<Self> {
        params.validate()?;
        if n < 2 {
            return Err(invalid(
                "N",
                format!("signal length must be at least 2, got {n}"),
            ));
        }
        let build = |q: usize| -> Result<Vec<Filter1d>> {
            let pairs = layout.centers(params, q);
            check_centers(layout, &pairs, q)?;
            pairs
                .into_par_iter()
                .map(|(xi, sigma)| {
                    let h = wavelet.band_pass(n, xi, sigma)?;
                    if h.len() != n {
                        return Err(FilterError::WrongLength {
                            wavelet: wavelet.name().to_string(),
                            expected: n,
                            got: h.len(),
                        });
                    }
                    Ok(Filter1d {
                        xi,
                        sigma,
                        j: max_dyadic_subsampling(xi, sigma, params.alpha),
                        levels: vec![h],
                    })
                })
                .collect()
        };
        let psi1 = build(params.q.0)?;
        let max_j1 = psi1.iter().map(|f| f.j).max().unwrap_or(0);
        // A second-order wavelet is applied to |x * psi1| subsampled by 2^k1, k1 <= j1 < j2.
        let psi2: Vec<Filter1d> = build(params.q.1)?
            .into_par_iter()
            .map(|f| {
                let upto = f.j.saturating_sub(1).min(max_j1);
                f.with_levels(upto, params.reduction)
            })
            .collect();
        let max_j = psi2.iter().map(|f| f.j).max().unwrap_or(0).max(max_j1);
        let sigma_low = params.sigma_low();
        let phi = Filter1d {
            xi: 0.0,
            sigma: sigma_low,
            j: params.log2_t(),
            levels: vec![wavelet.low_pass(n, sigma_low)?],
        }
        .with_levels(max_j.max(params.log2_t()), params.reduction);
        Ok(Self {
            n,
            params: params.clone(),
            wavelet: wavelet.name().to_string(),
            layout: layout.name().to_string(),
            phi,
            psi1,
            psi2,
        })
    }

    /// Littlewood-Paley sum of the order-`order` family (1 or 2) with the low-pass, at full
    /// resolution, for real signals: `|phi(w)|^2 + (sum |psi(w)|^2 + |psi(-w)|^2) / 2`.
    /// Its maximum bounds the energy the wavelet transform can create; values near 1 over
    /// the band mean a nearly tight frame.
    pub fn littlewood_paley(&self, order: usize) -> Vec<f64> {
        let family = if order == 2 { &self.psi2 } else { &self.psi1 };
        let psis: Vec<&[f64]> = family.iter().map(|f| f.levels[0].as_slice()).collect();
        crate::littlewood_paley::littlewood_paley_real(&psis, Some(&self.phi.levels[0]))
    }
}
