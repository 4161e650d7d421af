//! How the coefficients of every transform are averaged.

use serde::Serialize;

/// How scattering coefficients are averaged (in time, or over the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Averaging {
    /// Low-pass filter at scale T and subsample by 2^floor(log2 T) (Kymatio's default).
    #[default]
    Local,
    /// Mean over the whole signal: one value per channel, invariant to translations.
    Global,
    /// No averaging: the modulus coefficients `U` at full rate (stride 1), the scalogram.
    None,
}
