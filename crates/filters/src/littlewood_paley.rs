//! Littlewood-Paley sums: how evenly a filter bank covers the frequency axis.
//!
//! For a bank `{phi, psi_l}` the wavelet transform `x -> (x * phi, x * psi_l)` satisfies
//! `A ||x||^2 <= ||Wx||^2 <= B ||x||^2` with `A`, `B` the minimum and maximum of the sum
//! below; `B <= 1` makes it (and the scattering transform built on it) contractive.

/// Sum over filters of `|h(w)|^2`, bin by bin (analytic signals: no symmetrisation).
pub fn littlewood_paley(filters: &[&[f64]]) -> Vec<f64> {
    let n = filters.first().map_or(0, |f| f.len());
    let mut lp = vec![0.0; n];
    for f in filters {
        for (a, v) in lp.iter_mut().zip(f.iter()) {
            *a += v * v;
        }
    }
    lp
}

/// Littlewood-Paley sum for real signals: `|phi(w)|^2 + (sum_l |psi_l(w)|^2 + |psi_l(-w)|^2) / 2`.
/// A real signal's spectrum is symmetric, so an analytic wavelet sees both halves.
pub fn littlewood_paley_real(psis: &[&[f64]], phi: Option<&[f64]>) -> Vec<f64> {
    let raw = littlewood_paley(psis);
    let n = raw.len().max(phi.map_or(0, <[f64]>::len));
    (0..n)
        .map(|k| {
            let neg = (n - k) % n;
            let w = if raw.is_empty() {
                0.0
            } else {
                0.5 * (raw[k] + raw[neg])
            };
            w + phi.map_or(0.0, |p| p[k] * p[k])
        })
        .collect()
}

/// Minimum and maximum of a Littlewood-Paley sum over the bins whose frequency (cycles
/// per sample, in [0, 0.5]) lies in `[lo, hi]`.
pub fn bounds(lp: &[f64], lo: f64, hi: f64) -> (f64, f64) {
    let n = lp.len();
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for (k, &v) in lp.iter().enumerate().take(n / 2 + 1) {
        let f = k as f64 / n as f64;
        if f >= lo && f <= hi {
            min = min.min(v);
            max = max.max(v);
        }
    }
    (min, max)
}
