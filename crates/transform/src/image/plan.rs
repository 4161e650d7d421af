//! Planning: padding, the Morlet bank at every level, the path table (order-1 paths
//! grouped in pairs of one scale), the FFT plans, and the filters on their supports.

use super::params::{check_bank, FilterSource2d};
use super::*;
use crate::common::Averaging;
use crate::common::Padding;
use crate::error::{invalid, Result};
use scattering_engine::fourier2d::{Plans2d, SparseFilter2d};
use scattering_engine::lowpass2d::SpatialLowpass;
use scattering_engine::pool::Pool;
use scattering_engine::Real;
use scattering_filters::FilterBank2d;

impl Scattering2dParams {
    /// Checks the parameters; returns the padded size and the crop of the output.
    fn plan_padding(&self) -> Result<(usize, usize, usize)> {
        let (m, n) = self.shape;
        let j = self.j;
        if j == 0 || j > 12 {
            return Err(invalid("J", format!("must be in 1..=12, got {j}")));
        }
        if self.l == 0 {
            return Err(invalid(
                "L",
                "the number of orientations must be at least 1",
            ));
        }
        if m < (1 << j) || n < (1 << j) {
            return Err(invalid(
                "shape",
                format!("image {m}x{n} is smaller than 2^J = {} on a side", 1 << j),
            ));
        }
        if self.max_order > 2 {
            return Err(invalid(
                "max_order",
                format!("must be 0, 1 or 2, got {}", self.max_order),
            ));
        }
        if self.average == Averaging::None {
            return Err(invalid(
                "average",
                "2D scattering averages locally or globally; `None` is not available",
            ));
        }
        Ok(match self.padding {
            // Kymatio's padded size: ((M + 2^J) // 2^J + 1) * 2^J.
            Padding::Reflect => {
                let padded = |s: usize| ((s + (1 << j)) / (1 << j) + 1) * (1 << j);
                (padded(m), padded(n), 1)
            }
            Padding::Periodic => {
                if m % (1 << j) != 0 || n % (1 << j) != 0 {
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
        })
    }

    /// The size the filters act on (the image plus its padding): a bank given to
    /// [`Self::build_with_bank`] must have this size.
    pub fn padded_shape(&self) -> Result<(usize, usize)> {
        let (mp, np, _) = self.plan_padding()?;
        Ok((mp, np))
    }
}

impl<T: Real> Scattering2d<T> {
    pub(super) fn new(params: Scattering2dParams, source: FilterSource2d) -> Result<Self> {
        let (m, n) = params.shape;
        let j = params.j;
        let (mp, np, crop) = params.plan_padding()?;
        let pad = ((mp - m) / 2, (np - n) / 2);
        let owned;
        let bank: &FilterBank2d = match &source {
            FilterSource2d::Family(w) => {
                owned = FilterBank2d::with_wavelet(mp, np, j, params.l, w.as_ref())?;
                &owned
            }
            FilterSource2d::Bank(b) => {
                check_bank(b, mp, np, j, params.l)?;
                b
            }
        };
        let l = params.l;
        let mut meta = vec![PathMeta2d {
            order: 0,
            n: vec![],
            j: vec![],
            theta: vec![],
        }];
        let mut first = Vec::new();
        if params.max_order >= 1 {
            for (n1, f) in bank.psi.iter().enumerate() {
                meta.push(PathMeta2d {
                    order: 1,
                    n: vec![n1],
                    j: vec![f.j],
                    theta: vec![f.theta],
                });
                first.push(First2 {
                    n1,
                    j1: f.j,
                    channel: 1 + n1,
                    children: vec![],
                });
            }
        }
        if params.max_order >= 2 {
            let mut channel = 1 + bank.psi.len();
            for f in first.iter_mut() {
                for (n2, g) in bank.psi.iter().enumerate() {
                    if g.j <= f.j1 {
                        continue;
                    }
                    f.children.push(Child2 {
                        n2,
                        j2: g.j,
                        channel,
                    });
                    channel += 1;
                    meta.push(PathMeta2d {
                        order: 2,
                        n: vec![f.n1, n2],
                        j: vec![f.j1, g.j],
                        theta: vec![f.n1 % l, g.theta],
                    });
                }
            }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, f) in first.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if g.len() == 1 && first[g[0]].j1 == f.j1 => g.push(i),
                _ => groups.push(vec![i]),
            }
        }
        let sparse = |s: &scattering_filters::Spectrum2d| SparseFilter2d::of(&s.data, s.m, s.n);
        let global = params.average == Averaging::Global;
        let out = if global {
            (1, 1)
        } else {
            ((mp >> j) - 2 * crop, (np >> j) - 2 * crop)
        };
        let spatial = bank
            .phi
            .levels
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (!global)
                    .then(|| SpatialLowpass::of(&s.data, (s.m, s.n), 1 << (j - k), crop, out))
                    .flatten()
            })
            .collect();
        Ok(Self {
            psi: bank
                .psi
                .iter()
                .map(|f| f.levels.iter().map(sparse).collect())
                .collect(),
            phi: bank.phi.levels.iter().map(sparse).collect(),
            spatial,
            plans: Plans2d::new(mp, np, j),
            source,
            pool: Pool::new(2),
            exec: Default::default(),
            out,
            crop,
            global,
            params,
            mp,
            np,
            pad,
            groups,
            first,
            meta,
        })
    }
}
