//! 2D FFTs (row FFTs, a transpose, column FFTs) and the 2D filter-and-subsample kernel
//! with its adjoint. Spectra are full complex `(m, n)` arrays, row-major: 2D wavelets
//! are not symmetric, so no half-spectrum shortcut applies.

use crate::fourier::{Cx, Real};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Plans for one `(m, n)` grid.
pub(crate) struct Plan2d<T: Real> {
    pub m: usize,
    pub n: usize,
    row_fwd: Arc<dyn Fft<T>>,
    row_inv: Arc<dyn Fft<T>>,
    col_fwd: Arc<dyn Fft<T>>,
    col_inv: Arc<dyn Fft<T>>,
}

/// Plans for the grids `(m / 2^r, n / 2^r)`, `r = 0..=levels`.
pub(crate) struct Plans2d<T: Real> {
    pub levels: Vec<Plan2d<T>>,
    pub scratch_len: usize,
}

impl<T: Real> Plans2d<T> {
    pub fn new(m: usize, n: usize, levels: usize) -> Self {
        let mut p = FftPlanner::<T>::new();
        let mut scratch_len = 0;
        let levels = (0..=levels)
            .map(|r| {
                let (mr, nr) = (m >> r, n >> r);
                let plan = Plan2d {
                    m: mr,
                    n: nr,
                    row_fwd: p.plan_fft_forward(nr),
                    row_inv: p.plan_fft_inverse(nr),
                    col_fwd: p.plan_fft_forward(mr),
                    col_inv: p.plan_fft_inverse(mr),
                };
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

impl<T: Real> Plan2d<T> {
    /// In-place unnormalised 2D FFT of `data[..m n]`; `tmp` holds `m n` values.
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
}

#[cfg(test)]
/// `out[a, b] = scale * sum_{p, q} src[a + p mo, b + q no] h[a + p mo, b + q no]`:
/// filter, then subsample by `m / mo` on both axes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fold2<T: Real>(
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

#[cfg(test)]
/// Adjoint of [`fold2`] (scale 1): `acc[i, j] += h[i, j] g[i mod mo, j mod no]`.
pub(crate) fn tile_add2<T: Real>(
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

/// A real 2D Fourier-domain filter stored on its support: for each row with any
/// coefficient above 1e-14 of the peak, the runs of columns that are.
#[derive(Debug, Clone)]
pub(crate) struct SparseFilter2d<T> {
    n: usize,
    /// `(row, start, end, offset into values)`.
    runs: Vec<(usize, usize, usize, usize)>,
    values: Vec<T>,
}

impl<T: Real> SparseFilter2d<T> {
    pub fn of(h: &[f64], m: usize, n: usize) -> Self {
        let peak = h.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let thr = peak * 1e-14;
        let mut runs = Vec::new();
        let mut values = Vec::new();
        for i in 0..m {
            let row = &h[i * n..(i + 1) * n];
            let mut j = 0;
            while j < n {
                if row[j].abs() > thr {
                    let a = j;
                    while j < n && row[j].abs() > thr {
                        j += 1;
                    }
                    runs.push((i, a, j, values.len()));
                    values.extend(row[a..j].iter().map(|&v| T::of(v)));
                } else {
                    j += 1;
                }
            }
        }
        Self { n, runs, values }
    }

    /// Sparse [`fold2`]: `out` is `(mo, no)`, `src` is `(m, self.n)`.
    pub fn fold(&self, src: &[Cx<T>], mo: usize, no: usize, scale: T, out: &mut [Cx<T>]) {
        let n = self.n;
        out[..mo * no]
            .iter_mut()
            .for_each(|o| *o = Cx::new(T::zero(), T::zero()));
        for &(i, a0, b, off) in &self.runs {
            let orow = (i % mo) * no;
            let srow = i * n;
            let mut a = a0;
            while a < b {
                let base = (a / no) * no;
                let end = b.min(base + no);
                let k = end - a;
                let o = &mut out[orow + a - base..orow + a - base + k];
                let s = &src[srow + a..srow + end];
                let w = &self.values[off + a - a0..off + a - a0 + k];
                for ((o, s), &w) in o.iter_mut().zip(s).zip(w) {
                    *o += s * (w * scale);
                }
                a = end;
            }
        }
    }

    /// Sparse [`tile_add2`]: `acc[i, j] += h[i, j] g[i mod mo, j mod no]`.
    pub fn tile_add(&self, g: &[Cx<T>], mo: usize, no: usize, acc: &mut [Cx<T>]) {
        let n = self.n;
        for &(i, a0, b, off) in &self.runs {
            let grow = (i % mo) * no;
            let arow = i * n;
            let mut a = a0;
            while a < b {
                let base = (a / no) * no;
                let end = b.min(base + no);
                let k = end - a;
                let o = &mut acc[arow + a..arow + end];
                let s = &g[grow + a - base..grow + a - base + k];
                let w = &self.values[off + a - a0..off + a - a0 + k];
                for ((o, s), &w) in o.iter_mut().zip(s).zip(w) {
                    *o += s * w;
                }
                a = end;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type C = Cx<f64>;

    #[test]
    fn sparse_fold_and_tile_equal_dense() {
        let (m, n) = (12, 16);
        let h: Vec<f64> = (0..m * n)
            .map(|k| {
                let (i, j) = ((k / n) as f64, (k % n) as f64);
                (-((i - 3.0).powi(2) + (j - 9.0).powi(2)) / 4.0).exp()
                    + if k == 5 { 0.3 } else { 0.0 }
            })
            .collect();
        let src: Vec<C> = (0..m * n)
            .map(|k| C::new((k as f64).sin(), (k as f64 * 0.3).cos()))
            .collect();
        let sf = SparseFilter2d::<f64>::of(&h, m, n);
        for (mo, no) in [(12, 16), (6, 8), (3, 4)] {
            let mut a = vec![C::new(0.0, 0.0); mo * no];
            let mut b = a.clone();
            fold2(&src, &h, m, n, mo, no, 0.5, &mut a);
            sf.fold(&src, mo, no, 0.5, &mut b);
            assert!(a.iter().zip(&b).all(|(x, y)| (x - y).norm() < 1e-13));
            let g: Vec<C> = src[..mo * no].to_vec();
            let mut a = vec![C::new(0.0, 0.0); m * n];
            let mut b = a.clone();
            tile_add2(&g, mo, no, &h, m, n, &mut a);
            sf.tile_add(&g, mo, no, &mut b);
            assert!(a.iter().zip(&b).all(|(x, y)| (x - y).norm() < 1e-13));
        }
    }
}
