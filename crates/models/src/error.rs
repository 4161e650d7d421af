//! The error type of `scattering-models`.

/// What a representation or a sampler can reject.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The transform rejected its parameters or input.
    #[error(transparent)]
    Transform(#[from] scattering_transform::TransformError),
    /// A vector of the wrong length.
    #[error("length mismatch: {what} has {got} values, expected {expected}")]
    Length {
        /// Which vector.
        what: &'static str,
        /// Its expected length.
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// A parameter outside its domain.
    #[error("invalid parameter: {0}")]
    Param(String),
    /// NaN or infinity in user data.
    #[error("non-finite value in {0}")]
    NonFinite(&'static str),
    /// The optimiser failed.
    #[error("optimisation failed: {0}")]
    Optim(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

pub(crate) fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(ModelError::Length {
            what,
            expected,
            got,
        })
    }
}

pub(crate) fn check_finite(what: &'static str, v: &[f64]) -> Result<()> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(ModelError::NonFinite(what))
    }
}
