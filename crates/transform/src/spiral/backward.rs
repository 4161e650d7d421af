//! The backward pass: the forward steps in reverse, each replaced by its adjoint (see
//! `joint/backward.rs` for the form every linear step takes). The spiral grids of each
//! `psi2` are recomputed rather than kept.

use super::*;
use crate::common::driver::for_each_sample;
use crate::common::homogeneity::Rescale;
use crate::joint::layer::fft;
use ndarray::{Array2, ArrayView2, ArrayView3, ArrayViewMut2, Axis};
use scattering_engine::fourier1d::modulus_backward;

impl<T: Real> SpiralScattering<T> {
    /// Vector-Jacobian product: for each sample, the gradient with respect to `x` of
    /// `<S x, grad>`, with `grad` of the output's shape.
    pub fn backward<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        grad: ArrayView3<T>,
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
        grad: ArrayView3<T>,
        out: ArrayViewMut2<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(true),
            |ws, b, sig, o, _| {
                let r = Rescale::of::<T, _>(sig.iter().copied());
                self.layer
                    .first_layer(sig, r, &mut ws.x, &mut ws.z1, &mut ws.u1h, &mut ws.scratch);
                for (d, s) in ws.out.iter_mut().zip(grad.index_axis(Axis(0), b).iter()) {
                    *d = *s;
                }
                self.backward_one(ws, o);
            },
        );
    }

    /// `ws.ggrid`: the gradient of the grids (time domain) from that of the spiral means
    /// `ws.v (pair, t)`, through the modulus, the chroma and octave filters and the 2D FFT.
    fn grid_backward(&self, ws: &mut Workspace<T>, m: usize) {
        let z = Cx::new(T::zero(), T::zero());
        let (q1, no, lo, n_oct) = (self.params.q.0, self.n_oct_pad, self.oct_left, self.n_oct);
        let gl = self.grid_len();
        let norm = T::of(1.0 / (q1 * n_oct) as f64);
        let nb = self.ho.len();
        ws.ggrid[..m * gl].iter_mut().for_each(|c| *c = z);
        for t in 0..m {
            self.octave_filtered(ws, t);
            ws.gzt.iter_mut().for_each(|c| *c = z);
            for a in 0..self.hc.len() {
                for b in 0..nb {
                    self.pair_on_spiral(ws, a, b);
                    let g = ws.v[(a * nb + b) * m + t] * norm;
                    ws.gu.iter_mut().for_each(|v| *v = g);
                    // The cell's gradient, then through the chroma inverse FFT (adjoint:
                    // the forward FFT) and the chroma filter.
                    modulus_backward(&ws.cell, &ws.gu, &mut ws.gcell);
                    fft(&self.plans_c, 0, &mut ws.gcell, &mut ws.scratch);
                    let gzb = &mut ws.gzt[b * n_oct * q1..(b + 1) * n_oct * q1];
                    for (row, src) in gzb.chunks_exact_mut(q1).zip(ws.gcell.chunks_exact(q1)) {
                        for ((d, s), &h) in row.iter_mut().zip(src).zip(&self.hc[a]) {
                            *d += s * h;
                        }
                    }
                }
            }
            // Through the octave restriction (zero elsewhere), inverse FFT and filter.
            for (b, ho) in self.ho.iter().enumerate() {
                for c in 0..q1 {
                    ws.line[..no].iter_mut().for_each(|v| *v = z);
                    for o in 0..n_oct {
                        ws.line[lo + o] = ws.gzt[(b * n_oct + o) * q1 + c];
                    }
                    fft(&self.plans_o, 0, &mut ws.line[..no], &mut ws.scratch);
                    let row = &mut ws.ggrid[t * gl + c * no..t * gl + (c + 1) * no];
                    for ((d, s), &h) in row.iter_mut().zip(&ws.line[..no]).zip(ho) {
                        *d += s * h;
                    }
                }
            }
            // Adjoint of the forward 2D FFT: the unnormalised inverse.
            self.fft2(
                &mut ws.ggrid[t * gl..(t + 1) * gl],
                true,
                &mut ws.line,
                &mut ws.scratch,
            );
        }
    }

    /// From the output gradient in `ws.out` to the input gradient `o`.
    fn backward_one(&self, ws: &mut Workspace<T>, o: ndarray::ArrayViewMut1<T>) {
        let z = Cx::new(T::zero(), T::zero());
        let t_out = self.layer.t_out;
        for g in ws.gu1h.iter_mut() {
            g.iter_mut().for_each(|v| *v = z);
        }
        let crop = self.layer.crop.clone();
        let ms = self.layer.len(self.layer.s);
        // Order 1.
        for n1 in 0..ws.u1h.len() {
            let g = &ws.out[(1 + n1) * t_out..(2 + n1) * t_out];
            if self.layer.global {
                ws.gu1h[n1][0].re += g[0];
            } else {
                ws.line[..ms].iter_mut().for_each(|c| *c = z);
                for (c, &v) in ws.line[crop.clone()].iter_mut().zip(g) {
                    *c = Cx::new(v, T::zero());
                }
                self.layer
                    .s1_line_backward(n1, &mut ws.line, &mut ws.gu1h[n1], &mut ws.scratch);
            }
        }
        // Spiral paths: order 1 on S1's grid, then order 2 on each psi2's.
        let first = 1 + ws.u1h.len();
        let n_pairs = self.n_pairs();
        let mut stages = vec![None];
        stages.extend(self.groups.iter().map(|&g| Some(g)));
        for (si, group) in stages.into_iter().enumerate() {
            let m = self.grid_spectra(ws, group);
            // Gradient of the spiral means, (pair, t).
            for p in 0..n_pairs {
                let c = first + si * n_pairs + p;
                let g = &ws.out[c * t_out..(c + 1) * t_out];
                let gv = &mut ws.v[p * m..(p + 1) * m];
                if self.layer.global {
                    gv.iter_mut().for_each(|v| *v = g[0]);
                } else if let Some((n2, _)) = group {
                    ws.rline2[..ms].iter_mut().for_each(|v| *v = T::zero());
                    ws.rline2[crop.clone()].copy_from_slice(g);
                    self.layer.lowpass_real_backward(
                        self.layer.psi2[n2].j,
                        &ws.rline2[..ms],
                        &mut ws.rline,
                        &mut ws.line,
                        &mut ws.line2,
                        &mut ws.scratch,
                    );
                    gv.copy_from_slice(&ws.rline[..m]);
                } else {
                    gv.iter_mut().for_each(|v| *v = T::zero());
                    gv[crop.clone()].copy_from_slice(g);
                }
            }
            self.grid_backward(ws, m);
            let n1m = group.map_or(self.n_geo, |g| g.1);
            let (q1, no, gl) = (self.params.q.0, self.n_oct_pad, self.grid_len());
            for n1 in 0..n1m {
                // The adjoint of the reflection: every position showing this octave.
                let (row, oct) = ((n1 % q1) * no, n1 / q1);
                let z = Cx::new(T::zero(), T::zero());
                ws.line2[..m].iter_mut().for_each(|c| *c = z);
                for (op, _) in self.oct_src.iter().enumerate().filter(|(_, &o)| o == oct) {
                    for t in 0..m {
                        ws.line2[t] += ws.ggrid[t * gl + row + op];
                    }
                }
                match group {
                    Some((n2, _)) => self.layer.y2_line_backward(
                        n1,
                        n2,
                        &mut ws.line2,
                        &mut ws.gu1h[n1],
                        &mut ws.scratch,
                    ),
                    None => self.layer.s1_line_backward(
                        n1,
                        &mut ws.line2,
                        &mut ws.gu1h[n1],
                        &mut ws.scratch,
                    ),
                }
            }
        }
        // Order 0 and the first layer.
        let gx = &mut ws.x;
        gx.iter_mut().for_each(|c| *c = z);
        self.layer
            .zeroth_order_backward(&ws.out[..t_out], gx, &mut ws.line, &mut ws.scratch);
        self.layer.first_layer_backward(
            &ws.z1,
            &mut ws.gu1h,
            gx,
            &mut ws.gu1,
            &mut ws.line,
            &mut ws.scratch,
            o,
        );
    }
}
