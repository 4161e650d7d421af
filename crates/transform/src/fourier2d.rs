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
                    scratch_len = scratch_len.max(f.get_inplace_scratch_len());
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
        rows.process_with_scratch(&mut data[..len], scratch);
        transpose::transpose(&data[..len], &mut tmp[..len], n, m);
        cols.process_with_scratch(&mut tmp[..len], scratch);
        transpose::transpose(&tmp[..len], &mut data[..len], m, n);
    }
}

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
