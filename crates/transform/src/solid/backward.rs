//! The backward pass (vector-Jacobian product) per `(l, j1)`, keeping every `z_m`.

use super::*;
use crate::common::checks::{check_batch_shape, check_finite};
use crate::error::Result;
use ndarray::{Array4, ArrayView4, ArrayViewMut4, Axis};
use scattering_engine::{Cx, Real};

impl<T: Real> SolidHarmonicScattering3d<T> {
    /// Vector-Jacobian product: the gradient with respect to each volume of
    /// `<S x, grad>`, `grad` of the output's shape `(batch, paths, L + 1, powers)`.
    pub fn backward(&self, x: ArrayView4<f64>, grad: ArrayView4<f64>) -> Result<Array4<f64>> {
        self.check(&x)?;
        let (p, ln, qn) = self.output_shape();
        let batch = x.shape()[0];
        check_batch_shape("output gradient", grad.shape(), &[p, ln, qn], Some(batch))?;
        check_finite(&grad)?;
        let mut out = Array4::zeros(x.raw_dim());
        self.exec
            .install(|| self.backward_checked(x, grad, out.view_mut()));
        Ok(out)
    }

    /// The backward pass of a checked batch and gradient into `out`, any real type in and
    /// out.
    pub(super) fn backward_checked<A, G, O>(
        &self,
        x: ArrayView4<A>,
        grad: ArrayView4<G>,
        mut out: ArrayViewMut4<O>,
    ) where
        A: Copy + Into<f64> + Sync,
        G: Copy + Into<f64> + Sync,
        O: Real,
    {
        let qn = self.params.integral_powers.len();
        let len = self.len();
        for (b, mut ob) in out.axis_iter_mut(Axis(0)).enumerate() {
            let (xs, r) = self.input_spectrum(x.index_axis(Axis(0), b));
            let gb = grad.index_axis(Axis(0), b);
            // At 2^k x, the derivative of U^q is 2^(k (q - 1)) times that at x.
            let rescale: Vec<f64> = self
                .params
                .integral_powers
                .iter()
                .map(|&q| r.cotangent(q))
                .collect();
            let gvec = |p: usize, l: usize| -> Vec<f64> {
                (0..qn).map(|i| gb[[p, l, i]].into() * rescale[i]).collect()
            };
            // Each (l, j1) task returns its Fourier-domain gradient. Tasks go to at most
            // sixteen chunks, strided so that each gets long and short ones; a chunk sums its
            // tasks in order and the chunks are added in order, so the result does not depend
            // on the thread count or on which thread finishes first.
            let tasks = self.tasks();
            let chunks = tasks.len().clamp(1, 16);
            let run = |w: &mut Workspace3d<T>, l: usize, j1: usize| -> Vec<Cx<T>> {
                let w: &mut Workspace3d<T> = w;
                let Workspace3d {
                    scratch,
                    zs1,
                    zs2,
                    u1,
                    u2,
                    u1c,
                    acc,
                    acc1,
                    g,
                    ..
                } = w;
                let zero = Cx::new(T::zero(), T::zero());
                let mut tw = Workspace3dRef {
                    scratch,
                    planes: None,
                };
                self.covariant_modulus(&xs, l, j1, u1, zs1, &mut tw);
                self.integral_backward(u1, &gvec(self.path1[j1], l), g);
                if self.params.max_order == 2 && j1 < self.params.j {
                    self.spectrum_of_real(u1, u1c, &mut tw);
                    acc1.iter_mut().for_each(|a| *a = zero);
                    let mut g2 = vec![T::zero(); len];
                    for j2 in j1 + 1..=self.params.j {
                        let p = self.path2[j1][j2].unwrap_or_else(|| unreachable!());
                        self.covariant_modulus(u1c, l, j2, u2, zs2, &mut tw);
                        self.integral_backward(u2, &gvec(p, l), &mut g2);
                        self.covariant_backward(l, j2, u2, &mut g2, zs2, acc1, tw.scratch);
                    }
                    // The filters carry the 1/len of the inverse transform.
                    self.plan.process(acc1, tw.scratch, true);
                    for (gv, a) in g.iter_mut().zip(acc1.iter()) {
                        *gv += a.re;
                    }
                }
                acc.iter_mut().for_each(|a| *a = zero);
                self.covariant_backward(l, j1, u1, g, zs1, acc, tw.scratch);
                acc.clone()
            };
            let parts: Vec<Vec<Cx<T>>> = (0..chunks)
                .into_par_iter()
                .with_max_len(1)
                .map_init(
                    || self.work(true),
                    |w, c| {
                        let mut part: Option<Vec<Cx<T>>> = None;
                        for &(l, j1) in tasks.iter().skip(c).step_by(chunks) {
                            let a = run(w, l, j1);
                            match part.as_mut() {
                                None => part = Some(a),
                                Some(p) => p.iter_mut().zip(&a).for_each(|(x, y)| *x += y),
                            }
                        }
                        part.unwrap_or_else(|| vec![Cx::new(T::zero(), T::zero()); len])
                    },
                )
                .collect();
            let mut parts = parts.into_iter();
            let mut total = parts
                .next()
                .unwrap_or_else(|| vec![Cx::new(T::zero(), T::zero()); len]);
            for part in parts {
                total.iter_mut().zip(&part).for_each(|(x, y)| *x += y);
            }
            let mut guard = self.work(false);
            let w: &mut Workspace3d<T> = &mut guard;
            self.plan.process(&mut total, &mut w.scratch, true);
            for (o, t) in ob.iter_mut().zip(&total) {
                *o = O::of(t.re.as_f64());
            }
        }
    }

    /// `dL/dU = sum_q g_q q U^(q-1)`, with 0 where `U = 0` (no NaN for q < 1). The
    /// exponents of the usual powers (1/2, 1, 2, 3) go without `powf`, which took a quarter
    /// of the backward pass.
    pub(super) fn integral_backward(&self, u: &[T], g: &[f64], out: &mut [T]) {
        let terms: Vec<(f64, Power)> = self
            .params
            .integral_powers
            .iter()
            .zip(g)
            .map(|(&q, &gq)| (gq * q, Power::of(q - 1.0)))
            .collect();
        for (o, &uv) in out.iter_mut().zip(u) {
            let uf = uv.as_f64();
            *o = if uf > 0.0 {
                T::of(terms.iter().map(|&(c, p)| c * p.at(uf)).sum::<f64>())
            } else {
                T::zero()
            };
        }
    }

    #[allow(clippy::too_many_arguments)]
    /// Adds `sum_m conj(psi_m) fft(g_U z_m / U)` to `acc` (the Fourier-domain gradient
    /// with respect to the real input of a covariant modulus). Leaves `g_U / U` in `gu`.
    pub(super) fn covariant_backward(
        &self,
        l: usize,
        j: usize,
        u: &[T],
        gu: &mut [T],
        zs: &mut [Vec<Cx<T>>],
        acc: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        // `g_U / U` once for every m, in place (0 where U = 0, so no NaN).
        for (g, &uv) in gu.iter_mut().zip(u) {
            *g = if uv > T::zero() { *g / uv } else { T::zero() };
        }
        for (mi, f) in self.psi[l][j].iter().enumerate() {
            let z = &mut zs[mi];
            for (zv, &w) in z.iter_mut().zip(gu.iter()) {
                *zv *= w;
            }
            self.plan.process(z, scratch, false);
            match &f.line {
                Some(lf) => lf.conj_mul_add(z, acc),
                None => f.conj_mul_add(z, acc),
            }
        }
    }
}
