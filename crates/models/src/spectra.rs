//! Wavelet scattering spectra of signals and images (Morel, Rochette and Mallat, "Scale
//! dependencies and self-similar models with wavelet scattering spectra", 2023; Cheng,
//! Morel, Allys, Ménard and Mallat, "Scattering spectra models for physics", 2024): a few
//! hundred moments that hold a process's power spectrum, its sparsity, and the
//! dependencies across scales that make it intermittent or time-asymmetric.
//!
//! With `W_j = x * ψ_j` (Morlet wavelets, one per octave, finest first, and in 2D one per
//! octave and orientation), `P_j`
//! the mean of `|W_j|²` and `M_j = |W_j|`, the moments of a periodic signal are
//! - **mean** of the signal;
//! - **power**: `P_j` divided by the wavelet's mean squared response, the spectral density
//!   in octave `j` (flat for white noise), and the same for the low-pass `φ` that covers
//!   the frequencies below the last wavelet, and once more for radial shells the wavelets
//!   do not resolve: rings below the low-pass scale (an octave wide in 1D, half an octave
//!   in 2D), and the Fourier corners beyond
//!   `|ω| = 3π/4` (`[3π/4, π)`, `[π, 1.2π)`, above), which no Morlet wavelet reaches;
//! - **sparsity**: `mean(M_j) / sqrt(P_j)`, `sqrt(π)/2 ≈ 0.886` for a Gaussian process,
//!   smaller for a sparse one;
//! - **phase-modulus cross-spectrum**: `mean(W_j · conj(M_a * ψ_j)) / sqrt(P_j P_a)` for
//!   every finer octave `a < j`, its real and imaginary parts. It vanishes for a process
//!   symmetric under `x → -x`; its phase measures time asymmetry (leverage);
//! - **modulus cross-spectrum**: `mean((M_a * ψ_j) · conj(M_b * ψ_j)) / sqrt(P_a P_b)` for
//!   `a ≤ b < j`, real and imaginary parts (real only when `a = b`): how the envelopes of
//!   two octaves vary together at the slower scale `j`, which is what intermittency is;
//! - both cross-spectra again at the low-pass `φ` in place of `ψ_j` (every `a ≤ b`, the DC
//!   bin left out, real): the covariance of the envelopes' variations slower than `2^J`,
//!   and their correlation with the signal's (Morel et al. keep these too).
//!
//! Every cross moment is a sum over frequencies (Parseval), `Σ_k ψ_j(k)² Â(k) conj(B̂(k))`,
//! over the band where `ψ_j²` is above 1e-4 of its peak. Each field `W_f` is computed on
//! the coarsest grid (every `2^r`-th sample) whose frequency range keeps all but 1e-5 of
//! `ψ_f²`, with the engine's filter-and-subsample kernel, so the coarse octaves cost little;
//! each wavelet's FFTs run in parallel. [`Representation::forward_backward`] gives the
//! moments and a vector-Jacobian product from one computation of the fields, which is what
//! the samplers call. The vector-Jacobian product is exact (tested against finite
//! differences).

use crate::error::{check_finite, check_len, ModelError, Result};
use crate::representation::Representation;
use num_complex::Complex64;
use rayon::prelude::*;
use scattering_engine::fourier1d::{Plans, SparseFilter};
use scattering_engine::fourier2d::{Plans2d, SparseFilter2d};
use scattering_filters::{Bank1dParams, FilterBank1d, FilterBank2d};
use std::sync::Mutex;

/// What a moment of [`ScatteringSpectra1d`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpectraKind {
    /// The mean of the signal (`scales` empty).
    Mean,
    /// Spectral density in octave `j` (`scales = [j]`); `j = J` is the low-pass.
    Power,
    /// Spectral density of a radial shell the wavelets do not resolve (`scales = [i]`,
    /// shells numbered from the lowest frequencies: rings below the low-pass scale, an
    /// octave wide in 1D and half an octave in 2D, then the Fourier corners beyond
    /// `|ω| = 3π/4`).
    Outside,
    /// `mean|W_j| / sqrt(P_j)` (`scales = [j]`).
    Sparsity,
    /// Phase-modulus cross-spectrum (`scales = [a, j]`, `a < j`; `j = J` is the
    /// low-pass, real).
    PhaseModulus,
    /// Modulus cross-spectrum (`scales = [a, b, j]`, `a ≤ b < j`; `j = J` is the
    /// low-pass, real).
    Modulus,
    /// Flatness of the wavelet coefficients, `mean|W_j|⁴ / P_j²` (`scales = [j]`; 2 for a
    /// Gaussian process), present after [`ScatteringSpectra::with_flatness`].
    Flatness,
}

/// The label of one moment of [`ScatteringSpectra`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpectraLabel {
    /// The statistic.
    pub kind: SpectraKind,
    /// The octaves involved (0 is the finest), as described under [`SpectraKind`].
    pub scales: Vec<usize>,
    /// In 2D, the orientation index of each wavelet, in the order of `scales` (empty in 1D
    /// and for the low-pass).
    pub orientations: Vec<usize>,
    /// The imaginary part of a complex moment (the real part when `false`).
    pub imaginary: bool,
}

/// Wavelet scattering spectra of periodic signals (length `n`, [`Self::new`]) or images
/// (`(m, n)` with `L` orientations, [`Self::new_2d`]); see the [module
/// documentation](self) for the moments.
///
/// ```
/// use scattering_models::{Representation, ScatteringSpectra1d, SpectraKind};
/// use rand::{rngs::StdRng, SeedableRng};
/// use rand_distr::{Distribution, StandardNormal};
///
/// let phi = ScatteringSpectra1d::new(4096, 6)?;
/// let mut rng = StdRng::seed_from_u64(1);
/// let x: Vec<f64> = (0..4096).map(|_| StandardNormal.sample(&mut rng)).collect();
/// let m = phi.forward(&x)?;
/// // White noise: a flat spectral density, and the sparsity of a Gaussian.
/// for (v, l) in m.iter().zip(phi.labels()) {
///     match l.kind {
///         SpectraKind::Power if l.scales[0] < 4 => assert!((v - 1.0).abs() < 0.3),
///         SpectraKind::Sparsity => assert!((v - 0.886).abs() < 0.1),
///         _ => {}
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ScatteringSpectra {
    /// Number of samples (pixels).
    n: usize,
    /// Subsampling exponent `r` of each wavelet's field: `W_f` is computed on the grid of
    /// every `2^r`-th sample (along each axis), the coarsest that keeps all but
    /// [`ALIAS_TOL`] of `ψ_f²` inside its frequency range.
    level: Vec<usize>,
    /// Samples on each wavelet's grid.
    len: Vec<usize>,
    /// Scale of each wavelet.
    scale: Vec<usize>,
    /// The cross moments: kind and wavelet indices `[a, j]` or `[a, b, j]`.
    pairs: Vec<(SpectraKind, Vec<usize>)>,
    /// The band of each wavelet where the cross moments are summed.
    bands: Vec<Band>,
    /// Every spectrum restricted to a band: the cross moments are sums of products of
    /// two slots of one band, which run over contiguous memory.
    slots: Vec<Slot>,
    /// Per cross moment: its two slots and the factor `1 / (N_1 N_2)` of their grids.
    terms: Vec<(usize, usize, f64)>,
    /// Per slot, the cross moments it enters: `(moment, other slot, first factor?)`.
    uses: Vec<Vec<(usize, usize, bool)>>,
    /// The slots of each wavelet's `M̂`, and those of `x̂`.
    lane_slots: Vec<Vec<usize>>,
    x_slots: Vec<usize>,
    /// `φ²` and the radial shells the wavelets do not resolve, on their supports (bins of
    /// the full spectrum): their powers, by Parseval. (A wavelet's power is the mean of
    /// `|W_f|²` on its grid.)
    power: Vec<(Vec<usize>, Vec<f64>)>,
    /// Mean squared response of each wavelet, then of the low-pass.
    gain: Vec<f64>,
    labels: Vec<SpectraLabel>,
    /// Whether the flatness of every wavelet's coefficients follows the cross moments.
    flatness: bool,
    grid: Grid,
    /// Workspaces of finished calls, reused by the next (one per concurrent caller).
    pool: Mutex<Vec<Work>>,
}

/// The 1D scattering spectra (the 2D ones are the same type, built by
/// [`ScatteringSpectra::new_2d`]).
pub type ScatteringSpectra1d = ScatteringSpectra;
/// The 2D scattering spectra ([`ScatteringSpectra::new_2d`]).
pub type ScatteringSpectra2d = ScatteringSpectra;

/// Fraction of a wavelet's squared response allowed outside the frequency range of the
/// grid its field is subsampled to. Subsampling is exact (the filtered spectrum is folded,
/// as the transforms do); this only bounds how far the modulus, taken on the coarse grid,
/// departs from the modulus on the full one.
const ALIAS_TOL: f64 = 1e-5;

/// Bins where `ψ_j²` is below this fraction of its peak are left out of the cross sums.
const BAND_TOL: f64 = 1e-4;

/// Where the cross moments at a coarse wavelet `j` are summed: the bins where `ψ_j²`
/// is above [`BAND_TOL`] of its peak and that every finer wavelet's grid represents.
struct Band {
    /// `ψ_j²` on those bins.
    h: Vec<f64>,
    /// `at[r][i]`: the index of bin `i` in the spectrum of a level-`r` grid (`at[0]`: the
    /// full grid), for every level a finer wavelet uses.
    at: Vec<Vec<usize>>,
}

/// One spectrum (`x̂`, or the `M̂` of a wavelet) gathered on the band of a coarser
/// wavelet `j`.
struct Slot {
    /// The wavelet whose `M̂` this is, or `None` for `x̂`.
    owner: Option<usize>,
    /// The band.
    j: usize,
    /// The owner's grid level (0 for `x̂`).
    level: usize,
}

/// FFT plans of the signal's grid and its subsampled grids, and the wavelets stored for
/// the engine's filter-and-subsample kernel. 2D spectra are in the engine's transposed
/// layout; the moments are sums over bins and do not see it.
enum Grid {
    D1 {
        plans: Plans<f64>,
        filters: Vec<SparseFilter<f64>>,
    },
    D2 {
        plans: Plans2d<f64>,
        filters: Vec<SparseFilter2d<f64>>,
        m: usize,
        n: usize,
    },
}

impl Grid {
    fn scratch_len(&self) -> usize {
        match self {
            Grid::D1 { plans, .. } => plans.scratch_len,
            Grid::D2 { plans, .. } => plans.scratch_len,
        }
    }

    /// `(rows, columns)` of the full grid (one row in 1D).
    fn dims(&self) -> (usize, usize) {
        match self {
            Grid::D1 { plans, .. } => (1, plans.levels[0].m),
            Grid::D2 { m, n, .. } => (*m, *n),
        }
    }

    /// Signed frequency `(row, column)` of bin `k` of a natural row-major full spectrum.
    fn signed(&self, k: usize) -> (isize, isize) {
        let (m, n) = self.dims();
        let s = |i: usize, len: usize| {
            if i < len.div_ceil(2) {
                i as isize
            } else {
                i as isize - len as isize
            }
        };
        (s(k / n, m), s(k % n, n))
    }

    /// Index of the signed frequency `f` in the spectrum of the level-`r` grid, if that
    /// grid's frequency range `[-len/2, len/2)` holds it on each axis.
    fn index(&self, r: usize, f: (isize, isize)) -> Option<usize> {
        let (m, n) = self.dims();
        let fits = |s: isize, len: usize| {
            let h = (len / 2) as isize;
            (-h..len as isize - h).contains(&s)
        };
        let (mr, nr) = (if m == 1 { 1 } else { m >> r }, n >> r);
        if !(fits(f.0, mr) && fits(f.1, nr)) {
            return None;
        }
        let (y, x) = (
            f.0.rem_euclid(mr as isize) as usize,
            f.1.rem_euclid(nr as isize) as usize,
        );
        Some(match self {
            Grid::D1 { .. } => x,
            Grid::D2 { .. } => x * mr + y,
        })
    }

    /// Whether the level-`r` grid holds the signed frequency `f` strictly inside its range,
    /// `|f| < len/2` on each axis: symmetric under sign changes and (on square grids) axis
    /// swaps, so that a wavelet and its rotation by 90° get the same grid and band.
    fn inside(&self, r: usize, f: (isize, isize)) -> bool {
        let (m, n) = self.dims();
        let (mr, nr) = (if m == 1 { 1 } else { m >> r }, n >> r);
        let ok = |s: isize, len: usize| len == 1 && s == 0 || 2 * s.unsigned_abs() < len;
        ok(f.0, mr) && ok(f.1, nr)
    }

    /// Samples of the level-`r` grid.
    fn len(&self, r: usize) -> usize {
        let (m, n) = self.dims();
        if m == 1 {
            n >> r
        } else {
            (m >> r) * (n >> r)
        }
    }

    /// Unnormalised forward FFT of the level-`r` grid, in place.
    fn forward(&self, r: usize, a: &mut [Complex64], tmp: &mut [Complex64], s: &mut [Complex64]) {
        match self {
            Grid::D1 { plans, .. } => plans.levels[r].fwd.process_with_scratch(a, s),
            Grid::D2 { plans, .. } => plans.levels[r].forward_t(a, tmp, s),
        }
    }

    /// Unnormalised inverse FFT of the level-`r` grid, in place.
    fn inverse(&self, r: usize, a: &mut [Complex64], tmp: &mut [Complex64], s: &mut [Complex64]) {
        match self {
            Grid::D1 { plans, .. } => plans.levels[r].inv.process_with_scratch(a, s),
            Grid::D2 { plans, .. } => plans.levels[r].inverse_t(a, tmp, s),
        }
    }

    /// `out = fold(x̂ ψ_f) / N`, the spectrum of the level-`r` subsampled `x * ψ_f`
    /// under the unnormalised inverse.
    fn fold(
        &self,
        f: usize,
        r: usize,
        xh: &[Complex64],
        out: &mut [Complex64],
        tmp: &mut [Complex64],
    ) {
        match self {
            Grid::D1 { plans, filters } => {
                let n = plans.levels[0].m;
                filters[f].fold(xh, 1.0 / n as f64, &mut out[..n >> r]);
            }
            Grid::D2 { filters, m, n, .. } => filters[f].fold(xh, m >> r, n >> r, out, tmp),
        }
    }

    /// Adjoint of the unnormalised fold: `acc(k) += ψ_f(k) g(k mod grid)`.
    fn tile_add(&self, f: usize, r: usize, g: &[Complex64], acc: &mut [Complex64]) {
        match self {
            Grid::D1 { filters, .. } => filters[f].tile_add(g, acc),
            Grid::D2 { filters, m, n, .. } => filters[f].tile_add(g, m >> r, n >> r, acc),
        }
    }
}

/// Raw moments before the normalisation.
struct Raw {
    /// `P_j` for the wavelets, then the low-pass power, then the shells'.
    p: Vec<f64>,
    /// `mean|W_j|`.
    m: Vec<f64>,
    /// `mean|W_j|⁴`.
    k: Vec<f64>,
    /// Unnormalised cross moments, in label order.
    cross: Vec<Complex64>,
}

/// The buffers of one wavelet: its subsampled field, the spectrum of its modulus, and
/// FFT space.
struct Lane {
    w: Vec<Complex64>,
    m_hat: Vec<Complex64>,
    tmp: Vec<Complex64>,
    scratch: Vec<Complex64>,
    /// `mean|W|` on the lane's grid.
    mean_abs: f64,
    /// `mean|W|²` on the lane's grid.
    mean_sq: f64,
    /// `mean|W|⁴` on the lane's grid.
    mean_quad: f64,
}

/// Every buffer one evaluation needs, kept between calls: allocating and freeing these
/// (each above the allocator's mmap threshold) every call cost more than the FFTs, in
/// page faults and TLB shootdowns.
struct Work {
    x_hat: Vec<Complex64>,
    gx: Vec<Complex64>,
    tmp: Vec<Complex64>,
    scratch: Vec<Complex64>,
    lanes: Vec<Lane>,
    /// Gradient accumulator of each lane's `M̂`.
    gm: Vec<Vec<Complex64>>,
    /// The spectra gathered on the bands ([`Slot`]), and their gradient accumulators.
    sv: Vec<Vec<Complex64>>,
    sg: Vec<Vec<Complex64>>,
}

impl ScatteringSpectra {
    /// Spectra of signals of length `n` (at least `2^(J+1)`) with `j` octaves of Morlet
    /// wavelets (Q = 1, Kymatio's first-order bank) and the low-pass of width `2^J`.
    pub fn new(n: usize, j: usize) -> Result<Self> {
        if j == 0 || j > 24 || n < (2usize << j) {
            return Err(ModelError::Param(format!(
                "scattering spectra need 1 <= J <= 24 and n >= 2^(J+1), got J = {j}, n = {n}"
            )));
        }
        let params =
            Bank1dParams::new(j, (1, 1), None).map_err(|e| ModelError::Param(e.to_string()))?;
        let bank = FilterBank1d::new(n, &params).map_err(|e| ModelError::Param(e.to_string()))?;
        let psi: Vec<Vec<f64>> = bank.psi1.iter().map(|f| f.levels[0].clone()).collect();
        let scale: Vec<usize> = (0..psi.len()).collect();
        let pairs = cross_pairs(&scale, &[]);
        // Coarse grids keep at least 16 samples.
        let top = (n.trailing_zeros() as usize)
            .min(j)
            .min((n.ilog2() as usize).saturating_sub(4));
        let grid = Grid::D1 {
            plans: Plans::new(n, top),
            filters: psi.iter().map(|h| SparseFilter::of(h)).collect(),
        };
        Ok(Self::from_parts(
            psi,
            scale,
            Vec::new(),
            pairs,
            &bank.phi.levels[0],
            grid,
            top,
        ))
    }

    /// Spectra of `(m, n)` images, periodic, with Kymatio's 2D Morlet wavelets (`j`
    /// scales, `l` orientations over `[0, π)`) and their low-pass; `m` and `n` multiples
    /// of `2^J` and at least `2^(J+1)`. The phase-modulus cross-spectrum takes every pair
    /// of orientations; the modulus cross-spectrum pairs envelopes of one orientation
    /// (`θ_a = θ_b`) with every orientation at the coarse scale, which keeps the count at
    /// `O(J³ L²)`.
    pub fn new_2d(shape: (usize, usize), j: usize, l: usize) -> Result<Self> {
        let (m, n) = shape;
        let ok = (1..=12).contains(&j)
            && (1..=32).contains(&l)
            && m >= (2usize << j)
            && n >= (2usize << j)
            && m % (1 << j) == 0
            && n % (1 << j) == 0;
        if !ok {
            return Err(ModelError::Param(format!(
                "2D scattering spectra need 1 <= J <= 12, 1 <= L <= 32 and sides that are multiples of 2^J, at least 2^(J+1); got J = {j}, L = {l}, shape {shape:?}"
            )));
        }
        let bank = FilterBank2d::new(m, n, j, l).map_err(|e| ModelError::Param(e.to_string()))?;
        let psi: Vec<Vec<f64>> = bank.psi.iter().map(|f| f.levels[0].data.clone()).collect();
        let scale: Vec<usize> = bank.psi.iter().map(|f| f.j).collect();
        let theta: Vec<usize> = bank.psi.iter().map(|f| f.theta).collect();
        let pairs = cross_pairs(&scale, &theta);
        // Coarse grids keep at least 8 samples a side.
        let top = j.min((m.min(n).ilog2() as usize).saturating_sub(3));
        let grid = Grid::D2 {
            plans: Plans2d::new(m, n, top),
            filters: psi.iter().map(|h| SparseFilter2d::of(h, m, n)).collect(),
            m,
            n,
        };
        Ok(Self::from_parts(
            psi,
            scale,
            theta,
            pairs,
            &bank.phi.levels[0].data,
            grid,
            top,
        ))
    }

    fn from_parts(
        psi: Vec<Vec<f64>>,
        scale: Vec<usize>,
        theta: Vec<usize>,
        pairs: Vec<(SpectraKind, Vec<usize>)>,
        phi: &[f64],
        grid: Grid,
        top: usize,
    ) -> Self {
        let n = grid.len(0);
        let sq = |v: &[f64]| v.iter().map(|a| a * a).collect::<Vec<f64>>();
        let psi2: Vec<Vec<f64>> = psi.iter().map(|p| sq(p)).collect();
        let phi2 = sq(phi);
        // Radial shells the wavelets do not resolve, each a density of its own so that a
        // synthesis cannot move energy across them: rings below the low-pass scale
        // (|k| from 1 to N / 2^J cycles, where φ alone would lump them), and the
        // Fourier corners beyond the finest wavelets' centre, |ω| in [3π/4, π), [π, 1.2π)
        // and above, which no Morlet wavelet reaches.
        let (gm, gn) = grid.dims();
        let side = if gm == 1 { gn } else { gm.min(gn) } as f64;
        let octaves = scale.iter().max().map_or(0, |s| s + 1);
        let omega: Vec<f64> = (0..n)
            .map(|k| {
                let (sy, sx) = grid.signed(k);
                let (wy, wx) = (sy as f64 / gm as f64, sx as f64 / gn as f64);
                2.0 * std::f64::consts::PI * (wy * wy + wx * wx).sqrt()
            })
            .collect();
        let pi = std::f64::consts::PI;
        let unit = 2.0 * pi / side;
        // In 2D the rings are half an octave wide: the lattice radii 1 and √2 (four bins
        // each) would otherwise share one density, and an anisotropic texture puts
        // different powers on the axes and the diagonals. In 1D an octave ring below
        // N / 2^J already holds few bins, and half of them would hold one periodogram value.
        let per_octave = if gm == 1 { 1 } else { 2 };
        let edge = |i: i32| unit * 2f64.powf(f64::from(i) / f64::from(per_octave));
        let top_edge = unit * side / f64::from(1u32 << octaves.min(30)) + 1e-9;
        let mut edges: Vec<(f64, f64)> = (0..)
            .map(|i| (edge(i), edge(i + 1)))
            .take_while(|&(_, hi)| hi <= top_edge)
            .collect();
        edges.extend([(0.75 * pi, pi), (pi, 1.2 * pi), (1.2 * pi, f64::INFINITY)]);
        let shells: Vec<Vec<f64>> = edges
            .iter()
            .map(|&(lo, hi)| {
                omega
                    .iter()
                    .map(|&w| {
                        if w >= lo - 1e-12 && w < hi - 1e-12 {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect::<Vec<f64>>()
            })
            .filter(|h| h.iter().any(|v| *v > 0.0))
            .collect();
        let gain: Vec<f64> = psi2
            .iter()
            .chain(std::iter::once(&phi2))
            .chain(&shells)
            .map(|h| h.iter().sum::<f64>() / n as f64)
            .collect();
        let layout = |k: usize| grid.index(0, grid.signed(k)).unwrap_or(k);
        let support = |h: &[f64]| -> (Vec<usize>, Vec<f64>) {
            let peak = h.iter().fold(0.0f64, |a, v| a.max(*v));
            h.iter()
                .enumerate()
                .filter(|(_, v)| **v > 1e-14 * peak)
                .map(|(k, v)| (layout(k), *v))
                .unzip()
        };
        let power: Vec<(Vec<usize>, Vec<f64>)> = std::iter::once(&phi2)
            .chain(&shells)
            .map(|h| support(h))
            .collect();
        // The coarsest grid whose frequency range keeps all but ALIAS_TOL of ψ².
        let level: Vec<usize> = psi2
            .iter()
            .map(|h| {
                let total: f64 = h.iter().sum();
                (0..=top)
                    .rev()
                    .find(|&r| {
                        let out: f64 = h
                            .iter()
                            .enumerate()
                            .filter(|(k, _)| !grid.inside(r, grid.signed(*k)))
                            .map(|(_, v)| v)
                            .sum();
                        out <= ALIAS_TOL * total
                    })
                    .unwrap_or(0)
            })
            .collect();
        let len = level.iter().map(|&r| grid.len(r)).collect();
        // Band `j < nj` belongs to wavelet `j`; band `nj` to the low-pass, without its DC
        // bin (the moments there are covariances of the slow variations).
        let nw = psi2.len();
        let bands: Vec<Band> = (0..=nw)
            .map(|j| {
                // The coarsest level a finer wavelet's modulus lives on.
                let Some(deep) = (0..nw)
                    .filter(|&a| j == nw || scale[a] < scale[j])
                    .map(|a| level[a])
                    .max()
                else {
                    return Band {
                        h: Vec::new(),
                        at: Vec::new(),
                    };
                };
                let h = psi2.get(j).unwrap_or(&phi2);
                let peak = h.iter().fold(0.0f64, |a, v| a.max(*v));
                let mut band = Band {
                    h: Vec::new(),
                    at: vec![Vec::new(); deep + 1],
                };
                let keep = |(k, v): &(usize, &f64)| **v > BAND_TOL * peak && (j < nw || *k != 0);
                for (k, v) in h.iter().enumerate().filter(keep) {
                    let f = grid.signed(k);
                    if !grid.inside(deep, f) {
                        continue;
                    }
                    let at: Option<Vec<usize>> = (0..=deep).map(|r| grid.index(r, f)).collect();
                    if let Some(at) = at {
                        band.h.push(*v);
                        for (dst, i) in band.at.iter_mut().zip(at) {
                            dst.push(i);
                        }
                    }
                }
                band
            })
            .collect();
        let nj = psi.len();
        // One slot per spectrum and band a cross moment needs, in first-use order.
        let mut slots: Vec<Slot> = Vec::new();
        let mut slot_of = std::collections::HashMap::new();
        let mut slot = |owner: Option<usize>, j: usize| -> usize {
            *slot_of.entry((owner, j)).or_insert_with(|| {
                slots.push(Slot {
                    owner,
                    j,
                    level: owner.map_or(0, |a| level[a]),
                });
                slots.len() - 1
            })
        };
        let ln = |a: usize| grid.len(level[a]) as f64;
        let terms: Vec<(usize, usize, f64)> = pairs
            .iter()
            .map(|(kind, s)| {
                let j = s[s.len() - 1];
                match kind {
                    SpectraKind::PhaseModulus => (
                        slot(None, j),
                        slot(Some(s[0]), j),
                        1.0 / (n as f64 * ln(s[0])),
                    ),
                    _ => (
                        slot(Some(s[0]), j),
                        slot(Some(s[1]), j),
                        1.0 / (ln(s[0]) * ln(s[1])),
                    ),
                }
            })
            .collect();
        let mut lane_slots = vec![Vec::new(); nj];
        let mut x_slots = Vec::new();
        for (i, sl) in slots.iter().enumerate() {
            match sl.owner {
                Some(a) => lane_slots[a].push(i),
                None => x_slots.push(i),
            }
        }
        let mut uses = vec![Vec::new(); slots.len()];
        for (p, &(s1, s2, _)) in terms.iter().enumerate() {
            uses[s1].push((p, s2, true));
            uses[s2].push((p, s1, false));
        }
        let top_scale = scale.iter().max().map_or(0, |s| s + 1);
        // Scales and orientations of wavelets `f`; the low-pass (index `nj`) has scale J
        // and no orientation.
        let at = |f: &[usize]| -> (Vec<usize>, Vec<usize>) {
            (
                f.iter()
                    .map(|&i| scale.get(i).copied().unwrap_or(top_scale))
                    .collect(),
                if theta.is_empty() {
                    Vec::new()
                } else {
                    f.iter().filter_map(|&i| theta.get(i).copied()).collect()
                },
            )
        };
        let mut labels = vec![label(SpectraKind::Mean, Vec::new(), Vec::new(), false)];
        for f in 0..nj {
            let (s, o) = at(&[f]);
            labels.push(label(SpectraKind::Power, s, o, false));
        }
        labels.push(label(
            SpectraKind::Power,
            vec![top_scale],
            Vec::new(),
            false,
        ));
        for i in 0..power.len() - 1 {
            labels.push(label(SpectraKind::Outside, vec![i], Vec::new(), false));
        }
        for f in 0..nj {
            let (s, o) = at(&[f]);
            labels.push(label(SpectraKind::Sparsity, s, o, false));
        }
        for (kind, fs) in &pairs {
            let (s, o) = at(fs);
            labels.push(label(*kind, s.clone(), o.clone(), false));
            if !real_only(*kind, fs, nj) {
                labels.push(label(*kind, s, o, true));
            }
        }
        Self {
            n,
            level,
            len,
            scale,
            pairs,
            bands,
            slots,
            terms,
            uses,
            lane_slots,
            x_slots,
            power,
            gain,
            labels,
            flatness: false,
            grid,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// These spectra with the flatness of every wavelet's coefficients,
    /// `mean|W_j|⁴ / P_j²`, after the cross moments ([`SpectraKind::Flatness`]): the
    /// fourth-order marginal moment per scale (the `scat_marginal` moments of Morel et
    /// al.'s code with `q = 4`), whose growth towards fine scales is the classical
    /// measure of intermittency. The spectra alone let a multifractal walk's flatness
    /// fall too fast from fine to coarse scales; this fixes it scale by scale.
    pub fn with_flatness(mut self) -> Self {
        if !self.flatness {
            self.flatness = true;
            let singles: Vec<SpectraLabel> = self
                .labels
                .iter()
                .filter(|l| l.kind == SpectraKind::Sparsity)
                .map(|l| SpectraLabel {
                    kind: SpectraKind::Flatness,
                    ..l.clone()
                })
                .collect();
            self.labels.extend(singles);
        }
        self
    }

    /// The label of every moment, in output order.
    pub fn labels(&self) -> &[SpectraLabel] {
        &self.labels
    }

    /// Number of octaves.
    pub fn octaves(&self) -> usize {
        self.scale.iter().max().map_or(0, |s| s + 1)
    }

    /// A workspace from the pool, or a new one.
    fn take(&self) -> Work {
        let reused = self.pool.lock().ok().and_then(|mut p| p.pop());
        reused.unwrap_or_else(|| {
            let z = Complex64::new(0.0, 0.0);
            let sl = self.grid.scratch_len();
            Work {
                x_hat: vec![z; self.n],
                gx: vec![z; self.n],
                tmp: vec![z; self.n],
                scratch: vec![z; sl],
                lanes: self
                    .len
                    .iter()
                    .zip(&self.level)
                    .map(|(&len, &r)| Lane {
                        w: vec![z; len],
                        m_hat: vec![z; len],
                        // The 2D fold's partial sums need `N / 2^r`.
                        tmp: vec![z; self.n >> r],
                        scratch: vec![z; sl],
                        mean_abs: 0.0,
                        mean_sq: 0.0,
                        mean_quad: 0.0,
                    })
                    .collect(),
                gm: self.len.iter().map(|&len| vec![z; len]).collect(),
                sv: self
                    .slots
                    .iter()
                    .map(|s| vec![z; self.bands[s.j].h.len()])
                    .collect(),
                sg: self
                    .slots
                    .iter()
                    .map(|s| vec![z; self.bands[s.j].h.len()])
                    .collect(),
            }
        })
    }

    fn give(&self, w: Work) {
        if let Ok(mut p) = self.pool.lock() {
            p.push(w);
        }
    }

    /// `x̂`, then for each wavelet (in parallel) the subsampled `W_f = x * ψ_f`, the
    /// spectrum of `|W_f|` and `mean|W_f|`.
    fn fields(&self, x: &[f64], w: &mut Work) {
        for (a, v) in w.x_hat.iter_mut().zip(x) {
            *a = Complex64::new(*v, 0.0);
        }
        self.grid
            .forward(0, &mut w.x_hat, &mut w.tmp, &mut w.scratch);
        let x_hat = &w.x_hat;
        w.lanes.par_iter_mut().enumerate().for_each(|(f, lane)| {
            let r = self.level[f];
            self.grid.fold(f, r, x_hat, &mut lane.w, &mut lane.tmp);
            self.grid
                .inverse(r, &mut lane.w, &mut lane.tmp, &mut lane.scratch);
            let (mut sum, mut sq, mut quad) = (0.0, 0.0, 0.0);
            for (o, c) in lane.m_hat.iter_mut().zip(&lane.w) {
                let a2 = c.norm_sqr();
                let a = a2.sqrt();
                sum += a;
                sq += a2;
                quad += a2 * a2;
                *o = Complex64::new(a, 0.0);
            }
            let len = lane.w.len() as f64;
            lane.mean_abs = sum / len;
            lane.mean_sq = sq / len;
            lane.mean_quad = quad / len;
            self.grid
                .forward(r, &mut lane.m_hat, &mut lane.tmp, &mut lane.scratch);
        });
    }

    /// The raw moments of the fields in `w`; fills the slots.
    fn raw(&self, w: &mut Work) -> Raw {
        let n = self.n as f64;
        let outside = self.power.iter().map(|(idx, h)| {
            idx.iter()
                .zip(h)
                .map(|(&k, v)| w.x_hat[k].norm_sqr() * v)
                .sum::<f64>()
                / (n * n)
        });
        let p = w.lanes.iter().map(|l| l.mean_sq).chain(outside).collect();
        let m = w.lanes.iter().map(|l| l.mean_abs).collect();
        let k = w.lanes.iter().map(|l| l.mean_quad).collect();
        let (x_hat, lanes) = (&w.x_hat, &w.lanes);
        w.sv.par_iter_mut().zip(&self.slots).for_each(|(v, sl)| {
            let src = sl.owner.map_or(x_hat, |a| &lanes[a].m_hat);
            for (o, &k) in v.iter_mut().zip(&self.bands[sl.j].at[sl.level]) {
                *o = src[k];
            }
        });
        let sv = &w.sv;
        let cross = self
            .terms
            .par_iter()
            .map(|&(s1, s2, q)| {
                let h = &self.bands[self.slots[s1].j].h;
                weighted_dot(h, &sv[s1], &sv[s2]) * q
            })
            .collect();
        Raw { p, m, k, cross }
    }

    /// The normalising power `sqrt(P_a P_b)` of a cross moment.
    fn pair_power(kind: SpectraKind, s: &[usize]) -> (usize, usize) {
        match kind {
            SpectraKind::PhaseModulus => (s[1], s[0]),
            _ => (s[0], s[1]),
        }
    }

    /// The moments from the raw sums.
    fn normalise(&self, mean: f64, r: &Raw) -> Vec<f64> {
        let nj = self.len.len();
        let mut out = Vec::with_capacity(self.labels.len());
        out.push(mean);
        out.extend(r.p.iter().zip(&self.gain).map(|(p, g)| p / g));
        out.extend((0..nj).map(|j| r.m[j] / r.p[j].max(TINY).sqrt()));
        for ((kind, s), c) in self.pairs.iter().zip(&r.cross) {
            let (a, b) = Self::pair_power(*kind, s);
            let z = c / (r.p[a] * r.p[b]).max(TINY).sqrt();
            out.push(z.re);
            if !real_only(*kind, s, nj) {
                out.push(z.im);
            }
        }
        if self.flatness {
            out.extend((0..nj).map(|j| r.k[j] / r.p[j].max(TINY).powi(2)));
        }
        out
    }

    /// The vector-Jacobian product for cotangent `v`, from the fields of `w` and their
    /// raw moments `r`.
    fn vjp(&self, w: &mut Work, r: &Raw, v: &[f64]) -> Vec<f64> {
        let n = self.n as f64;
        let nj = self.len.len();
        // Cotangents of the raw moments, through the normalisation; the mean comes first.
        let (v_mean, v) = (v[0], &v[1..]);
        let extra = self.power.len(); // the low-pass and the shells
        let mut up: Vec<f64> = v[..nj + extra]
            .iter()
            .zip(&self.gain)
            .map(|(vi, g)| vi / g)
            .collect();
        let mut um = vec![0.0; nj];
        for j in 0..nj {
            let vs = v[nj + extra + j];
            let pj = r.p[j].max(TINY);
            um[j] += vs / pj.sqrt();
            up[j] -= 0.5 * vs * (r.m[j] / pj) / pj.sqrt();
        }
        let mut k = 2 * nj + extra; // into `v` past the mean
        let mut uc = Vec::with_capacity(self.pairs.len());
        for ((kind, s), c) in self.pairs.iter().zip(&r.cross) {
            let (a, b) = Self::pair_power(*kind, s);
            let d = (r.p[a] * r.p[b]).max(TINY).sqrt();
            let diag = real_only(*kind, s, nj);
            let vr = v[k];
            let vi = if diag { 0.0 } else { v[k + 1] };
            k += if diag { 1 } else { 2 };
            uc.push(Complex64::new(vr, vi) / d);
            // d(c / sqrt(P_a P_b)) / dP_a = -(1/2) z / P_a, the same for b.
            let z = c / d;
            let dz = -0.5 * (vr * z.re + vi * z.im);
            up[a] += dz / r.p[a].max(TINY);
            up[b] += dz / r.p[b].max(TINY);
        }
        // The flatness k_j / P_j²: d/dk = 1 / P², d/dP = -2 k / P³.
        let mut uk = vec![0.0; nj];
        if self.flatness {
            for j in 0..nj {
                let (vk, pj) = (v[k + j], r.p[j].max(TINY));
                uk[j] = vk / (pj * pj);
                up[j] -= 2.0 * vk * r.k[j] / (pj * pj * pj);
            }
        }
        // Fourier accumulators `G` such that the loss moves by Re Σ conj(G) dÂ for each
        // spectrum Â (unnormalised DFT): then the gradient in the samples is
        // Re(unnormalised inverse DFT of G).
        let Work {
            x_hat,
            gx,
            tmp,
            scratch,
            lanes,
            gm,
            sv,
            sg,
        } = w;
        gx.fill(Complex64::new(0.0, 0.0));
        // The low-pass and complement powers by Parseval: P = Σ |x̂|² h / n².
        for ((idx, h), u) in self.power.iter().zip(&up[nj..]) {
            let c = 2.0 * u / (n * n);
            for (&k, hv) in idx.iter().zip(h) {
                gx[k] += x_hat[k] * (c * hv);
            }
        }
        // The mean: v_mean / n at every sample is the DC bin.
        gx[0] += v_mean / n;
        // The cross terms: c = q Σ h S₁ conj(S₂) moves the loss by Re(conj(u) c), so slot
        // S₁ receives u q h S₂ and S₂ receives conj(u) q h S₁; each slot sums its terms
        // (in parallel), then goes back to the bins of its spectrum.
        let sv = &*sv;
        sg.par_iter_mut().enumerate().for_each(|(s, g)| {
            g.fill(Complex64::new(0.0, 0.0));
            let h = &self.bands[self.slots[s].j].h;
            for &(p, o, first) in &self.uses[s] {
                let c = if first { uc[p] } else { uc[p].conj() } * self.terms[p].2;
                weighted_axpy(g, c, &sv[o], h);
            }
        });
        let sg = &*sg;
        gm.par_iter_mut().enumerate().for_each(|(f, g)| {
            g.fill(Complex64::new(0.0, 0.0));
            for &s in &self.lane_slots[f] {
                let at = &self.bands[self.slots[s].j].at[self.level[f]];
                for (&k, v) in at.iter().zip(&sg[s]) {
                    g[k] += v;
                }
            }
        });
        for &s in &self.x_slots {
            for (&k, v) in self.bands[self.slots[s].j].at[0].iter().zip(&sg[s]) {
                gx[k] += v;
            }
        }
        // Each lane, in parallel: through M = |W| and mean|W| to W, then to the
        // spectrum of its fold (scaled by the fold's 1/n).
        lanes
            .par_iter_mut()
            .zip(gm.par_iter_mut())
            .enumerate()
            .for_each(|(f, (lane, g))| {
                let r = self.level[f];
                let Lane {
                    w, tmp, scratch, ..
                } = lane;
                self.grid.inverse(r, g, tmp, scratch);
                // mean|W|, mean|W|² and mean|W|⁴ of the lane's grid.
                let um = um[f] / w.len() as f64;
                let uq = 2.0 * up[f] / w.len() as f64;
                let u4 = 4.0 * uk[f] / w.len() as f64;
                for (o, c) in g.iter_mut().zip(w.iter()) {
                    let a2 = c.norm_sqr();
                    let a = a2.sqrt();
                    *o = if a > 0.0 {
                        c * ((o.re + um) / a + uq + u4 * a2)
                    } else {
                        c * uq
                    };
                }
                self.grid.forward(r, g, tmp, scratch);
                let s = 1.0 / n;
                g.iter_mut().for_each(|v| *v *= s);
            });
        for (f, g) in gm.iter().enumerate() {
            self.grid.tile_add(f, self.level[f], g, gx);
        }
        self.grid.inverse(0, gx, tmp, scratch);
        gx.iter().map(|c| c.re).collect()
    }
}

fn label(
    kind: SpectraKind,
    scales: Vec<usize>,
    orientations: Vec<usize>,
    imaginary: bool,
) -> SpectraLabel {
    SpectraLabel {
        kind,
        scales,
        orientations,
        imaginary,
    }
}

/// The cross moments in output order, as wavelet indices: phase-modulus `(a, j)` for every
/// wavelet `a` of a finer scale than `j`, then modulus `(a, b, j)` for `a` no coarser than
/// `b`, `b` finer than `j` and, in 2D (`theta` given), `a` and `b` of one orientation;
/// ordered by `j` first.
fn cross_pairs(scale: &[usize], theta: &[usize]) -> Vec<(SpectraKind, Vec<usize>)> {
    let nf = scale.len();
    let same_theta = |a: usize, b: usize| theta.is_empty() || theta[a] == theta[b];
    let mut v = Vec::new();
    for j in 0..nf {
        for a in (0..nf).filter(|&a| scale[a] < scale[j]) {
            v.push((SpectraKind::PhaseModulus, vec![a, j]));
        }
    }
    for j in 0..nf {
        for a in (0..nf).filter(|&a| scale[a] < scale[j]) {
            for b in (a..nf).filter(|&b| scale[b] < scale[j] && same_theta(a, b)) {
                v.push((SpectraKind::Modulus, vec![a, b, j]));
            }
        }
    }
    // The low-pass (index `nf`) beyond the last wavelet: the slow variations of the
    // envelopes, and their correlation with the signal's.
    for a in 0..nf {
        v.push((SpectraKind::PhaseModulus, vec![a, nf]));
    }
    for a in 0..nf {
        for b in (a..nf).filter(|&b| same_theta(a, b)) {
            v.push((SpectraKind::Modulus, vec![a, b, nf]));
        }
    }
    v
}

/// Whether a cross moment is real, so that only its real part is a moment: the modulus
/// cross-spectrum of an envelope with itself, and every moment at the symmetric low-pass
/// (index `nf`).
fn real_only(kind: SpectraKind, s: &[usize], nf: usize) -> bool {
    (kind == SpectraKind::Modulus && s[0] == s[1]) || s.last() == Some(&nf)
}

/// `Σ_i h_i a_i conj(b_i)`, in real arithmetic with four independent partial sums so the
/// compiler can keep them in vector registers (a fixed order, so the result does not
/// depend on the thread count).
fn weighted_dot(h: &[f64], a: &[Complex64], b: &[Complex64]) -> Complex64 {
    let (mut re, mut im) = ([0.0f64; 4], [0.0f64; 4]);
    let n = h.len().min(a.len()).min(b.len());
    let body = n - n % 4;
    for ((hc, ac), bc) in h[..body]
        .chunks_exact(4)
        .zip(a[..body].chunks_exact(4))
        .zip(b[..body].chunks_exact(4))
    {
        for k in 0..4 {
            re[k] += hc[k] * (ac[k].re * bc[k].re + ac[k].im * bc[k].im);
            im[k] += hc[k] * (ac[k].im * bc[k].re - ac[k].re * bc[k].im);
        }
    }
    let mut z = Complex64::new(re.iter().sum(), im.iter().sum());
    for i in body..n {
        z += a[i] * b[i].conj() * h[i];
    }
    z
}

/// `g_i += c h_i b_i`, in real arithmetic.
fn weighted_axpy(g: &mut [Complex64], c: Complex64, b: &[Complex64], h: &[f64]) {
    for ((g, b), w) in g.iter_mut().zip(b).zip(h) {
        let (br, bi) = (b.re * w, b.im * w);
        g.re += c.re * br - c.im * bi;
        g.im += c.re * bi + c.im * br;
    }
}

/// The guard below which a power counts as zero (a constant signal, a silent band).
const TINY: f64 = 1e-300;

impl Representation for ScatteringSpectra {
    fn input_len(&self) -> usize {
        self.n
    }

    fn output_len(&self) -> usize {
        self.labels.len()
    }

    fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_len("signal", x.len(), self.n)?;
        check_finite("signal", x)?;
        let mut work = self.take();
        self.fields(x, &mut work);
        let r = self.raw(&mut work);
        self.give(work);
        Ok(self.normalise(x.iter().sum::<f64>() / self.n as f64, &r))
    }

    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_len("cotangent", v.len(), self.labels.len())?;
        let mut v = v.to_vec();
        Ok(self.forward_backward(x, &mut |_| std::mem::take(&mut v))?.1)
    }

    fn forward_backward(
        &self,
        x: &[f64],
        cotangent: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        check_len("signal", x.len(), self.n)?;
        check_finite("signal", x)?;
        let mut work = self.take();
        self.fields(x, &mut work);
        let r = self.raw(&mut work);
        let m = self.normalise(x.iter().sum::<f64>() / self.n as f64, &r);
        let v = cotangent(&m);
        if let Err(e) = check_len("cotangent", v.len(), self.labels.len()) {
            self.give(work);
            return Err(e);
        }
        let g = self.vjp(&mut work, &r, &v);
        self.give(work);
        Ok((m, g))
    }
}
