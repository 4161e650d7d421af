//! Wavelet filter banks for scattering transforms.
//!
//! This crate builds the filters; the transforms live in `scattering-transform`.
//! 1D banks ([`FilterBank1d`]) follow Kymatio's construction number for number (Morlet
//! wavelets, Andén's frequency layout, filters sampled in the Fourier domain and stored at
//! every subsampling level). 2D banks ([`FilterBank2d`]: J scales x L orientations of
//! Morlet wavelets) and 3D solid harmonic banks ([`SolidHarmonicBank`]) follow Kymatio's
//! `Scattering2D` and `HarmonicScattering3D`.
//!
//! Users extend it with their own families: a [`Wavelet1d`] with a [`FrequencyLayout`] in
//! 1D, a [`Wavelet2d`] in 2D, a [`RadialProfile3d`] in 3D (closures through [`FnWavelet`],
//! [`FnWavelet2d`], [`FnRadial3d`]); `examples/custom_wavelet.rs` runs one of each through
//! the transforms.
//!
//! ```
//! use scattering_filters::{littlewood_paley, Bank1dParams, FilterBank1d, Gabor};
//!
//! // J = 6 octaves, Q = 8 wavelets per octave at order 1, 1 at order 2, T = 2^J.
//! let params = Bank1dParams::new(6, (8, 1), None)?;
//! let bank = FilterBank1d::new(4096, &params)?;
//! let lp = bank.littlewood_paley(1);
//! let (lo, hi) = littlewood_paley::bounds(&lp, 0.0, 0.5);
//! assert!(hi <= 1.0 + 1e-12 && lo > 0.0);
//!
//! // The same layout with Gabor wavelets.
//! let gabor = FilterBank1d::with_wavelet(4096, &params, &Gabor)?;
//! assert_eq!(gabor.psi1.len(), bank.psi1.len());
//! # Ok::<(), scattering_filters::FilterError>(())
//! ```

#![warn(missing_docs)]

pub mod angular;
pub mod bank1d;
pub mod error;
pub mod frequential;
pub mod littlewood_paley;
pub mod morlet1d;
pub mod morlet2d;
pub mod solid_harmonic;
pub mod wavelet;
pub mod wavelet2d;

pub use angular::{AngularBank, AngularFilter};
pub use bank1d::{AndenLayout, Bank1dParams, Filter1d, FilterBank1d, FrequencyLayout, Reduction};
pub use error::{FilterError, Result};
pub use frequential::{frequential_lowpass, FrequentialBank, FrequentialFilter};
pub use morlet2d::{Filter2d, FilterBank2d, Spectrum2d};
pub use solid_harmonic::{FnRadial3d, GaussianHarmonic, RadialProfile3d, SolidHarmonicBank};
pub use wavelet::{FnWavelet, Gabor, Morlet, Wavelet1d};
pub use wavelet2d::{FnWavelet2d, Gabor2d, Morlet2d, Wavelet2d};
