//! 2D FFTs (row FFTs, a transpose, column FFTs) and the 2D filter-and-subsample kernel
//! with its adjoint. Spectra are full complex arrays: 2D wavelets are not symmetric, so
//! no half-spectrum shortcut applies.
//!
//! The image transform keeps its spectra *transposed* (`(n, m)` row-major for an
//! `(m, n)` image): [`Plan2d::forward_t`] ends after the column FFTs and
//! [`Plan2d::inverse_t`] starts with them, so each 2D FFT costs one transpose instead of
//! two. Filters are stored in the same layout, and since folding acts on both axes alike
//! the layout is invisible to callers, who pass natural sizes.

use crate::column_fft::ColumnFft;
use crate::real::{Cx, Real};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Plans for one `(m, n)` grid.
pub struct Plan2d<T: Real> {
    /// Rows of the grid.
    pub m: usize,
    /// Columns of the grid.
    pub n: usize,
    row_fwd: Arc<dyn Fft<T>>,
    row_inv: Arc<dyn Fft<T>>,
    col_fwd: Arc<dyn Fft<T>>,
    col_inv: Arc<dyn Fft<T>>,
    /// Forward and inverse [`ColumnFft`]s of the `n` axis (run on the transposed array),
    /// where they replace the row FFTs in [`Self::forward_t`] and [`Self::inverse_t`].
    row_cols: Option<[ColumnFft<T>; 2]>,
    /// The same for the `m` axis (run on the natural array).
    col_cols: Option<[ColumnFft<T>; 2]>,
}

/// Whether the 2D FFTs of [`Plan2d::forward_t`] and [`Plan2d::inverse_t`] take axis
/// length `len` by [`ColumnFft`] (every sequence at once, vectorised across the other
/// axis) rather than rustfft (one sequence at a time). rustfft's AVX planner has no
/// single-pass kernel for lengths with a factor of 5 beyond 5 itself, and at the padded
/// sizes of images (10, 20, 40) the column FFT measured 1.4 to 3.5 times faster (see
/// `docs/benchmarks.md`); at the other sizes (18, 36, 72, 144, 288) it broke even or lost.
fn by_columns(len: usize) -> bool {
    len.is_multiple_of(5) && len > 5
}

/// Plans for the grids `(m / 2^r, n / 2^r)`, `r = 0..=levels`.
pub struct Plans2d<T: Real> {
    /// `levels[r]`: plans for the grid `(m / 2^r, n / 2^r)`.
    pub levels: Vec<Plan2d<T>>,
    /// Scratch length (complex values) any plan of any level needs.
    pub scratch_len: usize,
}

impl<T: Real> Plans2d<T> {
    /// Plans for the grids `(m / 2^r, n / 2^r)`, `r = 0..=levels`.
    pub fn new(m: usize, n: usize, levels: usize) -> Self {
        let mut p = FftPlanner::<T>::new();
        let mut scratch_len = 0;
        let levels = (0..=levels)
            .map(|r| {
                let (mr, nr) = (m >> r, n >> r);
                let cols = |len: usize| {
                    by_columns(len).then(|| [ColumnFft::new(len, false), ColumnFft::new(len, true)])
                };
                let plan = Plan2d {
                    m: mr,
                    n: nr,
                    row_fwd: p.plan_fft_forward(nr),
                    row_inv: p.plan_fft_inverse(nr),
                    col_fwd: p.plan_fft_forward(mr),
                    col_inv: p.plan_fft_inverse(mr),
                    row_cols: cols(nr),
                    col_cols: cols(mr),
                };
                if let Some([f, _]) = &plan.row_cols {
                    scratch_len = scratch_len.max(f.scratch_len(mr));
                }
                if let Some([f, _]) = &plan.col_cols {
                    scratch_len = scratch_len.max(f.scratch_len(nr));
                }
                for f in [&plan.row_fwd, &plan.row_inv, &plan.col_fwd, &plan.col_inv] {
                    scratch_len = scratch_len
                        .max(f.get_inplace_scratch_len())
                        .max(f.get_outofplace_scratch_len());
                }
                plan
            })
            .collect();
        Self {
            levels,
            scratch_len,
        }
    }
}

/// A complex 2D FFT of row-major `(rows, cols)` arrays in natural layout, for code outside
/// the transforms' inner loops (filter design, models, statistics): buffers are allocated
/// per call.
pub struct Fft2d<T: Real> {
    plan: Plan2d<T>,
    scratch_len: usize,
}

impl<T: Real> Fft2d<T> {
    /// Plans for `(rows, cols)` arrays.
    pub fn new(rows: usize, cols: usize) -> Self {
        let Plans2d {
            mut levels,
            scratch_len,
        } = Plans2d::new(rows, cols, 0);
        let plan = levels.swap_remove(0);
        Self { plan, scratch_len }
    }

    /// In-place FFT of `a` (`rows × cols` values); the inverse is normalised (divided by
    /// `rows × cols`), so `process(.., true)` undoes `process(.., false)`.
    ///
    /// # Panics
    /// If `a` does not hold `rows × cols` values (a caller's bug, not a user's input).
    pub fn process(&self, a: &mut [Cx<T>], inverse: bool) {
        let len = self.plan.m * self.plan.n;
        assert_eq!(a.len(), len, "Fft2d::process: array length");
        let z = Cx::new(T::zero(), T::zero());
        let (mut tmp, mut scratch) = (vec![z; len], vec![z; self.scratch_len]);
        self.plan.process(a, &mut tmp, &mut scratch, inverse);
        if inverse {
            let s = T::of(1.0 / len as f64);
            a.iter_mut().for_each(|v| *v *= s);
        }
    }
}

impl<T: Real> Plan2d<T> {
    /// In-place unnormalised 2D FFT of `data[..m n]`, natural layout in and out; `tmp`
    /// holds `m n` values.
    pub fn process(
        &self,
        data: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        inverse: bool,
    ) {
        let (m, n) = (self.m, self.n);
        let len = m * n;
        let (rows, cols) = if inverse {
            (&self.row_inv, &self.col_inv)
        } else {
            (&self.row_fwd, &self.col_fwd)
        };
        // Out-of-place FFTs: rustfft's in-place path for small sizes copies through its
        // scratch anyway; here the copy is the transpose we need.
        rows.process_outofplace_with_scratch(&mut data[..len], &mut tmp[..len], scratch);
        transpose::transpose(&tmp[..len], &mut data[..len], n, m);
        cols.process_outofplace_with_scratch(&mut data[..len], &mut tmp[..len], scratch);
        transpose::transpose(&tmp[..len], &mut data[..len], m, n);
    }

    /// Forward 2D FFT of a natural `(m, n)` array into a transposed `(n, m)` spectrum.
    /// Each axis is transformed where its sequences lie best for its kernel: rustfft
    /// along contiguous rows, [`ColumnFft`] down columns (lengths with a factor of 5 beyond 5 itself go by columns).
    pub fn forward_t(&self, data: &mut [Cx<T>], tmp: &mut [Cx<T>], scratch: &mut [Cx<T>]) {
        let (m, n) = (self.m, self.n);
        let len = m * n;
        let (data, tmp) = (&mut data[..len], &mut tmp[..len]);
        match &self.row_cols {
            None => {
                self.row_fwd
                    .process_outofplace_with_scratch(data, tmp, scratch);
                if let Some([f, _]) = &self.col_cols {
                    f.process(tmp, n, n, scratch);
                }
                transpose::transpose(tmp, data, n, m);
            }
            Some([f, _]) => {
                if let Some([c, _]) = &self.col_cols {
                    c.process(data, n, n, scratch);
                }
                transpose::transpose(data, tmp, n, m);
                f.process_from(tmp, data, m, m, scratch);
            }
        }
        if self.col_cols.is_none() {
            self.col_fwd.process_with_scratch(data, scratch);
        }
    }

    /// Unnormalised inverse of [`Self::forward_t`]: transposed spectrum in, natural
    /// `(m, n)` array out.
    pub fn inverse_t(&self, data: &mut [Cx<T>], tmp: &mut [Cx<T>], scratch: &mut [Cx<T>]) {
        let (m, n) = (self.m, self.n);
        let len = m * n;
        let (data, tmp) = (&mut data[..len], &mut tmp[..len]);
        if self.col_cols.is_none() {
            self.col_inv.process_with_scratch(data, scratch);
        }
        match &self.row_cols {
            None => {
                transpose::transpose(data, tmp, m, n);
                if let Some([_, c]) = &self.col_cols {
                    c.process(tmp, n, n, scratch);
                }
                self.row_inv
                    .process_outofplace_with_scratch(tmp, data, scratch);
            }
            Some([_, f]) => {
                f.process_from(data, tmp, m, m, scratch);
                transpose::transpose(tmp, data, m, n);
                if let Some([_, c]) = &self.col_cols {
                    c.process(data, n, n, scratch);
                }
            }
        }
    }
}

/// Splits `z = fft(a + i b)` of two real arrays into `fft(a)` and `fft(b)`, using
/// `fft(a)[k] = (z[k] + conj z[-k]) / 2` and `fft(b)[k] = (z[k] - conj z[-k]) / 2i`. `z`
/// is `(r, c)` row-major in either layout: the mirror of `(p, q)` is `(-p, -q)`.
pub fn split_pair<T: Real>(z: &[Cx<T>], r: usize, c: usize, a: &mut [Cx<T>], b: &mut [Cx<T>]) {
    crate::simd::dispatch(SplitPair { z, r, c, a, b })
}

/// [`split_pair`]'s arguments, for [`crate::simd::dispatch`].
struct SplitPair<'a, T> {
    z: &'a [Cx<T>],
    r: usize,
    c: usize,
    a: &'a mut [Cx<T>],
    b: &'a mut [Cx<T>],
}

impl<T: Real> crate::simd::Kernel for SplitPair<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let SplitPair { z, r, c, a, b } = self;
        let half = T::of(0.5);
        let split = |u: Cx<T>, v: Cx<T>| {
            // u = (ur, ui), conj v = (vr, -vi).
            (
                Cx::new((u.re + v.re) * half, (u.im - v.im) * half),
                Cx::new((u.im + v.im) * half, (v.re - u.re) * half),
            )
        };
        for p in 0..r {
            let pm = (r - p) % r;
            let (zr, zm) = (&z[p * c..(p + 1) * c], &z[pm * c..(pm + 1) * c]);
            let (ar, br) = (&mut a[p * c..(p + 1) * c], &mut b[p * c..(p + 1) * c]);
            // Column 0 is its own mirror; column q > 0 mirrors c - q, so the rest of the
            // row pairs with the rest of the mirrored row read backwards (no modulo in
            // the loop, which then vectorises).
            (ar[0], br[0]) = split(zr[0], zm[0]);
            let rest = ar[1..].iter_mut().zip(&mut br[1..]);
            for ((a, b), (&u, &v)) in rest.zip(zr[1..].iter().zip(zm[1..].iter().rev())) {
                (*a, *b) = split(u, v);
            }
        }
    }
}

/// `out[a, b] = scale * sum_{p, q} src[a + p mo, b + q no] h[a + p mo, b + q no]`:
/// filter, then subsample by `m / mo` on both axes (natural layout, dense). The reference
/// for [`SparseFilter2d::fold`], and the kernel of transforms with dense filters.
#[allow(clippy::too_many_arguments)]
pub fn fold2<T: Real>(
    src: &[Cx<T>],
    h: &[T],
    m: usize,
    n: usize,
    mo: usize,
    no: usize,
    scale: T,
    out: &mut [Cx<T>],
) {
    let out = &mut out[..mo * no];
    out.iter_mut()
        .for_each(|o| *o = Cx::new(T::zero(), T::zero()));
    for i in 0..m {
        let a = i % mo;
        let orow = &mut out[a * no..(a + 1) * no];
        let (srow, hrow) = (&src[i * n..(i + 1) * n], &h[i * n..(i + 1) * n]);
        for (sc, hc) in srow.chunks_exact(no).zip(hrow.chunks_exact(no)) {
            for ((o, s), &w) in orow.iter_mut().zip(sc).zip(hc) {
                *o += s * (w * scale);
            }
        }
    }
}

/// Adjoint of [`fold2`] (scale 1): `acc[i, j] += h[i, j] g[i mod mo, j mod no]`.
pub fn tile_add2<T: Real>(
    g: &[Cx<T>],
    mo: usize,
    no: usize,
    h: &[T],
    m: usize,
    n: usize,
    acc: &mut [Cx<T>],
) {
    for i in 0..m {
        let a = i % mo;
        let grow = &g[a * no..(a + 1) * no];
        let (arow, hrow) = (&mut acc[i * n..(i + 1) * n], &h[i * n..(i + 1) * n]);
        for (ac, hc) in arow.chunks_exact_mut(no).zip(hrow.chunks_exact(no)) {
            for ((o, s), &w) in ac.iter_mut().zip(grow).zip(hc) {
                *o += s * w;
            }
        }
    }
}

/// A real 2D Fourier-domain filter of an `(m, n)` grid, kept in the transposed layout
/// of [`Plan2d::forward_t`] and on its support: for each row with any coefficient above
/// 1e-14 of the peak, the runs of columns that are. The values carry the `1 / (m n)` of
/// the inverse FFT that follows every fold. On small grids each is stored twice (`[w, w]`,
/// once per part of the complex bin it scales), so that the fold is a plain element-wise
/// multiply-add over interleaved complex data, which vectorises without shuffles (twice
/// as fast on small images as the shuffling loop over single values). On large grids
/// (rows of `ROW_BY_ROW` or more) the filters no longer fit in cache and the folds
/// stream them from memory: each value is stored once, halving that traffic, and the
/// kernel ([`crate::simd::real_scale`]) duplicates it in registers.
#[derive(Debug, Clone)]
pub struct SparseFilter2d<T> {
    /// Row length of the stored (transposed) layout: the natural `m`.
    width: usize,
    /// `m n`, to undo the folded-in normalisation in the adjoint.
    len: T,
    /// `(row, start, end, offset into values / rep)`.
    runs: Vec<(usize, usize, usize, usize)>,
    values: Vec<T>,
    /// Copies of each value: 2 on small grids, 1 on large ones.
    rep: usize,
    /// Every bin is on the support: `values` is the whole grid, folded with long loops.
    dense: bool,
}

impl<T: Real> SparseFilter2d<T> {
    /// `h` is the natural `(m, n)` row-major filter.
    pub fn of(h: &[f64], m: usize, n: usize) -> Self {
        let peak = h.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let thr = peak * 1e-14;
        let scale = 1.0 / (m * n) as f64;
        let rep = if m >= ROW_BY_ROW { 1 } else { 2 };
        let mut runs = Vec::new();
        let mut values = Vec::new();
        // Stored row `r` is natural column `r`.
        for r in 0..n {
            let at = |c: usize| h[c * n + r];
            let mut c = 0;
            while c < m {
                if at(c).abs() > thr {
                    let a = c;
                    while c < m && at(c).abs() > thr {
                        c += 1;
                    }
                    runs.push((r, a, c, values.len() / rep));
                    for k in a..c {
                        values.extend(std::iter::repeat_n(T::of(at(k) * scale), rep));
                    }
                } else {
                    c += 1;
                }
            }
        }
        // Mostly full (the finer scales; the zero-mean wavelets vanish only near the
        // origin): store every bin, zeros included, for the long-loop fold.
        let dense = 4 * values.len() >= 3 * rep * m * n;
        if dense {
            runs = (0..n).map(|r| (r, 0, m, r * m)).collect();
            values = (0..n * m)
                .flat_map(|k| std::iter::repeat_n(T::of(h[(k % m) * n + k / m] * scale), rep))
                .collect();
        }
        Self {
            width: m,
            len: T::of((m * n) as f64),
            runs,
            values,
            rep,
            dense,
        }
    }

    /// `out = fold(src * h) / (m n)`: filter, then subsample to the natural size
    /// `(mo, no)`; `src` and `out` are transposed spectra, `tmp` holds `m n / (m / mo)`
    /// values.
    pub fn fold(&self, src: &[Cx<T>], mo: usize, no: usize, out: &mut [Cx<T>], tmp: &mut [Cx<T>]) {
        crate::simd::dispatch(Fold {
            filter: self,
            src,
            mo,
            no,
            out,
            tmp,
        })
    }

    /// [`Self::fold`] of a dense filter: a plain product where nothing folds, one output
    /// row at a time through an L1 row buffer on large grids, and sums in registers on
    /// small ones. The run-by-run fold would cut every row at each multiple of `wo`, and
    /// at the small sizes of images it spends more on those cuts than on the arithmetic.
    #[inline(always)]
    fn fold_dense(
        &self,
        src: &[Cx<T>],
        mo: usize,
        no: usize,
        out: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
    ) {
        let (ro, wo) = (no, mo);
        let width = self.width;
        let rep = self.rep;
        let rows = self.values.len() / (rep * width);
        let src: &[T] = bytemuck::cast_slice(&src[..rows * width]);
        let out: &mut [T] = bytemuck::cast_slice_mut(&mut out[..ro * wo]);
        if wo == width {
            let blk = 2 * ro * width;
            let w = |p: usize| &self.values[p * rep * ro * width..(p + 1) * rep * ro * width];
            scale_by(out, &src[..blk], w(0), rep, false);
            for p in 1..rows / ro {
                scale_by(out, &src[p * blk..(p + 1) * blk], w(p), rep, true);
            }
            return;
        }
        if rep == 1 {
            // Large grids: one output row at a time, its partial sums in a row-sized
            // buffer that stays in L1, so the fold streams the source and the filter
            // once and writes nothing else (the grid no longer fits in L2).
            let t: &mut [T] = bytemuck::cast_slice_mut(&mut tmp[..width]);
            let w = &self.values;
            for (q, o) in out.chunks_exact_mut(2 * wo).enumerate() {
                let row = |p: usize| (p * ro + q) * width..(p * ro + q + 1) * width;
                let srow = |p: usize| 2 * (p * ro + q) * width..2 * (p * ro + q + 1) * width;
                crate::simd::real_scale(t, &src[srow(0)], &w[row(0)], false);
                for p in 1..rows / ro {
                    crate::simd::real_scale(t, &src[srow(p)], &w[row(p)], true);
                }
                o.copy_from_slice(&t[..2 * wo]);
                for c in t[2 * wo..].chunks_exact(2 * wo) {
                    o.iter_mut().zip(c).for_each(|(o, &c)| *o += c);
                }
            }
            return;
        }
        // Two vectors of accumulators in either precision.
        if std::mem::size_of::<T>() == 8 {
            fold_in_registers::<T, 8>(out, src, &self.values, ro, wo, rows, width);
        } else {
            fold_in_registers::<T, 16>(out, src, &self.values, ro, wo, rows, width);
        }
    }

    #[inline(always)]
    fn fold_kernel(
        &self,
        src: &[Cx<T>],
        mo: usize,
        no: usize,
        out: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
    ) {
        if self.dense {
            return self.fold_dense(src, mo, no, out, tmp);
        }
        // In the stored layout the output has `no` rows of `mo`.
        let (ro, wo) = (no, mo);
        let (w_in, rep) = (self.width, self.rep);
        let out: &mut [T] = bytemuck::cast_slice_mut(&mut out[..ro * wo]);
        let src: &[T] = bytemuck::cast_slice(src);
        out.fill(T::zero());
        for &(i, a0, b, off) in &self.runs {
            let orow = 2 * (i % ro) * wo;
            let srow = 2 * i * w_in;
            let vals = &self.values[rep * off..rep * (off + b - a0)];
            // Split the run at multiples of `wo`, where the output row wraps around.
            let (mut a, mut base) = (a0, (a0 / wo) * wo);
            while a < b {
                let end = b.min(base + wo);
                let o = &mut out[orow + 2 * (a - base)..orow + 2 * (end - base)];
                let s = &src[srow + 2 * a..srow + 2 * end];
                scale_by(o, s, &vals[rep * (a - a0)..rep * (end - a0)], rep, true);
                a = end;
                base += wo;
            }
        }
    }

    /// Adjoint of the unnormalised fold: `acc[i, j] += h[i, j] g[i mod mo, j mod no]`,
    /// transposed layouts, natural sizes.
    pub fn tile_add(&self, g: &[Cx<T>], mo: usize, no: usize, acc: &mut [Cx<T>]) {
        let (ro, wo) = (no, mo);
        let (w_in, rep, len) = (self.width, self.rep, self.len);
        for &(i, a0, b, off) in &self.runs {
            let grow = (i % ro) * wo;
            let arow = i * w_in;
            let mut a = a0;
            while a < b {
                let base = (a / wo) * wo;
                let end = b.min(base + wo);
                let k = end - a;
                let o = &mut acc[arow + a..arow + end];
                let s = &g[grow + a - base..grow + a - base + k];
                let w = &self.values[rep * (off + a - a0)..rep * (off + end - a0)];
                for ((o, s), w) in o.iter_mut().zip(s).zip(w.chunks_exact(rep)) {
                    *o += s * (w[0] * len);
                }
                a = end;
            }
        }
    }
}

/// Row length (in complex values) from which dense folds go one output row at a time.
const ROW_BY_ROW: usize = 128;

/// `o (+)= s w` for interleaved complex `s` and the filter values `w` of the same bins,
/// stored `rep` times each.
#[inline(always)]
fn scale_by<T: Real>(o: &mut [T], s: &[T], w: &[T], rep: usize, acc: bool) {
    if rep == 1 {
        crate::simd::real_scale(o, s, w, acc);
    } else if acc {
        crate::simd::mac(o, s, w);
    } else {
        o.iter_mut()
            .zip(s)
            .zip(w)
            .for_each(|((o, &s), &w)| *o = s * w);
    }
}

/// The dense fold of a small grid, each output chunk of `C` reals summed in registers
/// over its `(rows / ro) (width / wo)` aliases and stored once: no partial sums go
/// through memory. `out` is `(ro, wo)`, `s` and `w` are `(rows, width)`, interleaved.
/// A row of fewer than `C` reals takes the scalar loop; otherwise its last chunk starts
/// `C` reals before the row's end, overlapping the one before with the same sums.
#[inline(always)]
fn fold_in_registers<T: Real, const C: usize>(
    out: &mut [T],
    s: &[T],
    w: &[T],
    ro: usize,
    wo: usize,
    rows: usize,
    width: usize,
) {
    let (p_count, b_count) = (rows / ro, width / wo);
    let (row, orow) = (2 * width, 2 * wo);
    for (q, o) in out.chunks_exact_mut(orow).enumerate().take(ro) {
        if orow < C {
            for (k, o) in o.iter_mut().enumerate() {
                let mut acc = T::zero();
                for p in 0..p_count {
                    for b in 0..b_count {
                        let i = (p * ro + q) * row + b * orow + k;
                        acc += s[i] * w[i];
                    }
                }
                *o = acc;
            }
            continue;
        }
        let last = orow - C;
        let mut c = 0;
        loop {
            let mut acc = [T::zero(); C];
            for p in 0..p_count {
                for b in 0..b_count {
                    let i = (p * ro + q) * row + b * orow + c;
                    let (s, w) = (&s[i..i + C], &w[i..i + C]);
                    for k in 0..C {
                        acc[k] += s[k] * w[k];
                    }
                }
            }
            o[c..c + C].copy_from_slice(&acc);
            if c == last {
                break;
            }
            c = (c + C).min(last);
        }
    }
}

/// [`SparseFilter2d::fold`]'s arguments, for [`crate::simd::dispatch`].
struct Fold<'a, T> {
    filter: &'a SparseFilter2d<T>,
    src: &'a [Cx<T>],
    mo: usize,
    no: usize,
    out: &'a mut [Cx<T>],
    tmp: &'a mut [Cx<T>],
}

impl<T: Real> crate::simd::Kernel for Fold<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.filter
            .fold_kernel(self.src, self.mo, self.no, self.out, self.tmp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type C = Cx<f64>;

    fn transposed(x: &[C], m: usize, n: usize) -> Vec<C> {
        let mut t = vec![C::new(0.0, 0.0); m * n];
        transpose::transpose(x, &mut t, n, m);
        t
    }

    #[test]
    fn sparse_fold_and_tile_equal_dense_in_the_transposed_layout() {
        // A wide filter takes the dense path (row by row on the large grid, sums in
        // registers on small ones, with rows shorter than a chunk, a multiple of it, or
        // neither), a narrow one the run-by-run path; the large grids keep each filter
        // value once, the small ones twice.
        for (m, n, width, dense) in [
            (12, 16, 4.0, true),
            (40, 20, 400.0, true),
            (12, 16, 0.5, false),
            (2 * ROW_BY_ROW, 24, 4000.0, true),
            (2 * ROW_BY_ROW, 24, 0.5, false),
        ] {
            let h: Vec<f64> = (0..m * n)
                .map(|k| {
                    let (i, j) = ((k / n) as f64, (k % n) as f64);
                    (-((i - 3.0).powi(2) + (j - 9.0).powi(2)) / width).exp()
                        + if k == 5 { 0.3 } else { 0.0 }
                })
                .collect();
            let src: Vec<C> = (0..m * n)
                .map(|k| C::new((k as f64).sin(), (k as f64 * 0.3).cos()))
                .collect();
            let sf = SparseFilter2d::<f64>::of(&h, m, n);
            assert_eq!(sf.dense, dense);
            let src_t = transposed(&src, m, n);
            for (mo, no) in [(m, n), (m / 2, n / 2), (m / 4, n / 4)] {
                let mut a = vec![C::new(0.0, 0.0); mo * no];
                let mut b = a.clone();
                fold2(&src, &h, m, n, mo, no, 1.0 / (m * n) as f64, &mut a);
                let mut tmp = vec![C::new(0.0, 0.0); m * n];
                sf.fold(&src_t, mo, no, &mut b, &mut tmp);
                let a_t = transposed(&a, mo, no);
                assert!(a_t.iter().zip(&b).all(|(x, y)| (x - y).norm() < 1e-13));
                let g: Vec<C> = src[..mo * no].to_vec();
                let mut a = vec![C::new(0.0, 0.0); m * n];
                let mut b = a.clone();
                tile_add2(&g, mo, no, &h, m, n, &mut a);
                sf.tile_add(&transposed(&g, mo, no), mo, no, &mut b);
                let a_t = transposed(&a, m, n);
                assert!(a_t.iter().zip(&b).all(|(x, y)| (x - y).norm() < 1e-13));
            }
        }
    }

    #[test]
    fn transposed_fft_round_trips_and_matches_the_natural_one() {
        // Each axis either by rustfft or by columns (lengths with a factor of 5), in all
        // four combinations, odd widths included.
        for (m, n) in [(6, 10), (10, 6), (20, 40), (12, 8), (15, 20), (5, 3)] {
            let plans = Plans2d::<f64>::new(m, n, 0);
            let p = &plans.levels[0];
            let x: Vec<C> = (0..m * n)
                .map(|k| C::new((k as f64 * 0.7).sin(), (k as f64 * 0.2).cos()))
                .collect();
            let (mut tmp, mut scratch) = (
                vec![C::new(0.0, 0.0); m * n],
                vec![C::new(0.0, 0.0); plans.scratch_len],
            );
            let mut nat = x.clone();
            p.process(&mut nat, &mut tmp, &mut scratch, false);
            let mut t = x.clone();
            p.forward_t(&mut t, &mut tmp, &mut scratch);
            let nat_t = transposed(&nat, m, n);
            let tol = 1e-13 * (m * n) as f64;
            assert!(
                nat_t.iter().zip(&t).all(|(a, b)| (a - b).norm() < tol),
                "forward ({m}, {n})"
            );
            p.inverse_t(&mut t, &mut tmp, &mut scratch);
            let scale = (m * n) as f64;
            assert!(
                x.iter().zip(&t).all(|(a, b)| (a * scale - b).norm() < tol),
                "round trip ({m}, {n})"
            );
        }
    }

    #[test]
    fn split_pair_separates_two_real_spectra() {
        let (r, c) = (6, 5);
        let a: Vec<f64> = (0..r * c).map(|k| (k as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..r * c).map(|k| (k as f64 * 0.11).cos() + 0.5).collect();
        let plans = Plans2d::<f64>::new(r, c, 0);
        let p = &plans.levels[0];
        let (mut tmp, mut scratch) = (
            vec![C::new(0.0, 0.0); r * c],
            vec![C::new(0.0, 0.0); plans.scratch_len],
        );
        let spec = |v: Vec<C>, tmp: &mut [C], scratch: &mut [C]| {
            let mut v = v;
            p.forward_t(&mut v, tmp, scratch);
            v
        };
        let fa = spec(
            a.iter().map(|&v| C::new(v, 0.0)).collect(),
            &mut tmp,
            &mut scratch,
        );
        let fb = spec(
            b.iter().map(|&v| C::new(v, 0.0)).collect(),
            &mut tmp,
            &mut scratch,
        );
        let z = spec(
            a.iter().zip(&b).map(|(&x, &y)| C::new(x, y)).collect(),
            &mut tmp,
            &mut scratch,
        );
        let (mut sa, mut sb) = (vec![C::new(0.0, 0.0); r * c], vec![C::new(0.0, 0.0); r * c]);
        // The transposed spectrum is (c, r).
        split_pair(&z, c, r, &mut sa, &mut sb);
        assert!(fa.iter().zip(&sa).all(|(x, y)| (x - y).norm() < 1e-12));
        assert!(fb.iter().zip(&sb).all(|(x, y)| (x - y).norm() < 1e-12));
    }

    /// `Fft2d` is the 2D DFT `sum x[a, b] e^{-2πi (a u / m + b v / n)}` (checked on odd and
    /// one-row shapes against the sum itself), and its inverse undoes it.
    #[test]
    fn fft2d_is_the_dft_and_inverts() {
        use std::f64::consts::PI;
        for (m, n) in [(3, 5), (1, 6), (4, 4)] {
            let x: Vec<Cx<f64>> = (0..m * n)
                .map(|k| Cx::new((k as f64 * 0.7).sin(), (k as f64 * 0.3).cos()))
                .collect();
            let f = Fft2d::<f64>::new(m, n);
            let mut y = x.clone();
            f.process(&mut y, false);
            for u in 0..m {
                for v in 0..n {
                    let want: Cx<f64> = (0..m * n)
                        .map(|k| {
                            let ph = -2.0
                                * PI
                                * ((k / n * u) as f64 / m as f64 + (k % n * v) as f64 / n as f64);
                            x[k] * Cx::new(ph.cos(), ph.sin())
                        })
                        .sum();
                    assert!(
                        (y[u * n + v] - want).norm() < 1e-12,
                        "({m}, {n}) at ({u}, {v})"
                    );
                }
            }
            f.process(&mut y, true);
            assert!(x.iter().zip(&y).all(|(a, b)| (a - b).norm() < 1e-14));
        }
    }
}
