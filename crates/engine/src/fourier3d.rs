//! 3D FFTs in place: the last axis by rustfft on contiguous lines, the first two by
//! [`ColumnFft`] on blocks of columns (no transposes, no volume-sized temporary), with
//! pruning of the lines and slabs a filter's support leaves at zero.

use crate::column_fft::ColumnFft;
use crate::real::{Cx, Real};
use rayon::prelude::*;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Unnormalised 3D FFTs of one shape: the last axis by rustfft on contiguous lines, the
/// other two by [`ColumnFft`] on blocks of columns, in place (no transposes).
pub struct Plan3d<T: Real> {
    /// Volume shape `(Z, Y, X)`.
    pub shape: (usize, usize, usize),
    f: Arc<dyn Fft<T>>,
    i: Arc<dyn Fft<T>>,
    /// Axes 0 and 1, forward and inverse.
    cf: [ColumnFft<T>; 2],
    ci: [ColumnFft<T>; 2],
    /// Scratch length (complex values) that every method needs.
    pub scratch_len: usize,
}

/// Columns per block of the strided passes: 1 KiB a row (64 complex values in f64, 128
/// in f32). A 64-row block's two Stockham buffers (128 KiB) stay in L2, and the strided
/// reads come in whole cache lines. Timed alone at 64^3 (one 3D FFT, blocks of 32 to 256
/// columns taking turns in one process), 1 KiB rows were 9% (f64) and 12% (f32) faster
/// than the 512-byte rows (32 columns) used before, and wider ones no faster.
pub fn column_block<T>() -> usize {
    (1024 / std::mem::size_of::<Cx<T>>()).max(1)
}

impl<T: Real> Plan3d<T> {
    /// Plans for volumes of `shape` `(Z, Y, X)`.
    pub fn new(shape: (usize, usize, usize)) -> Self {
        let mut p = FftPlanner::<T>::new();
        let f = p.plan_fft_forward(shape.2);
        let i = p.plan_fft_inverse(shape.2);
        let cf = [
            ColumnFft::new(shape.0, false),
            ColumnFft::new(shape.1, false),
        ];
        let ci = [ColumnFft::new(shape.0, true), ColumnFft::new(shape.1, true)];
        let cb = column_block::<T>();
        let scratch_len = f
            .get_inplace_scratch_len()
            .max(i.get_inplace_scratch_len())
            .max(cf[0].scratch_len(cb))
            .max(cf[1].scratch_len(cb));
        Self {
            shape,
            f,
            i,
            cf,
            ci,
            scratch_len,
        }
    }

    /// Unnormalised 3D FFT of `data` in place.
    pub fn process(&self, data: &mut [Cx<T>], scratch: &mut [Cx<T>], inverse: bool) {
        self.process_pruned(data, scratch, inverse, None);
    }

    /// 3D FFT of data known to vanish outside `support` (lines along the last axis and
    /// slabs along the first that hold any non-zero): zero lines and slabs stay zero
    /// through the first two passes, so those FFTs are skipped.
    pub fn process_pruned(
        &self,
        data: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        inverse: bool,
        support: Option<&LineSupport>,
    ) {
        let (m, n, o) = self.shape;
        let last = if inverse { &self.i } else { &self.f };
        match support {
            Some(sup) => {
                for &(r0, r1) in &sup.line_runs {
                    last.process_with_scratch(&mut data[r0 * o..r1 * o], scratch);
                }
            }
            None => last.process_with_scratch(&mut data[..m * n * o], scratch),
        }
        self.strided_axes(data, scratch, inverse, support);
    }

    /// [`Self::process_pruned`] of data that `fill(line0, lines)` writes, a block of
    /// [`FILL_LINES`] lines along the last axis at a time, each block just before its
    /// last-axis FFTs (while it is in L1); lines off `support` are set to zero. (Running
    /// each slab's axis-1 FFTs right after its lines, while it is in L2, measured no
    /// faster.)
    pub fn process_filled(
        &self,
        data: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        inverse: bool,
        support: Option<&LineSupport>,
        fill: &mut dyn FnMut(usize, &mut [Cx<T>]),
    ) {
        let (m, n, o) = self.shape;
        let last = if inverse { &self.i } else { &self.f };
        let zero = Cx::new(T::zero(), T::zero());
        let all = [(0, m * n)];
        let runs = support.map_or(&all[..], |sup| &sup.line_runs[..]);
        let mut done = 0;
        for &(r0, r1) in runs {
            data[done * o..r0 * o].fill(zero);
            for l0 in (r0..r1).step_by(FILL_LINES) {
                let block = &mut data[l0 * o..(l0 + FILL_LINES).min(r1) * o];
                fill(l0, block);
                last.process_with_scratch(block, scratch);
            }
            done = r1;
        }
        data[done * o..m * n * o].fill(zero);
        self.strided_axes(data, scratch, inverse, support);
    }

    /// [`Self::process`] with the work spread over the threads: slabs for the last two
    /// axes; for the first, one range of columns a thread, each block of columns gathered
    /// into a contiguous buffer (the ranges interleave in memory, so they are reached
    /// through split row slices).
    pub fn process_parallel(&self, data: &mut [Cx<T>], inverse: bool) {
        let (m, n, o) = self.shape;
        let (k, len) = (n * o, m * n * o);
        let (last, cols) = if inverse {
            (&self.i, &self.ci)
        } else {
            (&self.f, &self.cf)
        };
        let z = Cx::new(T::zero(), T::zero());
        let cb = column_block::<T>();
        data[..len].par_chunks_mut(k).for_each_init(
            || vec![z; self.scratch_len],
            |s, slab| {
                last.process_with_scratch(slab, s);
                for c0 in (0..o).step_by(cb) {
                    let w = cb.min(o - c0);
                    cols[1].process(&mut slab[c0..], o, w, s);
                }
            },
        );
        let parts = rayon::current_num_threads().clamp(1, k.div_ceil(cb));
        let per = k.div_ceil(parts).div_ceil(cb) * cb;
        let mut ranges: Vec<Vec<&mut [Cx<T>]>> = (0..parts).map(|_| Vec::new()).collect();
        for row in data[..len].chunks_exact_mut(k) {
            let mut rest = row;
            for r in ranges.iter_mut() {
                let (head, tail) = rest.split_at_mut(per.min(rest.len()));
                r.push(head);
                rest = tail;
            }
        }
        ranges.into_par_iter().for_each(|mut rows| {
            let width = rows.first().map_or(0, |r| r.len());
            let mut block = vec![z; m * cb];
            let mut s = vec![z; self.scratch_len];
            for c0 in (0..width).step_by(cb) {
                let w = cb.min(width - c0);
                for (b, r) in block.chunks_exact_mut(w).zip(rows.iter()) {
                    b.copy_from_slice(&r[c0..c0 + w]);
                }
                cols[0].process(&mut block, w, w, &mut s);
                for (b, r) in block.chunks_exact(w).zip(rows.iter_mut()) {
                    r[c0..c0 + w].copy_from_slice(b);
                }
            }
        });
    }

    /// The FFTs along the first two axes, skipping the slabs off `support`.
    fn strided_axes(
        &self,
        data: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        inverse: bool,
        support: Option<&LineSupport>,
    ) {
        let (m, n, o) = self.shape;
        let len = m * n * o;
        let cols = if inverse { &self.ci } else { &self.cf };
        let cb = column_block::<T>();
        for (a, slab) in data[..len].chunks_exact_mut(n * o).enumerate() {
            if support.is_some_and(|sup| !sup.slabs[a]) {
                continue;
            }
            for c0 in (0..o).step_by(cb) {
                let w = cb.min(o - c0);
                cols[1].process(&mut slab[c0..], o, w, scratch);
            }
        }
        let k = n * o;
        for c0 in (0..k).step_by(cb) {
            let w = cb.min(k - c0);
            cols[0].process(&mut data[c0..len], k, w, scratch);
        }
    }
}

/// Lines along the last axis formed and transformed together by
/// [`Plan3d::process_filled`]: 8 KiB of output and of source in f64 at 64 a line.
pub const FILL_LINES: usize = 8;

/// Which lines along the last axis (runs of line indices `a n + b`) and which slabs along
/// the first axis hold any non-zero of a filter.
pub struct LineSupport {
    /// Runs `[start, end)` of line indices holding a non-zero.
    pub line_runs: Vec<(usize, usize)>,
    /// Whether each slab along the first axis holds a non-zero.
    pub slabs: Vec<bool>,
}

impl LineSupport {
    /// `None` when more than 3/4 of the lines are touched (pruning would not pay).
    pub fn of(runs: &[(usize, usize, usize)], shape: (usize, usize, usize)) -> Option<Self> {
        let (m, n, o) = shape;
        let mut touched = vec![false; m * n];
        for &(a, b, _) in runs {
            touched[a / o..=(b - 1) / o]
                .iter_mut()
                .for_each(|t| *t = true);
        }
        if touched.iter().filter(|&&t| t).count() * 4 > 3 * m * n {
            return None;
        }
        let mut line_runs = Vec::new();
        let mut i = 0;
        while i < m * n {
            if touched[i] {
                let a = i;
                while i < m * n && touched[i] {
                    i += 1;
                }
                line_runs.push((a, i));
            } else {
                i += 1;
            }
        }
        let slabs = (0..m)
            .map(|a| touched[a * n..(a + 1) * n].iter().any(|&t| t))
            .collect();
        Some(Self { line_runs, slabs })
    }
}
