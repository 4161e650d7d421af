//! Inputs of any finite magnitude. Scattering is positively homogeneous,
//! `S(c x) = c S(x)` for `c > 0`, and its Jacobian does not depend on `c`. So a sample whose
//! largest value would overflow (or underflow) the squares of the modulus is scaled by a
//! power of two on loading, an exact operation, and its coefficients by the inverse power.
//! Samples in the safe range, all ordinary data, are not touched and give the same bits
//! as before.

use scattering_engine::Real;

/// The power of two `k` to multiply a sample by, or 0 when its largest magnitude lies in
/// `[sqrt(min_positive) 1e4, sqrt(max) 1e-4]` of `T` (about `1e-150 .. 1e150` in f64,
/// `1e-15 .. 2e15` in f32) or the sample is zero.
pub(crate) fn rescale_exponent<T: Real, A: Copy + Into<f64>>(x: impl Iterator<Item = A>) -> i32 {
    let max = x.fold(0.0f64, |m, v| m.max(v.into().abs()));
    let hi = T::max_value().as_f64().sqrt() * 1e-4;
    let lo = T::min_positive_value().as_f64().sqrt() * 1e4;
    if max == 0.0 || (lo..=hi).contains(&max) {
        return 0;
    }
    // max 2^k in [0.5, 1).
    -(max.log2().floor() as i32) - 1
}

/// Multiplication by `2^k`, exact, for `|k|` up to about 2000: two factors, so that
/// neither overflows, computed once per sample.
#[derive(Clone, Copy)]
pub(crate) struct Pow2(f64, f64);

impl Pow2 {
    /// The factors of `2^k`.
    pub(crate) fn new(k: i32) -> Self {
        let a = k / 2;
        Self(2f64.powi(a), 2f64.powi(k - a))
    }
    /// `v 2^k`.
    #[inline(always)]
    pub(crate) fn apply(self, v: f64) -> f64 {
        v * self.0 * self.1
    }
}
