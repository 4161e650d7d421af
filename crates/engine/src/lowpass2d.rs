//! The 2D low-pass branch in the image domain, for moduli whose spectrum nothing else
//! needs (the order-2 paths and the order-1 paths without children).
//!
//! In Fourier the branch costs a forward FFT at the path's level, a fold and an inverse FFT
//! at level J, to keep one value in `2^(J - k)` on each axis. Kymatio's low-pass is a
//! periodised isotropic Gaussian, hence separable, and narrow at every level (σ = 0.8 · 2^(J-1-k)
//! pixels), so computing only the kept output points with two 1D passes costs a few
//! multiply-adds a pixel instead. The kernel is the exact inverse DFT of the level's filter
//! (so both routes give the same operator up to rounding), truncated where it falls below
//! 1e-15 (f64) or 1e-9 (f32) of its peak.

use crate::fourier2d::Plans2d;
use crate::real::{Cx, Real};

/// Separable image-domain low-pass of one level, evaluated on the cropped output grid.
pub struct SpatialLowpass<T> {
    /// Row length of the level's grid.
    width: usize,
    /// Output size (rows, columns).
    out: (usize, usize),
    /// For output row `p`, `rows[row_off[p]..row_off[p + 1]]` lists (source row, weight).
    row_off: Vec<usize>,
    rows: Vec<(usize, T)>,
    /// The same for output columns.
    col_off: Vec<usize>,
    cols: Vec<(usize, T)>,
}

/// Taps of the 1D circular kernel `k` for each of `count` output points `x = (o + crop)
/// step`: the source indices `x - a` (mod the length) and weights `k[a]` above `thr` of the
/// peak, output `o`'s in `list[off[o]..off[o + 1]]`.
fn taps<T: Real>(
    k: &[f64],
    step: usize,
    crop: usize,
    count: usize,
    thr: f64,
) -> (Vec<usize>, Vec<(usize, T)>) {
    let len = k.len();
    let peak = k.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut off = vec![0];
    let mut list = Vec::new();
    for o in 0..count {
        let x = (o + crop) * step;
        // (u * k)[x] = sum_a k[a] u[x - a].
        for (a, &w) in k.iter().enumerate() {
            if w.abs() > thr * peak {
                list.push(((x + len - a) % len, T::of(w)));
            }
        }
        // Zero-weight taps up to a multiple of four: [`pass`] then runs whole quads only.
        while (list.len() - off[o]) % 4 != 0 {
            list.push((x % len, T::zero()));
        }
        off.push(list.len());
    }
    (off, list)
}

impl<T: Real> SpatialLowpass<T> {
    /// The branch for the natural `(m, n)` level-`k` filter `h` (real in Fourier), keeping
    /// every `step`-th point and dropping `crop` of them on each side, `out` in all; `None`
    /// when `h`'s kernel is not separable (then the Fourier route stays).
    pub fn of(
        h: &[f64],
        (m, n): (usize, usize),
        step: usize,
        crop: usize,
        out: (usize, usize),
    ) -> Option<Self> {
        if h.len() != m * n || (out.0 + 2 * crop) * step > m || (out.1 + 2 * crop) * step > n {
            return None;
        }
        let mut k: Vec<Cx<f64>> = h.iter().map(|&v| Cx::new(v, 0.0)).collect();
        let plans = Plans2d::<f64>::new(m, n, 0);
        let mut tmp = vec![Cx::new(0.0, 0.0); m * n];
        let mut scratch = vec![Cx::new(0.0, 0.0); plans.scratch_len];
        plans.levels[0].process(&mut k, &mut tmp, &mut scratch, true);
        let scale = 1.0 / (m * n) as f64;
        let kr: Vec<f64> = k.iter().map(|c| c.re * scale).collect();
        let peak = kr.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let k00 = kr[0];
        if k00.is_nan() || k00 <= 0.0 || k.iter().any(|c| c.im.abs() * scale > 1e-12 * peak) {
            return None;
        }
        let r: Vec<f64> = (0..m).map(|a| kr[a * n]).collect();
        let c: Vec<f64> = (0..n).map(|b| kr[b] / k00).collect();
        let worst = (0..m * n).fold(0.0f64, |w, i| w.max((kr[i] - r[i / n] * c[i % n]).abs()));
        if worst > 1e-12 * peak {
            return None;
        }
        let thr = if std::mem::size_of::<T>() == 4 {
            1e-9
        } else {
            1e-15
        };
        let (row_off, rows) = taps(&r, step, crop, out.0, thr);
        let (col_off, cols) = taps(&c, step, crop, out.1, thr);
        Some(Self {
            width: n,
            out,
            row_off,
            rows,
            col_off,
            cols,
        })
    }

    /// Values of `t` needed by [`Self::apply`].
    pub fn tmp_len(&self) -> usize {
        2 * self.out.0 * self.width
    }

    /// Low-pass of the packed pair `u = a + i b` (natural layout): `a`'s output, row-major
    /// `out`, into `oa`, `b`'s into `ob`.
    pub fn apply(&self, u: &[Cx<T>], t: &mut [Cx<T>], oa: &mut [T], ob: Option<&mut [T]>) {
        crate::simd::dispatch(Apply {
            f: self,
            u,
            t,
            oa,
            ob,
        })
    }
}

/// [`SpatialLowpass::apply`]'s arguments, for [`crate::simd::dispatch`].
struct Apply<'a, T> {
    f: &'a SpatialLowpass<T>,
    u: &'a [Cx<T>],
    t: &'a mut [Cx<T>],
    oa: &'a mut [T],
    ob: Option<&'a mut [T]>,
}

impl<T: Real> crate::simd::Kernel for Apply<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let f = self.f;
        let (mo, no) = f.out;
        let (tc, vc) = self.t[..f.tmp_len()].split_at_mut(mo * f.width);
        // Along columns: `t = (mo, width)`, whole rows of interleaved complex at once.
        pass(
            bytemuck::cast_slice(self.u),
            2 * f.width,
            &f.row_off,
            &f.rows,
            bytemuck::cast_slice_mut(&mut *tc),
        );
        // Along rows, on the transpose, so that this pass runs on whole rows too.
        transpose::transpose(tc, &mut vc[..mo * f.width], f.width, mo);
        let tt: &[T] = bytemuck::cast_slice(&vc[..mo * f.width]);
        let t: &mut [T] = bytemuck::cast_slice_mut(tc);
        // `(no, mo)`, the output transposed; `t` is free again.
        let o = &mut t[..2 * mo * no];
        pass(tt, 2 * mo, &f.col_off, &f.cols, o);
        let mut ob = self.ob;
        for (q, col) in o.chunks_exact(2 * mo).enumerate() {
            for (p, z) in col.chunks_exact(2).enumerate() {
                self.oa[p * no + q] = z[0];
                if let Some(ob) = ob.as_deref_mut() {
                    ob[p * no + q] = z[1];
                }
            }
        }
    }
}

/// `dst` row `i = sum_(r, w) w src` row `r`, over `list[off[i]..off[i + 1]]` (a multiple
/// of four taps); rows hold `w2` values. Taps go four at a time, so that each destination
/// value is loaded and stored once per four source rows, and the first four set it.
#[inline(always)]
fn pass<T: Real>(src: &[T], w2: usize, off: &[usize], list: &[(usize, T)], dst: &mut [T]) {
    let row = |r: usize| &src[r * w2..(r + 1) * w2];
    for (i, d) in dst.chunks_exact_mut(w2).enumerate() {
        let d = &mut d[..w2];
        for (n, q) in list[off[i]..off[i + 1]].chunks_exact(4).enumerate() {
            let (a, b, c, e) = (row(q[0].0), row(q[1].0), row(q[2].0), row(q[3].0));
            let (wa, wb, wc, we) = (q[0].1, q[1].1, q[2].1, q[3].1);
            // Equal lengths, visible to the compiler: no bounds checks in the loops.
            let (a, b, c, e) = (&a[..w2], &b[..w2], &c[..w2], &e[..w2]);
            if n == 0 {
                for k in 0..w2 {
                    d[k] = a[k] * wa + b[k] * wb + c[k] * wc + e[k] * we;
                }
            } else {
                for k in 0..w2 {
                    d[k] += a[k] * wa + b[k] * wb + c[k] * wc + e[k] * we;
                }
            }
        }
        if off[i] == off[i + 1] {
            d.fill(T::zero());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fourier2d::SparseFilter2d;
    use rand::{Rng, SeedableRng};

    /// The Fourier route of the image transform: forward FFT (transposed layout), fold
    /// to `(m / step, n / step)`, inverse, crop.
    fn fourier_route(
        h: &[f64],
        (m, n): (usize, usize),
        step: usize,
        crop: usize,
        u: &[Cx<f64>],
    ) -> Vec<Cx<f64>> {
        let (mo, no) = (m / step, n / step);
        let plans = Plans2d::<f64>::new(m, n, step.trailing_zeros() as usize);
        let lo = &plans.levels[step.trailing_zeros() as usize];
        let mut spec = u.to_vec();
        let mut tmp = vec![Cx::new(0.0, 0.0); m * n];
        let mut scratch = vec![Cx::new(0.0, 0.0); plans.scratch_len.max(1)];
        plans.levels[0].forward_t(&mut spec, &mut tmp, &mut scratch);
        let filt = SparseFilter2d::<f64>::of(h, m, n);
        let mut o = vec![Cx::new(0.0, 0.0); m * n];
        filt.fold(&spec, mo, no, &mut o, &mut tmp);
        lo.inverse_t(&mut o, &mut tmp, &mut scratch);
        let mut res = Vec::new();
        for p in crop..mo - crop {
            for q in crop..no - crop {
                res.push(o[p * no + q]);
            }
        }
        res
    }

    /// The spectrum of a Gaussian of width `s` on the torus (circular distances), real
    /// since the Gaussian is even.
    fn gaussian_spectrum(m: usize, n: usize, s: f64) -> Vec<f64> {
        let d = |a: usize, len: usize| a.min(len - a) as f64;
        let mut g: Vec<Cx<f64>> = (0..m * n)
            .map(|i| {
                let (x, y) = (d(i / n, m), d(i % n, n));
                Cx::new((-(x * x + y * y) / (2.0 * s * s)).exp(), 0.0)
            })
            .collect();
        let plans = Plans2d::<f64>::new(m, n, 0);
        let mut tmp = g.clone();
        let mut scratch = vec![Cx::new(0.0, 0.0); plans.scratch_len.max(1)];
        plans.levels[0].process(&mut g, &mut tmp, &mut scratch, false);
        g.iter().map(|c| c.re).collect()
    }

    #[test]
    fn image_domain_lowpass_equals_the_fourier_route() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for &((m, n), step, crop, s) in &[
            ((20, 20), 2, 1, 0.8),
            ((24, 40), 4, 1, 1.6),
            ((36, 36), 2, 0, 0.8),
            ((16, 48), 8, 0, 3.2),
            ((10, 10), 1, 1, 0.4),
        ] {
            let h = gaussian_spectrum(m, n, s);
            let out = (m / step - 2 * crop, n / step - 2 * crop);
            let f = SpatialLowpass::<f64>::of(&h, (m, n), step, crop, out).expect("separable");
            let u: Vec<Cx<f64>> = (0..m * n)
                .map(|_| Cx::new(rng.random_range(0.0..1.0), rng.random_range(0.0..1.0)))
                .collect();
            let want = fourier_route(&h, (m, n), step, crop, &u);
            let mut t = vec![Cx::new(0.0, 0.0); f.tmp_len()];
            let (mut oa, mut ob) = (vec![0.0; out.0 * out.1], vec![0.0; out.0 * out.1]);
            f.apply(&u, &mut t, &mut oa, Some(&mut ob));
            let peak = want.iter().fold(0.0f64, |a, c| a.max(c.norm()));
            for (i, w) in want.iter().enumerate() {
                assert!(
                    (oa[i] - w.re).abs() <= 1e-13 * peak,
                    "{m}x{n} step {step}: re {i}"
                );
                assert!(
                    (ob[i] - w.im).abs() <= 1e-13 * peak,
                    "{m}x{n} step {step}: im {i}"
                );
            }
            // f32 too, to its own precision.
            let f32f = SpatialLowpass::<f32>::of(&h, (m, n), step, crop, out).expect("separable");
            let u32: Vec<Cx<f32>> = u
                .iter()
                .map(|c| Cx::new(c.re as f32, c.im as f32))
                .collect();
            let mut t32 = vec![Cx::new(0.0f32, 0.0); f32f.tmp_len()];
            let mut oa32 = vec![0.0f32; out.0 * out.1];
            f32f.apply(&u32, &mut t32, &mut oa32, None);
            for (i, w) in want.iter().enumerate() {
                assert!(
                    (oa32[i] as f64 - w.re).abs() <= 1e-5 * peak,
                    "f32 {m}x{n}: {i}"
                );
            }
        }
    }

    #[test]
    fn a_non_separable_filter_keeps_the_fourier_route() {
        // An anisotropic Gaussian along the diagonal is not a product of 1D kernels.
        let (m, n) = (16, 16);
        let mut h = vec![0.0; m * n];
        for a in 0..m {
            for b in 0..n {
                let fa = a.min(m - a) as f64;
                let fb = b.min(n - b) as f64;
                let (u, v) = ((fa + fb) / 2.0, (fa - fb) / 2.0);
                h[a * n + b] = (-(u * u) / 2.0 - v * v / 8.0).exp();
            }
        }
        assert!(SpatialLowpass::<f64>::of(&h, (m, n), 2, 1, (6, 6)).is_none());
        // Output grids that do not fit are refused too.
        let g = gaussian_spectrum(m, n, 1.0);
        assert!(SpatialLowpass::<f64>::of(&g, (m, n), 2, 1, (8, 8)).is_none());
        assert!(SpatialLowpass::<f64>::of(&g, (m, n), 2, 1, (6, 6)).is_some());
    }
}
