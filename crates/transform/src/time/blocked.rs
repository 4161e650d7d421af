//! Time scattering of signals too long to transform at once: overlapping blocks of fixed
//! length, so memory does not grow with the signal, and the result equals the
//! whole-signal transform.
//!
//! The whole-signal transform is a periodic transform of the padded signal `xp` (the
//! signal, mirrored on each side, of length `n_pad`), sampled at multiples of `2^lo` and
//! cut to the signal's span. Each output depends on `xp` within the filters' reach, so a
//! block computes a periodic transform of a window of `xp` that covers its outputs plus a
//! margin on each side, and keeps the outputs whose reach lies inside the window. Windows
//! start at multiples of `2^max(J, log2 T)`, so every subsampling keeps the whole
//! transform's phase; the margin (about 17 standard deviations of the widest filter) puts
//! the truncated filter tails below 1e-13 of the output. The ends are handled exactly as
//! the whole transform handles them: the window reads the same mirrored samples.

use super::*;
use crate::common::padding::{reflect_source, Padding};
use crate::common::Averaging;
use crate::error::{invalid, Result, TransformError};
use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut2};

/// Standard deviations of the widest filter (in time) kept on each side of a block.
const REACH: f64 = 17.0;

/// Time scattering of long signals, block by block, with the output of the whole-signal
/// [`Scattering1d`] (local averaging or none).
///
/// ```
/// use ndarray::Array2;
/// use scattering_transform::{BlockedScattering1d, Scattering1dParams};
///
/// let n = 200_000;
/// let x = Array2::from_shape_fn((1, n), |(_, t)| (t as f64 * 0.01).sin() * (t as f64 * 1e-4).cos());
/// let p = Scattering1dParams::new(n, 6).q((8, 1));
/// let blocked = BlockedScattering1d::<f64>::new(p.clone(), 1 << 14)?;
/// let sx = blocked.forward(x.view())?;
/// let whole = p.build()?.forward(x.view())?;
/// let err = (&sx - &whole).iter().fold(0.0f64, |m, v| m.max(v.abs()));
/// let top = whole.iter().fold(0.0f64, |m, v| m.max(v.abs()));
/// assert!(err <= 1e-12 * top);
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
pub struct BlockedScattering1d<T: Real = f64> {
    params: Scattering1dParams,
    /// The periodic transform of one window.
    block: Scattering1d<T>,
    /// Window length.
    lb: usize,
    /// Samples of `xp` kept on each side of a block's outputs.
    margin: usize,
    /// Window starts are multiples of this (`2^max(J, log2 T)`).
    align: usize,
    /// Output level: outputs are `xp` sampled at multiples of `2^lo`.
    lo: usize,
    /// Outputs per block.
    per_block: usize,
    /// The whole signal's padded length and left padding.
    n_pad: usize,
    pad_left: usize,
    /// First output's index in `xp` units of `2^lo`, and the number of outputs.
    out_start: usize,
    t_out: usize,
}

impl<T: Real> BlockedScattering1d<T> {
    /// A blocked transform with the parameters `params` (`params.n` is the whole signal's
    /// length) and windows of at most `max_block` samples (a power of two is fastest; no
    /// longer than the signal with its margins needs).
    /// Refused: global averaging (average the local output instead), and a `max_block`
    /// too short to hold twice the margin the filters need, with the length it needs.
    pub fn new(params: Scattering1dParams, max_block: usize) -> Result<Self> {
        if params.average == Averaging::Global {
            return Err(invalid(
                "average",
                "blocked processing computes local averaging or none; for a global average, \
                 take the mean over time of the local output",
            ));
        }
        let (n_pad, pad_left, align, margin) = Self::plan(&params)?;
        let need = 2 * (2 * margin + align);
        if max_block < need {
            return Err(invalid(
                "block",
                format!(
                    "blocks of {max_block} samples are too short for these filters: they need at \
                     least {need} (twice a margin of {margin} on each side plus alignment)"
                ),
            ));
        }
        let lo = match params.average {
            Averaging::Local => params.plan_padding()?.0.log2_t(),
            _ => 0,
        };
        let out_start = pad_left.div_ceil(1 << lo);
        let t_out = (pad_left + params.n).div_ceil(1 << lo) - out_start;
        // No window longer than one that holds every output and its margins.
        let whole = ((t_out << lo) + 2 * margin + 2 * align).next_power_of_two();
        let lb = max_block.min(whole.max(need)) / align * align;
        let step = (lb - 2 * margin - align) / align * align;
        let block = Scattering1dParams {
            n: lb,
            padding: Padding::Periodic,
            ..params.clone()
        }
        .build_with_family::<T>(
            &scattering_filters::Morlet,
            &scattering_filters::AndenLayout,
        )?;
        debug_assert_eq!(lb >> lo, block.t_out);
        Ok(Self {
            params,
            block,
            lb,
            margin,
            align,
            lo,
            per_block: step >> lo,
            n_pad,
            pad_left,
            out_start,
            t_out,
        })
    }

    /// The whole signal's padding, the window alignment and the margin, from the
    /// parameters alone (the whole transform is never built: its filters would be as long
    /// as the signal).
    fn plan(params: &Scattering1dParams) -> Result<(usize, usize, usize, usize)> {
        let (bank_params, n_pad, pad_left) = params.plan_padding()?;
        let t = bank_params.t;
        let align = 1usize << params.j.max(bank_params.log2_t());
        // The widest filter in time: the low-pass (T) or the largest wavelet, read off a
        // small periodic transform with the same filters.
        let probe = Scattering1dParams {
            n: (64 * align).max(1 << 12),
            padding: Padding::Periodic,
            t: Some(t),
            ..params.clone()
        }
        .build_f32()?;
        let widest = probe
            .meta()
            .iter()
            .flat_map(|m| m.sigma.iter())
            .map(|&s| 1.0 / (2.0 * std::f64::consts::PI * s))
            .fold(
                t as f64 / (2.0 * std::f64::consts::PI * params.sigma0),
                f64::max,
            );
        // Order 2 chains three filters: their widths add in quadrature.
        let reach = REACH * 3f64.sqrt() * widest;
        let margin = (reach.ceil() as usize).div_ceil(align) * align;
        Ok((n_pad, pad_left, align, margin))
    }

    /// The shortest block `new` accepts for these parameters (blocks of 8 times that or
    /// more waste little on the margins).
    pub fn min_block(params: &Scattering1dParams) -> Result<usize> {
        let (_, _, align, margin) = Self::plan(params)?;
        Ok(2 * (2 * margin + align))
    }

    /// `(channels, time)` of the output for one signal: the whole transform's.
    pub fn output_shape(&self) -> (usize, usize) {
        (self.block.meta.len(), self.t_out)
    }
    /// One label per output channel (the whole transform's).
    pub fn meta(&self) -> &[PathMeta1d] {
        &self.block.meta
    }
    /// The parameters (of the whole signal).
    pub fn params(&self) -> &Scattering1dParams {
        &self.params
    }
    /// Window length, in samples.
    pub fn block_len(&self) -> usize {
        self.lb
    }
    /// Samples read on each side of a block's outputs.
    pub fn margin(&self) -> usize {
        self.margin
    }
    /// Outputs (time samples of the result) each block gives.
    pub fn outputs_per_block(&self) -> usize {
        self.per_block
    }

    /// Source index in the signal of the padded signal's sample `i` (any integer: the
    /// padded signal is periodic).
    fn source(&self, i: i64) -> usize {
        let i = i.rem_euclid(self.n_pad as i64) as usize;
        match self.params.padding {
            Padding::Reflect => reflect_source(i, self.pad_left, self.params.n),
            Padding::Periodic => i,
        }
    }

    /// Transforms a batch of `batch` long signals block by block. `read(start, buf)` fills
    /// `buf` (`(batch, len)`) with the samples `start..start + len` of every signal;
    /// `write(t0, coeffs)` receives the coefficients `(batch, channel, len)` of the output
    /// times `t0..t0 + len`, in increasing order. Memory: one window per signal, whatever
    /// the signals' length.
    pub fn forward_with<E: From<TransformError>>(
        &self,
        batch: usize,
        mut read: impl FnMut(usize, ArrayViewMut2<'_, T>) -> std::result::Result<(), E>,
        mut write: impl FnMut(usize, ArrayView3<'_, T>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let step = 1i64 << self.lo;
        let mut window = Array2::<T>::zeros((batch, self.lb));
        let mut src = vec![0usize; self.lb];
        let mut i0 = 0;
        while i0 < self.t_out {
            let len = self.per_block.min(self.t_out - i0);
            let first = (self.out_start + i0) as i64 * step;
            let w0 = (first - self.margin as i64).div_euclid(self.align as i64) * self.align as i64;
            for (q, s) in src.iter_mut().enumerate() {
                *s = self.source(w0 + q as i64);
            }
            self.gather(&src, &mut window, &mut read)?;
            // A non-finite sample is reported at its index in the signal.
            let sx = self.block.forward(window.view()).map_err(|e| match e {
                TransformError::NonFinite {
                    batch,
                    index,
                    value,
                } => TransformError::NonFinite {
                    batch,
                    index: src[index],
                    value,
                },
                e => e,
            })?;
            let j0 = ((first - w0) / step) as usize;
            write(i0, sx.slice(s![.., .., j0..j0 + len]))?;
            i0 += len;
        }
        Ok(())
    }

    /// Fills `window[:, q]` with the signals' samples `src[q]`, reading each run of
    /// consecutive sources once.
    fn gather<E>(
        &self,
        src: &[usize],
        window: &mut Array2<T>,
        read: &mut impl FnMut(usize, ArrayViewMut2<'_, T>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut sorted = src.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        // Runs [a, b] of consecutive indices, read into one buffer each.
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &v in &sorted {
            match runs.last_mut() {
                Some((_, b)) if *b + 1 == v => *b = v,
                _ => runs.push((v, v)),
            }
        }
        let batch = window.nrows();
        let mut bufs = Vec::with_capacity(runs.len());
        for &(a, b) in &runs {
            let mut buf = Array2::<T>::zeros((batch, b - a + 1));
            read(a, buf.view_mut())?;
            bufs.push(buf);
        }
        for (q, &v) in src.iter().enumerate() {
            let r = runs.partition_point(|&(_, b)| b < v);
            let (a, _) = runs[r];
            for row in 0..batch {
                window[[row, q]] = bufs[r][[row, v - a]];
            }
        }
        Ok(())
    }

    /// The coefficients of signals held in memory, `(batch, channel, time)`.
    pub fn forward<A: Copy + Into<f64>>(&self, x: ArrayView2<'_, A>) -> Result<Array3<T>> {
        if x.ncols() != self.params.n {
            return Err(TransformError::Shape {
                what: "input",
                expected: format!("(batch, {})", self.params.n),
                got: format!("{:?}", x.shape()),
            });
        }
        let (c, t) = self.output_shape();
        let mut out = Array3::<T>::zeros((x.nrows(), c, t));
        self.forward_with::<TransformError>(
            x.nrows(),
            |start, mut buf| {
                let len = buf.ncols();
                buf.zip_mut_with(&x.slice(s![.., start..start + len]), |b, v| {
                    *b = T::of((*v).into())
                });
                Ok(())
            },
            |t0, coeffs| {
                let len = coeffs.len_of(ndarray::Axis(2));
                out.slice_mut(s![.., .., t0..t0 + len]).assign(&coeffs);
                Ok(())
            },
        )?;
        Ok(out)
    }
}
