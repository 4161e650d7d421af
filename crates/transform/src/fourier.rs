//! FFT plans per subsampling level and the Fourier-domain kernels shared by the forward
//! and backward passes: filtering combined with subsampling (periodisation of the
//! spectrum) and its adjoint (periodic tiling, i.e. zero-insertion upsampling).
//!
//! Conventions: spectra are full length (DFT bin order) unless called `half`; plans are
//! unnormalised, and the `1/M` of each inverse transform is folded into the kernels.

use num_complex::Complex64 as C64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// FFT plans for one signal length.
pub(crate) struct Plan {
    pub m: usize,
    pub fwd: Arc<dyn Fft<f64>>,
    pub inv: Arc<dyn Fft<f64>>,
    pub r2c: Arc<dyn RealToComplex<f64>>,
    pub c2r: Arc<dyn ComplexToReal<f64>>,
}

/// Plans for lengths `n, n/2, ..., n/2^max_level`, built once per transform.
pub(crate) struct Plans {
    pub levels: Vec<Plan>,
    pub scratch_len: usize,
}

impl Plans {
    pub fn new(n: usize, max_level: usize) -> Self {
        let mut cp = FftPlanner::<f64>::new();
        let mut rp = RealFftPlanner::<f64>::new();
        let mut scratch_len = 0;
        let levels = (0..=max_level)
            .map(|k| {
                let m = n >> k;
                let p = Plan {
                    m,
                    fwd: cp.plan_fft_forward(m),
                    inv: cp.plan_fft_inverse(m),
                    r2c: rp.plan_fft_forward(m),
                    c2r: rp.plan_fft_inverse(m),
                };
                scratch_len = scratch_len
                    .max(p.fwd.get_inplace_scratch_len())
                    .max(p.inv.get_inplace_scratch_len())
                    .max(p.r2c.get_scratch_len())
                    .max(p.c2r.get_scratch_len());
                p
            })
            .collect();
        Self {
            levels,
            scratch_len,
        }
    }
}

/// Full spectrum of a real signal: r2c, then the negative frequencies by conjugation.
pub(crate) fn real_to_full(
    plan: &Plan,
    x: &mut [f64],
    half: &mut [C64],
    scratch: &mut [C64],
    out: &mut [C64],
) {
    let m = plan.m;
    let h = m / 2 + 1;
    // Cannot fail: lengths are those the plan was made for.
    let _ = plan
        .r2c
        .process_with_scratch(&mut x[..m], &mut half[..h], scratch);
    out[..h].copy_from_slice(&half[..h]);
    for k in h..m {
        out[k] = half[m - k].conj();
    }
}

/// Inverse real FFT of a half spectrum (unnormalised); DC and Nyquist imaginary parts,
/// zero up to rounding for a Hermitian spectrum, are cleared first as realfft requires.
pub(crate) fn half_to_real(plan: &Plan, half: &mut [C64], scratch: &mut [C64], out: &mut [f64]) {
    let m = plan.m;
    let h = m / 2 + 1;
    half[0].im = 0.0;
    if m % 2 == 0 {
        half[h - 1].im = 0.0;
    }
    let _ = plan
        .c2r
        .process_with_scratch(&mut half[..h], &mut out[..m], scratch);
}

/// `out[i] = scale * sum_f src[i + f m] h[i + f m]` for `i < out.len() <= m`: filter,
/// then subsample by `src.len() / m` (periodise the spectrum). A shorter `out` computes
/// only the first bins (the half spectrum of a real result).
pub(crate) fn filter_fold(src: &[C64], h: &[f64], m: usize, scale: f64, out: &mut [C64]) {
    let len = out.len();
    let folds = src.len() / m;
    for ((o, s), w) in out.iter_mut().zip(&src[..len]).zip(&h[..len]) {
        *o = s * w;
    }
    for f in 1..folds {
        let r = f * m..f * m + len;
        for ((o, s), w) in out.iter_mut().zip(&src[r.clone()]).zip(&h[r]) {
            *o += s * w;
        }
    }
    if scale != 1.0 {
        out.iter_mut().for_each(|o| *o *= scale);
    }
}

/// Adjoint of [`filter_fold`] (with scale 1): `acc[i] += h[i] * g[i mod M]` over the
/// whole fine grid; `g` is the coarse spectrum.
pub(crate) fn tile_filter_add(g: &[C64], h: &[f64], acc: &mut [C64]) {
    let m = g.len();
    for (acc_f, h_f) in acc.chunks_exact_mut(m).zip(h.chunks_exact(m)) {
        for ((a, w), s) in acc_f.iter_mut().zip(h_f).zip(g) {
            *a += s * w;
        }
    }
}

/// Complex modulus.
pub(crate) fn modulus(z: &[C64], out: &mut [f64]) {
    for (o, c) in out.iter_mut().zip(z) {
        *o = c.norm();
    }
}

/// Backward of the modulus: `g_z = g_u z / |z|`, with the subgradient 0 where `z = 0`.
pub(crate) fn modulus_backward(z: &[C64], g_u: &[f64], out: &mut [C64]) {
    for ((o, c), g) in out.iter_mut().zip(z).zip(g_u) {
        let r = c.norm();
        *o = if r > 0.0 { c * (g / r) } else { C64::new(0.0, 0.0) };
    }
}
