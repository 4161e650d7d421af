//! 2D oriented Morlet and Gabor filters, and the 2D scattering filter bank, following
//! Kymatio's construction: Gaussians summed over 5 x 5 periods (sampling in space on a
//! periodic grid), the Morlet zero-mean correction, the real part of the DFT, and the
//! subsampled levels obtained by masking the high frequencies and summing the aliases.

use crate::error::{invalid, FilterError, Result};
use crate::wavelet2d::{Morlet2d, Wavelet2d};
use num_complex::Complex64;
use rayon::prelude::*;

/// Kymatio normalises its 2D Gabor filters with this literal, not with pi; kept so that
/// filters agree with it to rounding.
#[allow(clippy::approx_constant)]
const KYMATIO_PI: f64 = 3.1415;

/// A real Fourier-domain image filter, row-major `(m, n)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum2d {
    /// Rows.
    pub m: usize,
    /// Columns.
    pub n: usize,
    /// `m * n` values, row-major, DFT bin order on both axes.
    pub data: Vec<f64>,
}

impl Spectrum2d {
    /// Value at bin `(i, j)`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }
}

/// Gabor filter in space: `exp(-u^T C u) exp(i xi (u_1 cos(theta) + u_2 sin(theta)))` on an
/// `m x n` periodic grid, `C = R diag(1, slant^2) R^-1 / (2 sigma^2)`, divided by
/// `2 * 3.1415 * sigma^2 / slant` (Kymatio's literal). `cos`/`sin` in `R` are rounded to
/// f32 as Kymatio does.
pub fn gabor_2d(m: usize, n: usize, sigma: f64, theta: f64, xi: f64, slant: f64) -> Vec<Complex64> {
    let (c, s) = ((theta.cos() as f32) as f64, (theta.sin() as f32) as f64);
    // R D R^-1 with R = [[c, -s], [s, c]], D = diag(1, slant^2).
    let d = slant * slant;
    let two_s2 = 2.0 * sigma * sigma;
    let c00 = (c * c + s * s * d) / two_s2;
    let c01 = (c * s - s * c * d) / two_s2;
    let c11 = (s * s + c * c * d) / two_s2;
    let (kx, ky) = (xi * theta.cos(), xi * theta.sin());
    let mut out = vec![Complex64::new(0.0, 0.0); m * n];
    for ex in -2i64..=2 {
        for ey in -2i64..=2 {
            for i in 0..m {
                let xx = (ex * m as i64 + i as i64) as f64;
                for j in 0..n {
                    let yy = (ey * n as i64 + j as i64) as f64;
                    let q = c00 * xx * xx + 2.0 * c01 * xx * yy + c11 * yy * yy;
                    // exp(-60) is far below f64 resolution next to the peak (1).
                    if q > 60.0 {
                        continue;
                    }
                    out[i * n + j] += Complex64::from_polar((-q).exp(), xx * kx + yy * ky);
                }
            }
        }
    }
    let norm = 2.0 * KYMATIO_PI * sigma * sigma / slant;
    out.iter_mut().for_each(|v| *v /= norm);
    out
}

/// Morlet filter in space: the Gabor minus the multiple of its envelope that makes the
/// sum zero.
pub fn morlet_2d(
    m: usize,
    n: usize,
    sigma: f64,
    theta: f64,
    xi: f64,
    slant: f64,
) -> Vec<Complex64> {
    let wv = gabor_2d(m, n, sigma, theta, xi, slant);
    let env = gabor_2d(m, n, sigma, theta, 0.0, slant);
    let k = wv.iter().sum::<Complex64>() / env.iter().sum::<Complex64>();
    wv.iter().zip(&env).map(|(w, e)| w - k * e).collect()
}

/// Real part of the 2D DFT of a row-major `m x n` complex image.
pub fn real_fft2(m: usize, n: usize, mut x: Vec<Complex64>) -> Vec<f64> {
    scattering_engine::fourier2d::Fft2d::<f64>::new(m, n).process(&mut x, false);
    x.into_iter().map(|c| c.re).collect()
}

/// Kymatio's `periodize_filter_fft`: zeroes the central band (the frequencies a grid
/// subsampled by 2^res cannot hold), then sums the 2^res x 2^res aliases.
pub fn periodize_2d(h: &Spectrum2d, res: usize) -> Spectrum2d {
    let (m, n) = (h.m, h.n);
    let k = 1usize << res;
    let (mo, no) = (m / k, n / k);
    let scale = 1.0 - 1.0 / k as f64;
    let (len_x, start_x) = (
        (m as f64 * scale) as usize,
        (m as f64 / (2 * k) as f64) as usize,
    );
    let (len_y, start_y) = (
        (n as f64 * scale) as usize,
        (n as f64 / (2 * k) as f64) as usize,
    );
    let masked = |i: usize, j: usize| {
        (i >= start_x && i < start_x + len_x) || (j >= start_y && j < start_y + len_y)
    };
    let mut out = vec![0.0; mo * no];
    for a in 0..mo {
        for b in 0..no {
            let mut acc = 0.0;
            for p in 0..k {
                for q in 0..k {
                    let (i, j) = (a + p * mo, b + q * no);
                    if !masked(i, j) {
                        acc += h.at(i, j);
                    }
                }
            }
            out[a * no + b] = acc;
        }
    }
    Spectrum2d {
        m: mo,
        n: no,
        data: out,
    }
}

/// The spectrum of `h` for a grid subsampled by 2^res, keeping the frequencies the coarse
/// grid holds: those strictly inside its Nyquist band with weight 1, those on it (the
/// `+-` Nyquist bins, which alias to one coarse bin) with weight 1/2 each, per axis.
/// Unlike [`periodize_2d`] (Kymatio's, which keeps the negative Nyquist bin only) it
/// commutes with rotations by 90 degrees and with `w -> -w`, which rigid-motion
/// scattering's rotation invariance relies on.
pub fn periodize_symmetric(h: &Spectrum2d, res: usize) -> Spectrum2d {
    let (m, n) = (h.m, h.n);
    let k = 1usize << res;
    let (mo, no) = (m / k, n / k);
    // Weight of fine bin `i` of an axis of length `len` folded to `len_o`.
    let weight = |i: usize, len: usize, len_o: usize| -> f64 {
        if k == 1 {
            return 1.0;
        }
        let f = if i <= len / 2 { i } else { len - i };
        match (2 * f).cmp(&len_o) {
            std::cmp::Ordering::Less => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Greater => 0.0,
        }
    };
    let mut out = vec![0.0; mo * no];
    for i in 0..m {
        let wi = weight(i, m, mo);
        if wi == 0.0 {
            continue;
        }
        for j in 0..n {
            let wj = weight(j, n, no);
            if wj != 0.0 {
                out[(i % mo) * no + j % no] += wi * wj * h.at(i, j);
            }
        }
    }
    Spectrum2d {
        m: mo,
        n: no,
        data: out,
    }
}

/// The number of resolutions Kymatio keeps of the wavelet of scale `j` in a bank of `big_j`
/// scales: a second-order wavelet `j2` is applied at the resolutions `j1 < j2`.
pub fn psi_levels(big_j: usize, j: usize) -> usize {
    (j + 1).min(big_j.max(2) - 1)
}

/// One oriented wavelet of the 2D bank.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter2d {
    /// Scale index: the wavelet has width `0.8 * 2^j`.
    pub j: usize,
    /// Orientation index in `0..L`: angle `(L/2 - 1 - theta) * pi / L`.
    pub theta: usize,
    /// `levels[r]`: the spectrum for an image subsampled by 2^r.
    pub levels: Vec<Spectrum2d>,
}

/// The 2D Morlet bank of Kymatio's `Scattering2D` at a padded size `(m, n)`.
///
/// ```
/// use scattering_filters::FilterBank2d;
/// let bank = FilterBank2d::new(40, 40, 2, 8)?;
/// assert_eq!(bank.psi.len(), 16);          // J * L wavelets, index j * L + theta
/// assert_eq!(bank.phi.levels.len(), 2);    // low-pass at resolutions 0..J
/// # Ok::<(), scattering_filters::FilterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FilterBank2d {
    /// Padded rows.
    pub m: usize,
    /// Padded columns.
    pub n: usize,
    /// Number of scales.
    pub j: usize,
    /// Number of orientations.
    pub l: usize,
    /// Wavelets, index `j * L + theta`.
    pub psi: Vec<Filter2d>,
    /// Low-pass (`j = J`, `theta = 0`), at resolutions `0..J`.
    pub phi: Filter2d,
    /// Name of the wavelet family.
    pub wavelet: String,
}

impl FilterBank2d {
    /// Builds the Morlet bank; `m` and `n` must be multiples of 2^J.
    pub fn new(m: usize, n: usize, j: usize, l: usize) -> Result<Self> {
        Self::with_wavelet(m, n, j, l, &Morlet2d)
    }

    /// Builds the bank of another family: `J` scales, `L` angles
    /// `(L/2 - 1 - theta) pi / L`, each spectrum stored at the resolutions Kymatio keeps.
    pub fn with_wavelet(
        m: usize,
        n: usize,
        j: usize,
        l: usize,
        wavelet: &dyn Wavelet2d,
    ) -> Result<Self> {
        let angle = |t: usize| {
            ((l as f64 - l as f64 / 2.0 - 1.0) as i64 - t as i64) as f64 * std::f64::consts::PI
                / l as f64
        };
        Self::build(m, n, j, l, wavelet, &angle, l, periodize_2d)
    }

    /// The bank of rigid-motion scattering: `J` scales and `L` orientations over the whole
    /// circle, angle `2 pi t / L` for index `t` (`L` even). The wavelet at `t + L/2` is the
    /// mirror of the one at `t`. Each wavelet has the shape of a half-circle bank of `L/2`
    /// orientations (for Morlet, slant `8 / L`), so `full_circle(.., 2 L, ..)` holds the
    /// wavelets of `with_wavelet(.., L, ..)` and their mirrors.
    ///
    /// ```
    /// use scattering_filters::{FilterBank2d, Morlet2d};
    /// let bank = FilterBank2d::full_circle(32, 32, 3, 8, &Morlet2d)?;
    /// assert_eq!(bank.psi.len(), 24);
    /// // psi_(t + L/2)(w) = psi_t(-w)
    /// let (a, b) = (&bank.psi[1].levels[0], &bank.psi[5].levels[0]);
    /// assert!((a.at(3, 5) - b.at(32 - 3, 32 - 5)).abs() < 1e-12);
    /// # Ok::<(), scattering_filters::FilterError>(())
    /// ```
    pub fn full_circle(
        m: usize,
        n: usize,
        j: usize,
        l: usize,
        wavelet: &dyn Wavelet2d,
    ) -> Result<Self> {
        if l < 2 || !l.is_multiple_of(2) {
            return Err(invalid(
                "L",
                format!("a full-circle bank needs an even number of angles, got {l}"),
            ));
        }
        let angle = |t: usize| 2.0 * std::f64::consts::PI * t as f64 / l as f64;
        Self::build(m, n, j, l, wavelet, &angle, l / 2, periodize_symmetric)
    }

    /// `J L` wavelets at the angles `angle(t)`, each built as in a bank of `shape_l`
    /// orientations, stored at the resolutions Kymatio keeps by `periodize`, and the
    /// low-pass.
    #[allow(clippy::too_many_arguments)]
    fn build(
        m: usize,
        n: usize,
        j: usize,
        l: usize,
        wavelet: &dyn Wavelet2d,
        angle: &(dyn Fn(usize) -> f64 + Sync),
        shape_l: usize,
        periodize: fn(&Spectrum2d, usize) -> Spectrum2d,
    ) -> Result<Self> {
        if j == 0 || j > 12 {
            return Err(invalid("J", format!("must be in 1..=12, got {j}")));
        }
        if l == 0 || l > 64 {
            return Err(invalid("L", format!("must be in 1..=64, got {l}")));
        }
        if !m.is_multiple_of(1 << j) || !n.is_multiple_of(1 << j) {
            return Err(invalid(
                "shape",
                format!("padded size {m}x{n} must be a multiple of 2^J = {}", 1 << j),
            ));
        }
        let big_j = j;
        let checked = |data: Vec<f64>, what: &str| -> Result<Spectrum2d> {
            if data.len() != m * n {
                return Err(FilterError::WrongLength {
                    wavelet: wavelet.name().to_string(),
                    expected: m * n,
                    got: data.len(),
                });
            }
            if data.iter().any(|v| !v.is_finite()) {
                return Err(invalid(
                    "wavelet",
                    format!("`{}` gave a non-finite {what}", wavelet.name()),
                ));
            }
            Ok(Spectrum2d { m, n, data })
        };
        let psi: Vec<Filter2d> = (0..big_j * l)
            .into_par_iter()
            .map(|idx| {
                let (jj, t) = (idx / l, idx % l);
                let full = checked(wavelet.band_pass(m, n, jj, angle(t), shape_l)?, "band-pass")?;
                let levels = (0..psi_levels(big_j, jj))
                    .map(|r| periodize(&full, r))
                    .collect();
                Ok(Filter2d {
                    j: jj,
                    theta: t,
                    levels,
                })
            })
            .collect::<Result<_>>()?;
        let full = checked(wavelet.low_pass(m, n, big_j)?, "low-pass")?;
        let phi = Filter2d {
            j: big_j,
            theta: 0,
            levels: (0..big_j).map(|r| periodize(&full, r)).collect(),
        };
        Ok(Self {
            m,
            n,
            j: big_j,
            l,
            psi,
            phi,
            wavelet: wavelet.name().to_string(),
        })
    }

    /// Littlewood-Paley sum at full resolution: `|phi|^2 + sum_psi (|psi(w)|^2 +
    /// |psi(-w)|^2) / 2`, the frame bound for real images, row-major `(m, n)`.
    pub fn littlewood_paley(&self) -> Vec<f64> {
        let (m, n) = (self.m, self.n);
        let mut lp = vec![0.0; m * n];
        for f in &self.psi {
            let h = &f.levels[0];
            for i in 0..m {
                for jj in 0..n {
                    let (mi, mj) = ((m - i) % m, (n - jj) % n);
                    lp[i * n + jj] += 0.5 * (h.at(i, jj).powi(2) + h.at(mi, mj).powi(2));
                }
            }
        }
        for (v, p) in lp.iter_mut().zip(&self.phi.levels[0].data) {
            *v += p * p;
        }
        lp
    }
}
