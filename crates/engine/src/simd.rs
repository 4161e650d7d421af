//! The one dispatch mechanism of the engine. The crates are compiled for baseline x86-64,
//! so without it the element-wise loops (folds, moduli, spectrum splits) would run on
//! two-lane SSE2 while rustfft, which dispatches the same way, runs on AVX.
//!
//! The instruction set is decided once per process ([`level`]): AVX2 + FMA where the CPU
//! has them, the portable scalar path otherwise, or the scalar path everywhere when the
//! environment variable `SCATTERING_SIMD` is `scalar` (so that the tests exercise the
//! fallback on any machine: CI runs the engine and transform suites a second time so).
//! Generic loops go through [`dispatch`], which compiles them a second time with AVX2
//! enabled. The few kernels the compiler does not vectorise well are written once per
//! element type against pulp's safe AVX2 + FMA token ([`v3`]; here and in `line_filter`),
//! reached through the [`Real`](crate::Real) trait, so nothing picks a kernel by type at
//! run time; the column FFT's butterflies (`column_fft`) stay hand-written.

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

/// pulp's token for AVX2 + FMA, detected once per process with [`level`] (so that
/// `SCATTERING_SIMD=scalar` turns it off too): the vector kernels below are written
/// against it, safely, and run inside [`pulp::x86::V3::vectorize`].
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn v3() -> Option<pulp::x86::V3> {
    static V3: OnceLock<Option<pulp::x86::V3>> = OnceLock::new();
    *V3.get_or_init(|| {
        if avx2_fma() {
            pulp::x86::V3::try_new()
        } else {
            None
        }
    })
}

/// `o[2k + c] (+)= s[2k + c] w[k]`, `c = 0, 1`: interleaved complex values `s` scaled
/// by one real filter value `w[k]` each, added to `o` (`acc`) or stored. Large filters
/// keep each value once (half the memory traffic of [`mac`]'s doubled values); the
/// vector kernels duplicate them in registers. `o` and `s` hold `2 w.len()` values.
#[inline(always)]
pub fn real_scale<T: crate::real::Real>(o: &mut [T], s: &[T], w: &[T], acc: bool) {
    let n = w.len();
    T::real_scale_kernel(&mut o[..2 * n], &s[..2 * n], w, acc);
}

/// The portable loop of [`real_scale`], also its tail.
#[inline(always)]
pub(crate) fn real_scale_loop<T: crate::real::Real>(o: &mut [T], s: &[T], w: &[T], acc: bool) {
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

/// Writes `|z_k|` into the real part of `pack_k` (zeroing its imaginary part), or, with
/// `imag`, into its imaginary part (keeping the real part): two real moduli share one
/// complex array so that one FFT serves both. `z` and `pack` are interleaved complex
/// values of the same length.
#[inline(always)]
pub fn pack_modulus<T: crate::real::Real>(z: &[T], pack: &mut [T], imag: bool) {
    let n = z.len().min(pack.len()) / 2 * 2;
    T::pack_modulus_kernel(&z[..n], &mut pack[..n], imag);
}

/// The portable loop of [`pack_modulus`], also its tail.
#[inline(always)]
pub(crate) fn pack_modulus_loop<T: crate::real::Real>(z: &[T], pack: &mut [T], imag: bool) {
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

/// `u = sqrt(u)` in place, returning `[sum sqrt(u'), sum u', sum u]` over the new `u'`
/// (the sums of `U^(1/2)`, `U` and `U^2` for a squared modulus `u = U^2`), summed in f64
/// in eight lanes, or `None` where no vector kernel applies (the caller then runs its
/// portable loop, which gives the same f64 result to the bit).
///
/// f64: both roots exact, the lanes summed in the portable loop's order. The kernel exists
/// because the compiler's vectorisation of that loop is fragile: a change of module layout
/// left the second root scalar, and the 3D forward pass at 64^3 took 15% longer (measured
/// with `scripts/ab-bench --paired`). f32: the compiler leaves the loop half scalar (it
/// converts to f64 value by value), and the second root (of `U`, feeding only a sum)
/// doubles its cost. The kernel keeps the exact `sqrt` for `U`, which later stages read,
/// and takes `sqrt(U) = U rsqrt(U)` from the hardware estimate (12 bits) refined by one
/// Newton step (to about 2e-7, f32's own precision); blocks with a value outside
/// `[1e-30, 1e30]`, zeros included, take the exact root.
pub fn sqrt_sums<T: crate::real::Real>(u: &mut [T]) -> Option<[f64; 3]> {
    T::sqrt_sums_kernel(u)
}

/// The vector kernels, written once per element type against pulp's AVX2 + FMA token.
/// Each is the portable loop on another CPU, or with `SCATTERING_SIMD=scalar`.
pub(crate) mod kernels {
    use super::{pack_modulus_loop, real_scale_loop};

    /// [`super::real_scale`] in f64: two complex values a vector, each filter value
    /// loaded once and duplicated in the register.
    pub fn real_scale_f64(o: &mut [f64], s: &[f64], w: &[f64], acc: bool) {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = super::v3() {
            return pulp::Simd::vectorize(simd, x86::RealScaleF64 { simd, o, s, w, acc });
        }
        real_scale_loop(o, s, w, acc)
    }

    /// [`super::real_scale`] in f32: four complex values a vector.
    pub fn real_scale_f32(o: &mut [f32], s: &[f32], w: &[f32], acc: bool) {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = super::v3() {
            return pulp::Simd::vectorize(simd, x86::RealScaleF32 { simd, o, s, w, acc });
        }
        real_scale_loop(o, s, w, acc)
    }

    /// [`super::pack_modulus`] in f64.
    pub fn pack_modulus_f64(z: &[f64], pack: &mut [f64], imag: bool) {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = super::v3() {
            return pulp::Simd::vectorize(
                simd,
                x86::PackF64 {
                    simd,
                    z,
                    pack,
                    imag,
                },
            );
        }
        pack_modulus_loop(z, pack, imag)
    }

    /// [`super::pack_modulus`] in f32.
    pub fn pack_modulus_f32(z: &[f32], pack: &mut [f32], imag: bool) {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = super::v3() {
            return pulp::Simd::vectorize(
                simd,
                x86::PackF32 {
                    simd,
                    z,
                    pack,
                    imag,
                },
            );
        }
        pack_modulus_loop(z, pack, imag)
    }

    /// [`super::sqrt_sums`] in f64.
    pub fn sqrt_sums_f64(u: &mut [f64]) -> Option<[f64; 3]> {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = super::v3() {
            return Some(pulp::Simd::vectorize(simd, x86::SumsF64 { simd, u }));
        }
        let _ = u;
        None
    }

    /// [`super::sqrt_sums`] in f32.
    pub fn sqrt_sums_f32(u: &mut [f32]) -> Option<[f64; 3]> {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = super::v3() {
            return Some(pulp::Simd::vectorize(simd, x86::SumsF32 { simd, u }));
        }
        let _ = u;
        None
    }

    /// The AVX2 + FMA bodies. Every access goes through pulp's safe views of the slices
    /// as vectors (`as_simd`) and its safe intrinsics; nothing here is `unsafe`.
    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use super::{pack_modulus_loop, real_scale_loop};
        use pulp::x86::V3;
        use pulp::{cast, f32x4, f32x8, f64x4, i32x8, Simd, WithSimd};
        use std::arch::x86_64::{__m256, __m256d, _CMP_GE_OQ, _CMP_LE_OQ};

        pub struct RealScaleF64<'a> {
            pub simd: V3,
            pub o: &'a mut [f64],
            pub s: &'a [f64],
            pub w: &'a [f64],
            pub acc: bool,
        }

        impl WithSimd for RealScaleF64<'_> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, _: S) {
                let Self { simd, o, s, w, acc } = self;
                let (avx, fma) = (simd.avx, simd.fma);
                // Two filter values and two complex values (one vector) a step.
                let (wv, wt) = pulp::as_arrays::<2, f64>(w);
                let (ov, ot) = V3::as_mut_simd_f64s(o);
                let (sv, st) = V3::as_simd_f64s(s);
                for ((o, s), w) in ov.iter_mut().zip(sv).zip(wv) {
                    // [w0, w1] in both halves, then each value twice: [w0, w0, w1, w1].
                    let h: __m256d = cast(f64x4(w[0], w[1], w[0], w[1]));
                    let wd = avx._mm256_permute_pd::<0b1100>(h);
                    let r = if acc {
                        fma._mm256_fmadd_pd(cast(*s), wd, cast(*o))
                    } else {
                        avx._mm256_mul_pd(cast(*s), wd)
                    };
                    *o = cast(r);
                }
                real_scale_loop(ot, st, wt, acc);
            }
        }

        pub struct RealScaleF32<'a> {
            pub simd: V3,
            pub o: &'a mut [f32],
            pub s: &'a [f32],
            pub w: &'a [f32],
            pub acc: bool,
        }

        impl WithSimd for RealScaleF32<'_> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, _: S) {
                let Self { simd, o, s, w, acc } = self;
                let (avx, fma) = (simd.avx, simd.fma);
                let twice = cast(i32x8(0, 0, 1, 1, 2, 2, 3, 3));
                let (wv, wt) = pulp::as_arrays::<4, f32>(w);
                let (ov, ot) = V3::as_mut_simd_f32s(o);
                let (sv, st) = V3::as_simd_f32s(s);
                for ((o, s), w) in ov.iter_mut().zip(sv).zip(wv) {
                    // [w0 .. w3] in both halves, then each value twice (within each half).
                    let h: f32x4 = f32x4(w[0], w[1], w[2], w[3]);
                    let wd = avx._mm256_permutevar_ps(avx._mm256_set_m128(cast(h), cast(h)), twice);
                    let r = if acc {
                        fma._mm256_fmadd_ps(cast(*s), wd, cast(*o))
                    } else {
                        avx._mm256_mul_ps(cast(*s), wd)
                    };
                    *o = cast(r);
                }
                real_scale_loop(ot, st, wt, acc);
            }
        }

        pub struct PackF64<'a> {
            pub simd: V3,
            pub z: &'a [f64],
            pub pack: &'a mut [f64],
            pub imag: bool,
        }

        impl WithSimd for PackF64<'_> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, _: S) {
                let Self {
                    simd,
                    z,
                    pack,
                    imag,
                } = self;
                let avx = simd.avx;
                let zero = avx._mm256_setzero_pd();
                // Four complex values (two vectors) a step: square, add the pairs
                // horizontally so that one root serves four moduli, interleave back.
                let (zv, _) = pulp::as_arrays::<2, f64x4>(V3::as_simd_f64s(z).0);
                let (pv, _) = pulp::as_arrays_mut::<2, f64x4>(V3::as_mut_simd_f64s(pack).0);
                let done = 8 * zv.len();
                for (p, z) in pv.iter_mut().zip(zv) {
                    let (a, b): (__m256d, __m256d) = (cast(z[0]), cast(z[1]));
                    // [|z0|^2, |z2|^2, |z1|^2, |z3|^2], then their roots.
                    let m = avx._mm256_sqrt_pd(
                        avx._mm256_hadd_pd(avx._mm256_mul_pd(a, a), avx._mm256_mul_pd(b, b)),
                    );
                    let (lo, hi) = if imag {
                        (
                            avx._mm256_blend_pd::<0b1010>(cast(p[0]), avx._mm256_unpacklo_pd(m, m)),
                            avx._mm256_blend_pd::<0b1010>(cast(p[1]), avx._mm256_unpackhi_pd(m, m)),
                        )
                    } else {
                        (
                            avx._mm256_unpacklo_pd(m, zero),
                            avx._mm256_unpackhi_pd(m, zero),
                        )
                    };
                    p[0] = cast(lo);
                    p[1] = cast(hi);
                }
                pack_modulus_loop(&z[done..], &mut pack[done..], imag);
            }
        }

        pub struct PackF32<'a> {
            pub simd: V3,
            pub z: &'a [f32],
            pub pack: &'a mut [f32],
            pub imag: bool,
        }

        impl WithSimd for PackF32<'_> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, _: S) {
                let Self {
                    simd,
                    z,
                    pack,
                    imag,
                } = self;
                let avx = simd.avx;
                let zero = avx._mm256_setzero_ps();
                // Eight complex values (two vectors) a step.
                let (zv, _) = pulp::as_arrays::<2, f32x8>(V3::as_simd_f32s(z).0);
                let (pv, _) = pulp::as_arrays_mut::<2, f32x8>(V3::as_mut_simd_f32s(pack).0);
                let done = 16 * zv.len();
                for (p, z) in pv.iter_mut().zip(zv) {
                    let (a, b): (__m256, __m256) = (cast(z[0]), cast(z[1]));
                    // Squared moduli [0 1 4 5 | 2 3 6 7], then their roots.
                    let m = avx._mm256_sqrt_ps(
                        avx._mm256_hadd_ps(avx._mm256_mul_ps(a, a), avx._mm256_mul_ps(b, b)),
                    );
                    let (lo, hi) = if imag {
                        (
                            avx._mm256_blend_ps::<0b1010_1010>(
                                cast(p[0]),
                                avx._mm256_unpacklo_ps(m, m),
                            ),
                            avx._mm256_blend_ps::<0b1010_1010>(
                                cast(p[1]),
                                avx._mm256_unpackhi_ps(m, m),
                            ),
                        )
                    } else {
                        (
                            avx._mm256_unpacklo_ps(m, zero),
                            avx._mm256_unpackhi_ps(m, zero),
                        )
                    };
                    p[0] = cast(lo);
                    p[1] = cast(hi);
                }
                pack_modulus_loop(&z[done..], &mut pack[done..], imag);
            }
        }

        pub struct SumsF64<'a> {
            pub simd: V3,
            pub u: &'a mut [f64],
        }

        impl WithSimd for SumsF64<'_> {
            type Output = [f64; 3];
            #[inline(always)]
            fn with_simd<S: Simd>(self, _: S) -> [f64; 3] {
                let Self { simd, u } = self;
                let avx = simd.avx;
                let mut acc = [avx._mm256_setzero_pd(); 6];
                let (blocks, _) = pulp::as_arrays_mut::<2, f64x4>(V3::as_mut_simd_f64s(u).0);
                let done = 8 * blocks.len();
                for b in blocks.iter_mut() {
                    for h in 0..2 {
                        let s: __m256d = cast(b[h]);
                        let r = avx._mm256_sqrt_pd(s);
                        b[h] = cast(r);
                        acc[h] = avx._mm256_add_pd(acc[h], avx._mm256_sqrt_pd(r));
                        acc[2 + h] = avx._mm256_add_pd(acc[2 + h], r);
                        acc[4 + h] = avx._mm256_add_pd(acc[4 + h], s);
                    }
                }
                // Eight lanes a sum, added in lane order, as the portable loop does.
                let lanes = |lo: __m256d, hi: __m256d| {
                    let (a, b): (f64x4, f64x4) = (cast(lo), cast(hi));
                    [a.0, a.1, a.2, a.3, b.0, b.1, b.2, b.3].iter().sum::<f64>()
                };
                let mut out = [
                    lanes(acc[0], acc[1]),
                    lanes(acc[2], acc[3]),
                    lanes(acc[4], acc[5]),
                ];
                for v in &mut u[done..] {
                    let s = *v;
                    *v = v.sqrt();
                    out[0] += v.sqrt();
                    out[1] += *v;
                    out[2] += s;
                }
                out
            }
        }

        pub struct SumsF32<'a> {
            pub simd: V3,
            pub u: &'a mut [f32],
        }

        impl WithSimd for SumsF32<'_> {
            type Output = [f64; 3];
            #[inline(always)]
            fn with_simd<S: Simd>(self, _: S) -> [f64; 3] {
                let Self { simd, u } = self;
                let (avx, fma) = (simd.avx, simd.fma);
                let splat = |v: f32| avx._mm256_set1_ps(v);
                let (lo, hi) = (splat(1e-30), splat(1e30));
                let (half, three_halves) = (splat(0.5), splat(1.5));
                let mut acc = [avx._mm256_setzero_pd(); 6];
                let (blocks, _) = V3::as_mut_simd_f32s(u);
                let done = 8 * blocks.len();
                for b in blocks.iter_mut() {
                    let s: __m256 = cast(*b);
                    let r = avx._mm256_sqrt_ps(s);
                    *b = cast(r);
                    let inside = avx._mm256_and_ps(
                        avx._mm256_cmp_ps::<_CMP_GE_OQ>(r, lo),
                        avx._mm256_cmp_ps::<_CMP_LE_OQ>(r, hi),
                    );
                    let q = if avx._mm256_movemask_ps(inside) == 0xff {
                        let y = avx._mm256_rsqrt_ps(r);
                        let yy = avx._mm256_mul_ps(y, y);
                        let hr = avx._mm256_mul_ps(half, r);
                        avx._mm256_mul_ps(
                            r,
                            avx._mm256_mul_ps(y, fma._mm256_fnmadd_ps(hr, yy, three_halves)),
                        )
                    } else {
                        avx._mm256_sqrt_ps(r)
                    };
                    // Summed in f64, four lanes at a time.
                    for (k, v) in [q, r, s].into_iter().enumerate() {
                        let l = avx._mm256_cvtps_pd(avx._mm256_castps256_ps128(v));
                        let h = avx._mm256_cvtps_pd(avx._mm256_extractf128_ps::<1>(v));
                        acc[2 * k] = avx._mm256_add_pd(acc[2 * k], l);
                        acc[2 * k + 1] = avx._mm256_add_pd(acc[2 * k + 1], h);
                    }
                }
                let total = |x: __m256d, y: __m256d| {
                    let t: f64x4 = cast(avx._mm256_add_pd(x, y));
                    [t.0, t.1, t.2, t.3].iter().sum::<f64>()
                };
                let mut out = [
                    total(acc[0], acc[1]),
                    total(acc[2], acc[3]),
                    total(acc[4], acc[5]),
                ];
                for v in &mut u[done..] {
                    let s = f64::from(*v);
                    *v = v.sqrt();
                    out[0] += f64::from(v.sqrt());
                    out[1] += f64::from(*v);
                    out[2] += s;
                }
                out
            }
        }
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
