//! 3D Fourier filters formed line by line instead of read from memory.
//!
//! A solid harmonic wavelet is, along each line of the volume (fixed first two indices), a
//! polynomial of low degree in the last frequency times a Gaussian
//! (`scattering_filters::solid_harmonic::SolidHarmonicRows`, passed here as [`Lines`]). At 64^3 in f64 a dense
//! filter is 4 MiB, and the bank (dozens of them) does not fit in the last-level cache, so
//! multiplying a spectrum by a stored filter streams the filter from memory; forming its
//! values from `l + 1` coefficients a line and `l + 1` short tables takes a few
//! multiply-adds a value and no traffic. The product is formed one block of lines at a
//! time, just before the last-axis FFTs of the same lines, while they are in L1.

use crate::real::{Cx, Real};
use num_complex::Complex64;
use std::sync::Arc;

/// Filters of an `(m, n, o)` grid in separable form along the last axis:
/// `h_i(a, b, c) = sum_d coef[i][(a n + b) terms + d] basis[d][c]`, `terms = basis.len()`.
#[derive(Debug, Clone, Copy)]
pub struct Lines<'a> {
    /// Grid shape `(m, n, o)`.
    pub shape: (usize, usize, usize),
    /// `basis[d][c]`, `d = 0..terms`, `c = 0..o`.
    pub basis: &'a [Vec<f64>],
    /// One coefficient table per filter, `terms` values a line.
    pub coef: &'a [Vec<Complex64>],
}

/// One wavelet as `h(a, b, c) = sum_d coef[(a n + b) terms + d] basis[d][c]`.
pub struct LineFilter<T> {
    /// `l + 1`.
    terms: usize,
    /// Length of a line (the last axis).
    o: usize,
    /// `basis[d][c]` stored twice in a row (`[b, b]` per value, `2 o` a table), as the
    /// vector kernels multiply interleaved complex values; shared by the `2 l + 1`
    /// wavelets of one `(l, j)`.
    basis: Arc<Vec<T>>,
    /// The coefficients of every line, `terms` a line.
    coef: Vec<Cx<T>>,
}

impl<T: Real> LineFilter<T> {
    /// The wavelets of `rows` scaled by `scale`, in the order of `dense` (`m = -l..=l`),
    /// or `None` where they differ from `dense` by more than `1e-12` of its peak (the
    /// interpolated polynomials lost precision), so that the caller keeps the stored
    /// values. Columns and lines where every wavelet stays below `1e-14` of the peak (the
    /// stored filters' cut) are set to zero: in `f32` such values would be subnormal.
    pub fn all(rows: Lines<'_>, dense: &[Vec<Complex64>], scale: f64) -> Option<Vec<Self>> {
        let (m0, n0, o0) = rows.shape;
        let terms = rows.basis.len();
        let peak = dense
            .iter()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.norm_sqr()))
            .sqrt();
        if dense.len() != rows.coef.len() || peak.is_nan() || peak <= 0.0 {
            return None;
        }
        // Squared magnitudes throughout: `norm` (hypot) would dominate the build.
        let (mut col_max, mut row_max) = (vec![0.0f64; o0], vec![0.0f64; m0 * n0]);
        let tol = (1e-12 * peak).powi(2);
        for (mi, f) in dense.iter().enumerate() {
            for line in 0..m0 * n0 {
                let k = &rows.coef[mi][line * terms..(line + 1) * terms];
                for c in 0..o0 {
                    let v: Complex64 = k.iter().zip(rows.basis).map(|(k, b)| k * b[c]).sum();
                    if (v - f[line * o0 + c]).norm_sqr() > tol {
                        return None;
                    }
                    let a = v.norm_sqr();
                    col_max[c] = col_max[c].max(a);
                    row_max[line] = row_max[line].max(a);
                }
            }
        }
        let cut = (1e-14 * peak).powi(2);
        let basis: Vec<T> = rows
            .basis
            .iter()
            .flat_map(|b| {
                b.iter()
                    .zip(&col_max)
                    .flat_map(|(&v, &cm)| {
                        let v = if cm <= cut { T::zero() } else { T::of(v) };
                        [v, v]
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let basis = Arc::new(basis);
        Some(
            rows.coef
                .iter()
                .map(|coef| Self {
                    terms,
                    o: o0,
                    basis: Arc::clone(&basis),
                    coef: coef
                        .iter()
                        .enumerate()
                        .map(|(i, k)| {
                            if row_max[i / terms] <= cut {
                                Cx::new(T::zero(), T::zero())
                            } else {
                                Cx::new(T::of(k.re * scale), T::of(k.im * scale))
                            }
                        })
                        .collect(),
                })
                .collect(),
        )
    }

    /// The filter's value at `(line, c)`.
    #[cfg(test)]
    pub fn value(&self, line: usize, c: usize) -> Cx<T> {
        let k = &self.coef[line * self.terms..(line + 1) * self.terms];
        k.iter()
            .enumerate()
            .fold(Cx::new(T::zero(), T::zero()), |acc, (d, k)| {
                acc + k * self.basis[d * 2 * self.o + 2 * c]
            })
    }
}

impl<T: Real> LineFilter<T> {
    /// `acc += g conj(h)` over the whole volume (the backward pass's product with the
    /// adjoint filter), through [`fill_lines`] a block of lines at a time:
    /// `g conj(h) = conj(conj(g) h)`.
    pub fn conj_mul_add(&self, g: &[Cx<T>], acc: &mut [Cx<T>]) {
        const LINES: usize = 8;
        let o = self.o;
        let lines = (self.coef.len() / self.terms)
            .min(g.len() / o)
            .min(acc.len() / o);
        let zero = Cx::new(T::zero(), T::zero());
        let (mut gc, mut t) = (vec![zero; LINES * o], vec![zero; LINES * o]);
        for l0 in (0..lines).step_by(LINES) {
            let n = LINES.min(lines - l0) * o;
            let span = l0 * o..l0 * o + n;
            for (c, v) in gc.iter_mut().zip(&g[span.clone()]) {
                *c = v.conj();
            }
            fill_lines((self, &gc[..n]), None, &mut t[..n], l0);
            for (a, v) in acc[span].iter_mut().zip(&t[..n]) {
                *a += v.conj();
            }
        }
    }
}

/// `out = src_a h_a`, or `src_a h_a + i src_b h_b` with `b`, on whole lines starting at
/// line `line0` (`out`, `src_a` and `src_b` hold the same lines).
pub fn fill_lines<T: Real>(
    a: (&LineFilter<T>, &[Cx<T>]),
    b: Option<(&LineFilter<T>, &[Cx<T>])>,
    out: &mut [Cx<T>],
    line0: usize,
) {
    crate::simd::dispatch(Fill { a, b, out, line0 })
}

/// The arguments of [`fill_lines`], for [`crate::simd::dispatch`].
struct Fill<'a, T> {
    a: (&'a LineFilter<T>, &'a [Cx<T>]),
    b: Option<(&'a LineFilter<T>, &'a [Cx<T>])>,
    out: &'a mut [Cx<T>],
    line0: usize,
}

impl<T: Real> crate::simd::Kernel for Fill<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Fill { a, b, out, line0 } = self;
        let o = a.0.o;
        let lines = out.len() / o;
        let ok = a.1.len() >= lines * o
            && b.is_none_or(|(f, s)| f.o == o && f.terms == a.0.terms && s.len() >= lines * o);
        // The transform sizes every buffer from the same plan: a mismatch is a bug there,
        // and returning without writing `out` would leave stale values in it.
        assert!(
            ok,
            "fill_lines: sources or filters shorter than {lines} lines of {o} (caller bug)"
        );
        #[cfg(target_arch = "x86_64")]
        if vector::fill(a, b, out, line0, lines) {
            return;
        }
        for i in 0..lines {
            let line = line0 + i;
            let row = i * o..(i + 1) * o;
            let h = |f: &LineFilter<T>, c: usize| {
                let k = &f.coef[line * f.terms..(line + 1) * f.terms];
                k.iter()
                    .enumerate()
                    .fold(Cx::new(T::zero(), T::zero()), |acc, (d, k)| {
                        acc + k * f.basis[d * 2 * o + 2 * c]
                    })
            };
            for (c, (z, s)) in out[row.clone()]
                .iter_mut()
                .zip(&a.1[row.clone()])
                .enumerate()
            {
                *z = s * h(a.0, c);
            }
            if let Some((f, sb)) = b {
                for (c, (z, s)) in out[row.clone()]
                    .iter_mut()
                    .zip(&sb[row.clone()])
                    .enumerate()
                {
                    let w = s * h(f, c);
                    *z += Cx::new(-w.im, w.re);
                }
            }
        }
    }
}

/// AVX2 + FMA kernels of [`fill_lines`] (two complex values a vector in f64, four in f32).
///
/// Kept hand-written after an A/B against a port to pulp's safe `V3` token (the same
/// instructions, every load and store through slices, outputs bit-identical):
/// `scripts/ab-bench --paired 3D_J2_L2_64cube_B1 PREC 6` gave B/A 1.045 (f64) and 1.055
/// (f32) on 2026-12-05, above the 3% the architecture allows; the bounds checks of the
/// overlapping last vector of each line are the likely cost. (A first port, with the
/// helpers as closures, ran 3.4x slower: pulp's intrinsics did not inline into them.)
#[cfg(target_arch = "x86_64")]
mod vector {
    use super::{Cx, LineFilter, Real};
    use std::any::TypeId;

    /// Runs the vector kernel and returns true, or returns false (doing nothing) for other
    /// types, lines shorter than one vector, or a CPU without AVX2 and FMA.
    #[inline(always)]
    pub fn fill<T: Real>(
        a: (&LineFilter<T>, &[Cx<T>]),
        b: Option<(&LineFilter<T>, &[Cx<T>])>,
        out: &mut [Cx<T>],
        line0: usize,
        lines: usize,
    ) -> bool {
        let t64 = TypeId::of::<T>() == TypeId::of::<f64>();
        let t32 = TypeId::of::<T>() == TypeId::of::<f32>();
        let (o, terms) = (a.0.o, a.0.terms);
        let lanes = if t64 { 2 } else { 4 };
        let cpu = crate::simd::avx2_fma();
        let coef_ok = |f: &LineFilter<T>| {
            f.coef.len() >= (line0 + lines) * terms && f.basis.len() >= terms * 2 * o
        };
        if !cpu
            || !(t64 || t32)
            || o < lanes
            || !coef_ok(a.0)
            || b.is_some_and(|(f, _)| !coef_ok(f))
        {
            return false;
        }
        let ptrs = |f: &LineFilter<T>, s: &[Cx<T>]| {
            (
                f.basis.as_ptr(),
                f.coef[line0 * terms..].as_ptr(),
                s.as_ptr(),
            )
        };
        let pa = ptrs(a.0, a.1);
        let pb = b.map(|(f, s)| ptrs(f, s));
        let y = out.as_mut_ptr();
        // SAFETY: the CPU has AVX2 and FMA (checked above), `T` is the kernel's type
        // (`TypeId`), the caller checked that `out` and the sources hold `lines` lines of
        // `o >= lanes` values, and above that the coefficients hold `lines` lines and the
        // tables `terms` rows of `2 o`; `out` does not overlap the sources (a mutable and
        // shared borrows).
        unsafe {
            if t64 {
                let c = |p: (*const T, *const Cx<T>, *const Cx<T>)| {
                    (p.0.cast(), p.1.cast(), p.2.cast())
                };
                f64x::fill(c(pa), pb.map(c), y.cast(), lines, o, terms);
            } else {
                let c = |p: (*const T, *const Cx<T>, *const Cx<T>)| {
                    (p.0.cast(), p.1.cast(), p.2.cast())
                };
                f32x::fill(c(pa), pb.map(c), y.cast(), lines, o, terms);
            }
        }
        true
    }

    macro_rules! kernels {
        ($name:ident, $t:ty, $lanes:expr, $v:ty, $load:ident, $store:ident, $add:ident, $mul:ident,
         $set1:ident, $zero:ident, $fmadd:ident, $fmaddsub:ident, $xor:ident, $swap:expr,
         $even:expr) => {
            mod $name {
                use std::arch::x86_64::*;

                /// `(tables, coefficients, source)` of one filter, as raw pointers.
                pub type Src = (*const $t, *const $t, *const $t);

                /// `h = sum_d k[d] basis[d]` at the two (f64) or four (f32) columns from
                /// interleaved offset `c`.
                #[inline(always)]
                unsafe fn h(f: Src, k: usize, c: usize, o: usize, terms: usize) -> ($v, $v) {
                    let (mut hr, mut hi) = ($zero(), $zero());
                    for d in 0..terms {
                        let b = $load(f.0.add(2 * d * o + c));
                        hr = $fmadd($set1(*f.1.add(2 * (k + d))), b, hr);
                        hi = $fmadd($set1(*f.1.add(2 * (k + d) + 1)), b, hi);
                    }
                    (hr, hi)
                }

                /// `s h` on interleaved values.
                #[inline(always)]
                unsafe fn cmul(s: $v, hr: $v, hi: $v) -> $v {
                    $fmaddsub(s, hr, $mul($swap(s), hi))
                }

                #[target_feature(enable = "avx2,fma")]
                pub unsafe fn fill(
                    a: Src,
                    b: Option<Src>,
                    y: *mut $t,
                    lines: usize,
                    o: usize,
                    terms: usize,
                ) {
                    let last = 2 * (o - $lanes);
                    for i in 0..lines {
                        let (k, row) = (i * terms, 2 * i * o);
                        let mut c = 0;
                        loop {
                            let (hr, hi) = h(a, k, c, o, terms);
                            let mut z = cmul($load(a.2.add(row + c)), hr, hi);
                            if let Some(b) = b {
                                let (gr, gi) = h(b, k, c, o, terms);
                                let w = cmul($load(b.2.add(row + c)), gr, gi);
                                // + i w = (-Im w, Re w).
                                z = $add(z, $xor($swap(w), $even));
                            }
                            $store(y.add(row + c), z);
                            if c == last {
                                break;
                            }
                            c = (c + 2 * $lanes).min(last);
                        }
                    }
                }
            }
        };
    }

    kernels!(
        f64x,
        f64,
        2,
        __m256d,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_add_pd,
        _mm256_mul_pd,
        _mm256_set1_pd,
        _mm256_setzero_pd,
        _mm256_fmadd_pd,
        _mm256_fmaddsub_pd,
        _mm256_xor_pd,
        (|v| _mm256_permute_pd::<0b0101>(v)),
        _mm256_setr_pd(-0.0, 0.0, -0.0, 0.0)
    );
    kernels!(
        f32x,
        f32,
        4,
        __m256,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_add_ps,
        _mm256_mul_ps,
        _mm256_set1_ps,
        _mm256_setzero_ps,
        _mm256_fmadd_ps,
        _mm256_fmaddsub_ps,
        _mm256_xor_ps,
        (|v| _mm256_permute_ps::<0b1011_0001>(v)),
        _mm256_setr_ps(-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use scattering_filters::solid_harmonic::{
        solid_harmonic_3d, solid_harmonic_rows, SolidHarmonicRows,
    };

    fn lines(rows: &SolidHarmonicRows) -> Lines<'_> {
        Lines {
            shape: rows.shape,
            basis: &rows.basis,
            coef: &rows.coef,
        }
    }

    /// The kernels (vector and portable) equal the products with the dense filters, for
    /// one filter and for a pair, on lines whose length is and is not a multiple of the
    /// lanes.
    fn check<T: Real>(tol: f64) {
        for shape in [(4, 5, 6), (3, 4, 7), (2, 3, 3)] {
            let (m0, n0, o0) = shape;
            let len = m0 * n0 * o0;
            let dense = solid_harmonic_3d(shape, 1.3, 2);
            let rows = solid_harmonic_rows(shape, 1.3, 2);
            let lf = LineFilter::<T>::all(lines(&rows), &dense, 0.5).expect("interpolation holds");
            let src: Vec<Cx<T>> = (0..len)
                .map(|k| {
                    Cx::new(
                        T::of((k as f64 * 0.37).sin()),
                        T::of((k as f64 * 0.11).cos()),
                    )
                })
                .collect();
            let src2: Vec<Cx<T>> = src.iter().map(|v| Cx::new(v.im, -v.re)).collect();
            let d = |m: usize, k: usize| dense[m][k] * 0.5;
            let cx = |v: Cx<T>| Complex64::new(v.re.as_f64(), v.im.as_f64());
            // Lines 1.. only: a block that does not start at line 0.
            let (l0, lines) = (1, m0 * n0 - 1);
            let span = l0 * o0..(l0 + lines) * o0;
            let mut out = vec![Cx::new(T::zero(), T::zero()); lines * o0];
            fill_lines((&lf[3], &src[span.clone()]), None, &mut out, l0);
            let mut worst = 0.0f64;
            for (i, z) in out.iter().enumerate() {
                let k = span.start + i;
                worst = worst.max((cx(*z) - cx(src[k]) * d(3, k)).norm());
            }
            fill_lines(
                (&lf[1], &src[span.clone()]),
                Some((&lf[4], &src2[span.clone()])),
                &mut out,
                l0,
            );
            for (i, z) in out.iter().enumerate() {
                let k = span.start + i;
                let want = cx(src[k]) * d(1, k) + Complex64::i() * cx(src2[k]) * d(4, k);
                worst = worst.max((cx(*z) - want).norm());
            }
            assert!(worst <= tol, "{shape:?}: {worst:e}");
            assert!((cx(lf[2].value(5, 1)) - d(2, 5 * o0 + 1)).norm() <= tol);
        }
    }

    #[test]
    fn filled_lines_equal_the_dense_products() {
        check::<f64>(1e-13);
        check::<f32>(1e-5);
    }

    #[test]
    fn imprecise_rows_are_refused() {
        let shape = (4, 4, 4);
        let dense = solid_harmonic_3d(shape, 1.0, 1);
        let mut rows = solid_harmonic_rows(shape, 1.0, 1);
        assert!(LineFilter::<f64>::all(lines(&rows), &dense, 1.0).is_some());
        rows.coef[2][7] += Complex64::new(1e-3, 0.0);
        assert!(LineFilter::<f64>::all(lines(&rows), &dense, 1.0).is_none());
    }
}
