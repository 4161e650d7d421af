//! The forward pass. FFTs are unnormalised; a filter applied to a spectrum of length `m`
//! and folded carries the `1 / m` of the inverse FFT that follows.

pub(super) use super::layer::{fft, ifft};
use super::*;
use crate::common::driver::for_each_sample;
use crate::common::homogeneity::Rescale;
use ndarray::parallel::prelude::*;
use ndarray::{ArrayD, ArrayView1, ArrayView2, ArrayViewMut2, ArrayViewMutD, Axis, IxDyn};

/// `stack (m, nf)`: the lines `(n1, m)` transposed, zero beyond `n1 < rows`; in blocks
/// of time so that both sides stay in cache.
fn transpose_into_stack<T: Real>(
    lines: &[Cx<T>],
    rows: usize,
    m: usize,
    nf: usize,
    stack: &mut [Cx<T>],
) {
    const BLOCK: usize = 32;
    let z = Cx::new(T::zero(), T::zero());
    for t0 in (0..m).step_by(BLOCK) {
        let t1 = (t0 + BLOCK).min(m);
        for t in t0..t1 {
            stack[t * nf + rows..(t + 1) * nf]
                .iter_mut()
                .for_each(|c| *c = z);
        }
        for n1 in 0..rows {
            let line = &lines[n1 * m..(n1 + 1) * m];
            for t in t0..t1 {
                stack[t * nf + n1] = line[t];
            }
        }
    }
}

/// `u (mf, m) = |y (m, mf)|`, transposed in blocks of time so that both sides stay in
/// cache (the time averaging then reads contiguous rows).
fn modulus_transposed<T: Real>(y: &[Cx<T>], m: usize, mf: usize, u: &mut [T]) {
    const BLOCK: usize = 32;
    let ld = row_stride(m);
    for t0 in (0..m).step_by(BLOCK) {
        let t1 = (t0 + BLOCK).min(m);
        for r in 0..mf {
            for t in t0..t1 {
                let c = y[t * mf + r];
                u[r * ld + t] = (c.re * c.re + c.im * c.im).sqrt();
            }
        }
    }
}

/// Row stride of the `(mf, m)` modulus array: padded off a power of two, so the rows of a
/// transposed block do not all fall in one cache set.
pub(super) fn row_stride(m: usize) -> usize {
    if m >= 64 {
        m + 8
    } else {
        m
    }
}

/// The time range a path's coefficients are read from, and where they go.
#[derive(Clone, Copy)]
pub(super) struct Span {
    /// First time index kept, at the output level.
    pub start: usize,
    /// Number kept.
    pub len: usize,
}

impl<T: Real> TimeFrequencyScattering<T> {
    /// Coefficients of a batch `(B, N)`: `(B, channels, rows, time)` or `(B, channels, time)`.
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView2<A>) -> Result<ArrayD<T>> {
        crate::common::checks::check_batch_shape("input", x.shape(), &self.sample_dims(), None)?;
        crate::common::checks::check_finite(&x)?;
        let shape: Vec<usize> = std::iter::once(x.shape()[0])
            .chain(self.output_shape())
            .collect();
        let mut out = ArrayD::zeros(IxDyn(&shape));
        self.exec
            .install(|| self.forward_checked(x, out.view_mut()));
        Ok(out)
    }

    pub(super) fn forward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        out: ArrayViewMutD<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(false),
            |ws, _, sig, mut o, spread| {
                let r = Rescale::of::<T, _>(sig.iter().copied());
                self.first_layer(ws, sig, r);
                self.zeroth_order(ws);
                self.all_paths(ws, spread);
                self.write_output(ws, o.view_mut());
                r.output(o.iter_mut());
            },
        );
    }

    /// `ws.x`: the spectrum of the padded signal; `z1`, `u1h` for every `n1`.
    pub(super) fn first_layer<A: Copy + Into<f64>>(
        &self,
        ws: &mut Workspace<T>,
        sig: ArrayView1<A>,
        r: Rescale,
    ) {
        let sc = &mut ws.lines.scratch;
        self.layer
            .first_layer(sig, r, &mut ws.x, &mut ws.z1, &mut ws.u1h, sc);
    }

    /// The zeroth order into `ws.s0`.
    fn zeroth_order(&self, ws: &mut Workspace<T>) {
        let l = &mut ws.lines;
        self.layer
            .zeroth_order(&ws.x, &mut ws.s0, &mut l.line, &mut l.scratch);
    }

    /// The time range of the output, at the level of the averaged coefficients.
    pub(super) fn span(&self) -> Span {
        Span {
            start: self.layer.crop.start,
            len: self.layer.t_out,
        }
    }

    /// Every joint path into `ws.paths`; with `spread`, the second-order groups run in
    /// parallel.
    fn all_paths(&self, ws: &mut Workspace<T>, spread: bool) {
        let n_first = self
            .groups
            .first()
            .map_or(self.paths.len(), |g| g.paths.start);
        let first_end = self.paths.get(n_first).map_or(self.path_len, |p| p.offset);
        let (first, rest) = ws.paths.split_at_mut(first_end);
        self.first_order_stack(&ws.u1h, &mut ws.lines);
        self.scatter_stack(&mut ws.lines, 0..n_first, first);
        // Disjoint output blocks, one per group.
        let mut blocks = Vec::with_capacity(self.groups.len());
        let mut rest = rest;
        for g in &self.groups {
            let last = &self.paths[g.paths.end - 1];
            let len = last.offset + last.rows * self.layer.t_out - self.paths[g.paths.start].offset;
            let (b, r) = rest.split_at_mut(len);
            blocks.push(b);
            rest = r;
        }
        let u1h = &ws.u1h;
        if spread && self.groups.len() > 1 {
            blocks
                .into_par_iter()
                .zip(self.groups.par_iter())
                .for_each_init(
                    || self.lines(false),
                    |lines, (block, g)| {
                        self.second_order_stack(u1h, g, lines);
                        self.scatter_stack(lines, g.paths.clone(), block);
                    },
                );
        } else {
            for (block, g) in blocks.into_iter().zip(&self.groups) {
                self.second_order_stack(u1h, g, &mut ws.lines);
                self.scatter_stack(&mut ws.lines, g.paths.clone(), block);
            }
        }
    }

    /// `S1` stacked along log-frequency, `(t, N_fr)` at level `s`, then its spectrum
    /// along `n1`.
    pub(super) fn first_order_stack(&self, u1h: &[Vec<Cx<T>>], l: &mut Lines<T>) {
        let (m, nf) = (self.layer.len(self.layer.s), self.n_fr);
        let n1_max = self.layer.psi1.len();
        // Each n1's line into `l.y` (n1, t), then transposed into the stack (t, n1).
        for (n1, uh) in u1h.iter().enumerate() {
            self.layer
                .s1_line(n1, uh, &mut l.y[n1 * m..(n1 + 1) * m], &mut l.scratch);
        }
        transpose_into_stack(&l.y[..n1_max * m], n1_max, m, nf, &mut l.stack[..m * nf]);
        // One call for all rows: rustfft transforms consecutive chunks of its length.
        fft(&self.plans_fr, 0, &mut l.stack[..m * nf], &mut l.scratch);
    }

    /// `U1 * psi2` for the `n1` of group `g`, stacked `(t, N_fr)` at level `j2`, then its
    /// spectrum along `n1`.
    pub(super) fn second_order_stack(&self, u1h: &[Vec<Cx<T>>], g: &Group, l: &mut Lines<T>) {
        let (m, nf) = (self.layer.len(self.layer.psi2[g.n2].j), self.n_fr);
        for (n1, uh) in u1h.iter().take(g.n1_max).enumerate() {
            self.layer
                .y2_line(n1, g.n2, uh, &mut l.y[n1 * m..(n1 + 1) * m], &mut l.scratch);
        }
        transpose_into_stack(
            &l.y[..g.n1_max * m],
            g.n1_max,
            m,
            nf,
            &mut l.stack[..m * nf],
        );
        fft(&self.plans_fr, 0, &mut l.stack[..m * nf], &mut l.scratch);
    }

    /// The time length and level of a path's stack.
    pub(super) fn stack_level(&self, path: &Path) -> usize {
        match path.group {
            Some(g) => self.layer.psi2[self.groups[g].n2].j,
            None => self.layer.s,
        }
    }

    /// Frequential filtering of the stack, modulus and the two averagings, for the paths
    /// `range` (all on this stack); coefficients into `out` (the paths' blocks in order).
    pub(super) fn scatter_stack(
        &self,
        l: &mut Lines<T>,
        range: std::ops::Range<usize>,
        out: &mut [T],
    ) {
        let base = self.paths[range.start].offset;
        for path in &self.paths[range] {
            let block =
                &mut out[path.offset - base..path.offset - base + path.rows * self.layer.t_out];
            self.frequential_filter(l, path);
            let mf = self.n_fr >> self.fr[path.n_fr].k_fr;
            let m = self.layer.len(self.stack_level(path));
            modulus_transposed(&l.y[..m * mf], m, mf, &mut l.u);
            let averaged = self.time_average(l, path, m, mf);
            // Row stride of what the frequency averaging reads.
            let t_len = if averaged {
                if self.layer.global {
                    1
                } else {
                    self.layer.len(self.layer.s)
                }
            } else {
                row_stride(m)
            };
            let Lines {
                u,
                w,
                line,
                line2,
                scratch,
                ..
            } = l;
            let src: &[T] = if averaged { w } else { u };
            self.frequency_average(src, mf, t_len, path, block, line, line2, scratch);
        }
    }

    /// `l.y (t, N_fr >> k_fr)`: the stack filtered along `n1` by the path's frequential
    /// filter and subsampled by `2^k_fr`.
    pub(super) fn frequential_filter(&self, l: &mut Lines<T>, path: &Path) {
        let f = &self.fr[path.n_fr];
        let nf = self.n_fr;
        let mf = nf >> f.k_fr;
        let m = self.layer.len(self.stack_level(path));
        for (src, dst) in l.stack[..m * nf]
            .chunks_exact(nf)
            .zip(l.y[..m * mf].chunks_exact_mut(mf))
        {
            f.fold.apply(src, dst);
        }
        ifft(&self.plans_fr, f.k_fr, &mut l.y[..m * mf], &mut l.scratch);
    }

    /// Time averaging of `l.u (mf, m)` into `l.w (mf, m_s)` for second-order paths
    /// (local) and the sum over time (global, any order, into `l.w (mf, 1)`). False when
    /// the path is already averaged (first order, local): use `l.u`.
    fn time_average(&self, l: &mut Lines<T>, path: &Path, m: usize, mf: usize) -> bool {
        let ld = row_stride(m);
        if self.layer.global {
            for (w, row) in l.w[..mf].iter_mut().zip(l.u.chunks(ld)) {
                *w = row[..m].iter().fold(T::zero(), |a, &v| a + v);
            }
            return true;
        }
        let Some(g) = path.group else {
            return false;
        };
        let level = self.layer.psi2[self.groups[g].n2].j;
        let ms = self.layer.len(self.layer.s);
        let Lines {
            u,
            w,
            rline,
            line,
            line2,
            scratch,
            ..
        } = l;
        for (row, w) in u.chunks(ld).zip(w[..ms * mf].chunks_exact_mut(ms)) {
            self.layer
                .lowpass_real(level, &row[..m], w, rline, line, line2, scratch);
        }
        true
    }

    /// Averaging along log-frequency of `w (mf, t_len)` at the kept time indices, into
    /// `block (rows, t_out)`.
    #[allow(clippy::too_many_arguments)]
    fn frequency_average(
        &self,
        w: &[T],
        mf: usize,
        t_len: usize,
        path: &Path,
        block: &mut [T],
        line: &mut [Cx<T>],
        line2: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let f = &self.fr[path.n_fr];
        let t_out = self.layer.t_out;
        let span = self.span();
        for tt in 0..span.len {
            let t = span.start + tt;
            let src = (0..mf).map(|r| w[r * t_len + t]);
            if f.spin == 0 || self.params.average_fr == Averaging::None {
                for (r, v) in src.enumerate().take(path.rows) {
                    block[r * t_out + tt] = v;
                }
            } else if self.params.average_fr == Averaging::Global {
                block[tt] = src.fold(T::zero(), |a, v| a + v);
            } else {
                for (c, v) in line[..mf].iter_mut().zip(src) {
                    *c = Cx::new(v, T::zero());
                }
                fft(&self.plans_fr, f.k_fr, &mut line[..mf], scratch);
                let rows = path.rows;
                self.phi_f[f.k_fr].fold(&line[..mf], T::of(1.0 / mf as f64), &mut line2[..rows]);
                ifft(&self.plans_fr, self.s_fr, &mut line2[..rows], scratch);
                for (r, c) in line2[..rows].iter().enumerate() {
                    block[r * t_out + tt] = c.re;
                }
            }
        }
    }

    /// The coefficients of one sample in the output layout.
    fn write_output(&self, ws: &Workspace<T>, mut o: ArrayViewMutD<T>) {
        let t_out = self.layer.t_out;
        match self.params.format {
            JointFormat::Joint => {
                for (c, ch) in self.channels.iter().enumerate() {
                    if let Some((p, _)) = ch {
                        let path = &self.paths[*p];
                        let src = &ws.paths[path.offset..path.offset + path.rows * t_out];
                        let mut dst = o.index_axis_mut(Axis(0), c);
                        for (d, s) in dst.iter_mut().zip(src) {
                            *d = *s;
                        }
                    }
                }
            }
            JointFormat::Time => {
                let mut o2: ArrayViewMut2<T> = match o.view_mut().into_dimensionality() {
                    Ok(v) => v,
                    Err(_) => return,
                };
                for (c, ch) in self.channels.iter().enumerate() {
                    let src = match ch {
                        None => &ws.s0[..],
                        Some((p, row)) => {
                            let path = &self.paths[*p];
                            let r = row.unwrap_or(0);
                            let start = path.offset + r * t_out;
                            &ws.paths[start..start + t_out]
                        }
                    };
                    for (d, s) in o2.row_mut(c).iter_mut().zip(src) {
                        *d = *s;
                    }
                }
            }
        }
    }
}
