//! The time-scattering layers that joint and spiral scattering share: reflect padding, the
//! first-order wavelet modulus `U1 = |x * psi1|` at Kymatio's subsampling, `S1 = U1 * phi`,
//! the second-order wavelet coefficients `U1 * psi2` (complex, before any modulus), the
//! time low-pass, and the adjoint of each.

use crate::common::homogeneity::Rescale;
use crate::common::padding::reflect_source;
use crate::common::Averaging;
use crate::error::{invalid, Result};
use crate::time::plan::{floor_log2, padding_of};
use ndarray::{ArrayView1, ArrayViewMut1};
use scattering_engine::fourier1d::{modulus_backward, Plans, SparseFilter};
use scattering_engine::{Cx, Real};
use scattering_filters::morlet1d::periodize;
use scattering_filters::{Bank1dParams, FilterBank1d, Reduction};

/// In-place FFT of `buf` with a plan of its length.
pub(crate) fn fft<T: Real>(
    plans: &Plans<T>,
    level: usize,
    buf: &mut [Cx<T>],
    scratch: &mut [Cx<T>],
) {
    plans.levels[level].fwd.process_with_scratch(buf, scratch);
}

/// In-place unnormalised inverse FFT.
pub(crate) fn ifft<T: Real>(
    plans: &Plans<T>,
    level: usize,
    buf: &mut [Cx<T>],
    scratch: &mut [Cx<T>],
) {
    plans.levels[level].inv.process_with_scratch(buf, scratch);
}

/// A first-order time wavelet: spectrum at the padded length, the level of its `U1`.
pub(crate) struct Psi1<T> {
    pub h: SparseFilter<T>,
    pub k1: usize,
}

/// A second-order time wavelet and its spectra at the levels of the `U1` it meets.
pub(crate) struct Psi2<T> {
    pub j: usize,
    /// `levels[k1]`, present for the `k1` its paths use.
    pub levels: Vec<Option<SparseFilter<T>>>,
    /// Number of first-order wavelets with `j1 < j2` (a prefix of `psi1`).
    pub n1_max: usize,
}

/// The first layer's buffers of one sample: the padded signal (then its spectrum),
/// `z1[n1]` and `u1h[n1]` at level `k1`, and for the backward pass the gradient of
/// `u1h` and of one `U1` (empty in the forward pass).
pub(crate) struct FirstBuffers<T> {
    pub x: Vec<Cx<T>>,
    pub z1: Vec<Vec<Cx<T>>>,
    pub u1h: Vec<Vec<Cx<T>>>,
    pub gu1h: Vec<Vec<Cx<T>>>,
    pub gu1: Vec<T>,
}

/// The time layers of a joint or spiral scattering transform.
pub(crate) struct TimeLayer<T: Real> {
    pub n: usize,
    pub bank: FilterBank1d,
    pub n_pad: usize,
    pub pad_left: usize,
    /// log2 of the time stride.
    pub s: usize,
    pub global: bool,
    /// Crop of the time axis at level `s` (`0..1` when global).
    pub crop: std::ops::Range<usize>,
    pub t_out: usize,
    /// Time low-pass `phi` at levels `0..=max_level`.
    pub phi: Vec<SparseFilter<T>>,
    pub psi1: Vec<Psi1<T>>,
    pub psi2: Vec<Psi2<T>>,
    pub plans: Plans<T>,
}

/// Whether `v` is a power of two; its log2.
pub(crate) fn log2_exact(name: &'static str, v: usize) -> Result<usize> {
    if v == 0 || !v.is_power_of_two() {
        return Err(invalid(name, format!("must be a power of two, got {v}")));
    }
    Ok(floor_log2(v))
}

impl<T: Real> TimeLayer<T> {
    /// Checks the time parameters and plans the layers: signals of length `n`, scales up
    /// to `2^j`, `q` wavelets per octave at orders 1 and 2, averaging of width `t`
    /// (default `2^J`) and subsampling `stride` (default `2^floor(log2 T)`).
    pub fn new(
        n: usize,
        j: usize,
        q: (usize, usize),
        t: Option<usize>,
        stride: Option<usize>,
        average: Averaging,
        what: &str,
    ) -> Result<Self> {
        if j == 0 || j > 24 {
            return Err(invalid("J", format!("must be in 1..=24, got {j}")));
        }
        if n < (1 << j) {
            return Err(invalid(
                "N",
                format!("signal length {n} is shorter than 2^J = {}", 1usize << j),
            ));
        }
        let t = match average {
            Averaging::Local => t.unwrap_or(1 << j),
            Averaging::Global => 1 << j,
            Averaging::None => {
                return Err(invalid(
                    "average",
                    format!("{what} averages in time locally or globally"),
                ))
            }
        };
        if t == 0 || t > n {
            return Err(invalid("T", format!("must be in 1..=N = {n}, got {t}")));
        }
        let s = match stride {
            Some(v) => log2_exact("stride", v)?,
            None => floor_log2(t),
        };
        let mut bank_params = Bank1dParams::new(j, q, Some(t))?;
        bank_params.reduction = Reduction::Sum;
        let (n_pad, pad_left) = padding_of(crate::Padding::Reflect, n, t, bank_params.sigma_low())?;
        if s > floor_log2(n_pad) {
            return Err(invalid(
                "stride",
                format!("2^{s} exceeds the padded length {n_pad}"),
            ));
        }
        let bank = FilterBank1d::new(n_pad, &bank_params)?;
        let global = average == Averaging::Global;
        let k1_of = |j1: usize| if global { j1 } else { j1.min(s) };
        let mut psi1 = Vec::new();
        for p in &bank.psi1 {
            let k1 = k1_of(p.j);
            if k1 > s {
                return Err(invalid(
                    "stride",
                    format!("first-order wavelets reach scale 2^{k1}, beyond the stride 2^{s}"),
                ));
            }
            psi1.push(Psi1 {
                h: SparseFilter::of(&p.levels[0]),
                k1,
            });
        }
        let mut max_level = s;
        let mut psi2 = Vec::new();
        for p2 in &bank.psi2 {
            // psi1 scales never decrease along n1, so the n1 with j1 < j2 are a prefix.
            let n1_max = bank.psi1.iter().take_while(|p1| p1.j < p2.j).count();
            let mut levels = vec![None; p2.j + 1];
            if n1_max > 0 {
                if !global && p2.j > s {
                    return Err(invalid(
                        "stride",
                        format!(
                            "second-order wavelets reach scale 2^{}, beyond the stride 2^{s}; \
                             use a stride of at least 2^{} (Kymatio refuses this too)",
                            p2.j, p2.j
                        ),
                    ));
                }
                for p1 in &bank.psi1[..n1_max] {
                    let k1 = k1_of(p1.j);
                    if levels[k1].is_none() {
                        levels[k1] = Some(SparseFilter::of(&periodize(
                            &p2.levels[0],
                            1 << k1,
                            Reduction::Sum,
                        )));
                    }
                }
                max_level = max_level.max(p2.j);
            }
            psi2.push(Psi2 {
                j: p2.j,
                levels,
                n1_max,
            });
        }
        if max_level > floor_log2(n_pad) || !n_pad.is_multiple_of(1 << max_level) {
            return Err(invalid(
                "J",
                format!("the padded length {n_pad} cannot be subsampled by 2^{max_level}"),
            ));
        }
        let phi = (0..=max_level)
            .map(|k| SparseFilter::of(&periodize(&bank.phi.levels[0], 1 << k, Reduction::Sum)))
            .collect();
        let crop = if global {
            0..1
        } else {
            let (mut a, mut b) = (pad_left, pad_left + n);
            for _ in 0..s {
                a = a.div_ceil(2);
                b = b.div_ceil(2);
            }
            a..b
        };
        Ok(Self {
            n,
            bank,
            n_pad,
            pad_left,
            s,
            global,
            t_out: crop.len(),
            crop,
            phi,
            psi1,
            psi2,
            plans: Plans::new(n_pad, max_level),
        })
    }

    /// The longest time axis a stack of coefficients has: `S1` at level `s`, `U1 * psi2`
    /// at level `j2` for the `psi2` with paths.
    pub fn t_max(&self) -> usize {
        self.psi2
            .iter()
            .filter(|p| p.n1_max > 0)
            .map(|p| self.len(p.j))
            .chain(std::iter::once(self.len(self.s)))
            .max()
            .unwrap_or(1)
    }

    /// Zeroed [`FirstBuffers`], the gradients only when `backward`.
    pub fn buffers(&self, backward: bool) -> FirstBuffers<T> {
        let z = Cx::new(T::zero(), T::zero());
        let per_n1 =
            || -> Vec<Vec<Cx<T>>> { self.psi1.iter().map(|p| vec![z; self.len(p.k1)]).collect() };
        FirstBuffers {
            x: vec![z; self.n_pad],
            z1: per_n1(),
            u1h: per_n1(),
            gu1h: if backward { per_n1() } else { Vec::new() },
            gu1: vec![T::zero(); if backward { self.n_pad } else { 0 }],
        }
    }

    /// Length at subsampling level `k`.
    pub fn len(&self, k: usize) -> usize {
        self.n_pad >> k
    }

    /// `x`: the spectrum of the padded signal; `z1[n1] = x * psi1` (time domain, level
    /// `k1`) and `u1h[n1]`: the spectrum of `U1 = |z1|`.
    pub fn first_layer<A: Copy + Into<f64>>(
        &self,
        sig: ArrayView1<A>,
        r: Rescale,
        x: &mut [Cx<T>],
        z1: &mut [Vec<Cx<T>>],
        u1h: &mut [Vec<Cx<T>>],
        scratch: &mut [Cx<T>],
    ) {
        for (i, c) in x.iter_mut().enumerate() {
            *c = Cx::new(
                T::of(r.input(sig[reflect_source(i, self.pad_left, self.n)])),
                T::zero(),
            );
        }
        fft(&self.plans, 0, x, scratch);
        let scale = T::of(1.0 / self.n_pad as f64);
        for ((p, z), uh) in self.psi1.iter().zip(z1.iter_mut()).zip(u1h.iter_mut()) {
            p.h.fold(x, scale, z);
            ifft(&self.plans, p.k1, z, scratch);
            for (u, c) in uh.iter_mut().zip(z.iter()) {
                // Not `norm()`: its overflow-safe `hypot` costs 8x a square root here.
                *u = Cx::new((c.re * c.re + c.im * c.im).sqrt(), T::zero());
            }
            fft(&self.plans, p.k1, uh, scratch);
        }
    }

    /// The zeroth order (`t_out` values): `x * phi` cropped, or the sum of the padded
    /// signal when global. `x` is the padded signal's spectrum.
    pub fn zeroth_order(
        &self,
        x: &[Cx<T>],
        s0: &mut [T],
        line: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        if self.global {
            s0[0] = x[0].re;
            return;
        }
        let m = self.len(self.s);
        self.phi[0].fold(x, T::of(1.0 / self.n_pad as f64), &mut line[..m]);
        ifft(&self.plans, self.s, &mut line[..m], scratch);
        for (o, c) in s0.iter_mut().zip(&line[self.crop.clone()]) {
            *o = c.re;
        }
    }

    /// Adds the zeroth order's gradient `g0` to the gradient `gx` of the padded signal's
    /// spectrum.
    pub fn zeroth_order_backward(
        &self,
        g0: &[T],
        gx: &mut [Cx<T>],
        line: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        if self.global {
            gx[0].re += g0[0];
            return;
        }
        let m = self.len(self.s);
        let z = Cx::new(T::zero(), T::zero());
        let line = &mut line[..m];
        line.iter_mut().for_each(|c| *c = z);
        for (c, &g) in line[self.crop.clone()].iter_mut().zip(g0) {
            *c = Cx::new(g, T::zero());
        }
        fft(&self.plans, self.s, line, scratch);
        let scale = T::of(1.0 / self.n_pad as f64);
        line.iter_mut().for_each(|c| *c *= scale);
        self.phi[0].tile_add(line, gx);
    }

    /// `S1[n1] = U1 * phi` at level `s` (complex, imaginary part zero) into `line`.
    pub fn s1_line(&self, n1: usize, u1h: &[Cx<T>], line: &mut [Cx<T>], scratch: &mut [Cx<T>]) {
        let m = self.len(self.s);
        let k1 = self.psi1[n1].k1;
        self.phi[k1].fold(u1h, T::of(1.0 / u1h.len() as f64), &mut line[..m]);
        ifft(&self.plans, self.s, &mut line[..m], scratch);
        // S1 is real: the imaginary part is rounding.
        line[..m].iter_mut().for_each(|c| c.im = T::zero());
    }

    /// Adjoint of [`Self::s1_line`]: the real part of `g` (level `s`, consumed) added to
    /// `gu1h` (the gradient of `u1h[n1]`).
    pub fn s1_line_backward(
        &self,
        n1: usize,
        g: &mut [Cx<T>],
        gu1h: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let m = self.len(self.s);
        let scale = T::of(1.0 / gu1h.len() as f64);
        for c in g[..m].iter_mut() {
            *c = Cx::new(c.re * scale, T::zero());
        }
        fft(&self.plans, self.s, &mut g[..m], scratch);
        self.phi[self.psi1[n1].k1].tile_add(&g[..m], gu1h);
    }

    /// `U1[n1] * psi2[n2]` at level `j2` into `line` (the pair needs `j1 < j2`).
    pub fn y2_line(
        &self,
        n1: usize,
        n2: usize,
        u1h: &[Cx<T>],
        line: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let p2 = &self.psi2[n2];
        let m = self.len(p2.j);
        if let Some(h) = &p2.levels[self.psi1[n1].k1] {
            h.fold(u1h, T::of(1.0 / u1h.len() as f64), &mut line[..m]);
        }
        ifft(&self.plans, p2.j, &mut line[..m], scratch);
    }

    /// Adjoint of [`Self::y2_line`]: `g` (level `j2`, consumed) added to `gu1h`.
    pub fn y2_line_backward(
        &self,
        n1: usize,
        n2: usize,
        g: &mut [Cx<T>],
        gu1h: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let p2 = &self.psi2[n2];
        let m = self.len(p2.j);
        let scale = T::of(1.0 / gu1h.len() as f64);
        g[..m].iter_mut().for_each(|c| *c *= scale);
        fft(&self.plans, p2.j, &mut g[..m], scratch);
        if let Some(h) = &p2.levels[self.psi1[n1].k1] {
            h.tile_add(&g[..m], gu1h);
        }
    }

    /// The time low-pass of a real signal `row` at level `level`, subsampled to level `s`,
    /// into `out` (`len(s)` values), through half spectra.
    #[allow(clippy::too_many_arguments)]
    pub fn lowpass_real(
        &self,
        level: usize,
        row: &[T],
        out: &mut [T],
        rline: &mut [T],
        half: &mut [Cx<T>],
        half2: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let (m, ms) = (self.len(level), self.len(self.s));
        rline[..m].copy_from_slice(&row[..m]);
        self.plans.levels[level].real_to_half(&mut rline[..m], &mut half[..m / 2 + 1], scratch);
        self.phi[level].fold_half(
            &half[..m / 2 + 1],
            ms,
            T::of(1.0 / m as f64),
            &mut half2[..ms / 2 + 1],
        );
        self.plans.levels[self.s].half_to_real(&mut half2[..ms / 2 + 1], scratch, &mut out[..ms]);
    }

    /// Adjoint of [`Self::lowpass_real`]: `g` (`len(s)` values) to `out` (`len(level)`).
    pub fn lowpass_real_backward(
        &self,
        level: usize,
        g: &[T],
        out: &mut [T],
        line: &mut [Cx<T>],
        line2: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
    ) {
        let (m, ms) = (self.len(level), self.len(self.s));
        let scale = T::of(1.0 / m as f64);
        for (c, &v) in line2[..ms].iter_mut().zip(g) {
            *c = Cx::new(v * scale, T::zero());
        }
        fft(&self.plans, self.s, &mut line2[..ms], scratch);
        let z = Cx::new(T::zero(), T::zero());
        line[..m].iter_mut().for_each(|c| *c = z);
        self.phi[level].tile_add(&line2[..ms], &mut line[..m]);
        ifft(&self.plans, level, &mut line[..m], scratch);
        for (o, c) in out[..m].iter_mut().zip(&line[..m]) {
            *o = c.re;
        }
    }

    /// From the gradient `gu1h` of every `u1h[n1]` (consumed) and of the padded signal's
    /// spectrum `gx` (consumed): the gradient of the input signal into `o`.
    #[allow(clippy::too_many_arguments)]
    pub fn first_layer_backward(
        &self,
        z1: &[Vec<Cx<T>>],
        gu1h: &mut [Vec<Cx<T>>],
        gx: &mut [Cx<T>],
        gu1: &mut [T],
        line: &mut [Cx<T>],
        scratch: &mut [Cx<T>],
        mut o: ArrayViewMut1<T>,
    ) {
        let scale = T::of(1.0 / self.n_pad as f64);
        for ((p, z), gh) in self.psi1.iter().zip(z1).zip(gu1h.iter_mut()) {
            let m = gh.len();
            ifft(&self.plans, p.k1, gh, scratch);
            for (g, c) in gu1[..m].iter_mut().zip(gh.iter()) {
                *g = c.re;
            }
            let gz = &mut line[..m];
            modulus_backward(z, &gu1[..m], gz);
            fft(&self.plans, p.k1, gz, scratch);
            gz.iter_mut().for_each(|c| *c *= scale);
            p.h.tile_add(gz, gx);
        }
        ifft(&self.plans, 0, gx, scratch);
        o.fill(T::zero());
        for (i, c) in gx.iter().enumerate() {
            o[reflect_source(i, self.pad_left, self.n)] += c.re;
        }
    }
}
