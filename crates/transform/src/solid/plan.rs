//! Planning: the solid harmonic wavelets of every `(l, j)`, kept as line forms or on
//! their supports, their symmetry checks (Hermitian, Nyquist planes) that decide which
//! outputs may share FFTs, the path table and the work groups.

use super::params::SolidSource;
use super::*;
use crate::error::{invalid, Result};
use scattering_engine::fourier2d::Plans2d;
use scattering_engine::fourier3d::{LineSupport, Plan3d};
use scattering_engine::line_filter::{LineFilter, Lines};
use scattering_engine::pool::Pool;
use scattering_engine::{Cx, Real};
use scattering_filters::{GaussianHarmonic, SolidHarmonicBank};

impl<T: Real> SolidHarmonicScattering3d<T> {
    pub(super) fn new(params: SolidHarmonicScattering3dParams) -> Result<Self> {
        Self::with_filters(params, SolidSource::Profile(&GaussianHarmonic), true)
    }

    /// [`Self::new`], with the wavelets in line form (`line_forms`) where it is exact
    /// enough, or all with stored values (for tests of the two against each other).
    pub(super) fn with_filters(
        params: SolidHarmonicScattering3dParams,
        source: SolidSource<'_>,
        line_forms: bool,
    ) -> Result<Self> {
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
                    "need one or more exponents, each positive and finite, got {:?}",
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
        source.check(&params)?;
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
                        let (dense, rows) = source.filters(&params, l, j)?;
                        let sym = NyquistPlanes::all(&dense, l, params.shape, inv_len);
                        let real0 = hermitian(&dense[l], params.shape);
                        let mut lines = rows
                            .filter(|_| line_forms)
                            .and_then(|rows| {
                                LineFilter::all(
                                    Lines {
                                        shape: rows.shape,
                                        basis: &rows.basis,
                                        coef: &rows.coef,
                                    },
                                    &dense,
                                    inv_len,
                                )
                            })
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
                        Ok((sparse, sym, real0))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
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
            exec: Default::default(),
            plan: Plan3d::new(params.shape),
            params,
            psi,
            meta,
            path1,
            path2,
        })
    }

    pub(super) fn new_work(&self) -> Workspace3d<T> {
        let len = self.len();
        let z = Cx::new(T::zero(), T::zero());
        Workspace3d {
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
    pub(super) fn tasks(&self) -> Vec<(usize, usize)> {
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

    /// The forward pass's work groups `(l, scales)`, longest first. When
    /// [`Self::packable`] allows, the scales of each `l` go in pairs `(0, 1), (2, 3), ...`
    /// whatever the thread count: the pairs decide which `m = 0` outputs share an inverse
    /// FFT, hence the rounding, so fixed pairs give the same bits on any number of threads
    /// (one group per `l` saved a few FFTs on one or two threads but changed the bits).
    /// Otherwise, one group per `l` when there are at least two orders a thread, and one
    /// scale a group on more threads, which balances them better.
    pub(super) fn groups(&self) -> Vec<(usize, Vec<usize>)> {
        let jj = self.params.j;
        let order2 = self.params.max_order == 2;
        let whole = self.params.l + 1 >= 2 * rayon::current_num_threads();
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for l in 0..=self.params.l {
            let js: Vec<usize> = (0..=jj).collect();
            let size = match (self.packable[l], whole) {
                (true, _) => 2,
                (false, true) => js.len(),
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
}

/// The wavelets of one `(l, j)`, sparse, with their mirror-symmetry corrections.
pub(super) type ScaleFilters<T> = (Vec<SparseComplex<T>>, Option<Vec<NyquistPlanes<T>>>, bool);

/// Whether a spectrum is Hermitian (`h(-k) = conj h(k)` to 1e-12 of its peak), i.e. the
/// filter is real in space, so that it maps real volumes to real volumes.
pub(super) fn hermitian(h: &[num_complex::Complex64], shape: (usize, usize, usize)) -> bool {
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

/// `D = psi_{-m} - (-1)^m conj(psi_m(-k))` (scaled by 1/len) on the three Nyquist planes
/// `a = M/2` (indexed `b O + c`), `b = N/2` without `a = M/2` (`a O + c`), and `c = O/2`
/// without the other two (`a N + b`); a plane is empty when its side is odd.
pub(super) struct NyquistPlanes<T> {
    pub(super) planes: [Vec<Cx<T>>; 3],
}

impl<T: Real> NyquistPlanes<T> {
    /// For each `m = 1..=l`, or `None` if the filters break the symmetry off the planes.
    pub(super) fn all(
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
pub(super) struct SparseComplex<T> {
    pub(super) len: usize,
    pub(super) runs: Vec<(usize, usize, usize)>,
    pub(super) values: Vec<Cx<T>>,
    /// Lines and slabs the support touches, when they are few enough to prune FFTs.
    pub(super) lines: Option<LineSupport>,
    /// The same filter formed line by line (none where the line form is not exact
    /// enough). Where it exists, `values` is empty and every product uses it.
    pub(super) line: Option<LineFilter<T>>,
}

impl<T: Real> SparseComplex<T> {
    pub(super) fn of(
        h: &[num_complex::Complex64],
        scale: f64,
        shape: (usize, usize, usize),
    ) -> Self {
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
    pub(super) fn mul_into(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
        scattering_engine::simd::dispatch(FilterProduct {
            filter: self,
            src,
            out,
            add_i: false,
        })
    }

    #[inline(always)]
    pub(super) fn mul_into_kernel(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
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
    pub(super) fn mul_add_i(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
        scattering_engine::simd::dispatch(FilterProduct {
            filter: self,
            src,
            out,
            add_i: true,
        })
    }

    #[inline(always)]
    pub(super) fn mul_add_i_kernel(&self, src: &[Cx<T>], out: &mut [Cx<T>]) {
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
    pub(super) fn conj_mul_add(&self, g: &[Cx<T>], acc: &mut [Cx<T>]) {
        for &(a, b, off) in &self.runs {
            let v = &self.values[off..off + (b - a)];
            for ((o, s), h) in acc[a..b].iter_mut().zip(&g[a..b]).zip(v) {
                o.re += s.re * h.re + s.im * h.im;
                o.im += s.im * h.re - s.re * h.im;
            }
        }
    }
}
