//! FFT plans per subsampling level and the Fourier-domain kernels shared by the forward
//! and backward passes: filtering combined with subsampling (periodisation of the
//! spectrum) and its adjoint (periodic tiling, i.e. zero-insertion upsampling).
//!
//! Conventions: real signals are carried by their half spectrum (`m / 2 + 1` bins, the
//! rest follows by conjugate symmetry); plans are unnormalised, and the `1/m` of each
//! inverse transform is folded into the kernels. Filters are real in Fourier and stored
//! sparsely, restricted to the bins where they are not negligible: wavelets are
//! narrow-band, so this skips most of the work of filtering at high resolution.

use crate::real::{Cx, Real};
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// FFT plans for one signal length.
pub struct Plan<T: Real> {
    /// Signal length at this level.
    pub m: usize,
    /// Complex forward FFT.
    pub fwd: Arc<dyn Fft<T>>,
    /// Complex inverse FFT (unnormalised).
    pub inv: Arc<dyn Fft<T>>,
    /// Real-to-half-spectrum FFT.
    pub r2c: Arc<dyn RealToComplex<T>>,
    /// Half-spectrum-to-real inverse FFT (unnormalised).
    pub c2r: Arc<dyn ComplexToReal<T>>,
}

/// Plans for lengths `n, n/2, ..., n/2^max_level`, built once per transform.
pub struct Plans<T: Real> {
    /// `levels[k]`: plans for length `n / 2^k`.
    pub levels: Vec<Plan<T>>,
    /// Scratch length (complex values) any plan of any level needs.
    pub scratch_len: usize,
}

impl<T: Real> Plans<T> {
    /// Plans for lengths `n / 2^k`, `k = 0..=max_level`.
    pub fn new(n: usize, max_level: usize) -> Self {
        let mut cp = FftPlanner::<T>::new();
        let mut rp = RealFftPlanner::<T>::new();
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

impl<T: Real> Plan<T> {
    /// Half spectrum of a real signal; `x` is used as scratch.
    pub fn real_to_half(&self, x: &mut [T], half: &mut [Cx<T>], scratch: &mut [Cx<T>]) {
        // realfft fails only on buffer lengths, which the plan fixes: a failure is a bug
        // in the caller's buffer sizes, never a property of the data, so it must be loud.
        if let Err(e) =
            self.r2c
                .process_with_scratch(&mut x[..self.m], &mut half[..self.m / 2 + 1], scratch)
        {
            unreachable!(
                "real FFT of length {}: buffers not sized by its plan: {e}",
                self.m
            );
        }
    }

    /// Real signal of a half spectrum (unnormalised). The DC and Nyquist imaginary parts,
    /// zero up to rounding for a Hermitian spectrum, are cleared first as realfft requires.
    pub fn half_to_real(&self, half: &mut [Cx<T>], scratch: &mut [Cx<T>], out: &mut [T]) {
        let m = self.m;
        let h = m / 2 + 1;
        half[0].im = T::zero();
        if m.is_multiple_of(2) {
            half[h - 1].im = T::zero();
        }
        // The DC and Nyquist imaginary parts are cleared above, so only buffer lengths
        // (a caller bug) can fail here.
        if let Err(e) = self
            .c2r
            .process_with_scratch(&mut half[..h], &mut out[..m], scratch)
        {
            unreachable!("inverse real FFT of length {m}: buffers not sized by its plan: {e}");
        }
    }
}

/// Complex modulus. `sqrt(re^2 + im^2)` rather than `hypot`: it vectorises, and the
/// values here are far from overflow.
pub fn modulus<T: Real>(z: &[Cx<T>], out: &mut [T]) {
    for (o, c) in out.iter_mut().zip(z) {
        *o = (c.re * c.re + c.im * c.im).sqrt();
    }
}

/// Backward of the modulus: `g_z = g_u z / |z|`, with the subgradient 0 where `z = 0`.
pub fn modulus_backward<T: Real>(z: &[Cx<T>], g_u: &[T], out: &mut [Cx<T>]) {
    for ((o, c), &g) in out.iter_mut().zip(z).zip(g_u) {
        let r = (c.re * c.re + c.im * c.im).sqrt();
        *o = if r > T::zero() {
            c * (g / r)
        } else {
            Cx::new(T::zero(), T::zero())
        };
    }
}

/// Coefficients below this fraction of a filter's peak are skipped (far below the
/// precision the transforms promise).
const SUPPORT_TOL: f64 = 1e-14;

/// A real Fourier-domain filter of length `n`, stored on its support only.
#[derive(Debug, Clone)]
pub struct SparseFilter<T> {
    n: usize,
    /// `(start, end, offset into values)`: sorted, disjoint runs of bins.
    runs: Vec<(usize, usize, usize)>,
    values: Vec<T>,
}

impl<T: Real> SparseFilter<T> {
    /// The filter `h` (full length `n`), kept on its support (bins above 1e-14 of its peak).
    pub fn of(h: &[f64]) -> Self {
        let peak = h.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let thr = peak * SUPPORT_TOL;
        let mut runs = Vec::new();
        let mut values = Vec::new();
        let mut start = None;
        for (i, v) in h.iter().enumerate() {
            let inside = v.abs() > thr;
            match (inside, start) {
                (true, None) => start = Some(i),
                (false, Some(a)) => {
                    runs.push((a, i, values.len()));
                    values.extend(h[a..i].iter().map(|&v| T::of(v)));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(a) = start {
            runs.push((a, h.len(), values.len()));
            values.extend(h[a..].iter().map(|&v| T::of(v)));
        }
        Self {
            n: h.len(),
            runs,
            values,
        }
    }

    /// Calls `f(fine_start, fine_end, coarse_start, value_offset)` for every piece of the
    /// support within one period of length `m`, clipped to coarse indices below `len`.
    #[inline]
    fn pieces(&self, m: usize, len: usize, mut f: impl FnMut(usize, usize, usize, usize)) {
        for &(a0, b, off) in &self.runs {
            let mut a = a0;
            while a < b {
                let base = (a / m) * m;
                let end = b.min(base + m);
                let i0 = a - base;
                if i0 < len {
                    f(a, end.min(base + len), i0, off + (a - a0));
                }
                a = end;
            }
        }
    }

    /// `out[i] = scale * sum_f src[i + f m] h[i + f m]` for `i < out.len() <= m`, where
    /// `src` is the spectrum of a real signal of length `self.n` given by its half
    /// `half`: filter, then subsample by `n / m`. A short `out` computes only the first
    /// bins (the half spectrum of a real result).
    pub fn fold_half(&self, half: &[Cx<T>], m: usize, scale: T, out: &mut [Cx<T>]) {
        fold_half_kernel(self, half, m, scale, out)
    }

    /// `out[i] = scale * sum_f spec[i + f m] h[i + f m]` for `i < m = out.len()`, where
    /// `spec` is a full spectrum of length `self.n` (a complex signal's): filter, then
    /// subsample by `n / m`. [`Self::tile_add`] is its adjoint (at scale 1).
    pub fn fold(&self, spec: &[Cx<T>], scale: T, out: &mut [Cx<T>]) {
        let m = out.len();
        out.iter_mut()
            .for_each(|o| *o = Cx::new(T::zero(), T::zero()));
        let vals = &self.values;
        self.pieces(m, m, |a, b, i0, off| {
            let k = b - a;
            for ((o, s), &w) in out[i0..i0 + k]
                .iter_mut()
                .zip(&spec[a..b])
                .zip(&vals[off..off + k])
            {
                *o += s * (w * scale);
            }
        });
    }

    /// Adjoint of [`Self::fold_half`] for complex inputs (scale 1): `acc[i] += h[i] *
    /// g[i mod m]` over the fine grid of length `n`, with `m = g.len()`.
    pub fn tile_add(&self, g: &[Cx<T>], acc: &mut [Cx<T>]) {
        tile_add_kernel(self, g, acc)
    }

    /// Adjoint of [`Self::fold_half`] for a real coarse signal of length `mo` given by
    /// its half spectrum `g_half`: the half spectrum (`n / 2 + 1` bins) of the fine
    /// result, `out[i] = scale * h[i] * G[i mod mo]`.
    pub fn tile_half(&self, g_half: &[Cx<T>], mo: usize, scale: T, out: &mut [Cx<T>]) {
        let n = self.n;
        out[..n / 2 + 1]
            .iter_mut()
            .for_each(|o| *o = Cx::new(T::zero(), T::zero()));
        let vals = &self.values;
        self.pieces(n, n / 2 + 1, |a, b, _, off| {
            for (t, i) in (a..b).enumerate() {
                let k = i % mo;
                let gk = if k <= mo / 2 {
                    g_half[k]
                } else {
                    g_half[mo - k].conj()
                };
                out[i] = gk * (vals[off + t] * scale);
            }
        });
    }
}

fn fold_half_kernel<T: Real>(
    f: &SparseFilter<T>,
    half: &[Cx<T>],
    m: usize,
    scale: T,
    out: &mut [Cx<T>],
) {
    let n = f.n;
    let h = n / 2 + 1;
    out.iter_mut()
        .for_each(|o| *o = Cx::new(T::zero(), T::zero()));
    let vals = &f.values;
    let len = out.len();
    f.pieces(m, len, |a, b, i0, off| {
        // Bins below n/2 + 1 are stored; the others are conjugates of mirrored ones.
        let mid = b.min(h).max(a);
        let k = mid - a;
        if k > 0 {
            let (o, s, w) = (&mut out[i0..i0 + k], &half[a..mid], &vals[off..off + k]);
            for ((o, s), &w) in o.iter_mut().zip(s).zip(w) {
                *o += s * (w * scale);
            }
        }
        for (t, idx) in (mid..b).enumerate() {
            let tt = k + t;
            out[i0 + tt] += half[n - idx].conj() * (vals[off + tt] * scale);
        }
    });
}

fn tile_add_kernel<T: Real>(f: &SparseFilter<T>, g: &[Cx<T>], acc: &mut [Cx<T>]) {
    let m = g.len();
    let vals = &f.values;
    f.pieces(m, m, |a, b, i0, off| {
        let k = b - a;
        for ((o, s), &w) in acc[a..b]
            .iter_mut()
            .zip(&g[i0..i0 + k])
            .zip(&vals[off..off + k])
        {
            *o += s * w;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    type C = Cx<f64>;

    fn filter(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let f = i as f64 / n as f64;
                (-(f - 0.3).powi(2) / 0.002).exp() + if i == n - 1 { 0.5 } else { 0.0 }
            })
            .collect()
    }

    fn full(half: &[C], n: usize) -> Vec<C> {
        (0..n)
            .map(|k| {
                if k <= n / 2 {
                    half[k]
                } else {
                    half[n - k].conj()
                }
            })
            .collect()
    }

    #[test]
    fn fold_half_equals_dense_fold_of_the_full_spectrum() {
        let n = 64;
        let h = filter(n);
        let half: Vec<C> = (0..=n / 2)
            .map(|i| {
                C::new(
                    (i as f64).sin(),
                    if i == 0 || i == n / 2 {
                        0.0
                    } else {
                        (i as f64 * 0.7).cos()
                    },
                )
            })
            .collect();
        let src = full(&half, n);
        let sf = SparseFilter::<f64>::of(&h);
        for (m, len) in [(64, 64), (16, 16), (16, 9), (8, 5)] {
            let mut got = vec![C::new(0.0, 0.0); len];
            sf.fold_half(&half, m, 0.5, &mut got);
            for (i, g) in got.iter().enumerate() {
                let want: C = (0..n / m)
                    .map(|f| src[i + f * m] * h[i + f * m] * 0.5)
                    .sum();
                assert!((g - want).norm() < 1e-13, "m={m} len={len} i={i}");
            }
        }
    }

    #[test]
    fn fold_equals_dense_fold_and_tile_add_is_its_adjoint() {
        let n = 64;
        let h = filter(n);
        let spec: Vec<C> = (0..n)
            .map(|i| C::new((i as f64 * 0.3).sin(), (i as f64 * 0.9).cos()))
            .collect();
        let sf = SparseFilter::<f64>::of(&h);
        for m in [64, 16, 4] {
            let mut got = vec![C::new(0.0, 0.0); m];
            sf.fold(&spec, 0.25, &mut got);
            for (i, g) in got.iter().enumerate() {
                let want: C = (0..n / m)
                    .map(|f| spec[i + f * m] * h[i + f * m] * 0.25)
                    .sum();
                assert!((g - want).norm() < 1e-13, "m={m} i={i}");
            }
            // <fold(x), g> = <x, tile(g)>.
            let g: Vec<C> = (0..m)
                .map(|i| C::new(i as f64 * 0.1, 1.0 - i as f64))
                .collect();
            let mut folded = vec![C::new(0.0, 0.0); m];
            sf.fold(&spec, 1.0, &mut folded);
            let lhs: C = folded.iter().zip(&g).map(|(a, b)| a * b.conj()).sum();
            let mut tiled = vec![C::new(0.0, 0.0); n];
            sf.tile_add(&g, &mut tiled);
            let rhs: C = spec.iter().zip(&tiled).map(|(a, b)| a * b.conj()).sum();
            assert!((lhs - rhs).norm() < 1e-10 * lhs.norm().max(1.0));
        }
    }

    #[test]
    fn tile_add_is_the_adjoint_of_folding() {
        // <fold(x), g> = <x, tile(g)> for complex vectors (real filter).
        let n = 64;
        let m = 16;
        let h = filter(n);
        let sf = SparseFilter::<f64>::of(&h);
        let x: Vec<C> = (0..n)
            .map(|i| C::new((i as f64 * 0.3).sin(), (i as f64).cos()))
            .collect();
        let g: Vec<C> = (0..m)
            .map(|i| C::new((i as f64 * 1.7).cos(), (i as f64 * 0.2).sin()))
            .collect();
        let fold: Vec<C> = (0..m)
            .map(|i| (0..n / m).map(|f| x[i + f * m] * h[i + f * m]).sum())
            .collect();
        let mut tiled = vec![C::new(0.0, 0.0); n];
        sf.tile_add(&g, &mut tiled);
        let lhs: C = fold.iter().zip(&g).map(|(a, b)| a * b.conj()).sum();
        let rhs: C = x.iter().zip(&tiled).map(|(a, b)| a * b.conj()).sum();
        assert!((lhs - rhs).norm() < 1e-12);
    }
}
