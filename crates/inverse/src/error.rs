//! The error type of the inverse-problem tools.

use thiserror::Error;

/// What a caller can get wrong; each message names the cause.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum InverseError {
    /// An array whose shape does not fit the operator.
    #[error("{what} has shape {got:?}, expected {expected:?}")]
    Shape {
        /// Which array.
        what: &'static str,
        /// The shape the operator needs.
        expected: (usize, usize),
        /// The shape given.
        got: (usize, usize),
    },
    /// An invalid parameter.
    #[error("invalid parameter: {0}")]
    Param(String),
    /// NaN or infinite values in an input.
    #[error("{0} holds NaN or infinite values")]
    NonFinite(&'static str),
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, InverseError>;
