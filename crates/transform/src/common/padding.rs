//! Boundary extension of 1D signals and its adjoint.

/// How a signal is extended before the circular convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Padding {
    /// Mirror without repeating the edge sample (numpy `mode='reflect'`), to a power of two
    /// long enough for the low-pass support, as Kymatio does.
    #[default]
    Reflect,
    /// No padding: the signal is one period of a periodic signal. Circular shifts then
    /// commute with the transform. Needs a length divisible by every subsampling factor.
    Periodic,
}

/// Index into the unpadded signal that padded position `i` copies (numpy reflect).
#[inline]
pub(crate) fn reflect_source(i: usize, pad_left: usize, n: usize) -> usize {
    if i < pad_left {
        pad_left - i
    } else if i < pad_left + n {
        i - pad_left
    } else {
        2 * n - 2 - (i - pad_left)
    }
}

/// Writes the reflect-padded `x` into `out` (length `pad_left + n + pad_right`).
pub(crate) fn pad_reflect<T: Copy>(x: &[T], pad_left: usize, out: &mut [T]) {
    let n = x.len();
    for (i, o) in out.iter_mut().enumerate() {
        *o = x[reflect_source(i, pad_left, n)];
    }
}

/// Adjoint of [`pad_reflect`]: folds the gradient of the padded signal back.
pub(crate) fn pad_reflect_adjoint<T: num_traits::Float + std::ops::AddAssign>(
    g: &[T],
    pad_left: usize,
    out: &mut [T],
) {
    let n = out.len();
    out.iter_mut().for_each(|o| *o = T::zero());
    for (i, &v) in g.iter().enumerate() {
        let s = reflect_source(i, pad_left, n);
        out[s] += v;
    }
}

/// 2D padding's index map, numpy `mode='reflect'` for any pad width: mirror without
/// repeating the edge, periodically (the identity without padding).
pub(crate) fn reflect_index(i: usize, pad: usize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1) as i64;
    let t = (i as i64 - pad as i64).rem_euclid(period);
    if t < n as i64 {
        t as usize
    } else {
        (period - t) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_numpy() {
        // np.pad([1,2,3,4], (3,2), mode='reflect') = [4,3,2,1,2,3,4,3,2]
        let mut out = vec![0.0; 9];
        pad_reflect(&[1.0, 2.0, 3.0, 4.0], 3, &mut out);
        assert_eq!(out, vec![4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]);
    }

    #[test]
    fn adjoint_identity() {
        // <P x, g> = <x, P^T g> for arbitrary x and g.
        let x = [0.3, -1.2, 2.5, 0.7, -0.1];
        let g: Vec<f64> = (0..12).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut px = vec![0.0; 12];
        pad_reflect(&x, 4, &mut px);
        let mut ptg = vec![0.0; 5];
        pad_reflect_adjoint(&g, 4, &mut ptg);
        let lhs: f64 = px.iter().zip(&g).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&ptg).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12);
    }
}
