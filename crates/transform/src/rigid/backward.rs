//! The backward pass (vector-Jacobian product): the forward pass's steps in reverse, each
//! by its adjoint. The adjoint of an unnormalised inverse FFT is the unnormalised forward
//! FFT and vice versa; that of "filter then subsample" is "tile then filter"; that of the
//! modulus `g z / |z|` (0 where `z = 0`); that of the angular convolution by `h` the
//! convolution by `conj(h(-t))`; that of `v -> conj(v)` is `conj`.

use super::forward::{angular_conv, Bufs};
use super::*;
use crate::common::driver::for_each_sample;
use crate::common::homogeneity::Rescale;
use crate::common::padding::reflect_index;
use ndarray::{Array3, ArrayView3, ArrayView4, ArrayViewMut2, Axis};
use scattering_engine::fourier2d::tile_add2;

/// Buffers of the backward pass only.
pub(super) struct Grads<T> {
    gimg: Vec<T>,
    gx: Vec<Cx<T>>,
    gu1: Vec<Vec<T>>,
    gu1hat: Vec<Vec<Cx<T>>>,
    gv: Vec<Vec<Cx<T>>>,
    gy: Vec<Vec<Cx<T>>>,
    gw: Vec<T>,
}

impl<T: Real> RigidMotionScattering<T> {
    /// Vector-Jacobian product of a batch `(B, M, N)` with coefficient gradients
    /// `(B, channels, rows, columns)`.
    pub fn backward<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView3<A>,
        grad: ArrayView4<T>,
    ) -> Result<Array3<T>> {
        let b = crate::common::checks::check_batch_shape(
            "input",
            x.shape(),
            &self.sample_dims(),
            None,
        )?;
        crate::common::checks::check_batch_shape(
            "output gradient",
            grad.shape(),
            &self.coefficient_dims(),
            Some(b),
        )?;
        crate::common::checks::check_finite(&x)?;
        crate::common::checks::check_finite(&grad)?;
        let (m, n) = self.params.shape;
        let mut out = Array3::zeros((b, m, n));
        self.exec
            .install(|| self.backward_checked(x, grad, out.view_mut()));
        Ok(out)
    }

    pub(super) fn backward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView3<A>,
        grad: ArrayView4<T>,
        out: ndarray::ArrayViewMut3<T>,
    ) {
        for_each_sample(
            x,
            out,
            || (self.workspace(), self.grads()),
            |(ws, gs), b, img, o, _| {
                // The Jacobian is the same at x and 2^k x.
                let r = Rescale::of::<T, _>(img.iter().copied());
                self.load(ws, img, r);
                self.first_layer(ws);
                self.backward_one(ws, gs, grad.index_axis(Axis(0), b), o);
            },
        );
    }

    fn grads(&self) -> Grads<T> {
        let z = Cx::new(T::zero(), T::zero());
        let len = self.mp * self.np;
        let (j, half, l) = (self.params.j, self.half, self.params.l);
        let level_len = |r: usize| (self.mp >> r) * (self.np >> r);
        let l2 = level_len(1.min(j));
        Grads {
            gimg: vec![T::zero(); len],
            gx: vec![z; len],
            gu1: (0..j * half)
                .map(|i| vec![T::zero(); level_len(i / half)])
                .collect(),
            gu1hat: (0..j * half)
                .map(|i| vec![z; level_len(i / half)])
                .collect(),
            gv: vec![vec![z; l2]; l],
            gy: vec![vec![z; l2]; l],
            gw: vec![T::zero(); len],
        }
    }

    fn backward_one(
        &self,
        ws: &mut Workspace<T>,
        gs: &mut Grads<T>,
        g: ArrayView3<T>,
        mut o: ArrayViewMut2<T>,
    ) {
        let per = self.out.0 * self.out.1;
        // Gradient of every full channel.
        match &self.groups {
            None => ws.full.iter_mut().zip(g.iter()).for_each(|(a, &b)| *a = b),
            Some(groups) => {
                for (idx, gc) in groups.iter().zip(g.outer_iter()) {
                    let wgt = T::of(1.0 / idx.len() as f64);
                    for &i in idx {
                        for (a, &b) in ws.full[i * per..(i + 1) * per].iter_mut().zip(gc.iter()) {
                            *a = wgt * b;
                        }
                    }
                }
            }
        }
        let Workspace {
            z1,
            u1hat,
            v,
            y,
            spec,
            small,
            tmp,
            scratch,
            full,
            ..
        } = ws;
        let mut bufs = Bufs {
            spec,
            small,
            tmp,
            scratch,
        };
        let zero = Cx::new(T::zero(), T::zero());
        let (j, l, half) = (self.params.j, self.params.l, self.half);
        let n_theta = self.avg.len();
        gs.gimg.iter_mut().for_each(|a| *a = T::zero());
        gs.gx.iter_mut().for_each(|a| *a = zero);
        gs.gu1.iter_mut().flatten().for_each(|a| *a = T::zero());
        gs.gu1hat.iter_mut().flatten().for_each(|a| *a = zero);

        // Order 0.
        self.lowpass_adjoint(&full[..per], 0, &mut gs.gw, &mut bufs);
        for (a, &b) in gs.gimg.iter_mut().zip(&gs.gw) {
            *a += b;
        }
        if self.params.max_order >= 1 {
            // Order 1.
            let mut c = 1;
            for j1 in 0..j {
                let len = (self.mp >> j1) * (self.np >> j1);
                for th in 0..n_theta {
                    let gc = &full[(c + th) * per..(c + th + 1) * per];
                    self.lowpass_adjoint(gc, j1, &mut gs.gw[..len], &mut bufs);
                    for t1 in 0..half {
                        let a = self.avg[th][t1] + self.avg[th][t1 + half];
                        for (d, &s) in gs.gu1[j1 * half + t1].iter_mut().zip(&gs.gw[..len]) {
                            *d += a * s;
                        }
                    }
                }
                c += n_theta;
            }
            // Order 2.
            if self.params.max_order >= 2 {
                for j1 in 0..j {
                    let (m1, n1) = self.grid(j1);
                    for j2 in j1 + 1..j {
                        let (m2, n2) = self.grid(j2);
                        let len2 = m2 * n2;
                        for t2 in 0..half {
                            self.second_layer_v(u1hat, j1, j2, t2, v, &mut bufs);
                            gs.gv.iter_mut().for_each(|m| m[..len2].fill(zero));
                            for h in &self.ang {
                                angular_conv(h, v, y, len2);
                                gs.gy.iter_mut().for_each(|m| m[..len2].fill(zero));
                                for th in 0..n_theta {
                                    let gc = &full[(c + th) * per..(c + th + 1) * per];
                                    self.lowpass_adjoint(gc, j2, &mut gs.gw[..len2], &mut bufs);
                                    for ((gyt, yt), &a) in
                                        gs.gy.iter_mut().zip(y.iter()).zip(&self.avg[th]).take(l)
                                    {
                                        for ((d, yv), &w) in gyt[..len2]
                                            .iter_mut()
                                            .zip(&yt[..len2])
                                            .zip(&gs.gw[..len2])
                                        {
                                            let nrm = yv.norm();
                                            if nrm > T::zero() {
                                                *d += *yv * (a * w / nrm);
                                            }
                                        }
                                    }
                                }
                                // gv[s] += sum_t conj(h(t - s)) gy[t].
                                for (s, gvs) in gs.gv.iter_mut().enumerate() {
                                    for (t, gyt) in gs.gy.iter().enumerate() {
                                        let cf = h[(t + l - s) % l].conj();
                                        for (d, &a) in gvs[..len2].iter_mut().zip(&gyt[..len2]) {
                                            *d += cf * a;
                                        }
                                    }
                                }
                                c += n_theta;
                            }
                            // v[s + L/2] = conj(v[s]); then the adjoint of the wavelet step.
                            let scale = T::of(1.0 / (m1 * n1) as f64);
                            let (first, second) = gs.gv.split_at_mut(half);
                            for (s, (gvs, gvc)) in first.iter_mut().zip(second.iter()).enumerate() {
                                let gvs = &mut gvs[..len2];
                                for (d, a) in gvs.iter_mut().zip(&gvc[..len2]) {
                                    *d = (*d + a.conj()) * scale;
                                }
                                self.plans.levels[j2].process(gvs, bufs.tmp, bufs.scratch, false);
                                let a = (s + t2) % l;
                                tile_add2(
                                    gvs,
                                    m2,
                                    n2,
                                    &self.psi[j2 * l + a][j1],
                                    m1,
                                    n1,
                                    &mut gs.gu1hat[j1 * half + s],
                                );
                            }
                        }
                    }
                }
            }
            // Back through the first layer.
            let scale = T::of(1.0 / (self.mp * self.np) as f64);
            for j1 in 0..j {
                let (m1, n1) = self.grid(j1);
                for t1 in 0..half {
                    let p = j1 * half + t1;
                    let gh = &mut gs.gu1hat[p];
                    self.plans.levels[j1].process(gh, bufs.tmp, bufs.scratch, true);
                    for ((d, &gu), zc) in gh.iter_mut().zip(&gs.gu1[p]).zip(&z1[p]) {
                        let gtot = d.re + gu;
                        let nrm = zc.norm();
                        *d = if nrm > T::zero() {
                            *zc * (gtot * scale / nrm)
                        } else {
                            zero
                        };
                    }
                    self.plans.levels[j1].process(gh, bufs.tmp, bufs.scratch, false);
                    tile_add2(
                        gh,
                        m1,
                        n1,
                        &self.psi[j1 * l + t1][0],
                        self.mp,
                        self.np,
                        &mut gs.gx,
                    );
                }
            }
            self.plans.levels[0].process(&mut gs.gx, bufs.tmp, bufs.scratch, true);
            for (a, c) in gs.gimg.iter_mut().zip(&gs.gx) {
                *a += c.re;
            }
        }
        // Adjoint of the padding.
        let (m, n) = self.params.shape;
        for i in 0..self.mp {
            let si = reflect_index(i, self.pad.0, m);
            for jj in 0..self.np {
                o[[si, reflect_index(jj, self.pad.1, n)]] += gs.gimg[i * self.np + jj];
            }
        }
    }

    /// Adjoint of [`Self::lowpass`]: the gradient `dst` of the real level-`r` map from that
    /// of one output channel `g`.
    fn lowpass_adjoint(&self, g: &[T], r: usize, dst: &mut [T], bufs: &mut Bufs<'_, T>) {
        let (mr, nr) = self.grid(r);
        let dst = &mut dst[..mr * nr];
        if self.params.average == Averaging::Global {
            let (rows, cols) = self.region(r);
            let w = g[0] / T::of((rows.len() * cols.len()) as f64);
            dst.fill(T::zero());
            for i in rows {
                dst[i * nr + cols.start..i * nr + cols.end].fill(w);
            }
            return;
        }
        let j = self.params.j;
        let (mj, nj) = self.grid(j);
        let zero = Cx::new(T::zero(), T::zero());
        let small = &mut bufs.small[..mj * nj];
        small.fill(zero);
        let scale = T::of(1.0 / (mr * nr) as f64);
        let (oa, ob) = self.out;
        for a in 0..oa {
            for b in 0..ob {
                small[(a + self.crop) * nj + b + self.crop] =
                    Cx::new(g[a * ob + b] * scale, T::zero());
            }
        }
        self.plans.levels[j].process(small, bufs.tmp, bufs.scratch, false);
        let spec = &mut bufs.spec[..mr * nr];
        spec.fill(zero);
        tile_add2(small, mj, nj, &self.phi[r], mr, nr, spec);
        self.plans.levels[r].process(spec, bufs.tmp, bufs.scratch, true);
        for (d, c) in dst.iter_mut().zip(spec.iter()) {
            *d = c.re;
        }
    }
}
