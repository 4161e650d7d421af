//! The forward pass.

use super::*;
use crate::common::driver::for_each_sample;
use crate::common::homogeneity::Rescale;
use crate::joint::layer::{fft, ifft};
use ndarray::{Array3, ArrayView2, ArrayViewMut3};

impl<T: Real> SpiralScattering<T> {
    /// Coefficients of a batch `(B, N)`: `(B, channels, time)`.
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView2<A>) -> Result<Array3<T>> {
        crate::common::checks::check_batch_shape("input", x.shape(), &self.sample_dims(), None)?;
        crate::common::checks::check_finite(&x)?;
        let mut out = Array3::zeros((x.nrows(), self.meta.len(), self.layer.t_out));
        self.exec
            .install(|| self.forward_checked(x, out.view_mut()));
        Ok(out)
    }

    pub(super) fn forward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        out: ArrayViewMut3<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(false),
            |ws, _, sig, mut o, _| {
                let r = Rescale::of::<T, _>(sig.iter().copied());
                self.layer
                    .first_layer(sig, r, &mut ws.x, &mut ws.z1, &mut ws.u1h, &mut ws.scratch);
                self.coefficients(ws);
                for (d, s) in o.iter_mut().zip(&ws.out) {
                    *d = *s;
                }
                r.output(o.iter_mut());
            },
        );
    }

    /// Every channel of one sample into `ws.out`, after the first layer.
    fn coefficients(&self, ws: &mut Workspace<T>) {
        let t_out = self.layer.t_out;
        let (s0, rest) = ws.out.split_at_mut(t_out);
        self.layer
            .zeroth_order(&ws.x, s0, &mut ws.line, &mut ws.scratch);
        let crop = self.layer.crop.clone();
        for (n1, o) in rest.chunks_exact_mut(t_out).take(ws.u1h.len()).enumerate() {
            if self.layer.global {
                // The sum of U1 over the padded axis: its spectrum's DC bin.
                o[0] = ws.u1h[n1][0].re;
            } else {
                self.layer
                    .s1_line(n1, &ws.u1h[n1], &mut ws.line, &mut ws.scratch);
                for (d, c) in o.iter_mut().zip(&ws.line[crop.clone()]) {
                    *d = c.re;
                }
            }
        }
        let first = 1 + ws.u1h.len();
        let n_pairs = self.n_pairs();
        let ms = self.layer.len(self.layer.s);
        // Order 1 on the spiral: S1 is already averaged in time; crop or sum.
        self.grid_spectra(ws, None);
        self.spiral_means(ws, ms);
        for p in 0..n_pairs {
            let o = &mut ws.out[(first + p) * t_out..(first + p + 1) * t_out];
            let v = &ws.v[p * ms..(p + 1) * ms];
            if self.layer.global {
                o[0] = v.iter().fold(T::zero(), |a, &b| a + b);
            } else {
                o.copy_from_slice(&v[crop.clone()]);
            }
        }
        let first = first + n_pairs;
        for (g, &(n2, n1m)) in self.groups.iter().enumerate() {
            self.grid_spectra(ws, Some((n2, n1m)));
            let m = self.layer.len(self.layer.psi2[n2].j);
            self.spiral_means(ws, m);
            for p in 0..n_pairs {
                let c = first + g * n_pairs + p;
                let o = &mut ws.out[c * t_out..(c + 1) * t_out];
                let v = &ws.v[p * m..(p + 1) * m];
                if self.layer.global {
                    o[0] = v.iter().fold(T::zero(), |a, &b| a + b);
                } else {
                    self.layer.lowpass_real(
                        self.layer.psi2[n2].j,
                        v,
                        &mut ws.rline2[..ms],
                        &mut ws.rline,
                        &mut ws.line,
                        &mut ws.line2,
                        &mut ws.scratch,
                    );
                    o.copy_from_slice(&ws.rline2[crop.clone()]);
                }
            }
        }
    }

    /// `ws.grid`: for each time, the 2D spectrum of the spiral grid `(chroma, octave)`,
    /// zero off the spiral: of `S1` (level `s`) for `group = None`, of `U1 * psi2[n2]`
    /// (level `j2`, `n1 < n1m`) for `Some((n2, n1m))`. Returns the number of times.
    pub(super) fn grid_spectra(
        &self,
        ws: &mut Workspace<T>,
        group: Option<(usize, usize)>,
    ) -> usize {
        let (m, n1m) = match group {
            Some((n2, n1m)) => (self.layer.len(self.layer.psi2[n2].j), n1m),
            None => (self.layer.len(self.layer.s), self.n_geo),
        };
        let (q1, no, gl) = (self.params.q.0, self.n_oct_pad, self.grid_len());
        let z = Cx::new(T::zero(), T::zero());
        ws.grid[..m * gl].iter_mut().for_each(|c| *c = z);
        for n1 in 0..n1m {
            match group {
                Some((n2, _)) => {
                    self.layer
                        .y2_line(n1, n2, &ws.u1h[n1], &mut ws.line, &mut ws.scratch)
                }
                None => self
                    .layer
                    .s1_line(n1, &ws.u1h[n1], &mut ws.line, &mut ws.scratch),
            }
            let (row, oct) = ((n1 % q1) * no, n1 / q1);
            for (op, _) in self.oct_src.iter().enumerate().filter(|(_, &o)| o == oct) {
                for (t, c) in ws.line[..m].iter().enumerate() {
                    ws.grid[t * gl + row + op] = *c;
                }
            }
        }
        for t in 0..m {
            self.fft2(
                &mut ws.grid[t * gl..(t + 1) * gl],
                false,
                &mut ws.line,
                &mut ws.scratch,
            );
        }
        m
    }

    /// `ws.zt (b, octave, chroma frequency)`: time `t`'s grid spectrum filtered along
    /// octave by each octave filter, back in octaves, on the spiral's octaves only.
    pub(super) fn octave_filtered(&self, ws: &mut Workspace<T>, t: usize) {
        let (q1, no, lo, n_oct) = (self.params.q.0, self.n_oct_pad, self.oct_left, self.n_oct);
        let gl = self.grid_len();
        for (b, ho) in self.ho.iter().enumerate() {
            for c in 0..q1 {
                let row = &ws.grid[t * gl + c * no..t * gl + (c + 1) * no];
                for ((l, s), &h) in ws.line[..no].iter_mut().zip(row).zip(ho) {
                    *l = s * h;
                }
                ifft(&self.plans_o, 0, &mut ws.line[..no], &mut ws.scratch);
                for o in 0..n_oct {
                    ws.zt[(b * n_oct + o) * q1 + c] = ws.line[lo + o];
                }
            }
        }
    }

    /// `ws.cell (octave, chroma)`: pair `(a, b)` on the spiral, from `ws.zt`.
    pub(super) fn pair_on_spiral(&self, ws: &mut Workspace<T>, a: usize, b: usize) {
        let (q1, n_oct) = (self.params.q.0, self.n_oct);
        let zb = &ws.zt[b * n_oct * q1..(b + 1) * n_oct * q1];
        for (row, src) in ws.cell.chunks_exact_mut(q1).zip(zb.chunks_exact(q1)) {
            for ((c, s), &h) in row.iter_mut().zip(src).zip(&self.hc[a]) {
                *c = s * h;
            }
        }
        // Along chroma: one call over the octaves' rows.
        ifft(&self.plans_c, 0, &mut ws.cell, &mut ws.scratch);
    }

    /// `ws.v (pair, t)`: the mean over the spiral of `|grid * pair|`, for `m` times. The
    /// octave filtering is shared by the chroma filters, and only the spiral's own octaves
    /// go on to the chroma filtering.
    fn spiral_means(&self, ws: &mut Workspace<T>, m: usize) {
        let norm = T::of(1.0 / (self.params.q.0 * self.n_oct) as f64);
        let nb = self.ho.len();
        for t in 0..m {
            self.octave_filtered(ws, t);
            for a in 0..self.hc.len() {
                for b in 0..nb {
                    self.pair_on_spiral(ws, a, b);
                    let sum = ws
                        .cell
                        .iter()
                        .fold(T::zero(), |s, c| s + (c.re * c.re + c.im * c.im).sqrt());
                    ws.v[(a * nb + b) * m + t] = sum * norm;
                }
            }
        }
    }

    /// Unnormalised 2D FFT of one `(chroma, octave)` grid, in place.
    pub(super) fn fft2(
        &self,
        g: &mut [Cx<T>],
        inverse: bool,
        line: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let (q1, no) = (self.params.q.0, self.n_oct_pad);
        // Along octave: contiguous rows, one call.
        if inverse {
            ifft(&self.plans_o, 0, g, scratch);
        } else {
            fft(&self.plans_o, 0, g, scratch);
        }
        for o in 0..no {
            for c in 0..q1 {
                line[c] = g[c * no + o];
            }
            if inverse {
                ifft(&self.plans_c, 0, &mut line[..q1], scratch);
            } else {
                fft(&self.plans_c, 0, &mut line[..q1], scratch);
            }
            for c in 0..q1 {
                g[c * no + o] = line[c];
            }
        }
    }
}
