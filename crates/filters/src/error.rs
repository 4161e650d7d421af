//! The error type of filter construction.

use thiserror::Error;

/// Everything that can go wrong when a filter bank is built from user parameters.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum FilterError {
    /// A parameter is outside the range where the construction is defined.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Name of the parameter, as the user spells it (`J`, `Q`, `T`, ...).
        name: &'static str,
        /// What was wrong and what was expected.
        reason: String,
    },
    /// A user-defined wavelet returned a spectrum of the wrong length.
    #[error("wavelet `{wavelet}` returned {got} Fourier coefficients, expected {expected}")]
    WrongLength {
        /// Name of the wavelet family.
        wavelet: String,
        /// Length the bank asked for.
        expected: usize,
        /// Length it got.
        got: usize,
    },
    /// A filter is numerically zero or not finite, so it cannot be normalised.
    #[error("filter with xi = {xi}, sigma = {sigma} is degenerate: {reason}")]
    Degenerate {
        /// Centre frequency of the filter.
        xi: f64,
        /// Bandwidth of the filter.
        sigma: f64,
        /// Why it cannot be used.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, FilterError>;

pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> FilterError {
    FilterError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}
