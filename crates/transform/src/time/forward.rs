//! The forward pass: per signal, the padded spectrum, then every first-order path with
//! its second-order children, each modulus averaged as it is computed.

use super::*;
use crate::common::driver::for_each_sample;
use crate::common::homogeneity::Rescale;
use crate::common::padding::{pad_reflect, Padding};
use crate::common::Averaging;
use crate::error::{Result, TransformError};
use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut1, ArrayViewMut2, ArrayViewMut3, Axis};
use scattering_engine::fourier1d::{modulus, SparseFilter};
use scattering_engine::{Cx, Real};

impl<T: Real> Scattering1d<T> {
    /// Scattering coefficients of a batch `(batch, N)`, as `(batch, channel, time)`.
    /// Rows are transformed in parallel.
    pub fn forward<A: Copy + Into<f64> + Sync>(&self, x: ArrayView2<A>) -> Result<Array3<T>> {
        self.check_input(&x)?;
        let (c, t) = self.output_shape();
        let mut out = Array3::zeros((x.nrows(), c, t));
        self.exec
            .install(|| self.forward_checked(x, out.view_mut()));
        Ok(out)
    }

    /// The forward pass of a checked batch into `out` (every element is written).
    pub(super) fn forward_checked<A: Copy + Into<f64> + Sync>(
        &self,
        x: ArrayView2<A>,
        out: ArrayViewMut3<T>,
    ) {
        for_each_sample(
            x,
            out,
            || self.workspace(false),
            |ws, _, row, mut o, spread| {
                let r = Rescale::of::<T, _>(row.iter().copied());
                ws.load(row.iter().map(|&v| T::of(r.input(v))));
                self.forward_one(ws, o.view_mut(), spread);
                r.output(o.iter_mut());
            },
        );
    }

    /// Scattering coefficients of one signal, as `(channel, time)`.
    pub fn forward_signal<A: Copy + Into<f64> + Sync>(&self, x: &[A]) -> Result<Array2<T>> {
        let view = ArrayView2::from_shape((1, x.len()), x).map_err(|_| TransformError::Shape {
            what: "input",
            expected: format!("({},)", self.params.n),
            got: format!("({},)", x.len()),
        })?;
        Ok(self.forward(view)?.index_axis_move(Axis(0), 0))
    }

    /// Pads the signal into `u0` and writes its half spectrum into `xh`.
    pub(super) fn prepare(&self, ws: &mut Workspace1d<T>) {
        match self.params.padding {
            Padding::Reflect => pad_reflect(&ws.x, self.pad_left, &mut ws.u0),
            Padding::Periodic => ws.u0.copy_from_slice(&ws.x),
        }
        ws.real[..self.n_pad].copy_from_slice(&ws.u0);
        self.plans.levels[0].real_to_half(&mut ws.real, &mut ws.xh, &mut ws.scratch);
    }

    /// `z = ifft(fold(src * h))` at level `k_out`, then `u = |z|`; `src` is the half
    /// spectrum of a real signal at level `ks`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn wavelet_modulus(
        &self,
        src: &[Cx<T>],
        ks: usize,
        h: &SparseFilter<T>,
        k_out: usize,
        z: &mut [Cx<T>],
        u: &mut [T],
        scratch: &mut [Cx<T>],
    ) {
        let m = self.n_pad >> k_out;
        let scale = T::of(1.0 / (self.n_pad >> ks) as f64);
        h.fold_half(src, m, scale, &mut z[..m]);
        self.plans.levels[k_out]
            .inv
            .process_with_scratch(&mut z[..m], scratch);
        modulus(&z[..m], &mut u[..m]);
    }

    /// Averaging of a modulus at level `k`, given in time (`u`) and, for local averaging,
    /// by its half spectrum (`uh`).
    pub(super) fn average_into(
        &self,
        sc: &mut Scratch<T>,
        uh: &[Cx<T>],
        u: &[T],
        k: usize,
        mut out: ArrayViewMut1<T>,
    ) {
        match self.params.average {
            Averaging::Local => {
                let lo = self.out_level;
                let mo = self.n_pad >> lo;
                let scale = T::of(1.0 / (self.n_pad >> k) as f64);
                self.phi[k].fold_half(uh, mo, scale, &mut sc.half[..mo / 2 + 1]);
                self.plans.levels[lo].half_to_real(sc.half, sc.scratch, sc.real);
                let s = self.ind_start[lo];
                for (o, v) in out.iter_mut().zip(&sc.real[s..s + self.t_out]) {
                    *o = *v;
                }
            }
            Averaging::Global => {
                let r = &u[self.ind_start[k]..self.ind_end[k]];
                let sum: f64 = r.iter().map(|v| v.as_f64()).sum();
                out[0] = T::of(sum / r.len() as f64);
            }
            Averaging::None => {
                let s = self.ind_start[k];
                for (o, v) in out.iter_mut().zip(&u[s..s + self.t_out]) {
                    *o = *v;
                }
            }
        }
    }

    /// The order-1 path `f` and its order-2 children, from the half spectrum `xh` of
    /// the padded signal: the order-1 row goes to `out[slot(0)]`, child `k` to
    /// `out[slot(1 + k)]`.
    pub(super) fn first_order_forward(
        &self,
        xh: &[Cx<T>],
        f: &First,
        ws: &mut Workspace1d<T>,
        out: &mut ArrayViewMut2<T>,
        slot: &dyn Fn(usize) -> usize,
    ) {
        let local = self.params.average == Averaging::Local;
        let need_u1_spectrum = local || self.params.max_order >= 2;
        let Workspace1d {
            z1,
            u1,
            u1h,
            z2,
            u2,
            u2h,
            half,
            half_b,
            real,
            scratch,
            ..
        } = ws;
        let mut sc = Scratch {
            half,
            half_b,
            real,
            scratch,
        };
        let m1 = self.n_pad >> f.k1;
        let plan1 = &self.plans.levels[f.k1];
        self.wavelet_modulus(xh, 0, &self.psi1[f.n1], f.k1, z1, u1, sc.scratch);
        if need_u1_spectrum {
            if local {
                // U1 itself is not needed afterwards: let the r2c consume it.
                plan1.real_to_half(u1, u1h, sc.scratch);
            } else {
                sc.real[..m1].copy_from_slice(&u1[..m1]);
                plan1.real_to_half(sc.real, u1h, sc.scratch);
            }
        }
        self.average_into(&mut sc, u1h, u1, f.k1, out.index_axis_mut(Axis(0), slot(0)));
        for (i, c) in f.children.iter().enumerate() {
            let k = f.k1 + c.k2;
            self.wavelet_modulus(u1h, f.k1, &self.psi2[c.n2][f.k1], k, z2, u2, sc.scratch);
            if local {
                self.plans.levels[k].real_to_half(u2, u2h, sc.scratch);
            }
            self.average_into(
                &mut sc,
                u2h,
                u2,
                k,
                out.index_axis_mut(Axis(0), slot(1 + i)),
            );
        }
    }

    /// One signal; `parallel` spreads its first-order paths over threads (small batches).
    pub(super) fn forward_one(
        &self,
        ws: &mut Workspace1d<T>,
        mut out: ArrayViewMut2<T>,
        parallel: bool,
    ) {
        self.prepare(ws);
        {
            let Workspace1d {
                u0,
                xh,
                half,
                half_b,
                real,
                scratch,
                ..
            } = ws;
            let mut sc = Scratch {
                half,
                half_b,
                real,
                scratch,
            };
            self.average_into(&mut sc, xh, u0, 0, out.index_axis_mut(Axis(0), 0));
        }
        let xh = std::mem::take(&mut ws.xh);
        if parallel {
            let blocks: Vec<Array2<T>> = self
                .first
                .par_iter()
                .map_init(
                    || self.workspace(false),
                    |w, f| {
                        let mut block = Array2::zeros((1 + f.children.len(), self.t_out));
                        self.first_order_forward(&xh, f, w, &mut block.view_mut(), &|k| k);
                        block
                    },
                )
                .collect();
            for (f, block) in self.first.iter().zip(&blocks) {
                out.index_axis_mut(Axis(0), f.channel)
                    .assign(&block.index_axis(Axis(0), 0));
                for (i, c) in f.children.iter().enumerate() {
                    out.index_axis_mut(Axis(0), c.channel)
                        .assign(&block.index_axis(Axis(0), 1 + i));
                }
            }
        } else {
            for f in &self.first {
                let slot = |k: usize| {
                    if k == 0 {
                        f.channel
                    } else {
                        f.children[k - 1].channel
                    }
                };
                self.first_order_forward(&xh, f, ws, &mut out, &slot);
            }
        }
        ws.xh = xh;
    }
}
