//! Scattering transforms with forward and backward passes.
//!
//! - [`Scattering1d`]: time scattering (Kymatio's `Scattering1D`, main branch);
//! - [`Scattering2d`]: image scattering (Kymatio's `Scattering2D`);
//! - [`SolidHarmonicScattering3d`]: solid harmonic scattering (Kymatio's
//!   `HarmonicScattering3D`, `method='integral'`).
//!
//! Each transform is a type built once from its parameters (filters and FFT plans are
//! computed then) and applied to many batches; `forward` and `backward` sit side by side,
//! so models and inverse problems can descend on losses of scattering coefficients. Each
//! computes in `f64` (`build()`) or `f32` (`build_f32()`).
//!
//! ```
//! use ndarray::Array2;
//! use scattering_transform::{Averaging, Scattering1dParams};
//!
//! // Kymatio's Scattering1D(J=6, shape=1024, Q=8).
//! let s = Scattering1dParams::new(1024, 6).q((8, 1)).build()?;
//! let x = Array2::from_shape_fn((2, 1024), |(b, t)| ((t * (b + 3)) as f64 * 0.05).cos());
//! let sx = s.forward(x.view())?;
//! assert_eq!(sx.shape(), &[2, 126, 16]);
//! assert_eq!(s.meta()[1].order, 1);
//!
//! // Gradient of 0.5 ||S x - S y||^2 with respect to x.
//! let y = Array2::<f64>::zeros((2, 1024));
//! let diff = &sx - &s.forward(y.view())?;
//! let grad = s.backward(x.view(), diff.view())?;
//! assert_eq!(grad.shape(), &[2, 1024]);
//! # Ok::<(), scattering_transform::TransformError>(())
//! ```

#![warn(missing_docs)]

pub mod common;
pub mod error;
pub mod image;
pub mod joint;
pub mod rigid;
pub mod solid;
pub mod spiral;
pub mod time;

pub use common::{Averaging, Padding, Parallelism, Transform};
pub use error::{Result, TransformError};
pub use image::{PathMeta2d, Scattering2d, Scattering2dParams};
pub use joint::{JointFormat, PathMetaJoint, TimeFrequencyParams, TimeFrequencyScattering};
pub use rigid::{AngularAveraging, PathMetaRigid, RigidMotionParams, RigidMotionScattering};
pub use scattering_engine::Real;
pub use scattering_filters::Reduction;
pub use solid::{
    PathMeta3d, SolidHarmonicScattering3d, SolidHarmonicScattering3dParams, SolidScattering3dParams,
};
pub use spiral::{PathMetaSpiral, SpiralParams, SpiralScattering};
pub use time::{BlockedScattering1d, PathMeta, PathMeta1d, Scattering1d, Scattering1dParams};
