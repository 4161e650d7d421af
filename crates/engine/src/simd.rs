//! The one dispatch mechanism of the engine. The crates are compiled for baseline x86-64,
//! so without it the element-wise loops (folds, moduli, spectrum splits) would run on
//! two-lane SSE2 while rustfft, which dispatches the same way, runs on AVX.
//!
//! The instruction set is decided once per process ([`level`]): AVX2 + FMA where the CPU
//! has them, the portable scalar path otherwise, or the scalar path everywhere when the
//! environment variable `SCATTERING_SIMD` is `scalar` (so that the tests exercise the
//! fallback on any machine: CI runs the engine and transform suites a second time so).
//! Generic loops go through [`dispatch`], which compiles them a second time with AVX2
//! enabled; the few hand-written intrinsic kernels (here, in `column_fft` and in
//! `line_filter`) ask [`avx2_fma`] and keep a measurement beside them.
//!
//! Why [`real_scale`], [`pack_modulus`] and [`sqrt_sums`] are not written against pulp:
//! commit 2d9f652 ported all six (f32, f64) to pulp's safe `V3` token, with the same
//! instructions and bit-identical outputs, reached through the `Real` trait. Against the
//! hand-written kernels (`scripts/ab-bench --paired CONFIG PREC 6`, 2026-12-05, B/A of
//! time), 2D lost 1.7-3.6% (`2D_J3_28x28_L8_B256` f64: 1.036, 1.017, 1.027), 1.8-2.6%
//! (`2D_J4_256x256_L8_B4` f64) and 3.3-4.2% (the same in f32: 1.033, 1.042, 1.035), while
//! a binary against its own copy gave 0.997-0.999; 1D (0.98) and 3D (1.00) did not move.
//! Above the 3% the architecture allows, so the kernels stay as they are.

use std::sync::OnceLock;

/// Instruction sets the kernels may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Portable code only.
    Scalar,
    /// AVX2 without FMA (generic loops compiled for AVX2; no intrinsic kernels).
    Avx2,
    /// AVX2 and FMA: every vector kernel.
    Avx2Fma,
}

/// The level in force for this process: the CPU's, unless `SCATTERING_SIMD=scalar`.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let forced_scalar = std::env::var("SCATTERING_SIMD")
            .map(|v| v.eq_ignore_ascii_case("scalar"))
            .unwrap_or(false);
        if forced_scalar {
            return Level::Scalar;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                return if std::arch::is_x86_feature_detected!("fma") {
                    Level::Avx2Fma
                } else {
                    Level::Avx2
                };
            }
        }
        Level::Scalar
    })
}

/// Whether generic loops run compiled for AVX2.
#[inline]
pub fn avx2() -> bool {
    level() >= Level::Avx2
}

/// Whether the hand-written AVX2 + FMA kernels run.
#[inline]
pub fn avx2_fma() -> bool {
    level() == Level::Avx2Fma
}

/// A loop to compile twice, for baseline x86-64 and for AVX2. Implementations mark
/// `run` `#[inline(always)]` and call only `#[inline]` code, so that all of it is
/// inlined into [`dispatch`]'s AVX2 copy and compiled with AVX2.
pub trait Kernel {
    /// What the loop returns.
    type Output;
    /// The loop itself.
    fn run(self) -> Self::Output;
}

/// Runs `k` compiled with AVX2 enabled when the CPU has it.
#[inline]
pub fn dispatch<K: Kernel>(k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        if avx2() {
            // SAFETY: the CPU supports AVX2, checked once by `level`.
            return unsafe { run_avx2(k) };
        }
    }
    k.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<K: Kernel>(k: K) -> K::Output {
    k.run()
}

/// `o[k] += s[k] w[k]`, element-wise: the inner loop of every fold, on interleaved
/// complex data and filter values stored twice (`[w, w]`).
#[inline(always)]
pub fn mac<T: crate::real::Real>(o: &mut [T], s: &[T], w: &[T]) {
    for ((o, &s), &w) in o.iter_mut().zip(s).zip(w) {
        *o += s * w;
    }
}

/// `o[2k + c] (+)= s[2k + c] w[k]`, `c = 0, 1`: interleaved complex values `s` scaled
/// by one real filter value `w[k]` each, added to `o` (`acc`) or stored. Large filters
/// keep each value once (half the memory traffic of [`mac`]'s doubled values); the
/// vector kernels duplicate them in registers. `o` and `s` hold `2 w.len()` values.
#[inline(always)]
pub fn real_scale<T: crate::real::Real>(o: &mut [T], s: &[T], w: &[T], acc: bool) {
    let n = w.len();
    let (o, s) = (&mut o[..2 * n], &s[..2 * n]);
    #[cfg(target_arch = "x86_64")]
    {
        use std::any::TypeId;
        let cpu = avx2_fma();
        if cpu && TypeId::of::<T>() == TypeId::of::<f64>() {
            let (o, s, w) = (
                bytemuck::cast_slice_mut::<T, f64>(o),
                bytemuck::cast_slice::<T, f64>(s),
                bytemuck::cast_slice::<T, f64>(w),
            );
            // SAFETY: the CPU has AVX2 and FMA, checked just above; the lengths match.
            unsafe { scale::real_f64(o, s, w, acc) };
            return;
        }
        if cpu && TypeId::of::<T>() == TypeId::of::<f32>() {
            let (o, s, w) = (
                bytemuck::cast_slice_mut::<T, f32>(o),
                bytemuck::cast_slice::<T, f32>(s),
                bytemuck::cast_slice::<T, f32>(w),
            );
            // SAFETY: as above.
            unsafe { scale::real_f32(o, s, w, acc) };
            return;
        }
    }
    real_scale_loop(o, s, w, acc);
}

/// The portable loop of [`real_scale`], also its tail.
#[inline(always)]
fn real_scale_loop<T: crate::real::Real>(o: &mut [T], s: &[T], w: &[T], acc: bool) {
    let it = o.chunks_exact_mut(2).zip(s.chunks_exact(2)).zip(w);
    if acc {
        it.for_each(|((o, s), &w)| {
            o[0] += s[0] * w;
            o[1] += s[1] * w;
        });
    } else {
        it.for_each(|((o, s), &w)| {
            o[0] = s[0] * w;
            o[1] = s[1] * w;
        });
    }
}

/// The kernels of [`real_scale`]: whole vectors through the slices' own pointers (two
/// complex values a vector in f64, four in f32), the remainder by the portable loop.
#[cfg(target_arch = "x86_64")]
mod scale {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn real_f64(o: &mut [f64], s: &[f64], w: &[f64], acc: bool) {
        let n = w.len() / 2 * 2;
        let (op, sp, wp) = (o.as_mut_ptr(), s.as_ptr(), w.as_ptr());
        let mut k = 0;
        while k < n {
            // [w_k, w_k+1] in both halves, then each value twice: [w_k, w_k, w_k+1, w_k+1].
            let h = _mm_loadu_pd(wp.add(k));
            let wd = _mm256_permute_pd::<0b1100>(_mm256_set_m128d(h, h));
            let v = _mm256_loadu_pd(sp.add(2 * k));
            let r = if acc {
                _mm256_fmadd_pd(v, wd, _mm256_loadu_pd(op.add(2 * k)))
            } else {
                _mm256_mul_pd(v, wd)
            };
            _mm256_storeu_pd(op.add(2 * k), r);
            k += 2;
        }
        super::real_scale_loop(&mut o[2 * n..], &s[2 * n..], &w[n..], acc);
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn real_f32(o: &mut [f32], s: &[f32], w: &[f32], acc: bool) {
        let n = w.len() / 4 * 4;
        let (op, sp, wp) = (o.as_mut_ptr(), s.as_ptr(), w.as_ptr());
        let twice = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
        let mut k = 0;
        while k < n {
            // [w_k .. w_k+3] in both halves, then each value twice (within each half).
            let h = _mm_loadu_ps(wp.add(k));
            let wd = _mm256_permutevar_ps(_mm256_set_m128(h, h), twice);
            let v = _mm256_loadu_ps(sp.add(2 * k));
            let r = if acc {
                _mm256_fmadd_ps(v, wd, _mm256_loadu_ps(op.add(2 * k)))
            } else {
                _mm256_mul_ps(v, wd)
            };
            _mm256_storeu_ps(op.add(2 * k), r);
            k += 4;
        }
        super::real_scale_loop(&mut o[2 * n..], &s[2 * n..], &w[n..], acc);
    }
}

/// Writes `|z_k|` into the real part of `pack_k` (zeroing its imaginary part), or, with
/// `imag`, into its imaginary part (keeping the real part): two real moduli share one
/// complex array so that one FFT serves both. `z` and `pack` are interleaved complex
/// values of the same length. The vector kernels square two vectors, add the pairs
/// horizontally so that one square root serves four (f64) or eight (f32) moduli, and
/// interleave the roots back in place; the compiled loop shuffled across lanes and took
/// a root a value.
#[inline(always)]
pub fn pack_modulus<T: crate::real::Real>(z: &[T], pack: &mut [T], imag: bool) {
    let n = z.len().min(pack.len()) / 2 * 2;
    let (z, pack) = (&z[..n], &mut pack[..n]);
    #[cfg(target_arch = "x86_64")]
    {
        use std::any::TypeId;
        let cpu = avx2();
        if cpu && TypeId::of::<T>() == TypeId::of::<f64>() {
            let (z, p) = (
                bytemuck::cast_slice::<T, f64>(z),
                bytemuck::cast_slice_mut::<T, f64>(pack),
            );
            // SAFETY: the CPU has AVX2, checked just above; the lengths match.
            unsafe { moduli::pack_f64(z, p, imag) };
            return;
        }
        if cpu && TypeId::of::<T>() == TypeId::of::<f32>() {
            let (z, p) = (
                bytemuck::cast_slice::<T, f32>(z),
                bytemuck::cast_slice_mut::<T, f32>(pack),
            );
            // SAFETY: as above.
            unsafe { moduli::pack_f32(z, p, imag) };
            return;
        }
    }
    pack_modulus_loop(z, pack, imag);
}

/// The portable loop of [`pack_modulus`], also its tail.
#[inline(always)]
fn pack_modulus_loop<T: crate::real::Real>(z: &[T], pack: &mut [T], imag: bool) {
    let pairs = pack.chunks_exact_mut(2).zip(z.chunks_exact(2));
    if imag {
        pairs.for_each(|(p, c)| p[1] = (c[0] * c[0] + c[1] * c[1]).sqrt());
    } else {
        pairs.for_each(|(p, c)| {
            p[0] = (c[0] * c[0] + c[1] * c[1]).sqrt();
            p[1] = T::zero();
        });
    }
}

/// The kernels of [`pack_modulus`], on whole pairs of vectors through the slices' own
/// pointers, the remainder by the portable loop.
#[cfg(target_arch = "x86_64")]
mod moduli {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    pub unsafe fn pack_f64(z: &[f64], pack: &mut [f64], imag: bool) {
        // Eight values (four complex) a step.
        let n = z.len() / 8 * 8;
        let (zp, pp) = (z.as_ptr(), pack.as_mut_ptr());
        let zero = _mm256_setzero_pd();
        let mut k = 0;
        while k < n {
            let a = _mm256_loadu_pd(zp.add(k));
            let b = _mm256_loadu_pd(zp.add(k + 4));
            // [|z0|^2, |z2|^2, |z1|^2, |z3|^2], then their roots.
            let m = _mm256_sqrt_pd(_mm256_hadd_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b)));
            let (lo, hi) = if imag {
                let (p0, p1) = (_mm256_loadu_pd(pp.add(k)), _mm256_loadu_pd(pp.add(k + 4)));
                (
                    _mm256_blend_pd::<0b1010>(p0, _mm256_unpacklo_pd(m, m)),
                    _mm256_blend_pd::<0b1010>(p1, _mm256_unpackhi_pd(m, m)),
                )
            } else {
                (_mm256_unpacklo_pd(m, zero), _mm256_unpackhi_pd(m, zero))
            };
            _mm256_storeu_pd(pp.add(k), lo);
            _mm256_storeu_pd(pp.add(k + 4), hi);
            k += 8;
        }
        super::pack_modulus_loop(&z[n..], &mut pack[n..], imag);
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn pack_f32(z: &[f32], pack: &mut [f32], imag: bool) {
        // Sixteen values (eight complex) a step.
        let n = z.len() / 16 * 16;
        let (zp, pp) = (z.as_ptr(), pack.as_mut_ptr());
        let zero = _mm256_setzero_ps();
        let mut k = 0;
        while k < n {
            let a = _mm256_loadu_ps(zp.add(k));
            let b = _mm256_loadu_ps(zp.add(k + 8));
            // Squared moduli [0 1 4 5 | 2 3 6 7], then their roots.
            let m = _mm256_sqrt_ps(_mm256_hadd_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b)));
            let (lo, hi) = if imag {
                let (p0, p1) = (_mm256_loadu_ps(pp.add(k)), _mm256_loadu_ps(pp.add(k + 8)));
                (
                    _mm256_blend_ps::<0b1010_1010>(p0, _mm256_unpacklo_ps(m, m)),
                    _mm256_blend_ps::<0b1010_1010>(p1, _mm256_unpackhi_ps(m, m)),
                )
            } else {
                (_mm256_unpacklo_ps(m, zero), _mm256_unpackhi_ps(m, zero))
            };
            _mm256_storeu_ps(pp.add(k), lo);
            _mm256_storeu_ps(pp.add(k + 8), hi);
            k += 16;
        }
        super::pack_modulus_loop(&z[n..], &mut pack[n..], imag);
    }
}

/// `u = sqrt(u)` in place for `f32`, returning `[sum sqrt(u'), sum u', sum u]` over the
/// new `u'` (the sums of `U^(1/2)`, `U` and `U^2` for a squared modulus `u = U^2`), summed
/// in f64, or `None` where the kernel does not apply (another CPU or type).
///
/// The compiler leaves the f32 loop half scalar (it converts to f64 value by value), and a
/// second square root (of `U`, feeding only a sum) doubles its cost. The kernel keeps the
/// exact `sqrt` for `U`, which later stages read, and takes `sqrt(U) = U rsqrt(U)` from
/// the hardware estimate of `rsqrt` (12 bits) refined by one Newton step (to about 2e-7,
/// f32's own precision). Blocks with a value outside `[1e-30, 1e30]`, zeros included,
/// take the exact root. In f64 both roots are exact (`vsqrtpd`) and the lanes are summed
/// in the order of the portable loop, so the result is the portable loop's to the bit;
/// the kernel exists because the compiler's vectorisation of that loop is fragile: a
/// change of module layout left the second root scalar, and the 3D forward pass at 64^3
/// took 15% longer (measured with `scripts/ab-bench --paired`).
pub fn sqrt_sums<T: crate::real::Real>(u: &mut [T]) -> Option<[f64; 3]> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::any::TypeId;
        let cpu = avx2_fma();
        if cpu && TypeId::of::<T>() == TypeId::of::<f32>() {
            let u: &mut [f32] = bytemuck::cast_slice_mut(u);
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return Some(unsafe { roots::sums_f32(u) });
        }
        if cpu && TypeId::of::<T>() == TypeId::of::<f64>() {
            let u: &mut [f64] = bytemuck::cast_slice_mut(u);
            // SAFETY: as above.
            return Some(unsafe { roots::sums_f64(u) });
        }
    }
    let _ = u;
    None
}

/// The kernel of [`sqrt_sums`]: it reads and writes whole blocks of 8 values through the
/// block's own pointer, so every access stays within the slice.
#[cfg(target_arch = "x86_64")]
mod roots {
    use std::arch::x86_64::*;

    /// Horizontal sum of two vectors.
    #[inline(always)]
    unsafe fn total(x: __m256d, y: __m256d) -> f64 {
        let mut t = [0.0; 4];
        _mm256_storeu_pd(t.as_mut_ptr(), _mm256_add_pd(x, y));
        t.iter().sum()
    }

    /// Exact roots in f64; eight lanes a sum, added in lane order at the end.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sums_f64(u: &mut [f64]) -> [f64; 3] {
        let mut acc = [_mm256_setzero_pd(); 6];
        let mut blocks = u.chunks_exact_mut(8);
        for b in &mut blocks {
            let p = b.as_mut_ptr();
            for h in 0..2 {
                let s = _mm256_loadu_pd(p.add(4 * h));
                let r = _mm256_sqrt_pd(s);
                _mm256_storeu_pd(p.add(4 * h), r);
                acc[h] = _mm256_add_pd(acc[h], _mm256_sqrt_pd(r));
                acc[2 + h] = _mm256_add_pd(acc[2 + h], r);
                acc[4 + h] = _mm256_add_pd(acc[4 + h], s);
            }
        }
        let lanes = |lo: __m256d, hi: __m256d| {
            let mut t = [0.0f64; 8];
            _mm256_storeu_pd(t.as_mut_ptr(), lo);
            _mm256_storeu_pd(t.as_mut_ptr().add(4), hi);
            t.iter().sum::<f64>()
        };
        let mut out = [
            lanes(acc[0], acc[1]),
            lanes(acc[2], acc[3]),
            lanes(acc[4], acc[5]),
        ];
        for v in blocks.into_remainder() {
            let s = *v;
            *v = v.sqrt();
            out[0] += v.sqrt();
            out[1] += *v;
            out[2] += s;
        }
        out
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sums_f32(u: &mut [f32]) -> [f64; 3] {
        let (lo, hi) = (_mm256_set1_ps(1e-30), _mm256_set1_ps(1e30));
        let (half, three_halves) = (_mm256_set1_ps(0.5), _mm256_set1_ps(1.5));
        let mut acc = [_mm256_setzero_pd(); 6];
        let mut blocks = u.chunks_exact_mut(8);
        for b in &mut blocks {
            let p = b.as_mut_ptr();
            let s = _mm256_loadu_ps(p);
            let r = _mm256_sqrt_ps(s);
            _mm256_storeu_ps(p, r);
            let inside = _mm256_and_ps(
                _mm256_cmp_ps(r, lo, _CMP_GE_OQ),
                _mm256_cmp_ps(r, hi, _CMP_LE_OQ),
            );
            let q = if _mm256_movemask_ps(inside) == 0xff {
                let y = _mm256_rsqrt_ps(r);
                let yy = _mm256_mul_ps(y, y);
                let hr = _mm256_mul_ps(half, r);
                _mm256_mul_ps(r, _mm256_mul_ps(y, _mm256_fnmadd_ps(hr, yy, three_halves)))
            } else {
                _mm256_sqrt_ps(r)
            };
            // Summed in f64, four lanes at a time.
            for (k, v) in [q, r, s].into_iter().enumerate() {
                let l = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
                let h = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
                acc[2 * k] = _mm256_add_pd(acc[2 * k], l);
                acc[2 * k + 1] = _mm256_add_pd(acc[2 * k + 1], h);
            }
        }
        let mut out = [
            total(acc[0], acc[1]),
            total(acc[2], acc[3]),
            total(acc[4], acc[5]),
        ];
        for v in blocks.into_remainder() {
            let s = f64::from(*v);
            *v = v.sqrt();
            out[0] += f64::from(v.sqrt());
            out[1] += f64::from(*v);
            out[2] += s;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar reference: exact roots, compensated (Kahan) f64 sums, so that it is
    /// accurate to rounding whatever the order.
    fn exact<T: crate::real::Real>(u: &mut [T]) -> [f64; 3] {
        let (mut out, mut carry) = ([0.0f64; 3], [0.0f64; 3]);
        let mut add = |k: usize, x: f64| {
            let y = x - carry[k];
            let t = out[k] + y;
            carry[k] = (t - out[k]) - y;
            out[k] = t;
        };
        for v in u.iter_mut() {
            add(2, v.as_f64());
            *v = v.sqrt();
            add(0, v.sqrt().as_f64());
            add(1, v.as_f64());
        }
        out
    }

    #[test]
    fn sqrt_sums_match_exact_roots_including_zeros_and_extremes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut u: Vec<f64> = (0..4099)
            .map(|_| rng.random_range(0.0..1.0f64).powi(3) * 50.0)
            .collect();
        // Zeros (the estimate's failure: rsqrt(0) is infinite), alone in a block and
        // mixed in, and values at both ends of the range.
        for (i, v) in [0.0, 1e-70, 1e-44, 1e65, 0.0, 3e-31]
            .into_iter()
            .enumerate()
        {
            u[13 * i + 1] = v;
        }
        u[800..808].iter_mut().for_each(|v| *v = 0.0);
        // f64: the portable loop's result to the bit (eight lanes, summed in lane order).
        let portable = |u: &mut [f64]| {
            let mut acc = [[0.0f64; 8]; 3];
            let mut chunks = u.chunks_exact_mut(8);
            for c in &mut chunks {
                for (k, v) in c.iter_mut().enumerate() {
                    let s = *v;
                    *v = v.sqrt();
                    acc[0][k] += v.sqrt();
                    acc[1][k] += *v;
                    acc[2][k] += s;
                }
            }
            let mut out = acc.map(|a| a.iter().sum::<f64>());
            for v in chunks.into_remainder() {
                let s = *v;
                *v = v.sqrt();
                out[0] += v.sqrt();
                out[1] += *v;
                out[2] += s;
            }
            out
        };
        let (mut a, mut b) = (u.clone(), u.clone());
        let want = portable(&mut a);
        if let Some(got) = sqrt_sums(&mut b) {
            assert_eq!(
                (got, &b),
                (want, &a),
                "f64 kernel against the portable loop"
            );
        }
        // f32, with values in f32 range.
        let u32: Vec<f32> = u.iter().map(|&v| (v.min(1e30)) as f32).collect();
        let (mut a, mut b) = (u32.clone(), u32.clone());
        let want = exact(&mut a);
        let Some(got) = sqrt_sums(&mut b) else {
            return; // no AVX2 here: nothing to compare
        };
        assert_eq!(a, b, "the stored roots are the exact ones");
        for k in 0..3 {
            let e = (got[k] - want[k]).abs() / want[k];
            assert!(e <= 1e-6, "f32 sum {k}: {e:e}");
        }
    }

    #[test]
    fn real_scale_equals_the_scalar_product_with_every_tail() {
        fn check<T: crate::real::Real>(tol: f64) {
            for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 31] {
                let s: Vec<T> = (0..2 * n).map(|k| T::of((k as f64 * 0.7).sin())).collect();
                let w: Vec<T> = (0..n)
                    .map(|k| T::of(1.0 + (k as f64 * 0.3).cos()))
                    .collect();
                let o0: Vec<T> = (0..2 * n).map(|k| T::of(k as f64 * 0.01)).collect();
                for acc in [false, true] {
                    let mut o = o0.clone();
                    real_scale(&mut o, &s, &w, acc);
                    for k in 0..2 * n {
                        let base = if acc { o0[k].as_f64() } else { 0.0 };
                        let want = base + s[k].as_f64() * w[k / 2].as_f64();
                        let e = (o[k].as_f64() - want).abs();
                        assert!(e <= tol, "n {n} acc {acc} value {k}: {e:e}");
                    }
                }
            }
        }
        check::<f64>(1e-15);
        check::<f32>(1e-6);
    }

    #[test]
    fn pack_modulus_writes_exact_moduli_into_either_part() {
        fn check<T: crate::real::Real>(tol: f64) {
            for n in [0, 1, 3, 4, 5, 8, 9, 17, 33] {
                let z: Vec<T> = (0..2 * n)
                    .map(|k| T::of((k as f64 * 0.9).sin() * 3.0))
                    .collect();
                let old: Vec<T> = (0..2 * n).map(|k| T::of(k as f64 + 0.5)).collect();
                for imag in [false, true] {
                    let mut p = old.clone();
                    pack_modulus(&z, &mut p, imag);
                    for k in 0..n {
                        let (re, im) = (z[2 * k].as_f64(), z[2 * k + 1].as_f64());
                        let m = (re * re + im * im).sqrt();
                        let (want_re, want_im) = if imag {
                            (old[2 * k].as_f64(), m)
                        } else {
                            (m, 0.0)
                        };
                        let (got_re, got_im) = (p[2 * k].as_f64(), p[2 * k + 1].as_f64());
                        assert!(
                            (got_re - want_re).abs() <= tol * (1.0 + want_re.abs())
                                && (got_im - want_im).abs() <= tol * (1.0 + want_im.abs()),
                            "n {n} imag {imag} value {k}: ({got_re}, {got_im})"
                        );
                    }
                }
            }
        }
        check::<f64>(1e-15);
        check::<f32>(1e-6);
    }
}
