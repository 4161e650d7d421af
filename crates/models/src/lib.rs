//! Scattering models: differentiable representations `Φ` (expected scattering moments of 1D
//! signals and images, wavelet scattering spectra, power spectra, l1 and l2 norms, or your
//! own through the [`Representation`] trait; their concatenation, weighting and mean over
//! several signals), a microcanonical sampler that draws new signals whose moments
//! match a target (one target, or one per realisation for a non-ergodic mixture), a
//! maximum-entropy (macrocanonical) fit with MALA chains, and generators of the reference
//! processes of the talks (Ising, Cox, fBm, MRW, 2D turbulence).
//!
//! ```
//! use scattering_models::{L2Norm, Microcanonical, Representation};
//!
//! // A uniform point on the sphere of radius sqrt(n): mean(x^2) = 1.
//! let phi = L2Norm { n: 64 };
//! let draw = Microcanonical { seed: 3, ..Default::default() }.sample(&phi, &[1.0])?;
//! assert!((phi.forward(&draw.x)?[0] - 1.0).abs() < 1e-4);
//! # Ok::<(), scattering_models::ModelError>(())
//! ```

#![warn(missing_docs)]

pub mod cox;
pub mod error;
pub mod ising;
pub mod macrocanonical;
pub mod microcanonical;
pub mod processes;
pub mod reduced;
pub mod representation;
pub mod spectra;
pub mod stats;
pub mod turbulence;

pub use cox::Cox;
pub use error::{ModelError, Result};
pub use ising::{autocorrelation_time, Ising, BETA_CRITICAL};
pub use macrocanonical::{Macrocanonical, MaxEntFit};
pub use microcanonical::{Microcanonical, Progress, Synthesis};
pub use processes::{fbm, mrw, skewed_mrw};
pub use reduced::{ReducedSpectra, Reduction};
pub use representation::{
    Concat, EnvelopeCorrelations2d, L1Norm, L2Norm, Marginal, Pooled, PowerSpectrum, Quantiles,
    Representation, ScatteringMoments, ScatteringMoments1d, ScatteringMoments2d, Weighted,
};
pub use spectra::{
    ScatteringSpectra, ScatteringSpectra1d, ScatteringSpectra2d, SpectraKind, SpectraLabel,
};
pub use turbulence::{Turbulence, TurbulenceParams};
