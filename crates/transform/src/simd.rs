//! Runtime dispatch to AVX2 code for the element-wise kernels (folds, moduli, spectrum
//! splits). The crate is compiled for baseline x86-64, so without this those loops run
//! on two-lane SSE2 while rustfft, which dispatches the same way, runs on AVX.

/// A loop to compile twice, for baseline x86-64 and for AVX2. Implementations mark
/// `run` `#[inline(always)]` and call only `#[inline]` code, so that all of it is
/// inlined into [`dispatch`]'s AVX2 copy and compiled with AVX2.
pub(crate) trait Kernel {
    type Output;
    fn run(self) -> Self::Output;
}

/// Runs `k` compiled with AVX2 enabled when the CPU has it.
#[inline]
pub(crate) fn dispatch<K: Kernel>(k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { avx2(k) };
        }
    }
    k.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<K: Kernel>(k: K) -> K::Output {
    k.run()
}

/// `o[k] += s[k] w[k]`, element-wise: the inner loop of every fold, on interleaved
/// complex data and filter values stored twice (`[w, w]`).
#[inline(always)]
pub(crate) fn mac<T: crate::fourier::Real>(o: &mut [T], s: &[T], w: &[T]) {
    for ((o, &s), &w) in o.iter_mut().zip(s).zip(w) {
        *o += s * w;
    }
}
