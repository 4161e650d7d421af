//! One planned complex 2D FFT (rows, then columns through a reused column buffer), shared by
//! the power spectrum, the Cox field and the turbulence solver.

use num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Forward and inverse FFT plans for row-major `rows × cols` arrays.
pub(crate) struct Fft2 {
    rows: usize,
    cols: usize,
    fwd: [Arc<dyn Fft<f64>>; 2],
    inv: [Arc<dyn Fft<f64>>; 2],
}

impl Fft2 {
    pub(crate) fn new(rows: usize, cols: usize) -> Self {
        let mut p = FftPlanner::new();
        Self {
            rows,
            cols,
            fwd: [p.plan_fft_forward(cols), p.plan_fft_forward(rows)],
            inv: [p.plan_fft_inverse(cols), p.plan_fft_inverse(rows)],
        }
    }

    /// In-place transform; the inverse is normalised (divided by `rows × cols`).
    pub(crate) fn process(&self, a: &mut [Complex64], inverse: bool) {
        let (m, n) = (self.rows, self.cols);
        let [row_fft, col_fft] = if inverse { &self.inv } else { &self.fwd };
        for row in a.chunks_mut(n) {
            row_fft.process(row);
        }
        if m > 1 {
            let mut col = vec![Complex64::default(); m];
            for j in 0..n {
                for i in 0..m {
                    col[i] = a[i * n + j];
                }
                col_fft.process(&mut col);
                for i in 0..m {
                    a[i * n + j] = col[i];
                }
            }
        }
        if inverse {
            let s = 1.0 / (m * n) as f64;
            a.iter_mut().for_each(|v| *v *= s);
        }
    }
}
