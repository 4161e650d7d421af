//! The backward pass (vector-Jacobian product): the adjoints of filter-and-subsample
//! (tile-then-filter), of the modulus and of the padding; nothing is packed.

use super::*;
use crate::common::checks::{check_batch_shape, check_finite};
use crate::common::driver::{for_each_sample, reduction_chunk};
use crate::common::homogeneity::Rescale;
use crate::error::Result;
use ndarray::{Array3, ArrayView3, ArrayView4, ArrayViewMut2, ArrayViewMut3, Axis};
use rayon::slice::ParallelSlice;
use scattering_engine::fourier1d::modulus_backward;
use scattering_engine::{Cx, Real};

impl<T: Real> Scattering2d<T> {
    /// Vector-Jacobian product: the gradient with respect to each image of
    /// `<S x, grad>`, `grad` of the output's shape.
    pub fn backward<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView3<A>,
        grad: ArrayView4<T>,
    ) -> Result<Array3<T>> {
        self.check_input(&x)?;
        let (c, a, b) = self.output_shape();
        let batch = x.shape()[0];
        check_batch_shape("output gradient", grad.shape(), &[c, a, b], Some(batch))?;
        check_finite(&grad)?;
        let mut out = Array3::zeros(x.raw_dim());
        self.exec
            .install(|| self.backward_checked(x, grad, out.view_mut()));
        Ok(out)
    }

    /// The backward pass of a checked batch and gradient into `out` (every element is
    /// written).
    pub(super) fn backward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView3<A>,
        grad: ArrayView4<T>,
        out: ArrayViewMut3<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(true),
            |ws, b, img, o, spread| {
                // The Jacobian is the same at x and 2^k x.
                let r = Rescale::of::<T, _>(img.iter().copied());
                self.load(ws, img.iter().map(|&v| r.input(v)));
                self.backward_one(ws, grad.index_axis(Axis(0), b), o, spread);
            },
        );
    }

    /// Adjoint of a region mean: adds `g / count` over the region to `acc`.
    pub(super) fn region_mean_backward(&self, g: T, k: usize, acc: &mut [T]) {
        let nk = self.np >> k;
        let (rows, cols) = self.region(k);
        let w = g / T::of((rows.len() * cols.len()) as f64);
        for i in rows {
            acc[i * nk + cols.start..i * nk + cols.end]
                .iter_mut()
                .for_each(|a| *a += w);
        }
    }

    /// Adjoint of the low-pass branch: adds `phi_k * tile(fft(g))` to the level-`k`
    /// spectrum accumulator `acc`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn lowpass_backward(
        &self,
        g: ndarray::ArrayView2<T>,
        k: usize,
        buf: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        acc: &mut [Cx<T>],
    ) {
        let j = self.params.j;
        let (mo, no) = (self.mp >> j, self.np >> j);
        buf[..mo * no]
            .iter_mut()
            .for_each(|v| *v = Cx::new(T::zero(), T::zero()));
        let c = self.crop;
        for ((a, b), v) in g.indexed_iter() {
            buf[(a + c) * no + b + c] = Cx::new(*v, T::zero());
        }
        self.plans.levels[j].forward_t(buf, tmp, scratch);
        self.phi[k].tile_add(&buf[..mo * no], mo, no, acc);
    }

    /// Adds to `acc0` (the spectrum-domain gradient at full resolution) the contribution
    /// of the order-1 path `f`, channel index `c1`, and its children.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn first_order_backward(
        &self,
        xs: &[Cx<T>],
        f: &First2,
        c1: usize,
        g: &ArrayView3<T>,
        w: &mut Workspace2d<T>,
        acc0: &mut [Cx<T>],
    ) {
        let zero = Cx::new(T::zero(), T::zero());
        let (mp, np) = (self.mp, self.np);
        let Workspace2d {
            z1,
            u1,
            u1c,
            z2,
            u2,
            buf,
            tmp,
            scratch,
            acc1,
            acc2,
            gu,
            ..
        } = w;
        let (m1, n1) = (mp >> f.j1, np >> f.j1);
        self.wavelet_modulus(xs, &self.psi[f.n1][0], f.j1, z1, u1, tmp, scratch);
        acc1[..m1 * n1].iter_mut().for_each(|v| *v = zero);
        if !self.global {
            let g1 = g.index_axis(Axis(0), 1 + c1);
            self.lowpass_backward(g1, f.j1, buf, tmp, scratch, acc1);
        }
        if !f.children.is_empty() {
            self.spectrum(u1, f.j1, u1c, tmp, scratch);
        }
        for c in &f.children {
            let (m2, n2) = (mp >> c.j2, np >> c.j2);
            let h = &self.psi[c.n2][f.j1];
            self.wavelet_modulus(u1c, h, c.j2, z2, u2, tmp, scratch);
            // Gradient with respect to U2 (real), then through the modulus.
            if self.global {
                gu[..m2 * n2].iter_mut().for_each(|v| *v = T::zero());
                self.region_mean_backward(g[[c.channel, 0, 0]], c.j2, gu);
            } else {
                acc2[..m2 * n2].iter_mut().for_each(|v| *v = zero);
                let g2 = g.index_axis(Axis(0), c.channel);
                self.lowpass_backward(g2, c.j2, buf, tmp, scratch, acc2);
                self.plans.levels[c.j2].inverse_t(acc2, tmp, scratch);
                let s2 = T::of(1.0 / (m2 * n2) as f64);
                for (gv, a) in gu[..m2 * n2].iter_mut().zip(&acc2[..m2 * n2]) {
                    *gv = a.re * s2;
                }
            }
            modulus_backward(&z2[..m2 * n2], &gu[..m2 * n2], &mut buf[..m2 * n2]);
            self.plans.levels[c.j2].forward_t(buf, tmp, scratch);
            h.tile_add(&buf[..m2 * n2], m2, n2, acc1);
        }
        self.plans.levels[f.j1].inverse_t(acc1, tmp, scratch);
        let s1 = T::of(1.0 / (m1 * n1) as f64);
        for (gv, a) in gu[..m1 * n1].iter_mut().zip(&acc1[..m1 * n1]) {
            *gv = a.re * s1;
        }
        if self.global {
            self.region_mean_backward(g[[1 + c1, 0, 0]], f.j1, gu);
        }
        modulus_backward(&z1[..m1 * n1], &gu[..m1 * n1], &mut buf[..m1 * n1]);
        self.plans.levels[f.j1].forward_t(buf, tmp, scratch);
        self.psi[f.n1][0].tile_add(&buf[..m1 * n1], m1, n1, acc0);
    }

    /// Gradient for one loaded image; `parallel` spreads its first-order paths over
    /// threads (for small batches).
    pub(super) fn backward_one(
        &self,
        ws: &mut Workspace2d<T>,
        g: ArrayView3<T>,
        mut out: ArrayViewMut2<T>,
        parallel: bool,
    ) {
        let zero = Cx::new(T::zero(), T::zero());
        let (mp, np) = (self.mp, self.np);
        let xs = std::mem::take(&mut ws.x);
        let mut acc0 = std::mem::take(&mut ws.acc0);
        acc0.iter_mut().for_each(|v| *v = zero);
        if !self.global {
            let Workspace2d {
                buf, tmp, scratch, ..
            } = ws;
            self.lowpass_backward(g.index_axis(Axis(0), 0), 0, buf, tmp, scratch, &mut acc0);
        }
        // The paths' gradients are summed in fixed chunks, each from zero, then the chunks
        // in order: the same arithmetic whether the chunks run in parallel or not, so the
        // result does not depend on the thread count or on which thread finishes first.
        let size = reduction_chunk(self.first.len());
        if parallel {
            let parts: Vec<Vec<Cx<T>>> = self
                .first
                .par_chunks(size)
                .enumerate()
                .map_init(
                    || self.workspace(true),
                    |w, (k, chunk)| {
                        let mut acc = vec![zero; mp * np];
                        for (i, f) in chunk.iter().enumerate() {
                            self.first_order_backward(&xs, f, k * size + i, &g, w, &mut acc);
                        }
                        acc
                    },
                )
                .collect();
            for part in parts {
                acc0.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
        } else {
            let mut part = vec![zero; mp * np];
            for (k, chunk) in self.first.chunks(size).enumerate() {
                part.iter_mut().for_each(|v| *v = zero);
                for (i, f) in chunk.iter().enumerate() {
                    self.first_order_backward(&xs, f, k * size + i, &g, ws, &mut part);
                }
                acc0.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
        }
        let Workspace2d {
            tmp, scratch, img, ..
        } = ws;
        self.plans.levels[0].inverse_t(&mut acc0, tmp, scratch);
        // Fold the padded gradient back onto the image (adjoint of the reflection).
        let (m, n) = self.params.shape;
        img.iter_mut().for_each(|v| *v = T::zero());
        let s0 = T::of(1.0 / (mp * np) as f64);
        for i in 0..mp {
            let si = reflect_index(i, self.pad.0, m);
            for j in 0..np {
                let sj = reflect_index(j, self.pad.1, n);
                img[si * n + sj] += acc0[i * np + j].re * s0;
            }
        }
        if self.global {
            let w = g[[0, 0, 0]] / T::of((m * n) as f64);
            img.iter_mut().for_each(|v| *v += w);
        }
        for (o, v) in out.iter_mut().zip(img.iter()) {
            *o = *v;
        }
        ws.x = xs;
        ws.acc0 = acc0;
    }
}
