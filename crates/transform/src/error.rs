//! The error type of the transforms.

use scattering_filters::FilterError;
use thiserror::Error;

/// Everything that can go wrong when a transform is built or applied to user data.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TransformError {
    /// A parameter is outside its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Parameter name as the user spells it (`J`, `Q`, `T`, `max_order`, ...).
        name: &'static str,
        /// What was wrong and what was expected.
        reason: String,
    },
    /// An input array has the wrong shape.
    #[error("shape mismatch for {what}: expected {expected}, got {got}")]
    Shape {
        /// Which argument.
        what: &'static str,
        /// The expected shape, in words.
        expected: String,
        /// The shape received.
        got: String,
    },
    /// The input contains NaN or an infinity.
    #[error("input is not finite: {value} at batch {batch}, sample {index}")]
    NonFinite {
        /// Row of the batch.
        batch: usize,
        /// Sample index within the row.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// The filter bank could not be built.
    #[error(transparent)]
    Filter(#[from] FilterError),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, TransformError>;

pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> TransformError {
    TransformError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}
