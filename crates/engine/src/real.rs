//! The working precision of every kernel: `f64` or `f32`.

use crate::simd::kernels;
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
    /// The vector kernel of [`crate::simd::real_scale`] for this type.
    fn real_scale_kernel(o: &mut [Self], s: &[Self], w: &[Self], acc: bool);
    /// The vector kernel of [`crate::simd::pack_modulus`] for this type.
    fn pack_modulus_kernel(z: &[Self], pack: &mut [Self], imag: bool);
    /// The vector kernel of [`crate::simd::sqrt_sums`] for this type.
    fn sqrt_sums_kernel(u: &mut [Self]) -> Option<[f64; 3]>;
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
    #[inline(always)]
    fn real_scale_kernel(o: &mut [Self], s: &[Self], w: &[Self], acc: bool) {
        kernels::real_scale_f64(o, s, w, acc)
    }
    #[inline(always)]
    fn pack_modulus_kernel(z: &[Self], pack: &mut [Self], imag: bool) {
        kernels::pack_modulus_f64(z, pack, imag)
    }
    #[inline(always)]
    fn sqrt_sums_kernel(u: &mut [Self]) -> Option<[f64; 3]> {
        kernels::sqrt_sums_f64(u)
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
    #[inline(always)]
    fn real_scale_kernel(o: &mut [Self], s: &[Self], w: &[Self], acc: bool) {
        kernels::real_scale_f32(o, s, w, acc)
    }
    #[inline(always)]
    fn pack_modulus_kernel(z: &[Self], pack: &mut [Self], imag: bool) {
        kernels::pack_modulus_f32(z, pack, imag)
    }
    #[inline(always)]
    fn sqrt_sums_kernel(u: &mut [Self]) -> Option<[f64; 3]> {
        kernels::sqrt_sums_f32(u)
    }
}

/// A complex number of the working precision.
pub type Cx<T> = Complex<T>;
