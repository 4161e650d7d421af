//! Pieces every transform shares: averaging modes, boundary handling, input checks, the
//! batch driver and the parallelism setting.

pub mod averaging;
pub(crate) mod checks;
pub(crate) mod driver;
pub(crate) mod homogeneity;
pub mod padding;
pub mod parallel;
pub mod transform;

pub use averaging::Averaging;
pub use padding::Padding;
pub use parallel::Parallelism;
pub use transform::Transform;
