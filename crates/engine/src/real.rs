//! The working precision of every kernel: `f64` or `f32`.

use num_complex::Complex;
use rustfft::FftNum;

/// Floating-point types the transforms compute in: `f64` (the reference precision) and
/// `f32` (about twice as fast, relative error around 1e-6).
pub trait Real:
    FftNum + num_traits::Float + num_traits::NumAssign + Default + bytemuck::Pod + Into<f64>
{
    /// Conversion from `f64` (rounding for `f32`).
    fn of(v: f64) -> Self;
    /// Conversion to `f64`.
    fn as_f64(self) -> f64;
}

impl Real for f64 {
    #[inline(always)]
    fn of(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    #[inline(always)]
    fn of(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
}

/// A complex number of the working precision.
pub type Cx<T> = Complex<T>;
