//! FFTs down the columns of a row-major block, vectorised along its rows.
//!
//! A 2D or 3D FFT needs 1D FFTs along axes that are not contiguous. Transposing those
//! axes to the end (or gathering blocks of columns) costs as much memory traffic as the
//! FFT itself once a volume leaves the L2 cache. [`ColumnFft`] instead runs a Stockham
//! (self-sorting) mixed-radix FFT whose every butterfly combines whole row segments
//! element by element: the inner loops run over contiguous values with one twiddle per
//! row, so they vectorise without shuffles between lanes, and the strided rows are read
//! once at the first stage and written once at the last. Intermediate stages ping-pong
//! between two small scratch blocks that stay in cache.
//!
//! Radices 2, 3, 4 and 5 run on AVX2 + FMA intrinsics where the CPU has them (a whole
//! stage a call, two complex values a vector in f64, four in f32; a width that is not a
//! multiple of the lanes ends with one vector overlapping the previous one, which
//! recomputes the same values). Narrower blocks and other CPUs take scalar butterflies;
//! any other prime factor takes a direct DFT of that length.
//!
//! At 64^3 this takes the strided passes of the 3D FFT from about twice the cost of a
//! contiguous rustfft pass (with gathers or transposes) to about 1.5 times.

use crate::real::{Cx, Real};

/// One Stockham stage: `n` is the sub-length still to transform, `s` the number of
/// interleaved sub-sequences (the product of the earlier radices), `radix` divides `n`.
struct Stage<T> {
    radix: usize,
    n: usize,
    s: usize,
    /// `w_n^(k p)` for `p in 0..n / radix`, `k in 1..radix`, row-major in `(p, k - 1)`.
    twiddles: Vec<Cx<T>>,
    /// `w_radix^k`, `k in 0..radix`, for the direct DFT of a generic radix.
    roots: Vec<Cx<T>>,
}

/// A planned FFT of one length along the rows of a block: column `c` of rows
/// `0..len` (each `stride` values apart, `width` values used) is one sequence.
/// Unnormalised in both directions, like rustfft's.
pub struct ColumnFft<T> {
    len: usize,
    inverse: bool,
    /// The CPU has AVX2 and FMA: radices 2 and 4 take the vector butterflies.
    avx: bool,
    stages: Vec<Stage<T>>,
}

/// `exp(-+ 2 pi i k / n)`, from the angle in `f64` whatever `T`.
fn root<T: Real>(k: usize, n: usize, inverse: bool) -> Cx<T> {
    let a = -2.0 * std::f64::consts::PI * (k % n) as f64 / n as f64;
    let (s, c) = a.sin_cos();
    Cx::new(T::of(c), T::of(if inverse { -s } else { s }))
}

/// Radices of `n`: fours first, then a two, threes, fives, then any other primes.
fn factor(mut n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    while n.is_multiple_of(4) {
        out.push(4);
        n /= 4;
    }
    let mut p = 2;
    while n > 1 {
        while n.is_multiple_of(p) {
            out.push(p);
            n /= p;
        }
        p += 1;
    }
    out
}

impl<T: Real> ColumnFft<T> {
    /// Plans a forward (`inverse = false`) or inverse FFT of length `len >= 1`.
    pub fn new(len: usize, inverse: bool) -> Self {
        let mut stages = Vec::new();
        let (mut n, mut s) = (len.max(1), 1);
        for radix in factor(len.max(1)) {
            let m = n / radix;
            let twiddles = (0..m)
                .flat_map(|p| (1..radix).map(move |k| root(k * p, n, inverse)))
                .collect();
            let roots = (0..radix).map(|k| root(k, radix, inverse)).collect();
            stages.push(Stage {
                radix,
                n,
                s,
                twiddles,
                roots,
            });
            n = m;
            s *= radix;
        }
        Self {
            len: len.max(1),
            inverse,
            avx: vector::available(),
            stages,
        }
    }

    /// Scratch values [`Self::process`] needs for blocks `width` wide.
    pub fn scratch_len(&self, width: usize) -> usize {
        2 * self.len * width
    }

    /// Transforms, in place, the columns `0..width` of `data`, whose row `r` starts at
    /// `r * stride`. `scratch` holds at least [`Self::scratch_len`]`(width)` values.
    pub fn process(&self, data: &mut [Cx<T>], stride: usize, width: usize, scratch: &mut [Cx<T>]) {
        crate::simd::dispatch(Process {
            fft: self,
            src: None,
            data,
            stride,
            width,
            scratch,
        })
    }

    /// [`Self::process`] out of place: the columns of `src` transformed into `dst`, both
    /// with rows `stride` apart; `src` is left as it was.
    pub fn process_from(
        &self,
        src: &[Cx<T>],
        dst: &mut [Cx<T>],
        stride: usize,
        width: usize,
        scratch: &mut [Cx<T>],
    ) {
        crate::simd::dispatch(Process {
            fft: self,
            src: Some(src),
            data: dst,
            stride,
            width,
            scratch,
        })
    }

    /// The stages from `src` (or `data` itself) into `data`.
    #[inline(always)]
    fn process_kernel(
        &self,
        src: Option<&[Cx<T>]>,
        data: &mut [Cx<T>],
        stride: usize,
        width: usize,
        scratch: &mut [Cx<T>],
    ) {
        let count = self.stages.len();
        if count == 0 || width == 0 {
            if let Some(src) = src {
                for r in 0..self.len {
                    let row = r * stride..r * stride + width;
                    data[row.clone()].copy_from_slice(&src[row]);
                }
            }
            return;
        }
        // The first stage reads the strided rows, the last writes them; the others run
        // between the two contiguous scratch blocks, which stay in cache.
        let block = self.len * width;
        let (a, b) = scratch[..2 * block].split_at_mut(block);
        self.stage(
            &self.stages[0],
            src.unwrap_or(data),
            stride,
            a,
            width,
            width,
        );
        if count == 1 {
            for r in 0..self.len {
                data[r * stride..r * stride + width].copy_from_slice(&a[r * width..][..width]);
            }
            return;
        }
        let (mut src, mut dst) = (a, b);
        for st in &self.stages[1..count - 1] {
            self.stage(st, src, width, dst, width, width);
            std::mem::swap(&mut src, &mut dst);
        }
        self.stage(&self.stages[count - 1], src, width, data, stride, width);
    }

    /// One Stockham stage from rows of `x` (`xs` apart) to rows of `y` (`ys` apart):
    /// `y[q + s (r p + k)] = w_n^(k p) sum_j x[q + s (p + j m)] w_r^(j k)`.
    #[inline(always)]
    fn stage(
        &self,
        st: &Stage<T>,
        x: &[Cx<T>],
        xs: usize,
        y: &mut [Cx<T>],
        ys: usize,
        width: usize,
    ) {
        match st.radix {
            2 => self.stage_r::<2>(st, x, xs, y, ys, width),
            3 => self.stage_r::<3>(st, x, xs, y, ys, width),
            4 => self.stage_r::<4>(st, x, xs, y, ys, width),
            5 => self.stage_r::<5>(st, x, xs, y, ys, width),
            _ => self.stage_generic(st, x, xs, y, ys, width),
        }
    }

    #[inline(always)]
    fn stage_r<const R: usize>(
        &self,
        st: &Stage<T>,
        x: &[Cx<T>],
        xs: usize,
        y: &mut [Cx<T>],
        ys: usize,
        width: usize,
    ) {
        let (s, m) = (st.s, st.n / R);
        let inv = self.inverse;
        if self.avx && vector::stage::<T, R>(x, xs, y, ys, width, s, m, &st.twiddles, inv, self.len)
        {
            return;
        }
        for p in 0..m {
            let tw: [Cx<T>; R] = std::array::from_fn(|k| {
                if k == 0 {
                    Cx::new(T::one(), T::zero())
                } else {
                    st.twiddles[p * (R - 1) + k - 1]
                }
            });
            // Output rows q + s (R p + k): R groups of s rows, s rows apart.
            let base = s * R * p * ys;
            let end = base + (s * R - 1) * ys + width;
            let mut groups = y[base..end].chunks_mut(s * ys);
            let mut out: [&mut [Cx<T>]; R] =
                std::array::from_fn(|_| groups.next().unwrap_or_default());
            if xs == width && ys == width {
                // Contiguous rows: the s rows of each input and output are one run.
                let xin: [&[Cx<T>]; R] = std::array::from_fn(|j| {
                    let r = s * (p + j * m) * xs;
                    &x[r..r + s * width]
                });
                butterfly::<T, R>(&xin, &mut out, 0, s * width, &tw, inv);
                continue;
            }
            for q in 0..s {
                let xin: [&[Cx<T>]; R] = std::array::from_fn(|j| {
                    let r = (q + s * (p + j * m)) * xs;
                    &x[r..r + width]
                });
                let o = q * ys;
                butterfly::<T, R>(&xin, &mut out, o, width, &tw, inv);
            }
        }
    }

    /// A stage of any radix, by a direct DFT of that length (rare factors only).
    fn stage_generic(
        &self,
        st: &Stage<T>,
        x: &[Cx<T>],
        xs: usize,
        y: &mut [Cx<T>],
        ys: usize,
        width: usize,
    ) {
        let (r, s, m) = (st.radix, st.s, st.n / st.radix);
        let zero = Cx::new(T::zero(), T::zero());
        for p in 0..m {
            for q in 0..s {
                for k in 0..r {
                    let tw = if k == 0 {
                        Cx::new(T::one(), T::zero())
                    } else {
                        st.twiddles[p * (r - 1) + k - 1]
                    };
                    let o = (q + s * (r * p + k)) * ys;
                    let out = &mut y[o..o + width];
                    out.fill(zero);
                    for j in 0..r {
                        let w = st.roots[(j * k) % r];
                        let i = (q + s * (p + j * m)) * xs;
                        for (o, v) in out.iter_mut().zip(&x[i..i + width]) {
                            *o += v * w;
                        }
                    }
                    out.iter_mut().for_each(|o| *o *= tw);
                }
            }
        }
    }
}

/// `(re, im) * (wr, wi)`.
#[inline(always)]
fn cmul<T: Real>(re: T, im: T, w: Cx<T>) -> (T, T) {
    (re * w.re - im * w.im, re * w.im + im * w.re)
}

/// Stores `(re, im) * w` as complex value `c` of the interleaved row `y`.
#[inline(always)]
fn put<T: Real>(y: &mut [T], c: usize, re: T, im: T, w: Cx<T>) {
    let (u, v) = cmul(re, im, w);
    y[2 * c] = u;
    y[2 * c + 1] = v;
}

/// The radix-`R` butterfly on `width` columns: inputs `x[j]`, outputs `y[k][o..]`
/// scaled by the twiddles `tw[k]` (`tw[0] = 1`). Written on interleaved real values so
/// that the loops vectorise as de-interleaved loads, vertical arithmetic and
/// re-interleaved stores.
#[inline(always)]
fn butterfly<T: Real, const R: usize>(
    x: &[&[Cx<T>]; R],
    y: &mut [&mut [Cx<T>]; R],
    o: usize,
    width: usize,
    tw: &[Cx<T>; R],
    inv: bool,
) {
    let xr: [&[T]; R] = std::array::from_fn(|j| &bytemuck::cast_slice(x[j])[..2 * width]);
    let mut it = y.iter_mut();
    let mut yr: [&mut [T]; R] = std::array::from_fn(|_| match it.next() {
        Some(y) => &mut bytemuck::cast_slice_mut(&mut y[o..o + width])[..],
        None => &mut [],
    });
    // Sign of the imaginary unit in the transform's roots: -i forward, +i inverse.
    let sg = if inv { -T::one() } else { T::one() };
    match R {
        2 => {
            let [x0, x1] = [xr[0], xr[1]];
            let [y0, y1] = &mut yr[..2] else {
                unreachable!()
            };
            let (y0, y1) = (&mut y0[..2 * width], &mut y1[..2 * width]);
            for c in 0..width {
                let (r, i) = (2 * c, 2 * c + 1);
                y0[r] = x0[r] + x1[r];
                y0[i] = x0[i] + x1[i];
                put(y1, c, x0[r] - x1[r], x0[i] - x1[i], tw[1]);
            }
        }
        3 => {
            let half = T::of(0.5);
            let sq = T::of(0.75f64.sqrt()) * sg;
            let [x0, x1, x2] = [xr[0], xr[1], xr[2]];
            let [y0, y1, y2] = &mut yr[..3] else {
                unreachable!()
            };
            let (y0, y1, y2) = (
                &mut y0[..2 * width],
                &mut y1[..2 * width],
                &mut y2[..2 * width],
            );
            for c in 0..width {
                let (r, i) = (2 * c, 2 * c + 1);
                let (tr, ti) = (x1[r] + x2[r], x1[i] + x2[i]);
                // -i sg sqrt(3)/2 (a1 - a2).
                let (dr, di) = ((x1[i] - x2[i]) * sq, (x2[r] - x1[r]) * sq);
                let (hr, hi) = (x0[r] - tr * half, x0[i] - ti * half);
                y0[r] = x0[r] + tr;
                y0[i] = x0[i] + ti;
                put(y1, c, hr + dr, hi + di, tw[1]);
                put(y2, c, hr - dr, hi - di, tw[2]);
            }
        }
        4 => {
            let [x0, x1, x2, x3] = [xr[0], xr[1], xr[2], xr[3]];
            let [y0, y1, y2, y3] = &mut yr[..4] else {
                unreachable!()
            };
            let (y0, y1) = (&mut y0[..2 * width], &mut y1[..2 * width]);
            let (y2, y3) = (&mut y2[..2 * width], &mut y3[..2 * width]);
            for c in 0..width {
                let (r, i) = (2 * c, 2 * c + 1);
                let (s02r, s02i) = (x0[r] + x2[r], x0[i] + x2[i]);
                let (d02r, d02i) = (x0[r] - x2[r], x0[i] - x2[i]);
                let (s13r, s13i) = (x1[r] + x3[r], x1[i] + x3[i]);
                // -i sg (a1 - a3).
                let (d13r, d13i) = ((x1[i] - x3[i]) * sg, (x3[r] - x1[r]) * sg);
                y0[r] = s02r + s13r;
                y0[i] = s02i + s13i;
                put(y1, c, d02r + d13r, d02i + d13i, tw[1]);
                put(y2, c, s02r - s13r, s02i - s13i, tw[2]);
                put(y3, c, d02r - d13r, d02i - d13i, tw[3]);
            }
        }
        5 => {
            let t = 2.0 * std::f64::consts::PI / 5.0;
            let (c1, c2) = (T::of(t.cos()), T::of((2.0 * t).cos()));
            let (s1, s2) = (T::of(t.sin()) * sg, T::of((2.0 * t).sin()) * sg);
            let [x0, x1, x2, x3, x4] = [xr[0], xr[1], xr[2], xr[3], xr[4]];
            let [y0, y1, y2, y3, y4] = &mut yr[..5] else {
                unreachable!()
            };
            let (y0, y1) = (&mut y0[..2 * width], &mut y1[..2 * width]);
            let (y2, y3, y4) = (
                &mut y2[..2 * width],
                &mut y3[..2 * width],
                &mut y4[..2 * width],
            );
            for c in 0..width {
                let (r, i) = (2 * c, 2 * c + 1);
                let (p14r, p14i) = (x1[r] + x4[r], x1[i] + x4[i]);
                let (m14r, m14i) = (x1[r] - x4[r], x1[i] - x4[i]);
                let (p23r, p23i) = (x2[r] + x3[r], x2[i] + x3[i]);
                let (m23r, m23i) = (x2[r] - x3[r], x2[i] - x3[i]);
                let (r1r, r1i) = (x0[r] + p14r * c1 + p23r * c2, x0[i] + p14i * c1 + p23i * c2);
                let (r2r, r2i) = (x0[r] + p14r * c2 + p23r * c1, x0[i] + p14i * c2 + p23i * c1);
                // -i sg (s1 m14 + s2 m23) and -i sg (s2 m14 - s1 m23).
                let (i1r, i1i) = (m14i * s1 + m23i * s2, -(m14r * s1 + m23r * s2));
                let (i2r, i2i) = (m14i * s2 - m23i * s1, -(m14r * s2 - m23r * s1));
                y0[r] = x0[r] + p14r + p23r;
                y0[i] = x0[i] + p14i + p23i;
                put(y1, c, r1r + i1r, r1i + i1i, tw[1]);
                put(y4, c, r1r - i1r, r1i - i1i, tw[4]);
                put(y2, c, r2r + i2r, r2i + i2i, tw[2]);
                put(y3, c, r2r - i2r, r2i - i2i, tw[3]);
            }
        }
        _ => unreachable!(),
    }
}

/// Radix-2, 3, 4 and 5 butterflies in AVX2 + FMA intrinsics, for `f64` (two complex
/// values a vector) and `f32` (four). Written out by hand because the compiler's own
/// vectorisation of the complex arithmetic keeps one complex value a register.
mod vector {
    use super::{Cx, Real};
    use std::any::TypeId;

    /// The CPU runs the vector butterflies.
    pub fn available() -> bool {
        crate::simd::avx2_fma()
    }

    /// Runs a whole Stockham stage of radix `R` (2 to 5) with the vector butterflies
    /// (see [`super::ColumnFft`]'s `stage_r` for the index map) and returns true, or
    /// returns false, doing nothing, where they do not apply: another radix or type, a
    /// width narrower than one vector, or buffers too short for `len` rows. The last
    /// vector of a row starts at `width - lanes`, overlapping the one before where the
    /// width is not a multiple of the lanes: it reads `x` and writes `y` again with the
    /// same values, which is harmless as the two do not overlap.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn stage<T: Real, const R: usize>(
        x: &[Cx<T>],
        xs: usize,
        y: &mut [Cx<T>],
        ys: usize,
        width: usize,
        s: usize,
        m: usize,
        twiddles: &[Cx<T>],
        inv: bool,
        len: usize,
    ) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            let t64 = TypeId::of::<T>() == TypeId::of::<f64>();
            let t32 = TypeId::of::<T>() == TypeId::of::<f32>();
            let lanes = if t64 { 2 } else { 4 };
            let fits = |v: usize, stride: usize| len >= 1 && v >= (len - 1) * stride + width;
            if !(t64 || t32)
                || !(2..=5).contains(&R)
                || width < lanes
                || s * R * m != len
                || twiddles.len() < m * (R - 1)
                || !fits(x.len(), xs)
                || !fits(y.len(), ys)
            {
                return false;
            }
            let (xp, yp, tp) = (x.as_ptr(), y.as_mut_ptr(), twiddles.as_ptr());
            // SAFETY: `available()` found AVX2 and FMA (`ColumnFft` calls this only then);
            // `T` is the kernel's scalar type (checked by `TypeId` above); every row the
            // stage touches, `r * stride .. r * stride + width` for `r < len`, lies
            // within `x` and `y` (checked above), `x` and `y` do not overlap (a shared
            // and a mutable borrow), and the twiddle table holds `m (R - 1)` values.
            unsafe {
                let (x, y) = (xp.cast(), yp.cast());
                let (x32, y32, t32) = (xp.cast(), yp.cast(), tp.cast());
                let t = tp.cast();
                match (R, t64) {
                    (2, true) => f64x::stage2(x, xs, y, ys, width, s, m, t),
                    (2, false) => f32x::stage2(x32, xs, y32, ys, width, s, m, t32),
                    (3, true) => f64x::stage3(x, xs, y, ys, width, s, m, t, inv),
                    (3, false) => f32x::stage3(x32, xs, y32, ys, width, s, m, t32, inv),
                    (4, true) => f64x::stage4(x, xs, y, ys, width, s, m, t, inv),
                    (4, false) => f32x::stage4(x32, xs, y32, ys, width, s, m, t32, inv),
                    (_, true) => f64x::stage5(x, xs, y, ys, width, s, m, t, inv),
                    (_, false) => f32x::stage5(x32, xs, y32, ys, width, s, m, t32, inv),
                }
            }
            true
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (x, xs, y, ys, width, s, m, twiddles, inv, len);
            false
        }
    }

    /// One module per precision: `$t` the scalar, `$lanes` complex values a vector.
    #[cfg(target_arch = "x86_64")]
    macro_rules! kernels {
        ($name:ident, $t:ty, $lanes:expr, $v:ty, $load:ident, $store:ident, $add:ident,
         $sub:ident, $mul:ident, $set1:ident, $fmaddsub:ident, $fmadd:ident, $fnmadd:ident,
         $xor:ident, $swap:expr, $odd:expr, $even:expr) => {
            mod $name {
                use std::arch::x86_64::*;

                #[inline(always)]
                unsafe fn cmul(v: $v, wr: $v, wi: $v) -> $v {
                    $fmaddsub(v, wr, $mul($swap(v), wi))
                }

                /// `v w`, or `v` itself where every twiddle of the row is 1 (`p = 0`).
                #[inline(always)]
                unsafe fn twiddle(v: $v, wr: $v, wi: $v, unit: bool) -> $v {
                    if unit {
                        v
                    } else {
                        cmul(v, wr, wi)
                    }
                }

                /// Twiddle `k` of row `p` (`r - 1` a row), broadcast as (re, im).
                #[inline(always)]
                unsafe fn tw(t: *const $t, i: usize) -> ($v, $v) {
                    ($set1(*t.add(2 * i)), $set1(*t.add(2 * i + 1)))
                }

                /// A radix-2 stage: rows `q + s (p + j m)` of `x` to rows
                /// `q + s (2 p + k)` of `y`, `width` complex values each.
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2,fma")]
                pub unsafe fn stage2(
                    x: *const $t,
                    xs: usize,
                    y: *mut $t,
                    ys: usize,
                    width: usize,
                    s: usize,
                    m: usize,
                    t: *const $t,
                ) {
                    let last = 2 * (width - $lanes);
                    for p in 0..m {
                        let unit = p == 0;
                        let (w1r, w1i) = tw(t, p);
                        for q in 0..s {
                            let x0 = x.add(2 * (q + s * p) * xs);
                            let x1 = x.add(2 * (q + s * (p + m)) * xs);
                            let y0 = y.add(2 * (q + s * 2 * p) * ys);
                            let y1 = y.add(2 * (q + s * (2 * p + 1)) * ys);
                            let mut c = 0;
                            loop {
                                let (a, b) = ($load(x0.add(c)), $load(x1.add(c)));
                                $store(y0.add(c), $add(a, b));
                                $store(y1.add(c), twiddle($sub(a, b), w1r, w1i, unit));
                                if c == last {
                                    break;
                                }
                                c = (c + 2 * $lanes).min(last);
                            }
                        }
                    }
                }

                /// A radix-4 stage, rows as in [`stage2`] with 4 for 2.
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2,fma")]
                pub unsafe fn stage4(
                    x: *const $t,
                    xs: usize,
                    y: *mut $t,
                    ys: usize,
                    width: usize,
                    s: usize,
                    m: usize,
                    t: *const $t,
                    inv: bool,
                ) {
                    // -i v forward (negate the odd, imaginary lanes after the swap),
                    // +i v inverse (negate the even, real lanes).
                    let mask = if inv { $even } else { $odd };
                    let last = 2 * (width - $lanes);
                    for p in 0..m {
                        let unit = p == 0;
                        let (w1r, w1i) = tw(t, 3 * p);
                        let (w2r, w2i) = tw(t, 3 * p + 1);
                        let (w3r, w3i) = tw(t, 3 * p + 2);
                        for q in 0..s {
                            let xr = |j: usize| x.add(2 * (q + s * (p + j * m)) * xs);
                            let yr = |k: usize| y.add(2 * (q + s * (4 * p + k)) * ys);
                            let (x0, x1, x2, x3) = (xr(0), xr(1), xr(2), xr(3));
                            let (y0, y1, y2, y3) = (yr(0), yr(1), yr(2), yr(3));
                            let mut c = 0;
                            loop {
                                let a0 = $load(x0.add(c));
                                let a1 = $load(x1.add(c));
                                let a2 = $load(x2.add(c));
                                let a3 = $load(x3.add(c));
                                let (s02, d02) = ($add(a0, a2), $sub(a0, a2));
                                let s13 = $add(a1, a3);
                                let d13 = $xor($swap($sub(a1, a3)), mask);
                                $store(y0.add(c), $add(s02, s13));
                                $store(y1.add(c), twiddle($add(d02, d13), w1r, w1i, unit));
                                $store(y2.add(c), twiddle($sub(s02, s13), w2r, w2i, unit));
                                $store(y3.add(c), twiddle($sub(d02, d13), w3r, w3i, unit));
                                if c == last {
                                    break;
                                }
                                c = (c + 2 * $lanes).min(last);
                            }
                        }
                    }
                }
                /// A radix-3 stage, rows as in [`stage2`] with 3 for 2.
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2,fma")]
                pub unsafe fn stage3(
                    x: *const $t,
                    xs: usize,
                    y: *mut $t,
                    ys: usize,
                    width: usize,
                    s: usize,
                    m: usize,
                    t: *const $t,
                    inv: bool,
                ) {
                    // The root's sign is folded into the sine: `-i (sg sin) v` takes the
                    // forward mask in both directions.
                    let sg = if inv { -1.0 } else { 1.0 };
                    let sq = $set1((sg * 0.75f64.sqrt()) as $t);
                    let half = $set1(0.5);
                    let last = 2 * (width - $lanes);
                    for p in 0..m {
                        let unit = p == 0;
                        let (w1r, w1i) = tw(t, 2 * p);
                        let (w2r, w2i) = tw(t, 2 * p + 1);
                        for q in 0..s {
                            let xr = |j: usize| x.add(2 * (q + s * (p + j * m)) * xs);
                            let yr = |k: usize| y.add(2 * (q + s * (3 * p + k)) * ys);
                            let (x0, x1, x2) = (xr(0), xr(1), xr(2));
                            let (y0, y1, y2) = (yr(0), yr(1), yr(2));
                            let mut c = 0;
                            loop {
                                let a0 = $load(x0.add(c));
                                let a1 = $load(x1.add(c));
                                let a2 = $load(x2.add(c));
                                let t12 = $add(a1, a2);
                                let d = $xor($swap($mul($sub(a1, a2), sq)), $odd);
                                let h = $fnmadd(t12, half, a0);
                                $store(y0.add(c), $add(a0, t12));
                                $store(y1.add(c), twiddle($add(h, d), w1r, w1i, unit));
                                $store(y2.add(c), twiddle($sub(h, d), w2r, w2i, unit));
                                if c == last {
                                    break;
                                }
                                c = (c + 2 * $lanes).min(last);
                            }
                        }
                    }
                }

                /// A radix-5 stage, rows as in [`stage2`] with 5 for 2.
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2,fma")]
                pub unsafe fn stage5(
                    x: *const $t,
                    xs: usize,
                    y: *mut $t,
                    ys: usize,
                    width: usize,
                    s: usize,
                    m: usize,
                    t: *const $t,
                    inv: bool,
                ) {
                    let sg = if inv { -1.0 } else { 1.0 };
                    let a = 2.0 * std::f64::consts::PI / 5.0;
                    let (c1, c2) = ($set1(a.cos() as $t), $set1((2.0 * a).cos() as $t));
                    let s1 = $set1((sg * a.sin()) as $t);
                    let s2 = $set1((sg * (2.0 * a).sin()) as $t);
                    let last = 2 * (width - $lanes);
                    for p in 0..m {
                        let unit = p == 0;
                        let (w1r, w1i) = tw(t, 4 * p);
                        let (w2r, w2i) = tw(t, 4 * p + 1);
                        let (w3r, w3i) = tw(t, 4 * p + 2);
                        let (w4r, w4i) = tw(t, 4 * p + 3);
                        for q in 0..s {
                            let xr = |j: usize| x.add(2 * (q + s * (p + j * m)) * xs);
                            let yr = |k: usize| y.add(2 * (q + s * (5 * p + k)) * ys);
                            let (x0, x1, x2, x3, x4) = (xr(0), xr(1), xr(2), xr(3), xr(4));
                            let (y0, y1, y2, y3, y4) = (yr(0), yr(1), yr(2), yr(3), yr(4));
                            let mut c = 0;
                            loop {
                                let a0 = $load(x0.add(c));
                                let a1 = $load(x1.add(c));
                                let a2 = $load(x2.add(c));
                                let a3 = $load(x3.add(c));
                                let a4 = $load(x4.add(c));
                                let (p14, m14) = ($add(a1, a4), $sub(a1, a4));
                                let (p23, m23) = ($add(a2, a3), $sub(a2, a3));
                                let r1 = $fmadd(p23, c2, $fmadd(p14, c1, a0));
                                let r2 = $fmadd(p23, c1, $fmadd(p14, c2, a0));
                                // -i (s1 m14 + s2 m23) and -i (s2 m14 - s1 m23).
                                let i1 = $xor($swap($fmadd(m23, s2, $mul(m14, s1))), $odd);
                                let i2 = $xor($swap($fnmadd(m23, s1, $mul(m14, s2))), $odd);
                                $store(y0.add(c), $add(a0, $add(p14, p23)));
                                $store(y1.add(c), twiddle($add(r1, i1), w1r, w1i, unit));
                                $store(y4.add(c), twiddle($sub(r1, i1), w4r, w4i, unit));
                                $store(y2.add(c), twiddle($add(r2, i2), w2r, w2i, unit));
                                $store(y3.add(c), twiddle($sub(r2, i2), w3r, w3i, unit));
                                if c == last {
                                    break;
                                }
                                c = (c + 2 * $lanes).min(last);
                            }
                        }
                    }
                }
            }
        };
    }

    #[cfg(target_arch = "x86_64")]
    kernels!(
        f64x,
        f64,
        2,
        __m256d,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_add_pd,
        _mm256_sub_pd,
        _mm256_mul_pd,
        _mm256_set1_pd,
        _mm256_fmaddsub_pd,
        _mm256_fmadd_pd,
        _mm256_fnmadd_pd,
        _mm256_xor_pd,
        (|v| _mm256_permute_pd::<0b0101>(v)),
        _mm256_setr_pd(0.0, -0.0, 0.0, -0.0),
        _mm256_setr_pd(-0.0, 0.0, -0.0, 0.0)
    );
    #[cfg(target_arch = "x86_64")]
    kernels!(
        f32x,
        f32,
        4,
        __m256,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_add_ps,
        _mm256_sub_ps,
        _mm256_mul_ps,
        _mm256_set1_ps,
        _mm256_fmaddsub_ps,
        _mm256_fmadd_ps,
        _mm256_fnmadd_ps,
        _mm256_xor_ps,
        (|v| _mm256_permute_ps::<0b1011_0001>(v)),
        _mm256_setr_ps(0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0),
        _mm256_setr_ps(-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0)
    );
}

/// [`ColumnFft::process`]'s arguments, for [`crate::simd::dispatch`].
struct Process<'a, T> {
    fft: &'a ColumnFft<T>,
    src: Option<&'a [Cx<T>]>,
    data: &'a mut [Cx<T>],
    stride: usize,
    width: usize,
    scratch: &'a mut [Cx<T>],
}

impl<T: Real> crate::simd::Kernel for Process<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.fft
            .process_kernel(self.src, self.data, self.stride, self.width, self.scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustfft::FftPlanner;

    /// Checks every column of a `(len, stride)` block, `width` of them transformed,
    /// against rustfft in `f64`, for a `T` plan (`tol` relative to the column norm).
    fn check<T: Real>(len: usize, stride: usize, width: usize, inverse: bool, tol: f64) {
        let mut planner = FftPlanner::<f64>::new();
        let reference = if inverse {
            planner.plan_fft_inverse(len)
        } else {
            planner.plan_fft_forward(len)
        };
        let fft = ColumnFft::<T>::new(len, inverse);
        let data: Vec<Cx<f64>> = (0..len * stride)
            .map(|k| Cx::new((k as f64 * 0.37).sin(), (k as f64 * 0.11).cos()))
            .collect();
        let mut got: Vec<Cx<T>> = data
            .iter()
            .map(|v| Cx::new(T::of(v.re), T::of(v.im)))
            .collect();
        let mut scratch = vec![Cx::new(T::zero(), T::zero()); fft.scratch_len(width)];
        fft.process(&mut got, stride, width, &mut scratch);
        for c in 0..stride {
            let mut col: Vec<Cx<f64>> = (0..len).map(|r| data[r * stride + c]).collect();
            if c < width {
                reference.process(&mut col);
            }
            let norm = col.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
            let err = (0..len)
                .map(|r| {
                    let g = got[r * stride + c];
                    (Cx::new(g.re.as_f64(), g.im.as_f64()) - col[r]).norm_sqr()
                })
                .sum::<f64>()
                .sqrt();
            assert!(
                err <= tol * norm,
                "len {len} width {width} inverse {inverse} column {c}: {err:e} of {norm:e}"
            );
        }
    }

    #[test]
    fn columns_equal_rustfft_for_mixed_radix_lengths() {
        // Widths below the lanes (3 and 2 in f32) take the scalar butterflies; 4 and 8
        // (multiples of the f64 and f32 lanes) the vector ones; 3, 5 and 6 end with an
        // overlapping vector; the stride leaves columns that must stay untouched.
        let lens = [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 20, 40, 49, 64, 72, 88, 128, 144, 288,
        ];
        for len in lens {
            for inverse in [false, true] {
                for (stride, width) in [(5, 3), (8, 8), (12, 4), (7, 6), (11, 2), (6, 5)] {
                    check::<f64>(len, stride, width, inverse, 1e-14);
                    check::<f32>(len, stride, width, inverse, 2e-6);
                }
            }
        }
    }

    #[test]
    fn round_trip_scales_by_the_length() {
        let len = 40;
        let (f, i) = (
            ColumnFft::<f64>::new(len, false),
            ColumnFft::<f64>::new(len, true),
        );
        let x: Vec<Cx<f64>> = (0..len * 6)
            .map(|k| Cx::new((k as f64 * 0.3).sin(), 0.5))
            .collect();
        let mut y = x.clone();
        let mut scratch = vec![Cx::new(0.0, 0.0); f.scratch_len(6)];
        f.process(&mut y, 6, 6, &mut scratch);
        i.process(&mut y, 6, 6, &mut scratch);
        for (a, b) in x.iter().zip(&y) {
            assert!((a * len as f64 - b).norm() < 1e-12);
        }
    }

    #[test]
    fn out_of_place_equals_in_place_and_keeps_its_source() {
        for len in [1, 5, 20, 40] {
            let f = ColumnFft::<f64>::new(len, false);
            let x: Vec<Cx<f64>> = (0..len * 7)
                .map(|k| Cx::new((k as f64 * 0.3).sin(), (k as f64 * 0.9).cos()))
                .collect();
            let before = x.clone();
            let mut scratch = vec![Cx::new(0.0, 0.0); f.scratch_len(6)];
            let mut inplace = x.clone();
            f.process(&mut inplace, 7, 6, &mut scratch);
            let mut out = vec![Cx::new(9.0, 9.0); len * 7];
            f.process_from(&x, &mut out, 7, 6, &mut scratch);
            for r in 0..len {
                for c in 0..7 {
                    let k = r * 7 + c;
                    // Column 6 is outside the block: untouched in `out`.
                    let want = if c < 6 { inplace[k] } else { Cx::new(9.0, 9.0) };
                    assert_eq!(out[k], want, "len {len} row {r} column {c}");
                }
            }
            assert_eq!(x, before, "len {len}: the source changed");
        }
    }
}
