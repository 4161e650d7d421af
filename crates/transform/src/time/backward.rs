//! The backward pass (vector-Jacobian product), written with the same pieces as the
//! forward pass: adjoint of filter-and-subsample is tile-then-filter, the modulus backward
//! is `g z / |z|`, the reflect padding's adjoint folds the gradient back.

use super::*;
use crate::common::checks::{check_batch_shape, check_finite};
use crate::common::driver::{for_each_sample, reduction_chunk};
use crate::common::homogeneity::Rescale;
use crate::common::padding::{pad_reflect_adjoint, Padding};
use crate::common::Averaging;
use crate::error::Result;
use ndarray::{Array2, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, Axis};
use rayon::slice::ParallelSlice;
use scattering_engine::fourier1d::modulus_backward;
use scattering_engine::{Cx, Real};

impl<T: Real> Scattering1d<T> {
    /// Vector-Jacobian product: for each row of `x`, the gradient with respect to `x` of
    /// `<S x, grad>`, where `grad` has the output's shape `(batch, channel, time)`.
    /// With `grad = S x - S y` it is the gradient of `||S x - S y||^2 / 2`.
    pub fn backward<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        grad: ArrayView3<T>,
    ) -> Result<Array2<T>> {
        self.check_input(&x)?;
        let (c, t) = self.output_shape();
        let batch = x.shape()[0];
        check_batch_shape("output gradient", grad.shape(), &[c, t], Some(batch))?;
        check_finite(&grad)?;
        let mut out = Array2::zeros((x.nrows(), self.params.n));
        self.exec
            .install(|| self.backward_checked(x, grad, out.view_mut()));
        Ok(out)
    }

    /// The backward pass of a checked batch and gradient into `out` (every element is
    /// written).
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
            |ws, b, row, o, spread| {
                // The Jacobian is the same at x and 2^k x.
                let r = Rescale::of::<T, _>(row.iter().copied());
                ws.load(row.iter().map(|&v| T::of(r.input(v))));
                self.backward_one(ws, grad.index_axis(Axis(0), b), o, spread);
            },
        );
    }

    /// Adjoint of [`Self::average_into`]: adds the gradient with respect to the modulus
    /// at level `k` (in time) to `acc`.
    pub(super) fn average_backward(&self, sc: &mut Scratch<T>, g: &[T], k: usize, acc: &mut [T]) {
        match self.params.average {
            Averaging::Local => {
                // Zero-insertion upsampling of the gradient, then the (symmetric) low-pass.
                let lo = self.out_level;
                let mo = self.n_pad >> lo;
                let ms = self.n_pad >> k;
                let s = self.ind_start[lo];
                sc.real[..mo].iter_mut().for_each(|v| *v = T::zero());
                sc.real[s..s + g.len()].copy_from_slice(g);
                self.plans.levels[lo].real_to_half(sc.real, sc.half, sc.scratch);
                let scale = T::of(1.0 / ms as f64);
                self.phi[k].tile_half(sc.half, mo, scale, sc.half_b);
                self.plans.levels[k].half_to_real(sc.half_b, sc.scratch, sc.real);
                for (a, v) in acc[..ms].iter_mut().zip(&sc.real[..ms]) {
                    *a += *v;
                }
            }
            Averaging::Global => {
                let r = self.ind_start[k]..self.ind_end[k];
                let w = g[0] / T::of(r.len() as f64);
                acc[r].iter_mut().for_each(|a| *a += w);
            }
            Averaging::None => {
                let s = self.ind_start[k];
                for (a, v) in acc[s..s + g.len()].iter_mut().zip(g) {
                    *a += *v;
                }
            }
        }
    }

    /// Adds to `acc0` (full-resolution spectrum) the gradient through the order-1 path
    /// `f` and its children.
    pub(super) fn first_order_backward(
        &self,
        xh: &[Cx<T>],
        f: &First,
        g: &ArrayView2<T>,
        ws: &mut Workspace1d<T>,
        acc0: &mut [Cx<T>],
    ) {
        let n = self.n_pad;
        let zero = Cx::new(T::zero(), T::zero());
        let Workspace1d {
            z1,
            u1,
            u1h,
            z2,
            u2,
            half,
            half_b,
            real,
            scratch,
            gu1,
            gu2,
            gz,
            acc1,
            grow,
            ..
        } = ws;
        let mut sc = Scratch {
            half,
            half_b,
            real,
            scratch,
        };
        let m1 = n >> f.k1;
        let plan1 = &self.plans.levels[f.k1];
        self.wavelet_modulus(xh, 0, &self.psi1[f.n1], f.k1, z1, u1, sc.scratch);
        gu1[..m1].iter_mut().for_each(|v| *v = T::zero());
        self.average_backward(&mut sc, grad_row(g, f.channel, grow), f.k1, gu1);
        if !f.children.is_empty() {
            plan1.real_to_half(u1, u1h, sc.scratch);
            acc1[..m1].iter_mut().for_each(|v| *v = zero);
            for c in &f.children {
                let k = f.k1 + c.k2;
                let m2 = n >> k;
                let h = &self.psi2[c.n2][f.k1];
                self.wavelet_modulus(u1h, f.k1, h, k, z2, u2, sc.scratch);
                gu2[..m2].iter_mut().for_each(|v| *v = T::zero());
                self.average_backward(&mut sc, grad_row(g, c.channel, grow), k, gu2);
                modulus_backward(&z2[..m2], &gu2[..m2], &mut gz[..m2]);
                self.plans.levels[k]
                    .fwd
                    .process_with_scratch(&mut gz[..m2], sc.scratch);
                h.tile_add(&gz[..m2], &mut acc1[..m1]);
            }
            plan1.inv.process_with_scratch(&mut acc1[..m1], sc.scratch);
            let s = T::of(1.0 / m1 as f64);
            for (g1, a) in gu1[..m1].iter_mut().zip(&acc1[..m1]) {
                *g1 += a.re * s;
            }
        }
        modulus_backward(&z1[..m1], &gu1[..m1], &mut gz[..m1]);
        plan1.fwd.process_with_scratch(&mut gz[..m1], sc.scratch);
        self.psi1[f.n1].tile_add(&gz[..m1], acc0);
    }

    /// Gradient for one signal; `parallel` spreads its first-order paths over threads.
    pub(super) fn backward_one(
        &self,
        ws: &mut Workspace1d<T>,
        g: ArrayView2<T>,
        mut out: ArrayViewMut1<T>,
        parallel: bool,
    ) {
        self.prepare(ws);
        let n = self.n_pad;
        let zero = Cx::new(T::zero(), T::zero());
        let xh = std::mem::take(&mut ws.xh);
        let mut acc0 = std::mem::take(&mut ws.acc0);
        acc0.iter_mut().for_each(|v| *v = zero);
        {
            let Workspace1d {
                half,
                half_b,
                real,
                scratch,
                gu0,
                grow,
                ..
            } = ws;
            let mut sc = Scratch {
                half,
                half_b,
                real,
                scratch,
            };
            gu0.iter_mut().for_each(|v| *v = T::zero());
            self.average_backward(&mut sc, grad_row(&g, 0, grow), 0, gu0);
        }
        // The paths' gradients are summed in fixed chunks, each from zero, then the chunks
        // in order: the same arithmetic whether the chunks run in parallel or not, so the
        // result does not depend on the thread count or on which thread finishes first.
        let size = reduction_chunk(self.first.len());
        if parallel {
            let parts: Vec<Vec<Cx<T>>> = self
                .first
                .par_chunks(size)
                .map_init(
                    || self.workspace(true),
                    |w, chunk| {
                        let mut acc = vec![zero; n];
                        for f in chunk {
                            self.first_order_backward(&xh, f, &g, w, &mut acc);
                        }
                        acc
                    },
                )
                .collect();
            for part in parts {
                acc0.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
        } else {
            let mut part = vec![zero; n];
            for chunk in self.first.chunks(size) {
                part.iter_mut().for_each(|v| *v = zero);
                for f in chunk {
                    self.first_order_backward(&xh, f, &g, ws, &mut part);
                }
                acc0.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
        }
        let Workspace1d {
            x, gu0, scratch, ..
        } = ws;
        if !self.first.is_empty() {
            self.plans.levels[0]
                .inv
                .process_with_scratch(&mut acc0, scratch);
            let s = T::of(1.0 / n as f64);
            for (g0, a) in gu0.iter_mut().zip(acc0.iter()) {
                *g0 += a.re * s;
            }
        }
        match self.params.padding {
            Padding::Reflect => pad_reflect_adjoint(gu0, self.pad_left, x),
            Padding::Periodic => x.copy_from_slice(gu0),
        }
        for (o, v) in out.iter_mut().zip(x.iter()) {
            *o = *v;
        }
        ws.xh = xh;
        ws.acc0 = acc0;
    }
}

/// Row `c` of an output gradient as a slice, copied only if it is not contiguous.
pub(super) fn grad_row<'a, T: Real>(
    g: &'a ArrayView2<'_, T>,
    c: usize,
    buf: &'a mut Vec<T>,
) -> &'a [T] {
    let r = g.index_axis(Axis(0), c);
    match r.to_slice() {
        Some(s) => s,
        None => {
            buf.clear();
            buf.extend(r.iter());
            buf.as_slice()
        }
    }
}
