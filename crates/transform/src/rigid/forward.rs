//! The forward pass. All FFTs are unnormalised; a filter applied at level `r` and
//! subsampled to level `r'` carries the `1 / (m_r n_r)` of the inverse FFT that follows.

use super::*;
use crate::common::driver::for_each_sample;
use crate::common::homogeneity::Rescale;
use crate::common::padding::reflect_index;
use ndarray::{Array4, ArrayView2, ArrayView3, ArrayViewMut3, ArrayViewMut4};
use scattering_engine::fourier2d::fold2;

impl<T: Real> RigidMotionScattering<T> {
    /// Coefficients of a batch `(B, M, N)`: `(B, channels, rows, columns)`.
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView3<A>) -> Result<Array4<T>> {
        crate::common::checks::check_batch_shape("input", x.shape(), &self.sample_dims(), None)?;
        crate::common::checks::check_finite(&x)?;
        let (c, a, b) = self.output_shape();
        let mut out = Array4::zeros((x.shape()[0], c, a, b));
        self.exec
            .install(|| self.forward_checked(x, out.view_mut()));
        Ok(out)
    }

    pub(super) fn forward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView3<A>,
        out: ArrayViewMut4<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(),
            |ws, _, img, mut o, _| {
                let r = Rescale::of::<T, _>(img.iter().copied());
                self.load(ws, img, r);
                self.first_layer(ws);
                self.forward_one(ws);
                self.reduce(ws, o.view_mut());
                r.output(o.iter_mut());
            },
        );
    }

    /// Pads the image into `ws.img` (real, level 0).
    pub(super) fn load<A: Copy + Into<f64>>(
        &self,
        ws: &mut Workspace<T>,
        img: ArrayView2<A>,
        r: Rescale,
    ) {
        let (m, n) = self.params.shape;
        for i in 0..self.mp {
            let si = reflect_index(i, self.pad.0, m);
            for j in 0..self.np {
                ws.img[i * self.np + j] =
                    T::of(r.input(img[[si, reflect_index(j, self.pad.1, n)]]));
            }
        }
    }

    /// `ws.x`: the spectrum of the padded image; `z1`, `u1`, `u1hat` for every
    /// `(j1, t1 < L/2)` when the order asks for them.
    pub(super) fn first_layer(&self, ws: &mut Workspace<T>) {
        let z = T::zero();
        for (c, &v) in ws.x.iter_mut().zip(&ws.img) {
            *c = Cx::new(v, z);
        }
        self.plans.levels[0].process(&mut ws.x, &mut ws.tmp, &mut ws.scratch, false);
        if self.params.max_order == 0 {
            return;
        }
        let (l, half) = (self.params.l, self.half);
        let scale = T::of(1.0 / (self.mp * self.np) as f64);
        for j1 in 0..self.params.j {
            let (m1, n1) = self.grid(j1);
            for t1 in 0..half {
                let p = j1 * half + t1;
                let z1 = &mut ws.z1[p];
                fold2(
                    &ws.x,
                    &self.psi[j1 * l + t1][0],
                    self.mp,
                    self.np,
                    m1,
                    n1,
                    scale,
                    z1,
                );
                self.plans.levels[j1].process(z1, &mut ws.tmp, &mut ws.scratch, true);
                for ((u, h), c) in ws.u1[p].iter_mut().zip(&mut ws.u1hat[p]).zip(z1.iter()) {
                    *u = c.norm();
                    *h = Cx::new(*u, z);
                }
                self.plans.levels[j1].process(
                    &mut ws.u1hat[p],
                    &mut ws.tmp,
                    &mut ws.scratch,
                    false,
                );
            }
        }
    }

    /// Offset of channel `c` in `ws.full`.
    fn at(&self, c: usize) -> usize {
        c * self.out.0 * self.out.1
    }

    /// Every channel into `ws.full`, after [`Self::first_layer`].
    fn forward_one(&self, ws: &mut Workspace<T>) {
        let Workspace {
            img,
            u1,
            u1hat,
            v,
            y,
            w,
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
        let per = self.out.0 * self.out.1;
        self.lowpass(img, 0, &mut full[..per], &mut bufs);
        if self.params.max_order == 0 {
            return;
        }
        let (j, l, half) = (self.params.j, self.params.l, self.half);
        let n_theta = self.avg.len();
        let mut c = 1;
        for j1 in 0..j {
            let len = (self.mp >> j1) * (self.np >> j1);
            for (th, wt) in w.iter_mut().enumerate() {
                let wt = &mut wt[..len];
                wt.iter_mut().for_each(|a| *a = T::zero());
                for t1 in 0..half {
                    let a = self.avg[th][t1] + self.avg[th][t1 + half];
                    for (o, &u) in wt.iter_mut().zip(&u1[j1 * half + t1]) {
                        *o += a * u;
                    }
                }
                let o = self.at(c + th);
                self.lowpass(wt, j1, &mut full[o..o + per], &mut bufs);
            }
            c += n_theta;
        }
        if self.params.max_order < 2 {
            return;
        }
        for j1 in 0..j {
            for j2 in j1 + 1..j {
                let len2 = (self.mp >> j2) * (self.np >> j2);
                for t2 in 0..half {
                    self.second_layer_v(u1hat, j1, j2, t2, v, &mut bufs);
                    for h in &self.ang {
                        angular_conv(h, v, y, len2);
                        for (th, wt) in w.iter_mut().enumerate() {
                            let wt = &mut wt[..len2];
                            wt.iter_mut().for_each(|a| *a = T::zero());
                            for (t, yt) in y.iter().enumerate().take(l) {
                                let a = self.avg[th][t];
                                for (o, c) in wt.iter_mut().zip(&yt[..len2]) {
                                    *o += a * c.norm();
                                }
                            }
                            let o = self.at(c + th);
                            self.lowpass(wt, j2, &mut full[o..o + per], &mut bufs);
                        }
                        c += n_theta;
                    }
                }
            }
        }
    }

    /// `v[s] = U1(s, j1) * psi_(j2, s + t2)` at level `j2` for `s` in `0..L`, the second
    /// half as conjugates of the first.
    pub(super) fn second_layer_v(
        &self,
        u1hat: &[Vec<Cx<T>>],
        j1: usize,
        j2: usize,
        t2: usize,
        v: &mut [Vec<Cx<T>>],
        bufs: &mut Bufs<'_, T>,
    ) {
        let (l, half) = (self.params.l, self.half);
        let (m1, n1) = self.grid(j1);
        let (m2, n2) = self.grid(j2);
        let len2 = m2 * n2;
        let scale = T::of(1.0 / (m1 * n1) as f64);
        let (first, second) = v.split_at_mut(half);
        for (s, (vs, vc)) in first.iter_mut().zip(second.iter_mut()).enumerate() {
            let a = (s + t2) % l;
            let vs = &mut vs[..len2];
            fold2(
                &u1hat[j1 * half + s],
                &self.psi[j2 * l + a][j1],
                m1,
                n1,
                m2,
                n2,
                scale,
                vs,
            );
            self.plans.levels[j2].process(vs, bufs.tmp, bufs.scratch, true);
            for (d, c) in vc[..len2].iter_mut().zip(vs.iter()) {
                *d = c.conj();
            }
        }
    }

    /// Spatial averaging of the real level-`r` map `w` into `dst` (one output channel).
    pub(super) fn lowpass(&self, w: &[T], r: usize, dst: &mut [T], bufs: &mut Bufs<'_, T>) {
        let (mr, nr) = self.grid(r);
        if self.params.average == Averaging::Global {
            let (rows, cols) = self.region(r);
            let count = (rows.len() * cols.len()) as f64;
            let sum: f64 = rows
                .flat_map(|i| w[i * nr + cols.start..i * nr + cols.end].iter())
                .map(|v| v.as_f64())
                .sum();
            dst[0] = T::of(sum / count);
            return;
        }
        let j = self.params.j;
        let (mj, nj) = self.grid(j);
        let spec = &mut bufs.spec[..mr * nr];
        for (c, &v) in spec.iter_mut().zip(w) {
            *c = Cx::new(v, T::zero());
        }
        self.plans.levels[r].process(spec, bufs.tmp, bufs.scratch, false);
        let small = &mut bufs.small[..mj * nj];
        fold2(
            spec,
            &self.phi[r],
            mr,
            nr,
            mj,
            nj,
            T::of(1.0 / (mr * nr) as f64),
            small,
        );
        self.plans.levels[j].process(small, bufs.tmp, bufs.scratch, true);
        let (oa, ob) = self.out;
        for a in 0..oa {
            for b in 0..ob {
                dst[a * ob + b] = small[(a + self.crop) * nj + b + self.crop].re;
            }
        }
    }

    /// The output channels from `ws.full`: a copy, or the scale-invariant means.
    fn reduce(&self, ws: &Workspace<T>, mut o: ArrayViewMut3<T>) {
        let per = self.out.0 * self.out.1;
        let Some(out) = o.as_slice_mut() else {
            return;
        };
        match &self.groups {
            None => out.copy_from_slice(&ws.full),
            Some(groups) => {
                for (g, idx) in groups.iter().enumerate() {
                    let dst = &mut out[g * per..(g + 1) * per];
                    dst.iter_mut().for_each(|d| *d = T::zero());
                    let wgt = T::of(1.0 / idx.len() as f64);
                    for &i in idx {
                        for (d, &s) in dst.iter_mut().zip(&ws.full[i * per..(i + 1) * per]) {
                            *d += wgt * s;
                        }
                    }
                }
            }
        }
    }
}

/// Scratch buffers borrowed from a [`Workspace`] while others are in use.
pub(super) struct Bufs<'a, T> {
    pub spec: &'a mut [Cx<T>],
    pub small: &'a mut [Cx<T>],
    pub tmp: &'a mut [Cx<T>],
    pub scratch: &'a mut [Cx<T>],
}

/// `y[t] = sum_s h(t - s) v[s]` on the first `len` values of each map.
pub(super) fn angular_conv<T: Real>(
    h: &[Cx<T>],
    v: &[Vec<Cx<T>>],
    y: &mut [Vec<Cx<T>>],
    len: usize,
) {
    let l = h.len();
    for (t, yt) in y.iter_mut().enumerate().take(l) {
        let yt = &mut yt[..len];
        yt.iter_mut()
            .for_each(|a| *a = Cx::new(T::zero(), T::zero()));
        for (s, vs) in v.iter().enumerate().take(l) {
            let c = h[(t + l - s) % l];
            for (o, &a) in yt.iter_mut().zip(&vs[..len]) {
                *o += c * a;
            }
        }
    }
}
