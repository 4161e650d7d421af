//! The backward pass (vector-Jacobian product): the forward pass's steps in reverse, each
//! replaced by its adjoint. Every linear step has the form `Re? G (fold_h (F v)) / m`
//! (FFT, real filter and subsampling, inverse FFT), whose adjoint is
//! `G (tile_h (F g)) / m`; real inputs take the real part of their gradient. The forward
//! coefficients of each stack are recomputed, one stack at a time, rather than kept.

use super::forward::{fft, ifft};
use super::*;
use crate::common::driver::{for_each_sample, reduction_chunk};
use crate::common::homogeneity::Rescale;
use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMut1, ArrayViewMut2, Axis};
use rayon::prelude::*;
use scattering_engine::fourier1d::modulus_backward;

impl<T: Real> TimeFrequencyScattering<T> {
    /// Vector-Jacobian product: for each sample, the gradient with respect to `x` of
    /// `<S x, grad>`, with `grad` of the output's shape.
    pub fn backward<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        grad: ArrayViewD<T>,
    ) -> Result<Array2<T>> {
        let b =
            crate::common::checks::check_vjp(&x, &grad, &self.sample_dims(), &self.output_shape())?;
        let mut out = Array2::zeros((b, self.params.n));
        self.exec
            .install(|| self.backward_checked(x, grad, out.view_mut()));
        Ok(out)
    }

    pub(super) fn backward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        grad: ArrayViewD<T>,
        out: ArrayViewMut2<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(true),
            |ws, b, sig, o, spread| {
                let r = Rescale::of::<T, _>(sig.iter().copied());
                self.first_layer(ws, sig, r);
                self.read_gradient(ws, grad.index_axis(Axis(0), b));
                self.backward_one(ws, o, spread);
            },
        );
    }

    /// The output gradient of one sample into `ws.s0` and the path blocks `ws.paths`
    /// (rows the output does not show get zero).
    fn read_gradient(&self, ws: &mut Workspace<T>, g: ArrayViewD<T>) {
        let t_out = self.layer.t_out;
        ws.paths.iter_mut().for_each(|v| *v = T::zero());
        ws.s0.iter_mut().for_each(|v| *v = T::zero());
        for (c, ch) in self.channels.iter().enumerate() {
            let gc = g.index_axis(Axis(0), c);
            let dst = match ch {
                None => &mut ws.s0[..],
                Some((p, row)) => {
                    let path = &self.paths[*p];
                    let start = path.offset + row.unwrap_or(0) * t_out;
                    let len = if row.is_some() {
                        t_out
                    } else {
                        path.rows * t_out
                    };
                    &mut ws.paths[start..start + len]
                }
            };
            for (d, v) in dst.iter_mut().zip(gc.iter()) {
                *d = *v;
            }
        }
    }

    /// Everything after the first layer, in reverse, into the input gradient `o`.
    /// With `spread`, the second-order groups run in parallel.
    fn backward_one(&self, ws: &mut Workspace<T>, o: ArrayViewMut1<T>, spread: bool) {
        let z = Cx::new(T::zero(), T::zero());
        for g in ws.gu1h.iter_mut() {
            g.iter_mut().for_each(|v| *v = z);
        }
        let n_first = self
            .groups
            .first()
            .map_or(self.paths.len(), |g| g.paths.start);
        let l = &mut ws.lines;
        self.first_order_stack(&ws.u1h, l);
        self.scatter_stack_backward(l, 0..n_first, &ws.paths);
        self.first_order_stack_backward(l, &mut ws.gu1h);
        // Second order in at most eight chunks of groups, each into its own gradient, summed
        // in chunk order: the result does not depend on the number of threads.
        let size = reduction_chunk(self.groups.len());
        let (u1h, grads) = (&ws.u1h, &ws.paths);
        let chunk = |chunk: &[Group], l: &mut Lines<T>| -> Vec<Vec<Cx<T>>> {
            let mut acc: Vec<Vec<Cx<T>>> = u1h.iter().map(|v| vec![z; v.len()]).collect();
            for g in chunk {
                self.second_order_stack(u1h, g, l);
                self.scatter_stack_backward(l, g.paths.clone(), grads);
                self.second_order_stack_backward(l, g, &mut acc);
            }
            acc
        };
        let parts: Vec<Vec<Vec<Cx<T>>>> = if spread && self.groups.len() > size {
            self.groups
                .par_chunks(size)
                .map_init(|| self.lines(true), |l, c| chunk(c, l))
                .collect()
        } else {
            self.groups.chunks(size).map(|c| chunk(c, l)).collect()
        };
        for acc in parts {
            for (d, s) in ws.gu1h.iter_mut().zip(acc) {
                d.iter_mut().zip(s).for_each(|(a, b)| *a += b);
            }
        }
        // First layer, from the signal spectrum's gradient (its buffer is free: the
        // stacks are done).
        let gx = &mut ws.x;
        gx.iter_mut().for_each(|c| *c = z);
        if self.channels.first() == Some(&None) {
            self.layer
                .zeroth_order_backward(&ws.s0, gx, &mut l.line, &mut l.scratch);
        }
        self.layer.first_layer_backward(
            &ws.z1,
            &mut ws.gu1h,
            gx,
            &mut ws.gu1,
            &mut l.line,
            &mut l.scratch,
            o,
        );
    }

    /// The gradient of the stack (time domain, `(t, N_fr)`, in `l.gstack`) from the
    /// gradients of the paths `range` in `grads`; `l.stack` holds the stack's spectrum.
    fn scatter_stack_backward(&self, l: &mut Lines<T>, range: std::ops::Range<usize>, grads: &[T]) {
        let Some(first) = self.paths.get(range.start) else {
            return;
        };
        let nf = self.n_fr;
        let m = self.layer.len(self.stack_level(first));
        let z = Cx::new(T::zero(), T::zero());
        l.gstack[..m * nf].iter_mut().for_each(|c| *c = z);
        for path in &self.paths[range] {
            let block = &grads[path.offset..path.offset + path.rows * self.layer.t_out];
            let f = &self.fr[path.n_fr];
            let mf = nf >> f.k_fr;
            self.frequential_filter(l, path);
            let averaged = self.frequency_average_backward(l, path, mf, block);
            self.time_average_backward(l, path, m, mf, averaged);
            // Through the modulus and the frequential filter, into the stack's spectrum.
            let scale = T::of(1.0 / nf as f64);
            for t in 0..m {
                let gy = &mut l.line[..mf];
                modulus_backward(&l.y[t * mf..(t + 1) * mf], &l.gu[t * mf..(t + 1) * mf], gy);
                fft(&self.plans_fr, f.k_fr, gy, &mut l.scratch);
                gy.iter_mut().for_each(|c| *c *= scale);
                f.h.tile_add(gy, &mut l.gstack[t * nf..(t + 1) * nf]);
            }
        }
        for row in l.gstack[..m * nf].chunks_exact_mut(nf) {
            ifft(&self.plans_fr, 0, row, &mut l.scratch);
        }
    }

    /// Adjoint of the frequency averaging: the block's gradient into `l.gw` (`(t, mf)` at
    /// the averaged time level), or into `l.gu` when the path has no time averaging.
    /// Returns whether it wrote `l.gw`.
    fn frequency_average_backward(
        &self,
        l: &mut Lines<T>,
        path: &Path,
        mf: usize,
        block: &[T],
    ) -> bool {
        let f = &self.fr[path.n_fr];
        let global = self.layer.global;
        let averaged = global || path.group.is_some();
        let span = self.span();
        let t_len = if global {
            1
        } else {
            self.layer.len(self.layer.s)
        };
        let Lines {
            gw,
            gu,
            line,
            line2,
            scratch,
            ..
        } = l;
        let g = if averaged { gw } else { gu };
        g[..t_len * mf].iter_mut().for_each(|v| *v = T::zero());
        let t_out = self.layer.t_out;
        for tt in 0..span.len {
            let t = span.start + tt;
            let dst = &mut g[t * mf..(t + 1) * mf];
            if f.spin == 0 || self.params.average_fr == Averaging::None {
                for (r, d) in dst.iter_mut().enumerate().take(path.rows) {
                    *d += block[r * t_out + tt];
                }
            } else if self.params.average_fr == Averaging::Global {
                dst.iter_mut().for_each(|d| *d += block[tt]);
            } else {
                let rows = path.rows;
                let z = Cx::new(T::zero(), T::zero());
                for (r, c) in line2[..rows].iter_mut().enumerate() {
                    *c = Cx::new(block[r * t_out + tt], T::zero());
                }
                fft(&self.plans_fr, self.s_fr, &mut line2[..rows], scratch);
                let scale = T::of(1.0 / mf as f64);
                line2[..rows].iter_mut().for_each(|c| *c *= scale);
                line[..mf].iter_mut().for_each(|c| *c = z);
                self.phi_f[f.k_fr].tile_add(&line2[..rows], &mut line[..mf]);
                ifft(&self.plans_fr, f.k_fr, &mut line[..mf], scratch);
                for (d, c) in dst.iter_mut().zip(&line[..mf]) {
                    *d += c.re;
                }
            }
        }
        averaged
    }

    /// Adjoint of the time averaging: `l.gw` into `l.gu` (`(m, mf)`, the modulus level).
    fn time_average_backward(
        &self,
        l: &mut Lines<T>,
        path: &Path,
        m: usize,
        mf: usize,
        averaged: bool,
    ) {
        if !averaged {
            return;
        }
        if self.layer.global {
            for t in 0..m {
                l.gu[t * mf..(t + 1) * mf].copy_from_slice(&l.gw[..mf]);
            }
            return;
        }
        let Some(g) = path.group else {
            return;
        };
        let level = self.layer.psi2[self.groups[g].n2].j;
        let ms = self.layer.len(self.layer.s);
        for r in 0..mf {
            // Column r of gw (t, mf) at level s, to column r of gu at level j2.
            for t in 0..ms {
                l.rline[t] = l.gw[t * mf + r];
            }
            let (g_in, g_out) = l.rline.split_at_mut(ms);
            self.layer.lowpass_real_backward(
                level,
                g_in,
                g_out,
                &mut l.line,
                &mut l.line2,
                &mut l.scratch,
            );
            for (t, &v) in g_out[..m].iter().enumerate() {
                l.gu[t * mf + r] = v;
            }
        }
    }

    /// Adjoint of [`Self::first_order_stack`]'s averaging: the stack's gradient (real part)
    /// into `gu1h`.
    fn first_order_stack_backward(&self, l: &mut Lines<T>, gu1h: &mut [Vec<Cx<T>>]) {
        let (m, nf) = (self.layer.len(self.layer.s), self.n_fr);
        for (n1, gh) in gu1h.iter_mut().enumerate() {
            for t in 0..m {
                l.line[t] = l.gstack[t * nf + n1];
            }
            self.layer
                .s1_line_backward(n1, &mut l.line, gh, &mut l.scratch);
        }
    }

    /// Adjoint of [`Self::second_order_stack`]: the stack's gradient into `gu1h`.
    fn second_order_stack_backward(&self, l: &mut Lines<T>, g: &Group, gu1h: &mut [Vec<Cx<T>>]) {
        let (m, nf) = (self.layer.len(self.layer.psi2[g.n2].j), self.n_fr);
        for (n1, gh) in gu1h.iter_mut().take(g.n1_max).enumerate() {
            for t in 0..m {
                l.line[t] = l.gstack[t * nf + n1];
            }
            self.layer
                .y2_line_backward(n1, g.n2, &mut l.line, gh, &mut l.scratch);
        }
    }
}
