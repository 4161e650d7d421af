//! The forward pass: per image, the padded spectrum, then each group of one or two
//! order-1 paths with their children; real moduli travel in packed pairs.

use super::*;
use crate::common::driver::for_each_sample;
use crate::common::homogeneity::Rescale;
use crate::error::Result;
use ndarray::{Array3, Array4, ArrayView3, ArrayViewMut2, ArrayViewMut3, ArrayViewMut4, Axis};
use scattering_engine::fourier1d::modulus;
use scattering_engine::fourier2d::{split_pair, SparseFilter2d};
use scattering_engine::{Cx, Real};

impl<T: Real> Scattering2d<T> {
    /// Scattering coefficients of a batch `(batch, M, N)`, as `(batch, channel, M', N')`.
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView3<A>) -> Result<Array4<T>> {
        self.check_input(&x)?;
        let (c, a, b) = self.output_shape();
        let mut out = Array4::zeros((x.dim().0, c, a, b));
        self.exec
            .install(|| self.forward_checked(x, out.view_mut()));
        Ok(out)
    }

    /// The forward pass of a checked batch into `out` (every element is written).
    pub(super) fn forward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView3<A>,
        out: ArrayViewMut4<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(false),
            |ws, _, img, mut o, spread| {
                let r = Rescale::of::<T, _>(img.iter().copied());
                self.load(ws, img.iter().map(|&v| r.input(v)));
                if spread {
                    self.forward_one_parallel(ws, o.view_mut());
                } else {
                    self.forward_one(ws, o.view_mut());
                }
                r.output(o.iter_mut());
            },
        );
    }

    /// Reflect-pads the image and leaves its (transposed) spectrum in `ws.x`.
    pub(super) fn load(&self, ws: &mut Workspace2d<T>, img: impl Iterator<Item = f64>) {
        let (m, n) = self.params.shape;
        ws.img.clear();
        ws.img.extend(img.map(T::of));
        let cols: Vec<usize> = (0..self.np)
            .map(|j| reflect_index(j, self.pad.1, n))
            .collect();
        for i in 0..self.mp {
            let row = &ws.img[reflect_index(i, self.pad.0, m) * n..][..n];
            for (x, &sj) in ws.x[i * self.np..(i + 1) * self.np].iter_mut().zip(&cols) {
                *x = Cx::new(row[sj], T::zero());
            }
        }
        self.plans.levels[0].forward_t(&mut ws.x, &mut ws.tmp, &mut ws.scratch);
    }

    /// `z = ifft2(fold(src * h))` from a spectrum to level `ko`.
    pub(super) fn wavelet(
        &self,
        src: &[Cx<T>],
        h: &SparseFilter2d<T>,
        ko: usize,
        z: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let (mo, no) = (self.mp >> ko, self.np >> ko);
        h.fold(src, mo, no, z, tmp);
        self.plans.levels[ko].inverse_t(z, tmp, scratch);
    }

    /// [`Self::wavelet`], then `u = |z|`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn wavelet_modulus(
        &self,
        src: &[Cx<T>],
        h: &SparseFilter2d<T>,
        ko: usize,
        z: &mut [Cx<T>],
        u: &mut [T],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        self.wavelet(src, h, ko, z, tmp, scratch);
        let len = (self.mp >> ko) * (self.np >> ko);
        modulus(&z[..len], &mut u[..len]);
    }

    /// Writes `|z|` into the real (`imag = false`) or imaginary part of `pack`. Two real
    /// moduli share one complex array so that one FFT serves both.
    pub(super) fn pack_modulus(z: &[Cx<T>], imag: bool, pack: &mut [Cx<T>]) {
        scattering_engine::simd::pack_modulus::<T>(
            bytemuck::cast_slice(z),
            bytemuck::cast_slice_mut(pack),
            imag,
        )
    }

    /// Complex (transposed) spectrum of a real image `u` at level `k` into `out`.
    pub(super) fn spectrum(
        &self,
        u: &[T],
        k: usize,
        out: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let len = (self.mp >> k) * (self.np >> k);
        for (o, &v) in out[..len].iter_mut().zip(&u[..len]) {
            *o = Cx::new(v, T::zero());
        }
        self.plans.levels[k].forward_t(out, tmp, scratch);
    }

    /// Rows and columns of the unpadded image on the grid subsampled by 2^k.
    pub(super) fn region(&self, k: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (m, n) = self.params.shape;
        let d = 1usize << k;
        (
            self.pad.0.div_ceil(d)..(self.pad.0 + m).div_ceil(d),
            self.pad.1.div_ceil(d)..(self.pad.1 + n).div_ceil(d),
        )
    }

    /// Means of the real and imaginary parts of a packed pair of moduli (level `k`) over
    /// the unpadded image: global averaging.
    pub(super) fn region_means(&self, u: &[Cx<T>], k: usize) -> (T, T) {
        let nk = self.np >> k;
        let (rows, cols) = self.region(k);
        let count = (rows.len() * cols.len()) as f64;
        let (re, im) = rows
            .flat_map(|i| u[i * nk + cols.start..i * nk + cols.end].iter())
            .fold((0.0, 0.0), |(a, b), v| {
                (a + v.re.as_f64(), b + v.im.as_f64())
            });
        (T::of(re / count), T::of(im / count))
    }

    /// Low-pass branch from the level-`k` spectrum of `a + i b`, two real arrays: fold to
    /// level J, inverse, unpad. Since the low-pass filter is real and even, the result is
    /// `lowpass(a) + i lowpass(b)`: `a`'s channel gets the real part, `b`'s (if any) the
    /// imaginary part.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn lowpass_pair(
        &self,
        src: &[Cx<T>],
        k: usize,
        buf: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        mut oa: ArrayViewMut2<T>,
        ob: Option<ArrayViewMut2<T>>,
    ) {
        let j = self.params.j;
        let (mo, no) = (self.mp >> j, self.np >> j);
        self.phi[k].fold(src, mo, no, buf, tmp);
        self.plans.levels[j].inverse_t(buf, tmp, scratch);
        let c = self.crop;
        for ((a, b), o) in oa.indexed_iter_mut() {
            *o = buf[(a + c) * no + b + c].re;
        }
        if let Some(mut ob) = ob {
            for ((a, b), o) in ob.indexed_iter_mut() {
                *o = buf[(a + c) * no + b + c].im;
            }
        }
    }

    /// Order 0 of one loaded image into channel 0 of `out`.
    pub(super) fn order0_forward(&self, ws: &mut Workspace2d<T>, out: ArrayViewMut2<T>) {
        let Workspace2d {
            img,
            x,
            buf,
            tmp,
            scratch,
            ..
        } = ws;
        if self.global {
            let mean = img.iter().map(|v| v.as_f64()).sum::<f64>() / img.len() as f64;
            let mut out = out;
            out[[0, 0]] = T::of(mean);
        } else {
            self.lowpass_pair(x, 0, buf, tmp, scratch, out, None);
        }
    }

    /// Writes the (one or two) values or maps of a packed pair to the channels `ca` and
    /// `cb`: low-pass of the packed spectrum `spec`, or global means of the packed moduli
    /// `pack`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn emit_pair(
        &self,
        pack: &mut [Cx<T>],
        k: usize,
        ca: usize,
        cb: Option<usize>,
        need_spectrum: bool,
        buf: &mut [Cx<T>],
        tmp: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        out: &mut ArrayViewMut3<T>,
    ) {
        if self.global {
            let (a, b) = self.region_means(pack, k);
            out[[ca, 0, 0]] = a;
            if let Some(cb) = cb {
                out[[cb, 0, 0]] = b;
            }
            if need_spectrum {
                self.plans.levels[k].forward_t(pack, tmp, scratch);
            }
            return;
        }
        let spatial = self.spatial[k]
            .as_ref()
            .filter(|f| !need_spectrum && f.tmp_len() <= buf.len());
        if let Some(f) = spatial {
            // Straight from the moduli, without their spectrum.
            let n = self.out.0 * self.out.1;
            let o: &mut [T] = bytemuck::cast_slice_mut(&mut tmp[..n]);
            let (oa, ob) = o.split_at_mut(n);
            f.apply(pack, buf, oa, cb.is_some().then_some(&mut *ob));
            for (c, v) in std::iter::once((ca, &*oa)).chain(cb.map(|cb| (cb, &*ob))) {
                out.index_axis_mut(Axis(0), c)
                    .iter_mut()
                    .zip(v)
                    .for_each(|(d, &v)| *d = v);
            }
            return;
        }
        self.plans.levels[k].forward_t(pack, tmp, scratch);
        let (oa, ob) = match cb {
            Some(cb) => {
                let (oa, ob) =
                    out.multi_slice_mut((ndarray::s![ca, .., ..], ndarray::s![cb, .., ..]));
                (oa, Some(ob))
            }
            None => (out.index_axis_mut(Axis(0), ca), None),
        };
        self.lowpass_pair(pack, k, buf, tmp, scratch, oa, ob);
    }

    /// One or two order-1 paths of the same scale and their order-2 children, from the
    /// image spectrum `xs`. Member `g`'s order-1 channel goes to `out[slot(g, 0)]` and its
    /// child `k` to `out[slot(g, 1 + k)]`. Real moduli travel in pairs (`a + i b`), so one
    /// FFT and one low-pass serve two paths.
    pub(super) fn group_forward(
        &self,
        xs: &[Cx<T>],
        group: &[usize],
        w: &mut Workspace2d<T>,
        out: &mut ArrayViewMut3<T>,
        slot: &dyn Fn(usize, usize) -> usize,
    ) {
        let Workspace2d {
            z1,
            u1c,
            pk1,
            s1b,
            pk2,
            buf,
            tmp,
            scratch,
            ..
        } = w;
        let members = group.iter().map(|&i| &self.first[i]);
        let pair = group.len() == 2;
        let j1 = self.first[group[0]].j1;
        let (m1, n1) = (self.mp >> j1, self.np >> j1);
        let len1 = m1 * n1;
        for (g, f) in members.clone().enumerate() {
            self.wavelet(xs, &self.psi[f.n1][0], j1, z1, tmp, scratch);
            Self::pack_modulus(&z1[..len1], g == 1, &mut pk1[..len1]);
        }
        let children = members.clone().any(|f| !f.children.is_empty());
        let cb = pair.then(|| slot(1, 0));
        self.emit_pair(pk1, j1, slot(0, 0), cb, children, buf, tmp, scratch, out);
        if !children {
            return;
        }
        if pair {
            // The transposed spectrum is (n1, m1).
            split_pair(&pk1[..len1], n1, m1, &mut u1c[..len1], &mut s1b[..len1]);
        }
        for (g, f) in members.enumerate() {
            let spec: &[Cx<T>] = match (pair, g) {
                (false, _) => pk1,
                (true, 0) => u1c,
                _ => s1b,
            };
            let mut k = 0;
            while k < f.children.len() {
                let c = &f.children[k];
                let pair = f.children.get(k + 1).filter(|d| d.j2 == c.j2);
                let len2 = (self.mp >> c.j2) * (self.np >> c.j2);
                for (imag, d) in std::iter::once(c).chain(pair).enumerate() {
                    self.wavelet(spec, &self.psi[d.n2][j1], c.j2, z1, tmp, scratch);
                    Self::pack_modulus(&z1[..len2], imag == 1, &mut pk2[..len2]);
                }
                let cb = pair.map(|_| slot(g, 2 + k));
                self.emit_pair(pk2, c.j2, slot(g, 1 + k), cb, false, buf, tmp, scratch, out);
                k += 1 + usize::from(pair.is_some());
            }
        }
    }

    /// One loaded image, every path in turn (batches spread over threads).
    pub(super) fn forward_one(&self, ws: &mut Workspace2d<T>, mut out: ArrayViewMut3<T>) {
        self.order0_forward(ws, out.index_axis_mut(Axis(0), 0));
        let xs = std::mem::take(&mut ws.x);
        for group in &self.groups {
            let slot = |g: usize, k: usize| {
                let f = &self.first[group[g]];
                if k == 0 {
                    f.channel
                } else {
                    f.children[k - 1].channel
                }
            };
            self.group_forward(&xs, group, ws, &mut out, &slot);
        }
        ws.x = xs;
    }

    /// One loaded image with its groups of order-1 paths spread over threads (small
    /// batches).
    pub(super) fn forward_one_parallel(&self, ws: &mut Workspace2d<T>, mut out: ArrayViewMut3<T>) {
        self.order0_forward(ws, out.index_axis_mut(Axis(0), 0));
        let xs = &ws.x;
        let blocks: Vec<Array3<T>> = self
            .groups
            .par_iter()
            .map_init(
                || self.workspace(false),
                |w, group| {
                    let sizes: Vec<usize> = group
                        .iter()
                        .map(|&i| 1 + self.first[i].children.len())
                        .collect();
                    let total = sizes.iter().sum();
                    let mut block = Array3::zeros((total, self.out.0, self.out.1));
                    let slot = |g: usize, k: usize| if g == 0 { k } else { sizes[0] + k };
                    self.group_forward(xs, group, w, &mut block.view_mut(), &slot);
                    block
                },
            )
            .collect();
        for (group, block) in self.groups.iter().zip(&blocks) {
            let mut row = 0;
            for &i in group {
                let f = &self.first[i];
                out.index_axis_mut(Axis(0), f.channel)
                    .assign(&block.index_axis(Axis(0), row));
                for (k, c) in f.children.iter().enumerate() {
                    out.index_axis_mut(Axis(0), c.channel)
                        .assign(&block.index_axis(Axis(0), row + 1 + k));
                }
                row += 1 + f.children.len();
            }
        }
    }
}
