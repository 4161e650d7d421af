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
//!   the frequencies below the last wavelet;
//! - **sparsity**: `mean(M_j) / sqrt(P_j)`, `sqrt(π)/2 ≈ 0.886` for a Gaussian process,
//!   smaller for a sparse one;
//! - **phase-modulus cross-spectrum**: `mean(W_j · conj(M_a * ψ_j)) / sqrt(P_j P_a)` for
//!   every finer octave `a < j`, its real and imaginary parts. It vanishes for a process
//!   symmetric under `x → -x`; its phase measures time asymmetry (leverage);
//! - **modulus cross-spectrum**: `mean((M_a * ψ_j) · conj(M_b * ψ_j)) / sqrt(P_a P_b)` for
//!   `a ≤ b < j`, real and imaginary parts (real only when `a = b`): how the envelopes of
//!   two octaves vary together at the slower scale `j`, which is what intermittency is.
//!
//! Every cross moment is a sum over frequencies (Parseval), `Σ_k ψ_j(k)² Â(k) conj(B̂(k))`,
//! restricted to the band where `ψ_j` lives, so the cost is `2J + 1` FFTs forward and as
//! many backward, plus `O(J² n)` products at most, whatever the number of moments. The vector-Jacobian product is exact (tested against finite differences).

use crate::error::{check_finite, check_len, ModelError, Result};
use crate::representation::Representation;
use num_complex::Complex64;
use scattering_engine::fourier1d::Plans;
use scattering_engine::fourier2d::Plans2d;
use scattering_filters::{Bank1dParams, FilterBank1d, FilterBank2d};

/// What a moment of [`ScatteringSpectra1d`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpectraKind {
    /// The mean of the signal (`scales` empty).
    Mean,
    /// Spectral density in octave `j` (`scales = [j]`); `j = J` is the low-pass.
    Power,
    /// `mean|W_j| / sqrt(P_j)` (`scales = [j]`).
    Sparsity,
    /// Phase-modulus cross-spectrum (`scales = [a, j]`, `a < j`).
    PhaseModulus,
    /// Modulus cross-spectrum (`scales = [a, b, j]`, `a ≤ b < j`).
    Modulus,
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
    /// `ψ(k)` of every wavelet, finest first (in 2D, index `j L + θ`), real spectra in
    /// DFT bin order (row-major in 2D).
    psi: Vec<Vec<f64>>,
    /// Scale of each wavelet.
    scale: Vec<usize>,
    /// The cross moments: kind and wavelet indices `[a, j]` or `[a, b, j]`.
    pairs: Vec<(SpectraKind, Vec<usize>)>,
    /// The bins where `ψ_j(k)²` is above `1e-12` of its peak, and its values there: the
    /// cross moments are sums over these bins only (a few for the coarse octaves).
    band: Vec<(Vec<usize>, Vec<f64>)>,
    /// `φ(k)²`.
    phi2: Vec<f64>,
    /// Mean squared response of each wavelet, then of the low-pass.
    gain: Vec<f64>,
    labels: Vec<SpectraLabel>,
    grid: Grid,
    /// Workspaces of finished calls, reused by the next (one per concurrent caller).
    pool: std::sync::Mutex<Vec<Work>>,
}

/// The 1D scattering spectra (the 2D ones are the same type, built by
/// [`ScatteringSpectra::new_2d`]).
pub type ScatteringSpectra1d = ScatteringSpectra;
/// The 2D scattering spectra ([`ScatteringSpectra::new_2d`]).
pub type ScatteringSpectra2d = ScatteringSpectra;

/// FFT plans of the signal's grid.
enum Grid {
    D1(Plans<f64>),
    D2(Plans2d<f64>),
}

impl Grid {
    fn scratch_len(&self) -> usize {
        match self {
            Grid::D1(p) => p.scratch_len,
            Grid::D2(p) => p.scratch_len,
        }
    }
}

/// Raw moments before the normalisation.
struct Raw {
    /// `P_j` for the wavelets, then the low-pass power.
    p: Vec<f64>,
    /// `mean|W_j|`.
    m: Vec<f64>,
    /// Unnormalised cross moments, in label order.
    cross: Vec<Complex64>,
}

/// Intermediate signals the backward pass reuses.
struct Fields {
    x_hat: Vec<Complex64>,
    w: Vec<Vec<Complex64>>,
    m_hat: Vec<Vec<Complex64>>,
}

/// Every buffer one evaluation needs, kept between calls: allocating and freeing these
/// (each above the allocator's mmap threshold) every call cost more than the FFTs, in
/// page faults and TLB shootdowns.
struct Work {
    f: Fields,
    gm: Vec<Vec<Complex64>>,
    gw: Vec<Complex64>,
    scratch: Vec<Complex64>,
    /// The 2D FFT's transpose buffer.
    tmp: Vec<Complex64>,
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
        let nj = psi.len();
        let scale: Vec<usize> = (0..nj).collect();
        let pairs = cross_pairs(&scale, &[]);
        Ok(Self::from_parts(
            n,
            psi,
            scale,
            Vec::new(),
            pairs,
            &bank.phi.levels[0],
            Grid::D1(Plans::new(n, 0)),
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
        Ok(Self::from_parts(
            m * n,
            psi,
            scale,
            theta,
            pairs,
            &bank.phi.levels[0].data,
            Grid::D2(Plans2d::new(m, n, 0)),
        ))
    }

    fn from_parts(
        n: usize,
        psi: Vec<Vec<f64>>,
        scale: Vec<usize>,
        theta: Vec<usize>,
        pairs: Vec<(SpectraKind, Vec<usize>)>,
        phi: &[f64],
        grid: Grid,
    ) -> Self {
        let sq = |v: &[f64]| v.iter().map(|a| a * a).collect::<Vec<f64>>();
        let psi2: Vec<Vec<f64>> = psi.iter().map(|p| sq(p)).collect();
        let phi2 = sq(phi);
        let gain: Vec<f64> = psi2
            .iter()
            .chain(std::iter::once(&phi2))
            .map(|h| h.iter().sum::<f64>() / n as f64)
            .collect();
        let band = psi2
            .iter()
            .map(|h| {
                let top = h.iter().fold(0.0f64, |a, v| a.max(*v));
                h.iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 1e-12 * top)
                    .map(|(k, v)| (k, *v))
                    .unzip()
            })
            .collect();
        let nj = psi.len();
        let top_scale = scale.iter().max().map_or(0, |s| s + 1);
        let at = |f: &[usize]| -> (Vec<usize>, Vec<usize>) {
            (
                f.iter().map(|&i| scale[i]).collect(),
                if theta.is_empty() {
                    Vec::new()
                } else {
                    f.iter().map(|&i| theta[i]).collect()
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
        for f in 0..nj {
            let (s, o) = at(&[f]);
            labels.push(label(SpectraKind::Sparsity, s, o, false));
        }
        for (kind, fs) in &pairs {
            let (s, o) = at(fs);
            labels.push(label(*kind, s.clone(), o.clone(), false));
            if !(*kind == SpectraKind::Modulus && fs[0] == fs[1]) {
                labels.push(label(*kind, s, o, true));
            }
        }
        Self {
            n,
            psi,
            scale,
            pairs,
            band,
            phi2,
            gain,
            labels,
            grid,
            pool: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// In-place FFT of the grid; the inverse is normalised (divided by `n`).
    fn fft(
        &self,
        a: &mut [Complex64],
        inverse: bool,
        scratch: &mut [Complex64],
        tmp: &mut [Complex64],
    ) {
        match &self.grid {
            Grid::D1(p) => {
                let p = &p.levels[0];
                if inverse {
                    p.inv.process_with_scratch(a, scratch);
                } else {
                    p.fwd.process_with_scratch(a, scratch);
                }
            }
            Grid::D2(p) => p.levels[0].process(a, tmp, scratch, inverse),
        }
        if inverse {
            let s = 1.0 / self.n as f64;
            a.iter_mut().for_each(|v| *v *= s);
        }
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
            let z = vec![Complex64::new(0.0, 0.0); self.n];
            let nj = self.psi.len();
            Work {
                f: Fields {
                    x_hat: z.clone(),
                    w: vec![z.clone(); nj],
                    m_hat: vec![z.clone(); nj],
                },
                gm: vec![z.clone(); nj],
                gw: z.clone(),
                scratch: vec![Complex64::new(0.0, 0.0); self.grid.scratch_len()],
                tmp: z,
            }
        })
    }

    fn give(&self, w: Work) {
        if let Ok(mut p) = self.pool.lock() {
            p.push(w);
        }
    }

    /// `x̂`, `W_j = x * ψ_j` and the spectra of `M_j = |W_j|`, into `w.f`.
    fn fields(&self, x: &[f64], w: &mut Work) {
        let Work {
            f, scratch, tmp, ..
        } = w;
        for (a, v) in f.x_hat.iter_mut().zip(x) {
            *a = Complex64::new(*v, 0.0);
        }
        self.fft(&mut f.x_hat, false, scratch, tmp);
        for ((psi, wj), mj) in self.psi.iter().zip(&mut f.w).zip(&mut f.m_hat) {
            for ((o, a), h) in wj.iter_mut().zip(&f.x_hat).zip(psi) {
                *o = a * h;
            }
            self.fft(wj, true, scratch, tmp);
            for (o, c) in mj.iter_mut().zip(wj.iter()) {
                *o = Complex64::new(c.norm_sqr().sqrt(), 0.0);
            }
            self.fft(mj, false, scratch, tmp);
        }
    }

    fn raw(&self, f: &Fields) -> Raw {
        let n = self.n as f64;
        let mut p: Vec<f64> =
            f.w.iter()
                .map(|w| w.iter().map(Complex64::norm_sqr).sum::<f64>() / n)
                .collect();
        p.push(
            f.x_hat
                .iter()
                .zip(&self.phi2)
                .map(|(a, h)| a.norm_sqr() * h)
                .sum::<f64>()
                / (n * n),
        );
        let m =
            f.w.iter()
                .map(|w| w.iter().map(|c| c.norm_sqr().sqrt()).sum::<f64>() / n)
                .collect();
        let cross = self
            .pairs
            .iter()
            .map(|(kind, s)| {
                let j = *s.last().unwrap_or(&0);
                let (a, b) = match kind {
                    SpectraKind::PhaseModulus => (&f.x_hat, &f.m_hat[s[0]]),
                    _ => (&f.m_hat[s[0]], &f.m_hat[s[1]]),
                };
                let (idx, h) = &self.band[j];
                inner(idx, h, a, b) / (n * n)
            })
            .collect();
        Raw { p, m, cross }
    }

    /// The normalising power `sqrt(P_a P_b)` of a cross moment.
    fn pair_power(kind: SpectraKind, s: &[usize]) -> (usize, usize) {
        match kind {
            SpectraKind::PhaseModulus => (s[1], s[0]),
            _ => (s[0], s[1]),
        }
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
    v
}

/// `Σ_k h(k) a(k) conj(b(k))` over the bins `idx` (`h` given there).
fn inner(idx: &[usize], h: &[f64], a: &[Complex64], b: &[Complex64]) -> Complex64 {
    idx.iter()
        .zip(h)
        .map(|(&k, w)| a[k] * b[k].conj() * w)
        .sum()
}

/// `acc(k) += c h(k) b(k)` over the bins `idx`.
fn scatter_add(acc: &mut [Complex64], idx: &[usize], h: &[f64], c: Complex64, b: &[Complex64]) {
    for (&k, w) in idx.iter().zip(h) {
        acc[k] += c * b[k] * w;
    }
}

/// The guard below which a power counts as zero (a constant signal, a silent band).
const TINY: f64 = 1e-300;

impl Representation for ScatteringSpectra1d {
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
        let r = self.raw(&work.f);
        self.give(work);
        let nj = self.psi.len();
        let mut out = Vec::with_capacity(self.labels.len());
        out.push(x.iter().sum::<f64>() / self.n as f64);
        out.extend(r.p.iter().zip(&self.gain).map(|(p, g)| p / g));
        out.extend((0..nj).map(|j| r.m[j] / r.p[j].max(TINY).sqrt()));
        for ((kind, s), c) in self.pairs.iter().zip(&r.cross) {
            let (a, b) = Self::pair_power(*kind, s);
            let z = c / (r.p[a] * r.p[b]).max(TINY).sqrt();
            out.push(z.re);
            if !(*kind == SpectraKind::Modulus && s[0] == s[1]) {
                out.push(z.im);
            }
        }
        Ok(out)
    }

    fn backward(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        check_len("signal", x.len(), self.n)?;
        check_finite("signal", x)?;
        check_len("cotangent", v.len(), self.labels.len())?;
        let n = self.n as f64;
        let nj = self.psi.len();
        let mut work = self.take();
        self.fields(x, &mut work);
        let Work {
            f,
            gm,
            gw,
            scratch,
            tmp,
        } = &mut work;
        let r = self.raw(f);
        // Cotangents of the raw moments, through the normalisation; the mean comes first.
        let (v_mean, v) = (v[0], &v[1..]);
        let mut up: Vec<f64> = v[..=nj]
            .iter()
            .zip(&self.gain)
            .map(|(vi, g)| vi / g)
            .collect();
        let mut um = vec![0.0; nj];
        for j in 0..nj {
            let vs = v[nj + 1 + j];
            let pj = r.p[j].max(TINY);
            um[j] += vs / pj.sqrt();
            up[j] -= 0.5 * vs * (r.m[j] / pj) / pj.sqrt();
        }
        let mut k = 2 * nj + 1; // into `v` past the mean
        let pairs = &self.pairs;
        let mut uc = Vec::with_capacity(pairs.len());
        for ((kind, s), c) in pairs.iter().zip(&r.cross) {
            let (a, b) = Self::pair_power(*kind, s);
            let d = (r.p[a] * r.p[b]).max(TINY).sqrt();
            let diag = *kind == SpectraKind::Modulus && s[0] == s[1];
            let vr = v[k];
            let vi = if diag { 0.0 } else { v[k + 1] };
            k += if diag { 1 } else { 2 };
            let u = Complex64::new(vr, vi) / d;
            uc.push(u);
            // d(c / sqrt(P_a P_b)) / dP_a = -(1/2) z / P_a, the same for b.
            let z = c / d;
            let dz = -0.5 * (vr * z.re + vi * z.im);
            up[a] += dz / r.p[a].max(TINY);
            up[b] += dz / r.p[b].max(TINY);
        }
        // Fourier-domain accumulators: of the gradient in x, and in each modulus M_a.
        let mut gx: Vec<Complex64> = f
            .x_hat
            .iter()
            .zip(&self.phi2)
            .map(|(a, h)| a * (2.0 * up[nj] * h / n))
            .collect();
        // The mean's gradient, 1/n everywhere, is the DC bin under the normalised inverse.
        gx[0] += v_mean;
        for g in gm.iter_mut() {
            g.fill(Complex64::new(0.0, 0.0));
        }
        for ((kind, s), u) in pairs.iter().zip(&uc) {
            let j = s[s.len() - 1];
            let (idx, h) = &self.band[j];
            // L = Re(conj(u) Σ h Â conj(B̂)) / n² with real signals a, b: a's gradient is
            // Re(ifft(u h B̂)) / n and b's is Re(ifft(conj(u) h Â)) / n (normalised inverse).
            let (ua, ub) = (u / n, u.conj() / n);
            let a_idx = s[0];
            match *kind {
                SpectraKind::PhaseModulus => {
                    scatter_add(&mut gx, idx, h, ua, &f.m_hat[a_idx]);
                    scatter_add(&mut gm[a_idx], idx, h, ub, &f.x_hat);
                }
                _ => {
                    let b_idx = s[1];
                    scatter_add(&mut gm[a_idx], idx, h, ua, &f.m_hat[b_idx]);
                    scatter_add(&mut gm[b_idx], idx, h, ub, &f.m_hat[a_idx]);
                }
            }
        }
        // Through M_j = |W_j| and the power and l1 terms to W_j, then to x.
        for j in 0..nj {
            let g = &mut gm[j];
            self.fft(g, true, scratch, tmp);
            for ((o, w), gmj) in gw.iter_mut().zip(&f.w[j]).zip(g.iter()) {
                let a = w.norm_sqr().sqrt();
                let unit = if a > 0.0 {
                    w / a
                } else {
                    Complex64::new(0.0, 0.0)
                };
                *o = unit * (gmj.re + um[j] / n) + w * (2.0 * up[j] / n);
            }
            self.fft(gw, false, scratch, tmp);
            for ((acc, q), h) in gx.iter_mut().zip(gw.iter()).zip(&self.psi[j]) {
                *acc += q * h;
            }
        }
        // Every term above was accumulated so that the gradient is Re(ifft(gx)).
        self.fft(&mut gx, true, scratch, tmp);
        let out = gx.iter().map(|c| c.re).collect();
        self.give(work);
        Ok(out)
    }
}
