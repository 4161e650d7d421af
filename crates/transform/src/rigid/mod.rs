//! Rigid-motion (roto-translation) scattering, Sifre and Mallat (CVPR 2013), Oyallon and
//! Mallat (CVPR 2015), and its backward pass.
//!
//! Layer 1: `U1(u, t1, j1) = |x * psi_(j1, t1)|` with `L` angles `t1` over `[0, 2 pi)`.
//! Since `psi_(t + L/2)` is the mirror of `psi_t`, `U1` of a real image has period `L/2`
//! in `t1`; only `L/2` angles are computed.
//!
//! Layer 2 is a separable wavelet transform on the roto-translation group: for each
//! `j1 < j2`, relative angle `t2` and angular filter `h` (the angular low-pass and the
//! wavelets `psi_(k, spin)` of [`AngularBank`]),
//!
//! ```text
//! Y(u, t) = sum_s h(t - s) (U1(., s, j1) * psi_(j2, s + t2))(u),   U2 = |Y|
//! ```
//!
//! the spatial wavelet rotated with the angle `s` it is applied at. Rotating the image by
//! `2 pi r / L` rotates `U1` and `U2` in space and shifts them by `r` in angle, so the
//! averages over the angle are rotation invariant. Relative angles `t2 >= L/2` are left out:
//! their `Y` is the complex conjugate of `t2 - L/2`'s with the opposite spin.
//!
//! Outputs: `S0 = x * phi_J`, `S1 = A U1(., ., j1) * phi_J` and `S2 = A U2 * phi_J`, where
//! `A` is the angular averaging (the mean over the `L` angles, or the angular low-pass
//! window keeping them) and `phi_J` the spatial averaging (Kymatio's low-pass, or the
//! mean). Channels: order 0; order 1 by `(j1, theta)`; order 2 by
//! `(j1, j2, t2, filter, theta)`, filters in [`AngularBank::filters`] order; with
//! `scale_invariant`, each averaged over `j1` (see [`PathMetaRigid`]).

use crate::common::parallel::Executor;
use crate::common::{Averaging, Padding};
use crate::error::{invalid, Result};
use scattering_engine::fourier2d::Plans2d;
use scattering_engine::{Cx, Real};
use scattering_filters::{AngularBank, FilterBank2d, Wavelet2d};
use serde::Serialize;
use std::sync::Arc;

mod backward;
mod forward;
mod params;

pub use params::{AngularAveraging, RigidMotionParams};

/// Label of one output channel of a [`RigidMotionScattering`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathMetaRigid {
    /// Scattering order.
    pub order: usize,
    /// First scale (`None` at order 0 and in the scale-invariant variant).
    pub j1: Option<usize>,
    /// Second scale (order 2; `None` in the scale-invariant variant).
    pub j2: Option<usize>,
    /// Scale gap `j2 - j1` (order 2).
    pub dj: Option<usize>,
    /// Relative angle index `t2` in `0..L/2` of the second spatial wavelet (order 2).
    pub theta2: Option<usize>,
    /// Angular scale `k` (order 2; `K` for the angular low-pass).
    pub k: Option<usize>,
    /// Spin of the angular wavelet: `+1`, `-1`, or `0` for the low-pass.
    pub spin: i8,
    /// Absolute angle index in `0..L` with [`AngularAveraging::Window`].
    pub theta: Option<usize>,
}

/// Rigid-motion scattering, built once for an image size and applied to batches.
///
/// ```
/// use ndarray::Array3;
/// use scattering_transform::{Padding, RigidMotionParams};
/// let s = RigidMotionParams::new((16, 16), 2).padding(Padding::Periodic).build()?;
/// let x = Array3::from_shape_fn((2, 16, 16), |(b, i, j)| ((b + i * j) % 5) as f64);
/// let sx = s.forward(x.view())?;
/// assert_eq!(sx.shape(), &[2, s.meta().len(), 4, 4]);
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
pub struct RigidMotionScattering<T: Real = f64> {
    params: RigidMotionParams,
    wavelet: Arc<dyn Wavelet2d>,
    mp: usize,
    np: usize,
    pad: (usize, usize),
    crop: usize,
    out: (usize, usize),
    half: usize,
    /// `psi[j * L + t][level]`, dense spectra (natural layout).
    psi: Vec<Vec<Vec<T>>>,
    /// `phi[level]`, levels `0..J`.
    phi: Vec<Vec<T>>,
    /// Angular filters on the circle (low-pass first), as kernels `h(t)`.
    ang: Vec<Vec<Cx<T>>>,
    /// Angular averaging: `avg[theta][t]`, `theta` in `0..n_theta`, `t` in `0..L`.
    avg: Vec<Vec<T>>,
    /// Channels before the scale-invariant reduction, and the groups each output averages.
    n_full: usize,
    groups: Option<Vec<Vec<usize>>>,
    meta: Vec<PathMetaRigid>,
    plans: Plans2d<T>,
    exec: Executor,
}

impl<T: Real> RigidMotionScattering<T> {
    fn new(params: RigidMotionParams, wavelet: Arc<dyn Wavelet2d>) -> Result<Self> {
        let (m, n) = params.shape;
        let (j, l) = (params.j, params.l);
        if j == 0 || j > 12 {
            return Err(invalid("J", format!("must be in 1..=12, got {j}")));
        }
        if l < 2 || !l.is_multiple_of(2) || l > 64 {
            return Err(invalid(
                "L",
                format!("the number of angles over [0, 2 pi) must be even, 2..=64, got {l}"),
            ));
        }
        if params.max_order > 2 {
            return Err(invalid(
                "max_order",
                format!("must be 0, 1 or 2, got {}", params.max_order),
            ));
        }
        if params.average == Averaging::None {
            return Err(invalid(
                "average",
                "rigid-motion scattering averages locally or globally; `None` is not available",
            ));
        }
        if m < (1 << j) || n < (1 << j) {
            return Err(invalid(
                "shape",
                format!("image {m}x{n} is smaller than 2^J = {} on a side", 1 << j),
            ));
        }
        let (mp, np, crop) = match params.padding {
            Padding::Reflect => {
                let padded = |s: usize| ((s + (1 << j)) / (1 << j) + 1) * (1 << j);
                (padded(m), padded(n), 1)
            }
            Padding::Periodic => {
                if !m.is_multiple_of(1 << j) || !n.is_multiple_of(1 << j) {
                    return Err(invalid(
                        "shape",
                        format!(
                            "periodic images need sides divisible by 2^J = {}, got {m}x{n}",
                            1 << j
                        ),
                    ));
                }
                (m, n, 0)
            }
        };
        let angular = AngularBank::new(l, params.k)?;
        let bank = FilterBank2d::full_circle(mp, np, j, l, wavelet.as_ref())?;
        let cast = |v: &[f64]| v.iter().map(|&a| T::of(a)).collect::<Vec<T>>();
        let psi = bank
            .psi
            .iter()
            .map(|f| f.levels.iter().map(|s| cast(&s.data)).collect())
            .collect();
        let phi = bank.phi.levels.iter().map(|s| cast(&s.data)).collect();
        let ang = angular
            .filters()
            .map(|f| {
                f.kernel()
                    .into_iter()
                    .map(|c| Cx::new(T::of(c.re), T::of(c.im)))
                    .collect()
            })
            .collect();
        let window = params.angular == AngularAveraging::Window;
        let avg: Vec<Vec<T>> = if window {
            // The angular low-pass is real and even in frequency: its kernel is real.
            let h = angular.phi.kernel();
            (0..l)
                .map(|th| (0..l).map(|t| T::of(h[(th + l - t) % l].re)).collect())
                .collect()
        } else {
            vec![vec![T::of(1.0 / l as f64); l]]
        };
        let (full_meta, n_full) = Self::channels(&params, &angular, avg.len());
        let (meta, groups) = if params.scale_invariant {
            let (meta, groups) = Self::scale_groups(&full_meta);
            (meta, Some(groups))
        } else {
            (full_meta, None)
        };
        let out = if params.average == Averaging::Global {
            (1, 1)
        } else {
            ((mp >> j) - 2 * crop, (np >> j) - 2 * crop)
        };
        Ok(Self {
            half: l / 2,
            pad: ((mp - m) / 2, (np - n) / 2),
            plans: Plans2d::new(mp, np, j),
            params,
            wavelet,
            mp,
            np,
            crop,
            out,
            psi,
            phi,
            ang,
            avg,
            n_full,
            groups,
            meta,
            exec: Executor::new(crate::Parallelism::Global)?,
        })
    }

    /// Labels of the channels before any scale-invariant reduction.
    fn channels(
        p: &RigidMotionParams,
        angular: &AngularBank,
        n_theta: usize,
    ) -> (Vec<PathMetaRigid>, usize) {
        let theta = |t: usize| (n_theta > 1).then_some(t);
        let base = PathMetaRigid {
            order: 0,
            j1: None,
            j2: None,
            dj: None,
            theta2: None,
            k: None,
            spin: 0,
            theta: None,
        };
        let mut meta = vec![base.clone()];
        if p.max_order >= 1 {
            for j1 in 0..p.j {
                for t in 0..n_theta {
                    meta.push(PathMetaRigid {
                        order: 1,
                        j1: Some(j1),
                        theta: theta(t),
                        ..base.clone()
                    });
                }
            }
        }
        if p.max_order >= 2 {
            for j1 in 0..p.j {
                for j2 in j1 + 1..p.j {
                    for t2 in 0..p.l / 2 {
                        for f in angular.filters() {
                            for t in 0..n_theta {
                                meta.push(PathMetaRigid {
                                    order: 2,
                                    j1: Some(j1),
                                    j2: Some(j2),
                                    dj: Some(j2 - j1),
                                    theta2: Some(t2),
                                    k: Some(f.k),
                                    spin: f.spin,
                                    theta: theta(t),
                                });
                            }
                        }
                    }
                }
            }
        }
        let n = meta.len();
        (meta, n)
    }

    /// The scale-invariant channels: each full channel with `j1` (and `j2`) forgotten,
    /// grouped by what is left.
    fn scale_groups(full: &[PathMetaRigid]) -> (Vec<PathMetaRigid>, Vec<Vec<usize>>) {
        let mut meta: Vec<PathMetaRigid> = Vec::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, c) in full.iter().enumerate() {
            let key = PathMetaRigid {
                j1: None,
                j2: None,
                ..c.clone()
            };
            match meta.iter().position(|m| *m == key) {
                Some(g) => groups[g].push(i),
                None => {
                    meta.push(key);
                    groups.push(vec![i]);
                }
            }
        }
        (meta, groups)
    }

    /// The parameters.
    pub fn params(&self) -> &RigidMotionParams {
        &self.params
    }
    /// `(channels, rows, columns)` of the output for one image.
    pub fn output_shape(&self) -> (usize, usize, usize) {
        (self.meta.len(), self.out.0, self.out.1)
    }
    /// One label per output channel, in output order.
    pub fn meta(&self) -> &[PathMetaRigid] {
        &self.meta
    }
    /// Padded size the filters act on.
    pub fn padded_shape(&self) -> (usize, usize) {
        (self.mp, self.np)
    }
    /// The spatial filter bank (f64, at the padded size, angles over the whole circle).
    pub fn bank(&self) -> Result<FilterBank2d> {
        Ok(FilterBank2d::full_circle(
            self.mp,
            self.np,
            self.params.j,
            self.params.l,
            self.wavelet.as_ref(),
        )?)
    }
    /// The angular filter bank.
    pub fn angular_bank(&self) -> Result<AngularBank> {
        Ok(AngularBank::new(self.params.l, self.params.k)?)
    }

    fn sample_dims(&self) -> Vec<usize> {
        vec![self.params.shape.0, self.params.shape.1]
    }
    fn coefficient_dims(&self) -> Vec<usize> {
        let (c, a, b) = self.output_shape();
        vec![c, a, b]
    }

    /// Grid of level `r`.
    fn grid(&self, r: usize) -> (usize, usize) {
        (self.mp >> r, self.np >> r)
    }

    /// Rows and columns of level `r` that lie in the unpadded image.
    fn region(&self, r: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (m, n) = self.params.shape;
        let d = 1usize << r;
        (
            self.pad.0.div_ceil(d)..(self.pad.0 + m).div_ceil(d),
            self.pad.1.div_ceil(d)..(self.pad.1 + n).div_ceil(d),
        )
    }
}

/// Per-thread buffers.
struct Workspace<T> {
    x: Vec<Cx<T>>,
    img: Vec<T>,
    /// `z1[j1 * half + t1]`: `x * psi` at level `j1`; `u1`: its modulus; `u1hat`: the
    /// modulus' spectrum.
    z1: Vec<Vec<Cx<T>>>,
    u1: Vec<Vec<T>>,
    u1hat: Vec<Vec<Cx<T>>>,
    /// `L` complex maps at the finest second-order level, and their filtered versions.
    v: Vec<Vec<Cx<T>>>,
    y: Vec<Vec<Cx<T>>>,
    /// `n_theta` real maps (angular averages).
    w: Vec<Vec<T>>,
    spec: Vec<Cx<T>>,
    small: Vec<Cx<T>>,
    tmp: Vec<Cx<T>>,
    scratch: Vec<Cx<T>>,
    /// Coefficients (or their gradient) before the scale-invariant reduction.
    full: Vec<T>,
}

impl<T: Real> RigidMotionScattering<T> {
    fn workspace(&self) -> Workspace<T> {
        let z = Cx::new(T::zero(), T::zero());
        let len = self.mp * self.np;
        let (j, half, l) = (self.params.j, self.half, self.params.l);
        let level_len = |r: usize| (self.mp >> r) * (self.np >> r);
        let per_path = |v: T| -> Vec<Vec<T>> {
            (0..j * half)
                .map(|i| vec![v; level_len(i / half)])
                .collect()
        };
        let per_path_c = || -> Vec<Vec<Cx<T>>> {
            (0..j * half)
                .map(|i| vec![z; level_len(i / half)])
                .collect()
        };
        let l2 = level_len(1.min(j));
        Workspace {
            x: vec![z; len],
            img: vec![T::zero(); len],
            z1: per_path_c(),
            u1: per_path(T::zero()),
            u1hat: per_path_c(),
            v: vec![vec![z; l2]; l],
            y: vec![vec![z; l2]; l],
            w: vec![vec![T::zero(); len]; self.avg.len()],
            spec: vec![z; len],
            small: vec![z; len],
            tmp: vec![z; len],
            scratch: vec![z; self.plans.scratch_len],
            full: vec![T::zero(); self.n_full * self.out.0 * self.out.1],
        }
    }
}

crate::common::transform::transform_impl!(RigidMotionScattering, PathMetaRigid, Ix3, Ix4);
