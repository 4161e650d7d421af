//! The parameters of a [`TimeFrequencyScattering`], checked by `build`.

use super::TimeFrequencyScattering;
use crate::common::Averaging;
use crate::error::Result;
use serde::Serialize;

/// The layout of joint time-frequency scattering coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum JointFormat {
    /// `(channels, log-frequency rows, time)`: one channel per joint path (Kymatio's
    /// `format='joint'`, no zeroth order).
    Joint,
    /// `(channels, time)`: the zeroth order, then every log-frequency row of every path as
    /// a channel of its own (Kymatio's `format='time'`, the default).
    #[default]
    Time,
}

/// Parameters of a [`TimeFrequencyScattering`], set with builder methods and checked by
/// `build`. The names and defaults are Kymatio's (`TimeFrequencyScattering`, main branch).
///
/// ```
/// use scattering_transform::{JointFormat, TimeFrequencyParams};
/// // Kymatio's TimeFrequencyScattering(J=6, shape=2048, Q=(8, 2), J_fr=3, Q_fr=2, format='joint').
/// let s = TimeFrequencyParams::new(2048, 6, 3).q((8, 2)).q_fr(2).format(JointFormat::Joint).build()?;
/// assert_eq!(s.output_shape(), vec![143, 15, 32]);
/// # Ok::<(), scattering_transform::TransformError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeFrequencyParams {
    /// Signal length.
    pub n: usize,
    /// Largest time scale `2^J`.
    pub j: usize,
    /// Wavelets per octave at the first and second order.
    pub q: (usize, usize),
    /// Largest log-frequency scale `2^J_fr`, counted in first-order channels.
    pub j_fr: usize,
    /// Frequential wavelets per octave.
    pub q_fr: usize,
    /// Width of the time averaging (`None`: `2^J`).
    pub t: Option<usize>,
    /// Time subsampling of the output, a power of two (`None`: `2^floor(log2 T)`).
    pub stride: Option<usize>,
    /// Time averaging: `Local` (low-pass of width T) or `Global` (sum over time).
    pub average: Averaging,
    /// Width of the averaging along log-frequency (`None`: `2^J_fr`).
    pub f: Option<usize>,
    /// Log-frequency subsampling, a power of two (`None`: `2^floor(log2 F)`).
    pub stride_fr: Option<usize>,
    /// Averaging along log-frequency: `Local` (width F), `Global` (sum over the channels)
    /// or `None` (Kymatio's `F=0`; only with [`JointFormat::Time`]).
    pub average_fr: Averaging,
    /// Output layout.
    pub format: JointFormat,
}

impl TimeFrequencyParams {
    /// Signals of length `n`, time scales up to `2^j`, log-frequency scales up to
    /// `2^j_fr`; Kymatio's defaults otherwise (`Q = (8, 1)`, `Q_fr = 1`, local averaging,
    /// `T = 2^J`, `F = 2^J_fr`, strides equal to the widths, `'time'` format).
    pub fn new(n: usize, j: usize, j_fr: usize) -> Self {
        Self {
            n,
            j,
            q: (8, 1),
            j_fr,
            q_fr: 1,
            t: None,
            stride: None,
            average: Averaging::Local,
            f: None,
            stride_fr: None,
            average_fr: Averaging::Local,
            format: JointFormat::Time,
        }
    }
    /// Wavelets per octave `(Q1, Q2)`.
    pub fn q(mut self, q: (usize, usize)) -> Self {
        self.q = q;
        self
    }
    /// Frequential wavelets per octave.
    pub fn q_fr(mut self, q_fr: usize) -> Self {
        self.q_fr = q_fr;
        self
    }
    /// Width of the time averaging.
    pub fn t(mut self, t: usize) -> Self {
        self.t = Some(t);
        self
    }
    /// Time subsampling (a power of two).
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = Some(stride);
        self
    }
    /// Time averaging mode.
    pub fn average(mut self, a: Averaging) -> Self {
        self.average = a;
        self
    }
    /// Width of the log-frequency averaging.
    pub fn f(mut self, f: usize) -> Self {
        self.f = Some(f);
        self
    }
    /// Log-frequency subsampling (a power of two).
    pub fn stride_fr(mut self, stride_fr: usize) -> Self {
        self.stride_fr = Some(stride_fr);
        self
    }
    /// Log-frequency averaging mode.
    pub fn average_fr(mut self, a: Averaging) -> Self {
        self.average_fr = a;
        self
    }
    /// Output layout.
    pub fn format(mut self, format: JointFormat) -> Self {
        self.format = format;
        self
    }
    /// The transform in `f64`.
    pub fn build(self) -> Result<TimeFrequencyScattering<f64>> {
        TimeFrequencyScattering::new(self)
    }
    /// The transform in `f32`.
    pub fn build_f32(self) -> Result<TimeFrequencyScattering<f32>> {
        TimeFrequencyScattering::new(self)
    }
}
