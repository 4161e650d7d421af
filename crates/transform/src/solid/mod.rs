//! Solid harmonic (3D) scattering, Kymatio's `HarmonicScattering3D` with
//! `method='integral'`: rotation-invariant moduli `U[j, l] = sqrt(sum_m |x * psi_{j,l,m}|^2)`,
//! second order `U[j1, j2, l]` from `U[j1, l]`, and the integrals `sum_voxels U^q`;
//! with its backward pass (vector-Jacobian product).

use crate::common::checks::{check_batch_shape, check_finite};
use crate::error::Result;
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView4, Axis};
use scattering_engine::fourier2d::Plans2d;
use scattering_engine::fourier3d::Plan3d;
use scattering_engine::pool::{Pool, Pooled};
use scattering_engine::{Cx, Real};
use serde::Serialize;

mod backward;
mod forward;
mod kernels;
mod params;
mod plan;

use kernels::*;
pub use params::{SolidHarmonicScattering3dParams, SolidScattering3dParams};
use plan::{NyquistPlanes, SparseComplex};

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
    params: SolidHarmonicScattering3dParams,
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
    pool: Pool<Workspace3d<T>>,
    /// The caller's parallelism setting.
    exec: crate::common::parallel::Executor,
    /// Output path index of order 1 `j` and of order 2 `(j1, j2)`.
    path1: Vec<usize>,
    path2: Vec<Vec<Option<usize>>>,
}

impl<T: Real> SolidHarmonicScattering3d<T> {
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
    pub fn params(&self) -> &SolidHarmonicScattering3dParams {
        &self.params
    }

    fn check<A: Copy + Into<f64>>(&self, x: &ArrayView4<A>) -> Result<()> {
        let (m, n, o) = self.params.shape;
        check_batch_shape("input", x.shape(), &[m, n, o], None)?;
        check_finite(x)
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
    fn work(&self, backward: bool) -> Pooled<'_, Workspace3d<T>> {
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
}

/// Per-task buffers of the 3D transform.
struct Workspace3d<T> {
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

struct Workspace3dRef<'a, T> {
    scratch: &'a mut [Cx<T>],
    planes: Option<&'a mut PlaneWork<T>>,
}

/// Buffers for the Nyquist-plane corrections of the symmetric forward pass.
struct PlaneWork<T> {
    planes: [Vec<Cx<T>>; 3],
    tmp: Vec<Cx<T>>,
    scratch: Vec<Cx<T>>,
}

impl<T: Real> SolidHarmonicScattering3d<T> {
    /// Shape of one input sample.
    fn sample_dims(&self) -> Vec<usize> {
        let (m, n, o) = self.params.shape;
        vec![m, n, o]
    }
    /// Shape of the coefficients of one sample.
    fn coefficient_dims(&self) -> Vec<usize> {
        let (p, l, q) = self.output_shape();
        vec![p, l, q]
    }
}

crate::common::transform::transform_impl!(SolidHarmonicScattering3d, PathMeta3d, Ix4, Ix4);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array4;
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
        let p = SolidHarmonicScattering3dParams::new(shape, 1, 8);
        let formed = p.clone().build().unwrap();
        let stored = SolidHarmonicScattering3d::<f64>::with_filters(
            p,
            params::SolidSource::Profile(&scattering_filters::GaussianHarmonic),
            false,
        )
        .unwrap();
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

    /// The forward pass gives the same bits on one thread and on several (its scale pairs
    /// do not depend on the thread count), and the same invariants whether the filters
    /// are formed line by line or read from their stored values.
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
            let p = SolidHarmonicScattering3dParams::new(shape, jj, ll);
            let one = pool(1).install(|| {
                let s = p.clone().build().unwrap();
                s.forward(x.view()).unwrap()
            });
            let many = pool(ll + 1).install(|| {
                let s = p.clone().build().unwrap();
                s.forward(x.view()).unwrap()
            });
            assert!(
                one == many,
                "J={jj} L={ll}: bits differ between 1 and {} threads",
                ll + 1
            );
            let formed = p.clone().build().unwrap();
            let lined = formed.psi.iter().flatten().flatten();
            assert!(lined
                .clone()
                .all(|f| f.line.is_some() && f.values.is_empty()));
            assert_eq!(lined.count(), (ll + 1) * (ll + 1) * (jj + 1));
            let stored = SolidHarmonicScattering3d::<f64>::with_filters(
                p.clone(),
                params::SolidSource::Profile(&scattering_filters::GaussianHarmonic),
                false,
            )
            .unwrap();
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
