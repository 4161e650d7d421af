//! Reductions of the scattering spectra to fewer moments: averages over rotations
//! (isotropic) and over dilations (scale-invariant), as in Morel et al. and Cheng et al.
//!
//! Each reduced moment is the mean of a group of moments of [`ScatteringSpectra`], so the
//! reduction is linear and its vector-Jacobian product spreads each cotangent evenly over
//! its group.
//!
//! - **Isotropic** (2D): moments are grouped by their orientations relative to the coarse
//!   wavelet's, `(θ_a − θ_j) mod L` (and `(θ_b − θ_j) mod L`), and single-wavelet moments by
//!   scale alone. Rotating an image by `π s / L` shifts every orientation by `s`; a wavelet
//!   carried past `π` becomes the mirrored one, whose field is the complex conjugate. A
//!   rotation by `π` therefore conjugates every cross moment: their imaginary parts average
//!   to zero over rotations and are left out, and the real parts group as above. At the
//!   low-pass, where there is no coarse wavelet, the modulus pairs share one orientation
//!   and group by scales alone.
//! - **Scale-invariant**: the cross-spectra (normalised already) are grouped by their scale
//!   offsets `j − a` (and `j − b`); powers and sparsities keep one moment per octave, so the
//!   spectrum is still matched, and the low-pass moments stay apart from the wavelet ones.

use crate::error::{check_len, ModelError, Result};
use crate::representation::Representation;
use crate::spectra::{ScatteringSpectra, SpectraKind, SpectraLabel};
use std::collections::HashMap;

/// Which averages [`ReducedSpectra`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// Average over rotations (2D only).
    Isotropic,
    /// Average the cross-spectra over dilations.
    ScaleInvariant,
    /// Both.
    Both,
}

/// Scattering spectra averaged over rotations and/or dilations ([`Reduction`]): the same
/// statistics in far fewer moments, for processes that are (close to) isotropic or
/// self-similar.
///
/// ```
/// use scattering_models::{Reduction, ReducedSpectra, Representation, ScatteringSpectra2d};
///
/// let full = ScatteringSpectra2d::new_2d((64, 64), 4, 4)?;
/// let k = full.labels().len();
/// let iso = ReducedSpectra::new(full, Reduction::Isotropic)?;
/// assert!(iso.output_len() * 3 < k);
/// // An image and its rotation by 90 degrees (L = 4: two orientation steps, about pixel
/// // (0, 0) so that the subsampled grids map onto themselves) give the same isotropic
/// // moments.
/// let x: Vec<f64> = (0..64 * 64).map(|i| ((i * 7919) % 101) as f64 / 101.0).collect();
/// let rot: Vec<f64> = (0..64 * 64).map(|i| x[(i % 64) * 64 + (64 - i / 64) % 64]).collect();
/// let (a, b) = (iso.forward(&x)?, iso.forward(&rot)?);
/// assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-9 * (1.0 + p.abs())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ReducedSpectra {
    inner: ScatteringSpectra,
    /// Indices of the inner moments averaged into each reduced moment (an inner moment in
    /// no group is left out).
    groups: Vec<Vec<usize>>,
    labels: Vec<SpectraLabel>,
}

impl ReducedSpectra {
    /// The reduction `r` of `inner`. The labels of the reduced moments carry, for a
    /// rotation average, the orientations relative to the coarse wavelet's (the coarse
    /// wavelet's own, 0, dropped; none for single-wavelet moments), and for a dilation
    /// average the scale offsets `j − a` (and `j − b`) followed by `j` itself when `j` is
    /// the low-pass.
    pub fn new(inner: ScatteringSpectra, r: Reduction) -> Result<Self> {
        let iso = matches!(r, Reduction::Isotropic | Reduction::Both);
        let dil = matches!(r, Reduction::ScaleInvariant | Reduction::Both);
        let labels = inner.labels();
        let two_d = labels.iter().any(|l| !l.orientations.is_empty());
        if iso && !two_d {
            return Err(ModelError::Param(
                "an isotropic reduction needs 2D scattering spectra".into(),
            ));
        }
        let top = inner.octaves();
        let mut index: HashMap<(SpectraKind, Vec<usize>, Vec<usize>, bool), usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut out_labels = Vec::new();
        let l_count = labels
            .iter()
            .flat_map(|l| l.orientations.iter())
            .max()
            .map_or(1, |m| m + 1);
        for (i, l) in labels.iter().enumerate() {
            let cross = matches!(l.kind, SpectraKind::PhaseModulus | SpectraKind::Modulus);
            if iso && l.imaginary {
                continue;
            }
            let low = cross && l.scales.last() == Some(&top);
            let mut orientations = l.orientations.clone();
            if iso {
                orientations = if cross && !low && orientations.len() == l.scales.len() {
                    // Relative to the coarse wavelet's, which is dropped.
                    let tj = orientations[orientations.len() - 1];
                    orientations[..orientations.len() - 1]
                        .iter()
                        .map(|t| (t + l_count - tj) % l_count)
                        .collect()
                } else if low && orientations.len() == 2 {
                    // Modulus pairs at the low-pass share one orientation.
                    vec![(orientations[1] + l_count - orientations[0]) % l_count]
                } else {
                    Vec::new()
                };
            }
            let mut scales = l.scales.clone();
            if dil && cross {
                let j = scales[scales.len() - 1];
                let mut offsets: Vec<usize> =
                    scales[..scales.len() - 1].iter().map(|a| j - a).collect();
                if low {
                    offsets.push(j);
                }
                scales = offsets;
            }
            let key = (l.kind, scales.clone(), orientations.clone(), l.imaginary);
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                out_labels.push(SpectraLabel {
                    kind: l.kind,
                    scales,
                    orientations,
                    imaginary: l.imaginary,
                });
                groups.len() - 1
            });
            groups[g].push(i);
        }
        Ok(Self {
            inner,
            groups,
            labels: out_labels,
        })
    }

    /// The label of every reduced moment, in output order.
    pub fn labels(&self) -> &[SpectraLabel] {
        &self.labels
    }

    /// The inner moments averaged into each reduced moment.
    pub fn groups(&self) -> &[Vec<usize>] {
        &self.groups
    }

    fn reduce(&self, m: &[f64]) -> Vec<f64> {
        self.groups
            .iter()
            .map(|g| g.iter().map(|&i| m[i]).sum::<f64>() / g.len() as f64)
            .collect()
    }

    fn spread(&self, v: &[f64]) -> Vec<f64> {
        let mut full = vec![0.0; self.inner.output_len()];
        for (g, vi) in self.groups.iter().zip(v) {
            let share = vi / g.len() as f64;
            for &i in g {
                full[i] = share;
            }
        }
        full
    }
}

impl Representation for ReducedSpectra {
    fn input_len(&self) -> usize {
        self.inner.input_len()
    }

    fn output_len(&self) -> usize {
        self.groups.len()
    }

    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        Ok(self.reduce(&self.inner.forward(x)?))
    }

    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_len("cotangent", v.len(), self.groups.len())?;
        self.inner.backward(x, &self.spread(v))
    }

    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut reduced = Vec::new();
        let mut bad = None;
        let res = self.inner.forward_backward(x, &mut |m| {
            reduced = self.reduce(m);
            let v = cotangent(&reduced);
            if v.len() != self.groups.len() {
                bad = Some(v.len());
                return Vec::new();
            }
            self.spread(&v)
        });
        if let Some(got) = bad {
            check_len("cotangent", got, self.groups.len())?;
        }
        let (_, g) = res?;
        Ok((reduced, g))
    }
}
