//! The element-wise loops of the 3D transform, written once and compiled for every SIMD
//! level by the engine's [`dispatch`](scattering_engine::simd::dispatch).

use super::*;
use scattering_engine::{Cx, Real};

/// `u += scale |z|^2`, for [`scattering_engine::simd::dispatch`].
pub(super) struct AddSquares<'a, T> {
    pub(super) u: &'a mut [T],
    pub(super) z: &'a [Cx<T>],
    pub(super) scale: T,
}

impl<T: Real> scattering_engine::simd::Kernel for AddSquares<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let z: &[T] = bytemuck::cast_slice(self.z);
        for (u, c) in self.u.iter_mut().zip(z.chunks_exact(2)) {
            *u += (c[0] * c[0] + c[1] * c[1]) * self.scale;
        }
    }
}

/// `u = sqrt(u)`, for [`scattering_engine::simd::dispatch`].
pub(super) struct Sqrt<'a, T> {
    pub(super) u: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for Sqrt<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.u.iter_mut().for_each(|v| *v = v.sqrt());
    }
}

/// `u += |z|^2 + |s conj(z) + C|^2` voxel by voxel, where the correction `C` at `(a, b, c)` is
/// `(-1)^a P0[b, c] + (-1)^b P1[a, c] + (-1)^c P2[a, b]` from the inverse transforms of the
/// three Nyquist planes (absent planes count as zero). Row by row along the last axis, so
/// that the loop vectorises.
pub(super) struct MirrorRows<'a, T> {
    pub(super) shape: (usize, usize, usize),
    pub(super) z: &'a [Cx<T>],
    pub(super) planes: &'a [Vec<Cx<T>>; 3],
    pub(super) present: [bool; 3],
    pub(super) sign: T,
    pub(super) u: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for MirrorRows<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let (m0, n0, o0) = self.shape;
        let zero = Cx::new(T::zero(), T::zero());
        let zeros = vec![zero; o0];
        let alt: Vec<T> = (0..o0)
            .map(|c| if c % 2 == 0 { T::one() } else { -T::one() })
            .collect();
        let [has0, has1, has2] = self.present;
        let s = self.sign;
        for a in 0..m0 {
            let sa = if a % 2 == 0 { T::one() } else { -T::one() };
            let p1 = if has1 {
                &self.planes[1][a * o0..(a + 1) * o0]
            } else {
                &zeros[..]
            };
            for b in 0..n0 {
                let sb = if b % 2 == 0 { T::one() } else { -T::one() };
                let p0 = if has0 {
                    &self.planes[0][b * o0..(b + 1) * o0]
                } else {
                    &zeros[..]
                };
                let p2 = if has2 {
                    self.planes[2][a * n0 + b]
                } else {
                    zero
                };
                let k = (a * n0 + b) * o0;
                let (z, u) = (&self.z[k..k + o0], &mut self.u[k..k + o0]);
                for ((((u, z), q0), q1), &sc) in u.iter_mut().zip(z).zip(p0).zip(p1).zip(&alt) {
                    let re = s * z.re + sa * q0.re + sb * q1.re + sc * p2.re;
                    let im = sa * q0.im + sb * q1.im + sc * p2.im - s * z.im;
                    *u += re * re + im * im + z.re * z.re + z.im * z.im;
                }
            }
        }
    }
}

/// The arguments of [`SparseComplex::mul_into`] (`add_i = false`) and
/// [`SparseComplex::mul_add_i`], for [`scattering_engine::simd::dispatch`].
pub(super) struct FilterProduct<'a, T> {
    pub(super) filter: &'a SparseComplex<T>,
    pub(super) src: &'a [Cx<T>],
    pub(super) out: &'a mut [Cx<T>],
    pub(super) add_i: bool,
}

impl<T: Real> scattering_engine::simd::Kernel for FilterProduct<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        if self.add_i {
            self.filter.mul_add_i_kernel(self.src, self.out)
        } else {
            self.filter.mul_into_kernel(self.src, self.out)
        }
    }
}

/// `sum u^q` in f64, in eight lanes, for [`scattering_engine::simd::dispatch`]: the powers that
/// [`SqrtSums`] does not give (1/2, 1 and 2 come from there).
pub(super) struct PowerSum<'a, T> {
    pub(super) u: &'a [T],
    pub(super) q: f64,
}

impl<T: Real> scattering_engine::simd::Kernel for PowerSum<'_, T> {
    type Output = f64;
    #[inline(always)]
    fn run(self) -> f64 {
        #[inline(always)]
        fn lanes<T: Real>(u: &[T], f: impl Fn(f64) -> f64) -> f64 {
            let mut acc = [0.0f64; 8];
            let chunks = u.chunks_exact(8);
            let rest: f64 = chunks.remainder().iter().map(|v| f(v.as_f64())).sum();
            for c in chunks {
                for (a, v) in acc.iter_mut().zip(c) {
                    *a += f(v.as_f64());
                }
            }
            acc.iter().sum::<f64>() + rest
        }
        let q = self.q;
        lanes(self.u, |v| pow(v, q))
    }
}

/// `u = sqrt(u)` in place, returning `[sum sqrt(U), sum U, sum U^2]` for the new `U`, summed
/// in f64 in eight lanes, for [`scattering_engine::simd::dispatch`].
pub(super) struct SqrtSums<'a, T> {
    pub(super) u: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for SqrtSums<'_, T> {
    type Output = [f64; 3];
    #[inline(always)]
    fn run(self) -> [f64; 3] {
        let mut acc = [[0.0f64; 8]; 3];
        let mut chunks = self.u.chunks_exact_mut(8);
        for c in &mut chunks {
            for (k, v) in c.iter_mut().enumerate() {
                let s = v.as_f64();
                let r = v.sqrt();
                *v = r;
                let r = r.as_f64();
                acc[0][k] += r.sqrt();
                acc[1][k] += r;
                acc[2][k] += s;
            }
        }
        let mut out = acc.map(|a| a.iter().sum::<f64>());
        for v in chunks.into_remainder() {
            let s = v.as_f64();
            *v = v.sqrt();
            let r = v.as_f64();
            out[0] += r.sqrt();
            out[1] += r;
            out[2] += s;
        }
        out
    }
}

/// `ua = Re(z)^2`, `ub = Im(z)^2`, for [`scattering_engine::simd::dispatch`].
pub(super) struct SplitSquares<'a, T> {
    pub(super) z: &'a [Cx<T>],
    pub(super) ua: &'a mut [T],
    pub(super) ub: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for SplitSquares<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let z: &[T] = bytemuck::cast_slice(self.z);
        for ((a, b), c) in self
            .ua
            .iter_mut()
            .zip(self.ub.iter_mut())
            .zip(z.chunks_exact(2))
        {
            *a = c[0] * c[0];
            *b = c[1] * c[1];
        }
    }
}

/// Splits `z = fft(a + i b)` of two real volumes, in place: `z` becomes `fft(a)` and `b_out`
/// `fft(b)`, from `fft(a)[k] = (z[k] + conj z[-k]) / 2`, `fft(b)[k] = (z[k] - conj z[-k]) / 2i`.
/// Line by line: line `(a, b)` mirrors onto line `(-a, -b)` read backwards (from its
/// second value), so that the inner loops hold no index arithmetic.
pub(super) fn split_pair_3d<T: Real>(
    z: &mut [Cx<T>],
    b_out: &mut [Cx<T>],
    shape: (usize, usize, usize),
) {
    scattering_engine::simd::dispatch(SplitPair3d { z, b_out, shape })
}

/// The arguments of [`split_pair_3d`], for [`scattering_engine::simd::dispatch`].
pub(super) struct SplitPair3d<'a, T> {
    pub(super) z: &'a mut [Cx<T>],
    pub(super) b_out: &'a mut [Cx<T>],
    pub(super) shape: (usize, usize, usize),
}

impl<T: Real> scattering_engine::simd::Kernel for SplitPair3d<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let SplitPair3d { z, b_out, shape } = self;
        let (m, n, o) = shape;
        let half = T::of(0.5);
        // (fft(a), fft(b)) at k from z[k] = u and z[-k] = v.
        let split = |u: Cx<T>, v: Cx<T>| {
            (
                Cx::new((u.re + v.re) * half, (u.im - v.im) * half),
                Cx::new((u.im + v.im) * half, (v.re - u.re) * half),
            )
        };
        for a in 0..m {
            for b in 0..n {
                let (l, lm) = (a * n + b, ((m - a) % m) * n + (n - b) % n);
                if lm < l {
                    continue;
                }
                if l == lm {
                    // A self-mirrored line: pairs (c, -c) within it.
                    let (zl, bl) = (&mut z[l * o..(l + 1) * o], &mut b_out[l * o..(l + 1) * o]);
                    for c in 0..=o / 2 {
                        let cm = (o - c) % o;
                        let (fa, fb) = split(zl[c], zl[cm]);
                        zl[c] = fa;
                        bl[c] = fb;
                        zl[cm] = fa.conj();
                        bl[cm] = fb.conj();
                    }
                    continue;
                }
                let (lo, hi) = z.split_at_mut(lm * o);
                let (zl, zm) = (&mut lo[l * o..(l + 1) * o], &mut hi[..o]);
                let (lo, hi) = b_out.split_at_mut(lm * o);
                let (bl, bm) = (&mut lo[l * o..(l + 1) * o], &mut hi[..o]);
                let (fa, fb) = split(zl[0], zm[0]);
                (zl[0], bl[0], zm[0], bm[0]) = (fa, fb, fa.conj(), fb.conj());
                let rows = zl[1..].iter_mut().zip(bl[1..].iter_mut());
                let mirrors = zm[1..].iter_mut().rev().zip(bm[1..].iter_mut().rev());
                for ((zk, bk), (zmk, bmk)) in rows.zip(mirrors) {
                    let (fa, fb) = split(*zk, *zmk);
                    (*zk, *bk, *zmk, *bmk) = (fa, fb, fa.conj(), fb.conj());
                }
            }
        }
    }
}

/// `out[k] = a[k] + i b[k]` (`b = 0` when absent): real volumes into a complex one, for
/// [`scattering_engine::simd::dispatch`].
pub(super) struct Interleave<'a, T> {
    pub(super) a: &'a [T],
    pub(super) b: Option<&'a [T]>,
    pub(super) out: &'a mut [Cx<T>],
}

impl<T: Real> scattering_engine::simd::Kernel for Interleave<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        match self.b {
            Some(b) => {
                for ((o, &x), &y) in self.out.iter_mut().zip(self.a).zip(b) {
                    *o = Cx::new(x, y);
                }
            }
            None => {
                for (o, &x) in self.out.iter_mut().zip(self.a) {
                    *o = Cx::new(x, T::zero());
                }
            }
        }
    }
}
