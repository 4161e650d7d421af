//! The engine of scattering-rs: everything low-level and `unsafe` that the transforms
//! share, behind a small documented surface.
//!
//! - [`real`]: the working precision ([`Real`]: `f64` or `f32`) and [`Cx`];
//! - [`fourier1d`]: FFT plans per subsampling level (realfft for real signals, rustfft for
//!   complex ones) and the 1D filter kernels: filter-and-subsample (`fold`) and its adjoint
//!   (`tile`), the modulus and its backward;
//! - [`fourier2d`]: 2D FFTs in a transposed layout, the 2D fold/tile pair, packed real
//!   pairs; [`lowpass2d`]: the separable low-pass in the image domain;
//! - [`fourier3d`]: in-place 3D FFTs with pruning; [`column_fft`]: the strided FFT
//!   vectorised across columns (no crate offers one); [`line_filter`]: 3D filters formed
//!   line by line from their separable form;
//! - [`simd`]: the one dispatch mechanism (AVX2 + FMA, or the portable scalar path,
//!   chosen once per process; `SCATTERING_SIMD=scalar` forces the scalar path);
//! - [`pool`]: workspaces kept between calls so repeated calls allocate nothing.
//!
//! Plans pick their kernels: rustfft along contiguous lines, [`column_fft::ColumnFft`]
//! down strided axes, and for 2D grids [`fourier2d`] takes lengths with a factor of 5 by
//! columns (where rustfft has no single-pass kernel).
//!
//! ```
//! use scattering_engine::fourier1d::{Plans, SparseFilter};
//! use scattering_engine::Cx;
//!
//! // Low-pass a constant signal of length 16 and subsample it by 2, in the Fourier
//! // domain: half spectrum, filter-and-fold to 8 bins, inverse FFT at the coarse level.
//! let plans = Plans::<f64>::new(16, 1);
//! let mut x = vec![1.0; 16];
//! let mut half = vec![Cx::new(0.0, 0.0); 9];
//! let mut scratch = vec![Cx::new(0.0, 0.0); plans.scratch_len];
//! plans.levels[0].real_to_half(&mut x, &mut half, &mut scratch);
//! let h: Vec<f64> = (0..16).map(|k| if k < 3 || k > 13 { 1.0 } else { 0.0 }).collect();
//! let mut z = vec![Cx::new(0.0, 0.0); 8];
//! // The scale 1/16 is the 1/n of the inverse transform at full length.
//! SparseFilter::<f64>::of(&h).fold_half(&half, 8, 1.0 / 16.0, &mut z);
//! plans.levels[1].inv.process_with_scratch(&mut z, &mut scratch);
//! assert!(z.iter().all(|v| (v.re - 1.0).abs() < 1e-12 && v.im.abs() < 1e-12));
//! ```

#![warn(missing_docs)]

pub mod column_fft;
pub mod fourier1d;
pub mod fourier2d;
pub mod fourier3d;
pub mod line_filter;
pub mod lowpass2d;
pub mod pool;
pub mod real;
pub mod simd;

pub use real::{Cx, Real};
