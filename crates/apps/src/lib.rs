//! Shared pieces of the scattering-rs command-line tools: reading signals from `.npy`,
//! `.wav` and `.csv` files, writing outputs atomically, and drawing figures.
//!
//! ```no_run
//! use scattering_apps::io::{read_signals, Outputs};
//! let signals = read_signals("data/audio/flute_d5.wav".as_ref())?;
//! let mut out = Outputs::new();
//! out.npy("out/flute_raw.npy".as_ref(), &signals.data)?;
//! out.commit()?; // nothing is visible under the final names before this
//! # Ok::<(), scattering_apps::AppError>(())
//! ```

#![warn(missing_docs)]

pub mod audio;
pub mod cache;
pub mod classify;
pub mod error;
pub mod figures;
#[doc(hidden)]
pub mod fuzzing;
pub mod idx;
pub mod image_tar;
pub mod io;
pub mod mfcc;
pub mod molecules;
pub mod plots;
pub mod stream;
pub mod synthesis;
pub mod texture_stats;

pub use error::AppError;
