//! Dense linear algebra on ndarray arrays through faer (pure Rust, multithreaded): Gram
//! matrices, symmetric eigendecompositions and positive-definite solves.

use crate::error::{LearnError, Result};
use faer::{Accum, Mat, Par, Side};
use ndarray::{Array1, Array2, ArrayView2};

fn to_faer(a: ArrayView2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_faer(m: faer::MatRef<f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// `aᵀ b` computed by faer's parallel matrix product.
pub fn at_b(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let (fa, fb) = (to_faer(a), to_faer(b));
    let mut out = Mat::<f64>::zeros(a.ncols(), b.ncols());
    faer::linalg::matmul::matmul(
        out.as_mut(),
        Accum::Replace,
        fa.transpose(),
        fb.as_ref(),
        1.0,
        Par::rayon(0),
    );
    from_faer(out.as_ref())
}

/// `a b` computed by faer's parallel matrix product.
pub fn a_b(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let (fa, fb) = (to_faer(a), to_faer(b));
    let mut out = Mat::<f64>::zeros(a.nrows(), b.ncols());
    faer::linalg::matmul::matmul(
        out.as_mut(),
        Accum::Replace,
        fa.as_ref(),
        fb.as_ref(),
        1.0,
        Par::rayon(0),
    );
    from_faer(out.as_ref())
}

/// Eigendecomposition of a symmetric matrix, eigenvalues in decreasing order; the columns of
/// the second array are the matching unit eigenvectors.
pub fn sym_eig_desc(a: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let n = a.nrows();
    let evd = to_faer(a)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| LearnError::Linalg(format!("symmetric eigendecomposition: {e:?}")))?;
    let (s, u) = (evd.S(), evd.U());
    // faer sorts in increasing order; reverse.
    let values = Array1::from_shape_fn(n, |k| s[n - 1 - k]);
    let vectors = Array2::from_shape_fn((n, n), |(i, k)| u[(i, n - 1 - k)]);
    Ok((values, vectors))
}

/// Solves `a x = b` for a symmetric positive definite `a` (Cholesky).
pub fn solve_spd(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Result<Array2<f64>> {
    let llt = to_faer(a)
        .llt(Side::Lower)
        .map_err(|e| LearnError::Linalg(format!("Cholesky factorisation: {e:?}")))?;
    let mut rhs = to_faer(b);
    faer::linalg::solvers::Solve::solve_in_place(&llt, rhs.as_mut());
    Ok(from_faer(rhs.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn eig_and_solve_agree_with_hand_results() {
        let a = array![[2.0, 1.0], [1.0, 2.0]];
        let (vals, vecs) = sym_eig_desc(a.view()).unwrap();
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        let v0 = vecs.column(0);
        assert!((v0[0].abs() - v0[1].abs()).abs() < 1e-12);
        let x = solve_spd(a.view(), array![[3.0], [3.0]].view()).unwrap();
        assert!((x[[0, 0]] - 1.0).abs() < 1e-12 && (x[[1, 0]] - 1.0).abs() < 1e-12);
        let g = at_b(a.view(), a.view());
        assert!((g[[0, 0]] - 5.0).abs() < 1e-12 && (g[[0, 1]] - 4.0).abs() < 1e-12);
        assert!(solve_spd(array![[1.0, 2.0], [2.0, 1.0]].view(), a.view()).is_err());
    }
}
