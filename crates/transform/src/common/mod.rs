//! Pieces every transform shares: averaging modes, boundary handling, input checks, the
//! batch driver and the parallelism setting.

pub mod averaging;
pub mod padding;

pub use averaging::Averaging;
pub use padding::Padding;
