//! The error type of the command-line tools.

use std::path::PathBuf;
use thiserror::Error;

/// What can go wrong in a tool; each message is one line naming the cause.
#[derive(Debug, Error)]
pub enum AppError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
    /// A file was read but its content is not what the tool accepts.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The transform rejected its parameters or input.
    #[error(transparent)]
    Transform(#[from] scattering_transform::TransformError),
    /// A learning step (fit or prediction) failed.
    #[error(transparent)]
    Learn(#[from] scattering_learn::LearnError),
    /// A model, sampler or generator failed.
    #[error(transparent)]
    Model(#[from] scattering_models::ModelError),
    /// An inverse-problem operator or solver rejected its input.
    #[error(transparent)]
    Inverse(#[from] scattering_inverse::InverseError),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
    /// A figure could not be drawn.
    #[error("figure {path}: {reason}")]
    Figure {
        /// The figure file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

impl AppError {
    /// A file that could not be read or written.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        AppError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    /// A file whose content is not what it should be.
    pub fn format(path: &std::path::Path, reason: impl Into<String>) -> Self {
        AppError::Format {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
