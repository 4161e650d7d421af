//! Solid harmonic (3D) scattering, Kymatio's `HarmonicScattering3D` with
//! `method='integral'`: rotation-invariant moduli `U[j, l] = sqrt(sum_m |x * psi_{j,l,m}|^2)`,
//! second order `U[j1, j2, l]` from `U[j1, l]`, and the integrals `sum_voxels U^q`;
//! with its backward pass (vector-Jacobian product).

use crate::error::{invalid, Result, TransformError};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, Array4, ArrayView4, Axis};
use rayon::slice::{ParallelSlice, ParallelSliceMut};
use scattering_engine::fourier2d::Plans2d;
use scattering_engine::fourier3d::{LineSupport, Plan3d};
use scattering_engine::line_filter::{fill_lines, LineFilter, Lines};
use scattering_engine::pool::{Pool, Pooled};
use scattering_engine::{Cx, Real};
use scattering_filters::solid_harmonic::{solid_harmonic_3d, solid_harmonic_rows};
use scattering_filters::SolidHarmonicBank;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Parameters of a [`SolidHarmonicScattering3d`].
///
/// ```
/// use scattering_transform::SolidScattering3dParams;
/// let s = SolidScattering3dParams::new((16, 16, 16), 2, 2).build()?;
/// assert_eq!(s.output_shape(), (6, 3, 3)); // paths, l = 0..=L, powers (0.5, 1, 2)
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolidScattering3dParams {
    /// Volume shape `(z, y, x)`.
    pub shape: (usize, usize, usize),
    /// Largest scale index: widths `sigma_0 2^j`, `j = 0..=J`.
    pub j: usize,
    /// Largest harmonic order.
    pub l: usize,
    /// Width of the finest wavelet, in voxels (Kymatio: 1).
    pub sigma0: f64,
    /// Highest scattering order (1 or 2).
    pub max_order: usize,
    /// Exponents `q` of the integrals `sum U^q` (Kymatio: 0.5, 1, 2).
    pub integral_powers: Vec<f64>,
}

impl SolidScattering3dParams {
    /// Kymatio's defaults: sigma_0 = 1, order 2, powers (0.5, 1, 2).
    pub fn new(shape: (usize, usize, usize), j: usize, l: usize) -> Self {
        Self {
            shape,
            j,
            l,
            sigma0: 1.0,
            max_order: 2,
            integral_powers: vec![0.5, 1.0, 2.0],
        }
    }
    /// Width of the finest wavelet.
    pub fn sigma0(mut self, s: f64) -> Self {
        self.sigma0 = s;
        self
    }
    /// Highest order (1 or 2).
    pub fn max_order(mut self, m: usize) -> Self {
        self.max_order = m;
        self
    }
    /// Exponents of the integrals.
    pub fn integral_powers(mut self, q: Vec<f64>) -> Self {
        self.integral_powers = q;
        self
    }
    /// Builds the transform, computing in `f64`.
    pub fn build(self) -> Result<SolidHarmonicScattering3d<f64>> {
        SolidHarmonicScattering3d::new(self)
    }
    /// Builds the transform, computing in `f32`.
    pub fn build_f32(self) -> Result<SolidHarmonicScattering3d<f32>> {
        SolidHarmonicScattering3d::new(self)
    }
}

/// Label of one path (axis 1 of the output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathMeta3d {
    /// Scattering order (1 or 2).
    pub order: usize,
    /// Scale indices.
    pub j: Vec<usize>,
}

/// `U^e` for the exponents of the integral powers' derivatives, with the usual ones
/// (`-1/2`, `0`, `1`, `2`) in closed form.
#[derive(Clone, Copy)]
enum Power {
    InvSqrt,
    One,
    Linear,
    Square,
    Other(f64),
}

impl Power {
    fn of(e: f64) -> Self {
        if e == -0.5 {
            Self::InvSqrt
        } else if e == 0.0 {
            Self::One
        } else if e == 1.0 {
            Self::Linear
        } else if e == 2.0 {
            Self::Square
        } else {
            Self::Other(e)
        }
    }

    /// `u^e` for `u > 0`.
    #[inline]
    fn at(self, u: f64) -> f64 {
        match self {
            Self::InvSqrt => 1.0 / u.sqrt(),
            Self::One => 1.0,
            Self::Linear => u,
            Self::Square => u * u,
            Self::Other(e) => u.powf(e),
        }
    }
}

/// 3D solid harmonic scattering, built once for a volume shape.
pub struct SolidHarmonicScattering3d<T: Real = f64> {
    params: SolidScattering3dParams,
    /// `psi[l][j][m] / len` in `T`, on its support (the `1 / len` of the inverse FFT is
    /// folded in).
    psi: Vec<Vec<Vec<SparseComplex<T>>>>,
    /// `sym[l][j][m - 1]`: for real input `z_{-m} = (-1)^m conj(z_m) + C`, where `C` comes
    /// from the Nyquist planes only; `None` where the filters do not have the symmetry.
    sym: Vec<Vec<Option<Vec<NyquistPlanes<T>>>>>,
    /// `packable[l]`: every scale of order `l` has the mirror symmetry and a real `m = 0`
    /// wavelet, so the forward pass can carry two real `m = 0` outputs in one FFT.
    packable: Vec<bool>,
    /// 2D inverse FFTs of the planes `a = M/2` (N x O), `b = N/2` (M x O), `c = O/2` (M x N).
    plane_plans: [Plans2d<T>; 3],
    plan: Plan3d<T>,
    meta: Vec<PathMeta3d>,
    /// Reusable per-task buffers.
    pool: Pool<Work3<T>>,
    /// Output path index of order 1 `j` and of order 2 `(j1, j2)`.
    path1: Vec<usize>,
    path2: Vec<Vec<Option<usize>>>,
}

impl<T: Real> SolidHarmonicScattering3d<T> {
    fn new(params: SolidScattering3dParams) -> Result<Self> {
        Self::with_filters(params, true)
    }

    /// [`Self::new`], with the wavelets in line form (`line_forms`) where it is exact
    /// enough, or all with stored values (for tests of the two against each other).
    fn with_filters(params: SolidScattering3dParams, line_forms: bool) -> Result<Self> {
        if !(1..=2).contains(&params.max_order) {
            return Err(invalid(
                "max_order",
                format!("must be 1 or 2, got {}", params.max_order),
            ));
        }
        if params.integral_powers.is_empty()
            || params
                .integral_powers
                .iter()
                .any(|q| !(q.is_finite() && *q > 0.0))
        {
            return Err(invalid(
                "integral_powers",
                format!(
                    "need at least one positive exponent, got {:?}",
                    params.integral_powers
                ),
            ));
        }
        let (m, n, o) = params.shape;
        if m < 2 || n < 2 || o < 2 {
            return Err(invalid("shape", format!("volume {m}x{n}x{o} too small")));
        }
        if (1usize << params.j) > m.min(n).min(o) {
            return Err(invalid(
                "J",
                format!(
                    "2^J = {} exceeds the smallest side {}",
                    1usize << params.j,
                    m.min(n).min(o)
                ),
            ));
        }
        SolidHarmonicBank::validate(params.shape, params.j, params.l, params.sigma0)?;
        // Built one (l, j) at a time and stored sparsely at once, so the dense bank never
        // sits in memory whole.
        let (m0, n0, o0) = params.shape;
        let inv_len = 1.0 / (m0 * n0 * o0) as f64;
        // One (l, j) at a time: its dense filters are the largest allocation of the build,
        // and building two at once would lift the peak memory above Kymatio's.
        let built: Vec<Vec<ScaleFilters<T>>> = (0..=params.l)
            .map(|l| {
                (0..=params.j)
                    .map(|j| {
                        let sigma = params.sigma0 * 2f64.powi(j as i32);
                        let dense = solid_harmonic_3d(params.shape, sigma, l);
                        let sym = NyquistPlanes::all(&dense, l, params.shape, inv_len);
                        let real0 = hermitian(&dense[l], params.shape);
                        let rows = solid_harmonic_rows(params.shape, sigma, l);
                        let mut lines = LineFilter::all(
                            Lines {
                                shape: rows.shape,
                                basis: &rows.basis,
                                coef: &rows.coef,
                            },
                            &dense,
                            inv_len,
                        )
                        .filter(|_| line_forms)
                        .map(Vec::into_iter);
                        let sparse = dense
                            .iter()
                            .map(|f| {
                                let mut s = SparseComplex::of(f, inv_len, params.shape);
                                s.line = lines.as_mut().and_then(Iterator::next);
                                if s.line.is_some() {
                                    // Only the support stays: every product uses the line form.
                                    s.values = Vec::new();
                                }
                                s
                            })
                            .collect();
                        (sparse, sym, real0)
                    })
                    .collect()
            })
            .collect();
        let mut psi = Vec::new();
        let mut sym = Vec::new();
        let mut packable = Vec::new();
        for per_l in built {
            let (mut p, mut y) = (Vec::new(), Vec::new());
            let mut pack = true;
            for (sparse, planes, real0) in per_l {
                pack &= real0 && planes.is_some();
                p.push(sparse);
                y.push(planes);
            }
            psi.push(p);
            sym.push(y);
            packable.push(pack);
        }
        let (m0, n0, o0) = params.shape;
        let plane_plans = [
            Plans2d::new(n0, o0, 0),
            Plans2d::new(m0, o0, 0),
            Plans2d::new(m0, n0, 0),
        ];
        let jn = params.j + 1;
        let mut meta: Vec<PathMeta3d> = (0..jn)
            .map(|j| PathMeta3d {
                order: 1,
                j: vec![j],
            })
            .collect();
        let path1 = (0..jn).collect();
        let mut path2 = vec![vec![None; jn]; jn];
        if params.max_order == 2 {
            for (j1, row) in path2.iter_mut().enumerate() {
                for (j2, slot) in row.iter_mut().enumerate().skip(j1 + 1) {
                    *slot = Some(meta.len());
                    meta.push(PathMeta3d {
                        order: 2,
                        j: vec![j1, j2],
                    });
                }
            }
        }
        Ok(Self {
            sym,
            packable,
            plane_plans,
            pool: Pool::new(rayon::current_num_threads().max(1)),
            plan: Plan3d::new(params.shape),
            params,
            psi,
            meta,
            path1,
            path2,
        })
    }

    /// `(paths, L + 1, powers)` of the output for one volume.
    pub fn output_shape(&self) -> (usize, usize, usize) {
        (
            self.meta.len(),
            self.params.l + 1,
            self.params.integral_powers.len(),
        )
    }
    /// One label per path, in output order.
    pub fn meta(&self) -> &[PathMeta3d] {
        &self.meta
    }
    /// The parameters.
    pub fn params(&self) -> &SolidScattering3dParams {
        &self.params
    }

    fn check(&self, x: &ArrayView4<f64>) -> Result<()> {
        let (b, m, n, o) = x.dim();
        if (m, n, o) != self.params.shape || b == 0 {
            let s = self.params.shape;
            return Err(TransformError::Shape {
                what: "input",
                expected: format!("(batch >= 1, {}, {}, {})", s.0, s.1, s.2),
                got: format!("{:?}", x.shape()),
            });
        }
        if let Some((idx, v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(TransformError::NonFinite {
                batch: idx.0,
                index: (idx.1 * n + idx.2) * o + idx.3,
                value: *v,
            });
        }
        Ok(())
    }

    /// Order-0 invariants: `sum_voxels |x|^q` for each power, `(batch, powers)`.
    pub fn order0(&self, x: ArrayView4<f64>) -> Result<Array2<f64>> {
        self.check(&x)?;
        let qs = &self.params.integral_powers;
        Ok(Array2::from_shape_fn((x.dim().0, qs.len()), |(b, k)| {
            x.index_axis(Axis(0), b)
                .iter()
                .map(|v| v.abs().powf(qs[k]))
                .sum()
        }))
    }

    fn len(&self) -> usize {
        let (m, n, o) = self.params.shape;
        m * n * o
    }

    /// A workspace from the pool (or a new one), returned when dropped.
    fn work(&self, backward: bool) -> Pooled<'_, Work3<T>> {
        let mut w = self.pool.take(|| self.new_work());
        if backward && w.acc.len() != self.len() {
            // The backward pass keeps every z_m; the forward pass needs one buffer.
            let (len, z) = (self.len(), Cx::new(T::zero(), T::zero()));
            w.zs1 = vec![vec![z; len]; 2 * self.params.l + 1];
            w.zs2 = vec![vec![z; len]; 2 * self.params.l + 1];
            w.u2 = vec![T::zero(); len];
            w.u1c = vec![z; len];
            w.acc = vec![z; len];
            w.acc1 = vec![z; len];
            w.g = vec![T::zero(); len];
        }
        w
    }

    fn spectrum_of_real(&self, u: &[T], out: &mut [Cx<T>], w: &mut Work3Ref<'_, T>) {
        scattering_engine::simd::dispatch(Interleave { a: u, b: None, out });
        self.plan.process(out, w.scratch, false);
    }

    fn new_work(&self) -> Work3<T> {
        let len = self.len();
        let z = Cx::new(T::zero(), T::zero());
        Work3 {
            scratch: vec![z; self.plan.scratch_len],
            zs1: vec![vec![z; len]],
            zs2: Vec::new(),
            u1: vec![T::zero(); len],
            u2: Vec::new(),
            u1c: Vec::new(),
            ub: Vec::new(),
            specs: Vec::new(),
            acc: Vec::new(),
            acc1: Vec::new(),
            g: Vec::new(),
            planes: {
                let (m0, n0, o0) = self.params.shape;
                let big = (n0 * o0).max(m0 * o0).max(m0 * n0);
                let scratch = self
                    .plane_plans
                    .iter()
                    .map(|p| p.scratch_len)
                    .max()
                    .unwrap_or(0);
                PlaneWork {
                    planes: [vec![z; big], vec![z; big], vec![z; big]],
                    tmp: vec![z; big],
                    scratch: vec![z; scratch],
                }
            },
        }
    }

    /// The `(l, j1)` tasks, longest first: a task costs about `l + 1` inverse FFTs per
    /// scale it computes (`j1`, and every `j2 > j1` at order 2) plus one forward FFT, so
    /// the large-`l`, small-`j1` tasks are several times the others. Started first, they
    /// do not leave one core finishing alone.
    fn tasks(&self) -> Vec<(usize, usize)> {
        let (jj, order2) = (self.params.j, self.params.max_order == 2);
        let cost = |&(l, j1): &(usize, usize)| {
            let scales = if order2 { 1 + jj - j1 } else { 1 };
            (l + 1) * scales + usize::from(order2 && j1 < jj)
        };
        let mut t: Vec<(usize, usize)> = (0..=self.params.l)
            .flat_map(|l| (0..=jj).map(move |j| (l, j)))
            .collect();
        t.sort_by_key(|x| std::cmp::Reverse(cost(x)));
        t
    }

    /// Spectrum of one input volume, its FFT spread over the threads: everything after it
    /// needs it, so one thread alone would leave the others waiting.
    fn input_spectrum(&self, x: ndarray::ArrayView3<f64>) -> Vec<Cx<T>> {
        let z = Cx::new(T::zero(), T::zero());
        let mut v = vec![z; self.len()];
        let slab = self.params.shape.1 * self.params.shape.2;
        match x.as_slice() {
            Some(xs) => v
                .par_chunks_mut(slab)
                .zip(xs.par_chunks(slab))
                .for_each(|(o, i)| {
                    o.iter_mut()
                        .zip(i)
                        .for_each(|(o, &i)| *o = Cx::new(T::of(i), T::zero()))
                }),
            None => v
                .iter_mut()
                .zip(x.iter())
                .for_each(|(o, &i)| *o = Cx::new(T::of(i), T::zero())),
        }
        self.plan.process_parallel(&mut v, false);
        v
    }

    /// Invariants of a batch `(batch, Z, Y, X)`, as `(batch, paths, L + 1, powers)`,
    /// Kymatio's layout. Work is spread over groups of one `l` and one or two scales `j1`,
    /// so one volume uses all cores.
    pub fn forward(&self, x: ArrayView4<f64>) -> Result<Array4<f64>> {
        self.check(&x)?;
        let (p, ln, qn) = self.output_shape();
        let mut out = Array4::zeros((x.dim().0, p, ln, qn));
        for (b, mut ob) in out.axis_iter_mut(Axis(0)).enumerate() {
            let xs = self.input_spectrum(x.index_axis(Axis(0), b));
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
                for (k, v) in vals.into_iter().enumerate() {
                    ob[[p, l, k]] = v;
                }
            }
        }
        Ok(out)
    }

    /// The forward pass's work groups `(l, scales)`, longest first. With at least two
    /// orders `l` a thread, one group per `l` with every scale: all its `m = 0` outputs
    /// (first and second order) then travel two by one inverse FFT, none alone. With fewer
    /// (two threads and `L = 2`, say), the scales of each `l` go in pairs `(0, 1), (2, 3),
    /// ...` when [`Self::packable`] allows, one by one otherwise: more, smaller groups
    /// balance the threads better, which measured faster than the FFTs saved.
    fn groups(&self) -> Vec<(usize, Vec<usize>)> {
        let jj = self.params.j;
        let order2 = self.params.max_order == 2;
        let whole = self.params.l + 1 >= 2 * rayon::current_num_threads();
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for l in 0..=self.params.l {
            let js: Vec<usize> = (0..=jj).collect();
            let size = match (whole, self.packable[l]) {
                (true, _) => js.len(),
                (false, true) => 2,
                (false, false) => 1,
            };
            groups.extend(js.chunks(size).map(|c| (l, c.to_vec())));
        }
        // About (l + 1) FFTs per modulus, one per U1 spectrum.
        let cost = |(l, js): &(usize, Vec<usize>)| {
            let paths: usize = js
                .iter()
                .map(|&j1| 1 + if order2 { jj - j1 } else { 0 })
                .sum();
            (l + 1) * paths + js.len()
        };
        groups.sort_by_key(|g| std::cmp::Reverse(cost(g)));
        groups
    }

    /// Forward invariants of order `l` for the first-order scales `js` and their
    /// second-order children, as `(path, l, integrals)`. The moduli are computed in one
    /// list, the first-order ones with children first (their spectra feed the second
    /// order), then the other first-order ones, then the second-order ones by `j2` (so that
    /// neighbours share a wavelet and its pruning); when [`Self::packable`], neighbours in
    /// the list go in pairs, their `m = 0` parts sharing one inverse FFT.
    fn forward_group(
        &self,
        xs: &[Cx<T>],
        l: usize,
        js: &[usize],
        w: &mut Work3<T>,
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
        let Work3 {
            scratch,
            zs1,
            u1,
            ub,
            planes,
            ..
        } = w;
        let mut tw = Work3Ref {
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
                    self.sum_squares(sa, l, a.1, u1, zs1, &mut tw);
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
    fn filtered_ifft(
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
    fn m0_pair(
        &self,
        l: usize,
        a: (&[Cx<T>], usize),
        b: (&[Cx<T>], usize),
        ua: &mut [T],
        ub: &mut [T],
        z: &mut [Cx<T>],
        w: &mut Work3Ref<'_, T>,
    ) {
        let (fa, fb) = (&self.psi[l][a.1][l], &self.psi[l][b.1][l]);
        self.filtered_ifft((fa, a.0), Some((fb, b.0)), z, w.scratch);
        scattering_engine::simd::dispatch(SplitSquares { z, ua, ub });
    }

    /// Adds `sum_{m != 0} |src * psi_{l,m,j}|^2` to `u`, each `z_{-m}` from `z_m` (needs
    /// the mirror symmetry of `(l, j)`).
    fn add_nonzero_m(
        &self,
        src: &[Cx<T>],
        l: usize,
        j: usize,
        u: &mut [T],
        z: &mut [Cx<T>],
        w: &mut Work3Ref<'_, T>,
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

    /// `dL/dU = sum_q g_q q U^(q-1)`, with 0 where `U = 0` (no NaN for q < 1). The
    /// exponents of the usual powers (1/2, 1, 2, 3) go without `powf`, which took a quarter
    /// of the backward pass.
    fn integral_backward(&self, u: &[T], g: &[f64], out: &mut [T]) {
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
    fn covariant_backward(
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

    /// Vector-Jacobian product: the gradient with respect to each volume of
    /// `<S x, grad>`, `grad` of the output's shape `(batch, paths, L + 1, powers)`.
    pub fn backward(&self, x: ArrayView4<f64>, grad: ArrayView4<f64>) -> Result<Array4<f64>> {
        self.check(&x)?;
        let (p, ln, qn) = self.output_shape();
        if grad.dim() != (x.dim().0, p, ln, qn) {
            return Err(TransformError::Shape {
                what: "output gradient",
                expected: format!("({}, {p}, {ln}, {qn})", x.dim().0),
                got: format!("{:?}", grad.shape()),
            });
        }
        let len = self.len();
        let mut out = Array4::zeros(x.raw_dim());
        for (b, mut ob) in out.axis_iter_mut(Axis(0)).enumerate() {
            let xs = self.input_spectrum(x.index_axis(Axis(0), b));
            let gb = grad.index_axis(Axis(0), b);
            let gvec =
                |p: usize, l: usize| -> Vec<f64> { (0..qn).map(|k| gb[[p, l, k]]).collect() };
            // Each (l, j1) task returns its Fourier-domain gradient; they are summed.
            let total: Vec<Cx<T>> = self
                .tasks()
                .into_par_iter()
                .with_max_len(1)
                .map_init(
                    || self.work(true),
                    |w, (l, j1)| {
                        let w: &mut Work3<T> = w;
                        let Work3 {
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
                        let mut tw = Work3Ref {
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
                    },
                )
                .reduce(
                    || vec![Cx::new(T::zero(), T::zero()); len],
                    |mut a, b| {
                        a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                        a
                    },
                );
            let mut total = total;
            let mut guard = self.work(false);
            let w: &mut Work3<T> = &mut guard;
            self.plan.process(&mut total, &mut w.scratch, true);
            for (o, t) in ob.iter_mut().zip(&total) {
                *o = t.re.as_f64();
            }
        }
        Ok(out)
    }

    /// Adds `|z_m|^2 + |z_{-m}|^2` to `u`, with `z_{-m} = s conj(z_m) + C`: `s = -1` for odd `m`,
    /// `C` the inverse transform of `src * D` on the Nyquist planes (three 2D FFTs).
    fn add_mirrored(
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
    fn sum_squares(
        &self,
        src: &[Cx<T>],
        l: usize,
        j: usize,
        u: &mut [T],
        zs: &mut [Vec<Cx<T>>],
        w: &mut Work3Ref<'_, T>,
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
    fn covariant_modulus(
        &self,
        src: &[Cx<T>],
        l: usize,
        j: usize,
        u: &mut [T],
        zs: &mut [Vec<Cx<T>>],
        w: &mut Work3Ref<'_, T>,
    ) {
        self.sum_squares(src, l, j, u, zs, w);
        scattering_engine::simd::dispatch(Sqrt { u });
    }

    /// Turns `u = sum_m |z_m|^2` into `U = sqrt(u)` and returns `sum_voxels U^q` for each
    /// power, in one pass for the usual powers 1/2, 1 and 2 (the rest take a pass each).
    fn modulus_integrals(&self, u: &mut [T]) -> Vec<f64> {
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

/// `u += scale |z|^2`, for [`scattering_engine::simd::dispatch`].
struct AddSquares<'a, T> {
    u: &'a mut [T],
    z: &'a [Cx<T>],
    scale: T,
}

impl<T: Real> scattering_engine::simd::Kernel for AddSquares<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let z: &[T] = bytemuck::cast_slice(self.z);
        for (u, c) in self.u.iter_mut().zip(z.chunks_exact(2)) {
            *u += (c[0] * c[0] + c[1] * c[1]) * self.scale;
        }
    }
}

/// `u = sqrt(u)`, for [`scattering_engine::simd::dispatch`].
struct Sqrt<'a, T> {
    u: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for Sqrt<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.u.iter_mut().for_each(|v| *v = v.sqrt());
    }
}

/// `u += |z|^2 + |s conj(z) + C|^2` voxel by voxel, where the correction `C` at `(a, b, c)` is
/// `(-1)^a P0[b, c] + (-1)^b P1[a, c] + (-1)^c P2[a, b]` from the inverse transforms of the
/// three Nyquist planes (absent planes count as zero). Row by row along the last axis, so
/// that the loop vectorises.
struct MirrorRows<'a, T> {
    shape: (usize, usize, usize),
    z: &'a [Cx<T>],
    planes: &'a [Vec<Cx<T>>; 3],
    present: [bool; 3],
    sign: T,
    u: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for MirrorRows<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let (m0, n0, o0) = self.shape;
        let zero = Cx::new(T::zero(), T::zero());
        let zeros = vec![zero; o0];
        let alt: Vec<T> = (0..o0)
            .map(|c| if c % 2 == 0 { T::one() } else { -T::one() })
            .collect();
        let [has0, has1, has2] = self.present;
        let s = self.sign;
        for a in 0..m0 {
            let sa = if a % 2 == 0 { T::one() } else { -T::one() };
            let p1 = if has1 {
                &self.planes[1][a * o0..(a + 1) * o0]
            } else {
                &zeros[..]
            };
            for b in 0..n0 {
                let sb = if b % 2 == 0 { T::one() } else { -T::one() };
                let p0 = if has0 {
                    &self.planes[0][b * o0..(b + 1) * o0]
                } else {
                    &zeros[..]
                };
                let p2 = if has2 {
                    self.planes[2][a * n0 + b]
                } else {
                    zero
                };
                let k = (a * n0 + b) * o0;
                let (z, u) = (&self.z[k..k + o0], &mut self.u[k..k + o0]);
                for ((((u, z), q0), q1), &sc) in u.iter_mut().zip(z).zip(p0).zip(p1).zip(&alt) {
                    let re = s * z.re + sa * q0.re + sb * q1.re + sc * p2.re;
                    let im = sa * q0.im + sb * q1.im + sc * p2.im - s * z.im;
                    *u += re * re + im * im + z.re * z.re + z.im * z.im;
                }
            }
        }
    }
}

/// The wavelets of one `(l, j)`, sparse, with their mirror-symmetry corrections.
type ScaleFilters<T> = (Vec<SparseComplex<T>>, Option<Vec<NyquistPlanes<T>>>, bool);

/// Whether a spectrum is Hermitian (`h(-k) = conj h(k)` to 1e-12 of its peak), i.e. the
/// filter is real in space, so that it maps real volumes to real volumes.
fn hermitian(h: &[num_complex::Complex64], shape: (usize, usize, usize)) -> bool {
    let (m, n, o) = shape;
    let peak = h.iter().fold(0.0f64, |a, v| a.max(v.norm_sqr())).sqrt();
    (0..m).all(|a| {
        (0..n).all(|b| {
            (0..o).all(|c| {
                let k = (a * n + b) * o + c;
                let km = (((m - a) % m) * n + (n - b) % n) * o + (o - c) % o;
                (h[k] - h[km].conj()).norm_sqr() <= (1e-12 * peak).powi(2)
            })
        })
    })
}

/// Per-task buffers of the 3D transform.
struct Work3<T> {
    scratch: Vec<Cx<T>>,
    zs1: Vec<Vec<Cx<T>>>,
    zs2: Vec<Vec<Cx<T>>>,
    u1: Vec<T>,
    u2: Vec<T>,
    u1c: Vec<Cx<T>>,
    /// The second modulus of a forward pair.
    ub: Vec<T>,
    /// The forward pass's spectra of the `U1` that have children.
    specs: Vec<Vec<Cx<T>>>,
    acc: Vec<Cx<T>>,
    acc1: Vec<Cx<T>>,
    g: Vec<T>,
    planes: PlaneWork<T>,
}

/// `v^q`, with the common exponents computed without `powf` (the integrals run over
/// every voxel of every path).
#[inline]
fn pow(v: f64, q: f64) -> f64 {
    if q == 0.5 {
        v.sqrt()
    } else if q == 1.0 {
        v
    } else if q == 2.0 {
        v * v
    } else if q == 3.0 {
        v * v * v
    } else if q == -0.5 {
        1.0 / v.sqrt()
    } else if q == 0.0 {
        1.0
    } else {
        v.powf(q)
    }
}

struct Work3Ref<'a, T> {
    scratch: &'a mut [Cx<T>],
    planes: Option<&'a mut PlaneWork<T>>,
}

/// Buffers for the Nyquist-plane corrections of the symmetric forward pass.
struct PlaneWork<T> {
    planes: [Vec<Cx<T>>; 3],
    tmp: Vec<Cx<T>>,
    scratch: Vec<Cx<T>>,
}

/// `D = psi_{-m} - (-1)^m conj(psi_m(-k))` (scaled by 1/len) on the three Nyquist planes
/// `a = M/2` (indexed `b O + c`), `b = N/2` without `a = M/2` (`a O + c`), and `c = O/2`
/// without the other two (`a N + b`); a plane is empty when its side is odd.
struct NyquistPlanes<T> {
    planes: [Vec<Cx<T>>; 3],
}

impl<T: Real> NyquistPlanes<T> {
    /// For each `m = 1..=l`, or `None` if the filters break the symmetry off the planes.
    fn all(
        dense: &[Vec<num_complex::Complex64>],
        l: usize,
        shape: (usize, usize, usize),
        scale: f64,
    ) -> Option<Vec<Self>> {
        let (m0, n0, o0) = shape;
        let idx = |a: usize, b: usize, c: usize| (a * n0 + b) * o0 + c;
        let mirror =
            |a: usize, b: usize, c: usize| idx((m0 - a) % m0, (n0 - b) % n0, (o0 - c) % o0);
        let on_plane = |a: usize, b: usize, c: usize| {
            (m0 % 2 == 0 && a == m0 / 2)
                || (n0 % 2 == 0 && b == n0 / 2)
                || (o0 % 2 == 0 && c == o0 / 2)
        };
        let peak = dense
            .iter()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.norm_sqr()))
            .sqrt();
        let mut out = Vec::new();
        for m in 1..=l {
            let (neg, pos) = (&dense[l - m], &dense[l + m]);
            let s = if m % 2 == 1 { -1.0 } else { 1.0 };
            let d =
                |a: usize, b: usize, c: usize| neg[idx(a, b, c)] - pos[mirror(a, b, c)].conj() * s;
            // Off the planes the relation must hold to rounding, or the shortcut is wrong.
            for a in 0..m0 {
                for b in 0..n0 {
                    for c in 0..o0 {
                        if !on_plane(a, b, c) && d(a, b, c).norm_sqr() > (1e-12 * peak).powi(2) {
                            return None;
                        }
                    }
                }
            }
            // Values far below the filters' peak are dropped: they change nothing, and in f32
            // they would become subnormal and slow the FFTs down.
            let cast = |v: num_complex::Complex64| {
                if v.norm_sqr() <= (1e-14 * peak).powi(2) {
                    Cx::new(T::zero(), T::zero())
                } else {
                    Cx::new(T::of(v.re * scale), T::of(v.im * scale))
                }
            };
            let nonzero = |p: Vec<Cx<T>>| {
                if p.iter().all(|v| v.re == T::zero() && v.im == T::zero()) {
                    Vec::new()
                } else {
                    p
                }
            };
            let zero = Cx::new(T::zero(), T::zero());
            let pa = if m0 % 2 == 0 {
                (0..n0 * o0)
                    .map(|t| cast(d(m0 / 2, t / o0, t % o0)))
                    .collect()
            } else {
                Vec::new()
            };
            let pb = if n0 % 2 == 0 {
                (0..m0 * o0)
                    .map(|t| {
                        let a = t / o0;
                        if m0 % 2 == 0 && a == m0 / 2 {
                            zero
                        } else {
                            cast(d(a, n0 / 2, t % o0))
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let pc = if o0 % 2 == 0 {
                (0..m0 * n0)
                    .map(|t| {
                        let (a, b) = (t / n0, t % n0);
                        if (m0 % 2 == 0 && a == m0 / 2) || (n0 % 2 == 0 && b == n0 / 2) {
                            zero
                        } else {
                            cast(d(a, b, o0 / 2))
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            out.push(Self {
                planes: [nonzero(pa), nonzero(pb), nonzero(pc)],
            });
        }
        Some(out)
    }
}

/// A complex Fourier-domain filter stored on its support (runs of flat indices where it
/// exceeds 1e-14 of its peak): wide wavelets are narrow in frequency.
struct SparseComplex<T> {
    len: usize,
    runs: Vec<(usize, usize, usize)>,
    values: Vec<Cx<T>>,
    /// Lines and slabs the support touches, when they are few enough to prune FFTs.
    lines: Option<LineSupport>,
    /// The same filter formed line by line (none where the line form is not exact
    /// enough). Where it exists, `values` is empty and every product uses it.
    line: Option<LineFilter<T>>,
}

impl<T: Real> SparseComplex<T> {
    fn of(h: &[num_complex::Complex64], scale: f64, shape: (usize, usize, usize)) -> Self {
        let peak = h.iter().fold(0.0f64, |m, v| m.max(v.norm_sqr())).sqrt();
        // Squared magnitudes: `norm` (hypot) would dominate the build.
        let thr = (peak * 1e-14).powi(2);
        let (mut runs, mut values) = (Vec::new(), Vec::new());
        let mut i = 0;
        while i < h.len() {
            if h[i].norm_sqr() > thr {
                let a = i;
                while i < h.len() && h[i].norm_sqr() > thr {
                    i += 1;
                }
                runs.push((a, i, values.len()));
                values.extend(
                    h[a..i]
                        .iter()
                        .map(|c| Cx::new(T::of(c.re * scale), T::of(c.im * scale))),
                );
            } else {
                i += 1;
            }
        }
        let lines = LineSupport::of(&runs, shape);
        Self {
            len: h.len(),
            runs,
            values,
            lines,
            line: None,
        }
    }

    /// `out = src * h` (zero off the support).
    fn mul_into(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
        scattering_engine::simd::dispatch(FilterProduct {
            filter: self,
            src,
            out,
            add_i: false,
        })
    }

    #[inline(always)]
    fn mul_into_kernel(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
        let zero = Cx::new(T::zero(), T::zero());
        // Only the gaps between runs need clearing: one pass over the volume, not two.
        let mut done = 0;
        for &(a, b, off) in &self.runs {
            out[done..a].iter_mut().for_each(|o| *o = zero);
            let v = &self.values[off..off + (b - a)];
            for ((o, s), h) in out[a..b].iter_mut().zip(&src[a..b]).zip(v) {
                *o = Cx::new(s.re * h.re - s.im * h.im, s.re * h.im + s.im * h.re);
            }
            done = b;
        }
        out[done..self.len].iter_mut().for_each(|o| *o = zero);
    }

    /// `out += i src h` on the support.
    fn mul_add_i(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
        scattering_engine::simd::dispatch(FilterProduct {
            filter: self,
            src,
            out,
            add_i: true,
        })
    }

    #[inline(always)]
    fn mul_add_i_kernel(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
        for &(a, b, off) in &self.runs {
            let v = &self.values[off..off + (b - a)];
            for ((o, s), h) in out[a..b].iter_mut().zip(&src[a..b]).zip(v) {
                // i (s h) = (-Im(s h), Re(s h)).
                o.re -= s.re * h.im + s.im * h.re;
                o.im += s.re * h.re - s.im * h.im;
            }
        }
    }

    /// `acc += g * conj(h)` on the support.
    fn conj_mul_add(&self, g: &[Cx<T>], acc: &mut [Cx<T>]) {
        for &(a, b, off) in &self.runs {
            let v = &self.values[off..off + (b - a)];
            for ((o, s), h) in acc[a..b].iter_mut().zip(&g[a..b]).zip(v) {
                o.re += s.re * h.re + s.im * h.im;
                o.im += s.im * h.re - s.re * h.im;
            }
        }
    }
}

/// The arguments of [`SparseComplex::mul_into`] (`add_i = false`) and
/// [`SparseComplex::mul_add_i`], for [`scattering_engine::simd::dispatch`].
struct FilterProduct<'a, T> {
    filter: &'a SparseComplex<T>,
    src: &'a [Cx<T>],
    out: &'a mut [Cx<T>],
    add_i: bool,
}

impl<T: Real> scattering_engine::simd::Kernel for FilterProduct<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        if self.add_i {
            self.filter.mul_add_i_kernel(self.src, self.out)
        } else {
            self.filter.mul_into_kernel(self.src, self.out)
        }
    }
}

/// `sum u^q` in f64, in eight lanes, for [`scattering_engine::simd::dispatch`]: the powers that
/// [`SqrtSums`] does not give (1/2, 1 and 2 come from there).
struct PowerSum<'a, T> {
    u: &'a [T],
    q: f64,
}

impl<T: Real> scattering_engine::simd::Kernel for PowerSum<'_, T> {
    type Output = f64;
    #[inline(always)]
    fn run(self) -> f64 {
        #[inline(always)]
        fn lanes<T: Real>(u: &[T], f: impl Fn(f64) -> f64) -> f64 {
            let mut acc = [0.0f64; 8];
            let chunks = u.chunks_exact(8);
            let rest: f64 = chunks.remainder().iter().map(|v| f(v.as_f64())).sum();
            for c in chunks {
                for (a, v) in acc.iter_mut().zip(c) {
                    *a += f(v.as_f64());
                }
            }
            acc.iter().sum::<f64>() + rest
        }
        let q = self.q;
        lanes(self.u, |v| pow(v, q))
    }
}

/// `u = sqrt(u)` in place, returning `[sum sqrt(U), sum U, sum U^2]` for the new `U`, summed
/// in f64 in eight lanes, for [`scattering_engine::simd::dispatch`].
struct SqrtSums<'a, T> {
    u: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for SqrtSums<'_, T> {
    type Output = [f64; 3];
    #[inline(always)]
    fn run(self) -> [f64; 3] {
        let mut acc = [[0.0f64; 8]; 3];
        let mut chunks = self.u.chunks_exact_mut(8);
        for c in &mut chunks {
            for (k, v) in c.iter_mut().enumerate() {
                let s = v.as_f64();
                let r = v.sqrt();
                *v = r;
                let r = r.as_f64();
                acc[0][k] += r.sqrt();
                acc[1][k] += r;
                acc[2][k] += s;
            }
        }
        let mut out = acc.map(|a| a.iter().sum::<f64>());
        for v in chunks.into_remainder() {
            let s = v.as_f64();
            *v = v.sqrt();
            let r = v.as_f64();
            out[0] += r.sqrt();
            out[1] += r;
            out[2] += s;
        }
        out
    }
}

/// `ua = Re(z)^2`, `ub = Im(z)^2`, for [`scattering_engine::simd::dispatch`].
struct SplitSquares<'a, T> {
    z: &'a [Cx<T>],
    ua: &'a mut [T],
    ub: &'a mut [T],
}

impl<T: Real> scattering_engine::simd::Kernel for SplitSquares<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let z: &[T] = bytemuck::cast_slice(self.z);
        for ((a, b), c) in self
            .ua
            .iter_mut()
            .zip(self.ub.iter_mut())
            .zip(z.chunks_exact(2))
        {
            *a = c[0] * c[0];
            *b = c[1] * c[1];
        }
    }
}

/// Splits `z = fft(a + i b)` of two real volumes, in place: `z` becomes `fft(a)` and `b_out`
/// `fft(b)`, from `fft(a)[k] = (z[k] + conj z[-k]) / 2`, `fft(b)[k] = (z[k] - conj z[-k]) / 2i`.
/// Line by line: line `(a, b)` mirrors onto line `(-a, -b)` read backwards (from its
/// second value), so that the inner loops hold no index arithmetic.
fn split_pair_3d<T: Real>(z: &mut [Cx<T>], b_out: &mut [Cx<T>], shape: (usize, usize, usize)) {
    scattering_engine::simd::dispatch(SplitPair3d { z, b_out, shape })
}

/// The arguments of [`split_pair_3d`], for [`scattering_engine::simd::dispatch`].
struct SplitPair3d<'a, T> {
    z: &'a mut [Cx<T>],
    b_out: &'a mut [Cx<T>],
    shape: (usize, usize, usize),
}

impl<T: Real> scattering_engine::simd::Kernel for SplitPair3d<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let SplitPair3d { z, b_out, shape } = self;
        let (m, n, o) = shape;
        let half = T::of(0.5);
        // (fft(a), fft(b)) at k from z[k] = u and z[-k] = v.
        let split = |u: Cx<T>, v: Cx<T>| {
            (
                Cx::new((u.re + v.re) * half, (u.im - v.im) * half),
                Cx::new((u.im + v.im) * half, (v.re - u.re) * half),
            )
        };
        for a in 0..m {
            for b in 0..n {
                let (l, lm) = (a * n + b, ((m - a) % m) * n + (n - b) % n);
                if lm < l {
                    continue;
                }
                if l == lm {
                    // A self-mirrored line: pairs (c, -c) within it.
                    let (zl, bl) = (&mut z[l * o..(l + 1) * o], &mut b_out[l * o..(l + 1) * o]);
                    for c in 0..=o / 2 {
                        let cm = (o - c) % o;
                        let (fa, fb) = split(zl[c], zl[cm]);
                        zl[c] = fa;
                        bl[c] = fb;
                        zl[cm] = fa.conj();
                        bl[cm] = fb.conj();
                    }
                    continue;
                }
                let (lo, hi) = z.split_at_mut(lm * o);
                let (zl, zm) = (&mut lo[l * o..(l + 1) * o], &mut hi[..o]);
                let (lo, hi) = b_out.split_at_mut(lm * o);
                let (bl, bm) = (&mut lo[l * o..(l + 1) * o], &mut hi[..o]);
                let (fa, fb) = split(zl[0], zm[0]);
                (zl[0], bl[0], zm[0], bm[0]) = (fa, fb, fa.conj(), fb.conj());
                let rows = zl[1..].iter_mut().zip(bl[1..].iter_mut());
                let mirrors = zm[1..].iter_mut().rev().zip(bm[1..].iter_mut().rev());
                for ((zk, bk), (zmk, bmk)) in rows.zip(mirrors) {
                    let (fa, fb) = split(*zk, *zmk);
                    (*zk, *bk, *zmk, *bmk) = (fa, fb, fa.conj(), fb.conj());
                }
            }
        }
    }
}

/// `out[k] = a[k] + i b[k]` (`b = 0` when absent): real volumes into a complex one, for
/// [`scattering_engine::simd::dispatch`].
struct Interleave<'a, T> {
    a: &'a [T],
    b: Option<&'a [T]>,
    out: &'a mut [Cx<T>],
}

impl<T: Real> scattering_engine::simd::Kernel for Interleave<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        match self.b {
            Some(b) => {
                for ((o, &x), &y) in self.out.iter_mut().zip(self.a).zip(b) {
                    *o = Cx::new(x, y);
                }
            }
            None => {
                for (o, &x) in self.out.iter_mut().zip(self.a) {
                    *o = Cx::new(x, T::zero());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn worst(a: &Array4<f64>, b: &Array4<f64>) -> f64 {
        a.iter()
            .zip(b.iter())
            .map(|(u, v)| (u - v).abs() / v.abs().max(1e-300))
            .fold(0.0, f64::max)
    }

    /// The closed-form powers equal `powf` (to rounding), and other exponents take `powf`.
    #[test]
    fn closed_form_powers_equal_powf() {
        for e in [-0.5, 0.0, 1.0, 2.0, 0.5, 1.5, -1.0] {
            let p = Power::of(e);
            assert_eq!(
                matches!(p, Power::Other(_)),
                ![-0.5, 0.0, 1.0, 2.0].contains(&e)
            );
            for u in [1e-12, 0.3, 1.0, 7.5, 1e9] {
                let (a, b) = (p.at(u), u.powf(e));
                assert!(
                    (a - b).abs() <= 4.0 * f64::EPSILON * b.abs(),
                    "{e} {u}: {a} {b}"
                );
            }
        }
    }

    /// High orders, where some line forms may be refused: the transform still builds and
    /// agrees with the one built from stored values.
    #[test]
    fn high_orders_agree_with_stored_filters() {
        let shape = (10, 10, 10);
        let mut rng = StdRng::seed_from_u64(4);
        let x = Array4::from_shape_fn((1, 10, 10, 10), |_| rng.random_range(-1.0..1.0));
        let p = SolidScattering3dParams::new(shape, 1, 8);
        let formed = p.clone().build().unwrap();
        let stored = SolidHarmonicScattering3d::<f64>::with_filters(p, false).unwrap();
        let lined = formed.psi.iter().flatten().flatten();
        eprintln!(
            "line forms: {} of {}",
            lined.clone().filter(|f| f.line.is_some()).count(),
            lined.count()
        );
        let (a, b) = (
            formed.forward(x.view()).unwrap(),
            stored.forward(x.view()).unwrap(),
        );
        assert!(worst(&a, &b) < 1e-10, "{:e}", worst(&a, &b));
    }

    /// The split of a packed pair equals the two spectra taken alone, on shapes with odd
    /// and even sides (self-mirrored lines and values included).
    #[test]
    fn split_pair_equals_separate_spectra() {
        let mut rng = StdRng::seed_from_u64(9);
        for shape in [(4, 6, 8), (3, 5, 7), (2, 1, 6), (5, 4, 1)] {
            let len = shape.0 * shape.1 * shape.2;
            let plan = Plan3d::<f64>::new(shape);
            let mut scratch = vec![Cx::new(0.0, 0.0); plan.scratch_len];
            let a: Vec<f64> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
            let b: Vec<f64> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
            let spectrum = |v: &mut Vec<Cx<f64>>, scratch: &mut [Cx<f64>]| {
                plan.process(v, scratch, false);
            };
            let mut fa: Vec<Cx<f64>> = a.iter().map(|&x| Cx::new(x, 0.0)).collect();
            let mut fb: Vec<Cx<f64>> = b.iter().map(|&x| Cx::new(x, 0.0)).collect();
            spectrum(&mut fa, &mut scratch);
            spectrum(&mut fb, &mut scratch);
            let mut z: Vec<Cx<f64>> = a.iter().zip(&b).map(|(&x, &y)| Cx::new(x, y)).collect();
            spectrum(&mut z, &mut scratch);
            let mut zb = vec![Cx::new(0.0, 0.0); len];
            split_pair_3d(&mut z, &mut zb, shape);
            let err = z
                .iter()
                .zip(&fa)
                .chain(zb.iter().zip(&fb))
                .map(|(u, v)| (u - v).norm())
                .fold(0.0, f64::max);
            assert!(err < 1e-12, "{shape:?}: {err:e}");
        }
    }

    /// The forward pass gives the same invariants whatever its grouping (one group per
    /// `l` on few threads, scale pairs on more) and whether the filters are formed line by
    /// line or read from their stored values.
    #[test]
    fn forward_is_independent_of_grouping_and_filter_form() {
        let shape = (12, 10, 14);
        let mut rng = StdRng::seed_from_u64(3);
        let x = Array4::from_shape_fn((1, shape.0, shape.1, shape.2), |_| {
            rng.random_range(-1.0..1.0)
        });
        let pool = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        };
        for (jj, ll) in [(2, 2), (3, 1)] {
            let p = SolidScattering3dParams::new(shape, jj, ll);
            let one = pool(1).install(|| {
                let s = p.clone().build().unwrap();
                assert!(s.groups().iter().all(|g| g.1.len() == jj + 1));
                s.forward(x.view()).unwrap()
            });
            let many = pool(ll + 1).install(|| {
                let s = p.clone().build().unwrap();
                assert!(s.groups().iter().all(|g| g.1.len() <= 2));
                s.forward(x.view()).unwrap()
            });
            assert!(worst(&one, &many) < 1e-12, "J={jj} L={ll} grouping");
            let formed = p.clone().build().unwrap();
            let lined = formed.psi.iter().flatten().flatten();
            assert!(lined
                .clone()
                .all(|f| f.line.is_some() && f.values.is_empty()));
            assert_eq!(lined.count(), (ll + 1) * (ll + 1) * (jj + 1));
            let stored = SolidHarmonicScattering3d::<f64>::with_filters(p.clone(), false).unwrap();
            assert!(stored
                .psi
                .iter()
                .flatten()
                .flatten()
                .all(|f| f.line.is_none()));
            let s = stored.forward(x.view()).unwrap();
            assert!(worst(&one, &s) < 1e-12, "J={jj} L={ll} line-formed filters");
            // The backward pass too (it multiplies by the adjoint filters).
            let g = Array4::from_shape_fn(one.raw_dim(), |(_, p, l, q)| {
                ((p * 7 + l * 3 + q) as f64 * 0.37).sin()
            });
            let gf = formed.backward(x.view(), g.view()).unwrap();
            let gs = stored.backward(x.view(), g.view()).unwrap();
            let scale = gs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let diff = gf
                .iter()
                .zip(gs.iter())
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            // Looser than the forward check: the backward pass divides by U, which
            // magnifies rounding where U is small (measured 1.3e-11 here).
            assert!(
                diff <= 1e-9 * scale,
                "J={jj} L={ll} backward: {:e}",
                diff / scale
            );
        }
    }
}
