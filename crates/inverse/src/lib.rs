//! Inverse problems around the scattering transform: linear forward operators with exact
//! adjoints (blur and subsampling for super-resolution, the parallel-beam Radon transform
//! for tomography), filtered back-projection as the classic estimate, the classic
//! regularised inversions (total variation by Chambolle-Pock, l1 of orthogonal wavelet
//! coefficients by FISTA, Tikhonov by conjugate gradients), reconstruction from scattering
//! coefficients and the scattering regulariser, the super-resolution estimators (bicubic,
//! best linear, and [`CoefficientRegression`] for learned scattering estimates), quality
//! metrics (PSNR, SSIM, gradient W1, spectrogram error), and test phantoms.
//!
//! Every operator implements [`LinearOperator`]: `apply` (`A x`) and `adjoint` (`Aᵀ y`),
//! which check shapes and finiteness and return a typed [`InverseError`]. The adjoints are
//! exact (`<A x, y> = <x, Aᵀ y>` to rounding), so gradients of data terms `‖A x − y‖²` are
//! right.
//!
//! ```
//! use scattering_inverse::{phantom, LinearOperator, Radon, RampFilter};
//!
//! let x = phantom::shepp_logan(64);
//! let radon = Radon::uniform((64, 64), 90)?;
//! let sinogram = radon.apply(x.view())?;
//! let estimate = radon.fbp(sinogram.view(), RampFilter::RamLak)?;
//! let err = (&estimate - &x).mapv(|v| v * v).mean().unwrap_or(0.0).sqrt();
//! assert!(err < 0.1, "root-mean-square error {err}");
//! # Ok::<(), scattering_inverse::InverseError>(())
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod metrics;
pub mod operator;
pub mod phantom;
pub mod radon;
pub mod regularise;
pub mod scattering;
pub mod solve;
pub mod superres;

pub use error::{InverseError, Result};
pub use operator::{AntiAlias, BlurSubsample, Identity, LinearOperator};
pub use radon::{Radon, RampFilter};
pub use regularise::{Wavelet2d, WaveletFamily};
pub use scattering::{best_shift_error, Reconstruction, ScatteringSolver};
pub use solve::{Solution, Stopping};
pub use superres::{BestLinear, CoefficientRegression};
