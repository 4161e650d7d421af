//! The forward pass: the input spectrum on every thread, then the work groups from a
//! queue, longest first; within a group, outputs share FFTs where the symmetries allow.

use super::*;
use crate::common::homogeneity::Rescale;
use crate::error::Result;
use ndarray::{Array4, ArrayView4, ArrayViewMut4, Axis};
use rayon::slice::{ParallelSlice, ParallelSliceMut};
use scattering_engine::line_filter::fill_lines;
use scattering_engine::{Cx, Real};
use std::sync::atomic::{AtomicUsize, Ordering};

impl<T: Real> SolidHarmonicScattering3d<T> {
    /// Invariants of a batch `(batch, Z, Y, X)`, as `(batch, paths, L + 1, powers)`,
    /// Kymatio's layout. Work is spread over groups of one `l` and one or two scales `j1`,
    /// so one volume uses all cores.
    pub fn forward(&self, x: ArrayView4<f64>) -> Result<Array4<f64>> {
        self.check(&x)?;
        let (p, ln, qn) = self.output_shape();
        let mut out = Array4::zeros((x.dim().0, p, ln, qn));
        self.exec
            .install(|| self.forward_checked(x, out.view_mut()));
        Ok(out)
    }

    /// The forward pass of a checked batch into `out`, any real type in and out (the
    /// integrals are summed in `f64` and rounded once).
    pub(super) fn forward_checked<A: Copy + Into<f64> + Sync, O: Real>(
        &self,
        x: ArrayView4<A>,
        mut out: ArrayViewMut4<O>,
    ) {
        for (b, mut ob) in out.axis_iter_mut(Axis(0)).enumerate() {
            let (xs, r) = self.input_spectrum(x.index_axis(Axis(0), b));
            // The integral of U^q of 2^k x is 2^(k q) times that of x.
            let unscale: Vec<f64> = self
                .params
                .integral_powers
                .iter()
                .map(|&q| r.power(q))
                .collect();
            // Each worker takes the next group, longest first (rayon's halving split would
            // hand one thread the three longest groups).
            let groups = self.groups();
            let next = AtomicUsize::new(0);
            let results: Vec<(usize, usize, Vec<f64>)> = (0..rayon::current_num_threads())
                .into_par_iter()
                .flat_map_iter(|_| {
                    let mut w = self.work(false);
                    let mut res = Vec::new();
                    while let Some((l, js)) = groups.get(next.fetch_add(1, Ordering::Relaxed)) {
                        res.extend(self.forward_group(&xs, *l, js, &mut w));
                    }
                    res
                })
                .collect();
            for (p, l, vals) in results {
                for (i, v) in vals.into_iter().enumerate() {
                    ob[[p, l, i]] = O::of(v * unscale[i]);
                }
            }
        }
    }

    /// Spectrum of one input volume, its FFT spread over the threads: everything after it
    /// needs it, so one thread alone would leave the others waiting. A volume whose
    /// magnitude would overflow or underflow the squares of the modulus is scaled by `2^k`
    /// (exact), and the scaling returned with the spectrum.
    pub(super) fn input_spectrum<A: Copy + Into<f64> + Sync>(
        &self,
        x: ndarray::ArrayView3<A>,
    ) -> (Vec<Cx<T>>, Rescale) {
        let r = Rescale::of::<T, _>(x.iter().copied());
        let load = |i: A| Cx::new(T::of(r.input(i)), T::zero());
        let z = Cx::new(T::zero(), T::zero());
        let mut v = vec![z; self.len()];
        let slab = self.params.shape.1 * self.params.shape.2;
        match x.as_slice() {
            Some(xs) => v
                .par_chunks_mut(slab)
                .zip(xs.par_chunks(slab))
                .for_each(|(o, i)| o.iter_mut().zip(i).for_each(|(o, &i)| *o = load(i))),
            None => v.iter_mut().zip(x.iter()).for_each(|(o, &i)| *o = load(i)),
        }
        self.plan.process_parallel(&mut v, false);
        (v, r)
    }

    pub(super) fn spectrum_of_real(
        &self,
        u: &[T],
        out: &mut [Cx<T>],
        w: &mut Workspace3dRef<'_, T>,
    ) {
        scattering_engine::simd::dispatch(Interleave { a: u, b: None, out });
        self.plan.process(out, w.scratch, false);
    }

    /// Forward invariants of order `l` for the first-order scales `js` and their
    /// second-order children, as `(path, l, integrals)`. The moduli are computed in one
    /// list, the first-order ones with children first (their spectra feed the second
    /// order), then the other first-order ones, then the second-order ones by `j2` (so that
    /// neighbours share a wavelet and its pruning); when [`Self::packable`], neighbours in
    /// the list go in pairs, their `m = 0` parts sharing one inverse FFT.
    pub(super) fn forward_group(
        &self,
        xs: &[Cx<T>],
        l: usize,
        js: &[usize],
        w: &mut Workspace3d<T>,
    ) -> Vec<(usize, usize, Vec<f64>)> {
        let len = self.len();
        let jj = self.params.j;
        let order2 = self.params.max_order == 2;
        let z = Cx::new(T::zero(), T::zero());
        if w.ub.len() != len {
            w.ub = vec![T::zero(); len];
        }
        // Moduli: (source, wavelet scale, path); source None is the input, Some(k) the
        // spectrum of parents[k].
        let parents: Vec<usize> = js.iter().copied().filter(|&j| order2 && j < jj).collect();
        let mut jobs: Vec<(Option<usize>, usize, usize)> =
            parents.iter().map(|&j| (None, j, self.path1[j])).collect();
        jobs.extend(
            js.iter()
                .filter(|j| !parents.contains(j))
                .map(|&j| (None, j, self.path1[j])),
        );
        let mut second: Vec<(usize, usize, usize)> = parents
            .iter()
            .enumerate()
            .flat_map(|(k, &j1)| (j1 + 1..=jj).map(move |j2| (k, j1, j2)))
            .collect();
        second.sort_by_key(|&(_, j1, j2)| (j2, j1));
        jobs.extend(second.into_iter().map(|(k, j1, j2)| {
            let p = self.path2[j1][j2].unwrap_or_else(|| unreachable!());
            (Some(k), j2, p)
        }));
        // The parents' spectra: the two workspace buffers, more for larger groups.
        let mut specs = std::mem::take(&mut w.specs);
        if parents.len() > specs.len() {
            specs.resize_with(parents.len(), || vec![z; len]);
        }
        let Workspace3d {
            scratch,
            zs1,
            u1,
            ub,
            planes,
            ..
        } = w;
        let mut tw = Workspace3dRef {
            scratch,
            planes: Some(planes),
        };
        let pack = self.packable[l];
        let mut res = Vec::with_capacity(jobs.len());
        let mut i = 0;
        while i < jobs.len() {
            // A pair's two m = 0 wavelets must both have line forms or both stored values
            // (see `filtered_ifft`); a line form is refused only at high orders.
            let lined = |k: usize| self.psi[l][jobs[k].1][l].line.is_some();
            let take = if pack && i + 1 < jobs.len() && lined(i) == lined(i + 1) {
                2
            } else {
                1
            };
            {
                let src = |s: Option<usize>| -> &[Cx<T>] { s.map_or(xs, |k| &specs[k]) };
                let (a, sa) = (jobs[i], src(jobs[i].0));
                if take == 2 {
                    let (b, sb) = (jobs[i + 1], src(jobs[i + 1].0));
                    self.m0_pair(l, (sa, a.1), (sb, b.1), u1, ub, &mut zs1[0], &mut tw);
                    self.add_nonzero_m(sa, l, a.1, u1, &mut zs1[0], &mut tw);
                    self.add_nonzero_m(sb, l, b.1, ub, &mut zs1[0], &mut tw);
                    res.push((a.2, l, self.modulus_integrals(u1)));
                    res.push((b.2, l, self.modulus_integrals(ub)));
                } else {
                    // One buffer: a workspace the backward pass used holds 2l + 1, which would turn
                    // off the symmetric half (slower, and other bits).
                    self.sum_squares(sa, l, a.1, u1, &mut zs1[..1], &mut tw);
                    res.push((a.2, l, self.modulus_integrals(u1)));
                }
            }
            // Parents come first, so a pair holds two, the first alone, or none.
            match (i < parents.len(), take == 2 && i + 1 < parents.len()) {
                (true, true) => {
                    let (sa, rest) = specs[i..].split_at_mut(1);
                    let (sa, sb) = (&mut sa[0], &mut rest[0]);
                    scattering_engine::simd::dispatch(Interleave {
                        a: u1,
                        b: Some(ub),
                        out: sa,
                    });
                    self.plan.process(sa, tw.scratch, false);
                    split_pair_3d(sa, sb, self.params.shape);
                }
                (true, false) => self.spectrum_of_real(u1, &mut specs[i], &mut tw),
                _ => {}
            }
            i += take;
        }
        w.specs = specs;
        res
    }

    /// `z = ifft(src_a h_a)`, or `ifft(src_a h_a + i src_b h_b)` with `b`, pruned to the
    /// filter's support when there is one filter (or twice the same). Filters with line
    /// forms ([`LineFilter`]) are formed block by block inside the FFT's first pass, the
    /// others multiplied in from their stored values first.
    pub(super) fn filtered_ifft(
        &self,
        a: (&SparseComplex<T>, &[Cx<T>]),
        b: Option<(&SparseComplex<T>, &[Cx<T>])>,
        z: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let support = match b {
            Some((fb, _)) if !std::ptr::eq(fb, a.0) => None,
            _ => a.0.lines.as_ref(),
        };
        let o = self.params.shape.2;
        let lb = b.map(|(fb, sb)| (fb.line.as_ref(), sb));
        match (a.0.line.as_ref(), lb) {
            (Some(la), None) => {
                self.plan
                    .process_filled(z, scratch, true, support, &mut |l0, out| {
                        let src = &a.1[l0 * o..l0 * o + out.len()];
                        fill_lines((la, src), None, out, l0)
                    })
            }
            (Some(la), Some((Some(lb), sb))) => {
                self.plan
                    .process_filled(z, scratch, true, support, &mut |l0, out| {
                        let r = l0 * o..l0 * o + out.len();
                        fill_lines((la, &a.1[r.clone()]), Some((lb, &sb[r])), out, l0)
                    })
            }
            // Both stored (`forward_group` pairs no line form with a stored filter: a
            // filter with a line form keeps no values).
            _ => {
                a.0.mul_into(a.1, z);
                if let Some((fb, sb)) = b {
                    fb.mul_add_i(sb, z);
                }
                self.plan.process_pruned(z, scratch, true, support);
            }
        }
    }

    /// `ua = |x_a * psi_{l,0,ja}|^2` and `ub = |x_b * psi_{l,0,jb}|^2` from one inverse FFT:
    /// both outputs are real (real input, real `m = 0` wavelet), so they travel as
    /// `z_a + i z_b`. `a` and `b` are `(spectrum, scale)`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn m0_pair(
        &self,
        l: usize,
        a: (&[Cx<T>], usize),
        b: (&[Cx<T>], usize),
        ua: &mut [T],
        ub: &mut [T],
        z: &mut [Cx<T>],
        w: &mut Workspace3dRef<'_, T>,
    ) {
        let (fa, fb) = (&self.psi[l][a.1][l], &self.psi[l][b.1][l]);
        self.filtered_ifft((fa, a.0), Some((fb, b.0)), z, w.scratch);
        scattering_engine::simd::dispatch(SplitSquares { z, ua, ub });
    }

    /// Adds `sum_{m != 0} |src * psi_{l,m,j}|^2` to `u`, each `z_{-m}` from `z_m` (needs
    /// the mirror symmetry of `(l, j)`).
    pub(super) fn add_nonzero_m(
        &self,
        src: &[Cx<T>],
        l: usize,
        j: usize,
        u: &mut [T],
        z: &mut [Cx<T>],
        w: &mut Workspace3dRef<'_, T>,
    ) {
        let (Some(planes), Some(pw)) = (self.sym[l][j].as_ref(), w.planes.as_deref_mut()) else {
            return;
        };
        for (m, f) in self.psi[l][j]
            .iter()
            .enumerate()
            .skip(l + 1)
            .map(|(mi, f)| (mi - l, f))
        {
            self.filtered_ifft((f, src), None, z, w.scratch);
            self.add_mirrored(src, z, &planes[m - 1], m % 2 == 1, u, pw);
        }
    }

    /// Adds `|z_m|^2 + |z_{-m}|^2` to `u`, with `z_{-m} = s conj(z_m) + C`: `s = -1` for odd `m`,
    /// `C` the inverse transform of `src * D` on the Nyquist planes (three 2D FFTs).
    pub(super) fn add_mirrored(
        &self,
        src: &[Cx<T>],
        z: &[Cx<T>],
        d: &NyquistPlanes<T>,
        odd: bool,
        u: &mut [T],
        pw: &mut PlaneWork<T>,
    ) {
        if d.planes.iter().all(|p| p.is_empty()) {
            // No correction (the wider wavelets vanish on the Nyquist planes): |z_-m| = |z_m|.
            scattering_engine::simd::dispatch(AddSquares {
                u,
                z,
                scale: T::of(2.0),
            });
            return;
        }
        let (m0, n0, o0) = self.params.shape;
        let idx = |a: usize, b: usize, c: usize| (a * n0 + b) * o0 + c;
        let sizes = [n0 * o0, m0 * o0, m0 * n0];
        for (p, plane) in d.planes.iter().enumerate() {
            let buf = &mut pw.planes[p];
            if plane.is_empty() {
                continue;
            }
            for (t, v) in buf[..sizes[p]].iter_mut().enumerate() {
                let k = match p {
                    0 => idx(m0 / 2, t / o0, t % o0),
                    1 => idx(t / o0, n0 / 2, t % o0),
                    _ => idx(t / n0, t % n0, o0 / 2),
                };
                *v = src[k] * plane[t];
            }
            self.plane_plans[p].levels[0].process(buf, &mut pw.tmp, &mut pw.scratch, true);
        }
        scattering_engine::simd::dispatch(MirrorRows {
            shape: self.params.shape,
            z,
            planes: &pw.planes,
            present: d.planes.each_ref().map(|p| !p.is_empty()),
            sign: if odd { -T::one() } else { T::one() },
            u,
        });
    }

    /// `u = sum_m |ifft(src * psi_m)|^2` for order `l` and scale `j`; with `2 l + 1`
    /// buffers in `zs` (the backward pass), the complex `z_m` stay there.
    pub(super) fn sum_squares(
        &self,
        src: &[Cx<T>],
        l: usize,
        j: usize,
        u: &mut [T],
        zs: &mut [Vec<Cx<T>>],
        w: &mut Workspace3dRef<'_, T>,
    ) {
        let len = self.len();
        u[..len].iter_mut().for_each(|v| *v = T::zero());
        // Without the z_m to keep, z_{-m} follows from z_m (real input): half the FFTs.
        let sym = if zs.len() == 1 {
            self.sym[l][j].as_ref()
        } else {
            None
        };
        for (mi, f) in self.psi[l][j].iter().enumerate() {
            if sym.is_some() && mi < l {
                continue;
            }
            // One buffer serves every m when the z_m need not be kept.
            let z = &mut zs[mi.min(zs.len() - 1)];
            self.filtered_ifft((f, src), None, z, w.scratch);
            match (sym, w.planes.as_deref_mut()) {
                // |z_m|^2 and |z_{-m}|^2 in one pass over z and u.
                (Some(planes), Some(pw)) if mi > l => {
                    let m = mi - l;
                    self.add_mirrored(src, z, &planes[m - 1], m % 2 == 1, u, pw);
                }
                _ => scattering_engine::simd::dispatch(AddSquares {
                    u,
                    z,
                    scale: T::one(),
                }),
            }
        }
    }

    /// `U = sqrt(sum_m |ifft(src * psi_m)|^2)`: [`Self::sum_squares`], then the root.
    pub(super) fn covariant_modulus(
        &self,
        src: &[Cx<T>],
        l: usize,
        j: usize,
        u: &mut [T],
        zs: &mut [Vec<Cx<T>>],
        w: &mut Workspace3dRef<'_, T>,
    ) {
        self.sum_squares(src, l, j, u, zs, w);
        scattering_engine::simd::dispatch(Sqrt { u });
    }

    /// Turns `u = sum_m |z_m|^2` into `U = sqrt(u)` and returns `sum_voxels U^q` for each
    /// power, in one pass for the usual powers 1/2, 1 and 2 (the rest take a pass each).
    pub(super) fn modulus_integrals(&self, u: &mut [T]) -> Vec<f64> {
        let sums = scattering_engine::simd::sqrt_sums(u)
            .unwrap_or_else(|| scattering_engine::simd::dispatch(SqrtSums { u: &mut *u }));
        self.params
            .integral_powers
            .iter()
            .map(|&q| match q {
                0.5 => sums[0],
                1.0 => sums[1],
                2.0 => sums[2],
                _ => scattering_engine::simd::dispatch(PowerSum { u, q }),
            })
            .collect()
    }
}
