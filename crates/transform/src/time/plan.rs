//! Planning: the padding, the filter bank, the path table and subsampling of every path,
//! the FFT plans, and the filters stored on their supports, all computed once.

use super::params::BankSource;
use super::*;
use crate::common::padding::Padding;
use crate::common::Averaging;
use crate::error::{invalid, Result};
use scattering_engine::fourier1d::{Plans, SparseFilter};
use scattering_engine::pool::Pool;
use scattering_engine::Real;
use scattering_filters::morlet1d::{gauss_1d, temporal_support};
use scattering_filters::{Bank1dParams, FilterBank1d};

impl Scattering1dParams {
    /// Checks the parameters and returns the bank parameters, the padded length and the
    /// left padding. Padded length: Kymatio's rule (3 low-pass supports on each side, a
    /// power of two, at most 3N - 2 so the mirror never wraps).
    pub(super) fn plan_padding(&self) -> Result<(Bank1dParams, usize, usize)> {
        let n = self.n;
        if self.j == 0 || self.j > scattering_filters::bank1d::MAX_J {
            return Err(invalid(
                "J",
                format!(
                    "must be in 1..={}, got {}",
                    scattering_filters::bank1d::MAX_J,
                    self.j
                ),
            ));
        }
        if n < (1 << self.j) {
            return Err(invalid(
                "N",
                format!(
                    "signal length {n} is shorter than 2^J = {}; lower J or use longer signals",
                    1usize << self.j
                ),
            ));
        }
        if self.max_order > 2 {
            return Err(invalid(
                "max_order",
                format!("must be 0, 1 or 2, got {}", self.max_order),
            ));
        }
        let t = self.t.unwrap_or(1 << self.j);
        if t == 0 || t > n {
            return Err(invalid(
                "T",
                format!("averaging scale must be in 1..=N = {n}, got {t}"),
            ));
        }
        let mut bank_params = Bank1dParams::new(self.j, self.q, Some(t))?;
        bank_params.reduction = self.reduction;
        bank_params.sigma0 = self.sigma0;
        bank_params.r_psi = self.r_psi;
        bank_params.alpha = self.alpha;
        bank_params.validate()?;
        let (n_pad, pad_left) = padding_of(self.padding, n, t, bank_params.sigma_low())?;
        Ok((bank_params, n_pad, pad_left))
    }

    /// The length the filters act on (the signal length plus its padding): a bank given to
    /// [`Self::build_with_bank`] must have this length.
    pub fn padded_length(&self) -> Result<usize> {
        Ok(self.plan_padding()?.1)
    }
}

/// The padded length and left padding of a signal of length `n` (Kymatio's rule: 3
/// low-pass supports on each side, a power of two, at most `3n - 2` so the mirror never
/// wraps). The support is measured on a low-pass of length `min(n, 2^22)` (or longer when
/// T needs it), so a very long signal's padding costs no allocation of its length; below
/// 2^22 samples the rule is Kymatio's exactly, above it the support is the same (it spans
/// a few T, far below the length measured on).
pub(crate) fn padding_of(
    padding: Padding,
    n: usize,
    t: usize,
    sigma_low: f64,
) -> Result<(usize, usize)> {
    Ok(match padding {
        Padding::Reflect => {
            let m = n.min((1usize << 22).max(t.saturating_mul(64).next_power_of_two()));
            let phi = gauss_1d(m, sigma_low)?;
            let min_to_pad = 3 * temporal_support(&phi, 1e-3);
            let jp = ceil_log2(n + 2 * min_to_pad).min(floor_log2(3 * n - 2));
            let n_pad = 1usize << jp;
            (n_pad, (n_pad - n) / 2)
        }
        Padding::Periodic => (n, 0),
    })
}

/// A prebuilt bank's sizes and values: level `k` of every filter is `n_pad / 2^k` long and
/// finite, and each family has a level 0. Missing levels are caught with the path table.
fn check_bank(bank: &FilterBank1d, n_pad: usize) -> Result<()> {
    if bank.n != n_pad {
        return Err(invalid(
            "bank",
            format!(
                "bank length {} differs from the padded length {n_pad}",
                bank.n
            ),
        ));
    }
    if bank.psi1.is_empty() || bank.psi2.is_empty() {
        return Err(invalid(
            "bank",
            "psi1 and psi2 need at least one filter each",
        ));
    }
    let all = std::iter::once(("phi", &bank.phi))
        .chain(bank.psi1.iter().map(|f| ("psi1", f)))
        .chain(bank.psi2.iter().map(|f| ("psi2", f)));
    for (name, f) in all {
        if f.levels.is_empty() {
            return Err(invalid("bank", format!("a {name} filter has no level 0")));
        }
        for (k, lev) in f.levels.iter().enumerate() {
            if lev.len() != n_pad >> k || !n_pad.is_multiple_of(1 << k) {
                return Err(invalid(
                    "bank",
                    format!(
                        "{name} filter (xi = {}) level {k} has {} values, expected {}",
                        f.xi,
                        lev.len(),
                        n_pad >> k
                    ),
                ));
            }
            if lev.iter().any(|v| !v.is_finite()) {
                return Err(invalid(
                    "bank",
                    format!("{name} filter (xi = {}) level {k} is not finite", f.xi),
                ));
            }
        }
    }
    Ok(())
}

impl<T: Real> Scattering1d<T> {
    pub(super) fn new(params: Scattering1dParams, source: BankSource<'_>) -> Result<Self> {
        let n = params.n;
        let (bank_params, n_pad, pad_left) = params.plan_padding()?;
        let t = bank_params.t;
        let log2_t = bank_params.log2_t();
        let bank = match source {
            BankSource::Family(wavelet, layout) => {
                FilterBank1d::with_family(n_pad, &bank_params, wavelet, layout)?
            }
            BankSource::Bank(bank) => {
                check_bank(&bank, n_pad)?;
                bank
            }
        };

        // Subsampling of every path: k1 after psi1, k2 more after psi2; `out_level` is
        // the subsampling of the averaged output.
        let avg = params.average;
        let k1_of = |j1: usize| match avg {
            Averaging::Local => j1.min(log2_t),
            Averaging::Global => j1,
            Averaging::None => 0,
        };
        let k2_of = |j2: usize, k1: usize| match avg {
            Averaging::Local => j2.min(log2_t).saturating_sub(k1),
            Averaging::Global => j2.saturating_sub(k1),
            Averaging::None => 0,
        };
        let out_level = if avg == Averaging::Local { log2_t } else { 0 };
        let mut first = Vec::new();
        let mut meta = vec![PathMeta1d {
            order: 0,
            n: vec![],
            j: vec![],
            xi: vec![],
            sigma: vec![],
        }];
        let mut max_level = out_level;
        if params.max_order >= 1 {
            for (n1, f1) in bank.psi1.iter().enumerate() {
                let k1 = k1_of(f1.j);
                max_level = max_level.max(k1);
                first.push(First {
                    n1,
                    k1,
                    channel: 1 + n1,
                    children: vec![],
                });
                meta.push(PathMeta1d {
                    order: 1,
                    n: vec![n1],
                    j: vec![f1.j],
                    xi: vec![f1.xi],
                    sigma: vec![f1.sigma],
                });
            }
        }
        if params.max_order >= 2 {
            let mut channel = 1 + bank.psi1.len();
            for f in first.iter_mut() {
                let f1 = &bank.psi1[f.n1];
                for (n2, f2) in bank.psi2.iter().enumerate() {
                    if f2.j <= f1.j {
                        continue;
                    }
                    let k2 = k2_of(f2.j, f.k1);
                    max_level = max_level.max(f.k1 + k2);
                    f.children.push(Child { n2, k2, channel });
                    channel += 1;
                    meta.push(PathMeta1d {
                        order: 2,
                        n: vec![f.n1, n2],
                        j: vec![f1.j, f2.j],
                        xi: vec![f1.xi, f2.xi],
                        sigma: vec![f1.sigma, f2.sigma],
                    });
                }
            }
        }
        if n_pad % (1 << max_level) != 0 {
            return Err(invalid(
                "N",
                format!(
                    "with periodic padding the length must be divisible by 2^{max_level} = {}, got {n}",
                    1usize << max_level
                ),
            ));
        }
        // The bank builds every level the length allows, so a missing one is a length
        // problem.
        let missing_psi2 = first.iter().any(|f| {
            f.children
                .iter()
                .any(|c| bank.psi2[c.n2].level(f.k1).is_none())
        });
        if missing_psi2 || (avg == Averaging::Local && bank.phi.level(max_level).is_none()) {
            return Err(invalid(
                "N",
                format!(
                    "a filter level the paths need is missing: the padded length {n_pad} is \
                     too short for J and T, or a prebuilt bank lacks it"
                ),
            ));
        }

        // Unpadding indices at each level (ceil at each halving, as Kymatio).
        let mut ind_start = vec![pad_left];
        let mut ind_end = vec![pad_left + n];
        for k in 1..=max_level {
            ind_start.push(ind_start[k - 1].div_ceil(2));
            ind_end.push(ind_end[k - 1].div_ceil(2));
        }
        let t_out = match avg {
            Averaging::Global => 1,
            _ => ind_end[out_level] - ind_start[out_level],
        };
        let sparse = |levels: &[Vec<f64>]| -> Vec<SparseFilter<T>> {
            levels.iter().map(|l| SparseFilter::of(l)).collect()
        };
        Ok(Self {
            psi1: bank
                .psi1
                .iter()
                .map(|f| SparseFilter::of(&f.levels[0]))
                .collect(),
            psi2: bank.psi2.iter().map(|f| sparse(&f.levels)).collect(),
            phi: sparse(&bank.phi.levels),
            plans: Plans::new(n_pad, max_level),
            pool: Pool::new(2),
            exec: Default::default(),
            params,
            t,
            bank,
            n_pad,
            pad_left,
            ind_start,
            ind_end,
            out_level,
            t_out,
            first,
            meta,
        })
    }
}

pub(crate) fn ceil_log2(m: usize) -> usize {
    (usize::BITS - (m.max(1) - 1).leading_zeros()) as usize
}

pub(crate) fn floor_log2(m: usize) -> usize {
    (usize::BITS - 1 - m.leading_zeros()) as usize
}
