//! Dense linear algebra on ndarray arrays through faer (pure Rust, multithreaded): Gram
//! matrices, symmetric eigendecompositions and positive-definite solves.

use crate::error::{LearnError, Result};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use ndarray::{Array1, Array2, ArrayView2};

fn to_faer(a: ArrayView2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_faer(m: faer::MatRef<f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// `a` as a faer matrix: a view of its memory when it is contiguous, row-major or
/// column-major (a 50,000-row feature matrix or its transpose is not copied), else a copy
/// kept in `owned`.
fn faer_of<'a, 'v: 'a>(a: ArrayView2<'v, f64>, owned: &'a mut Option<Mat<f64>>) -> MatRef<'a, f64> {
    if let Some(s) = a.to_slice() {
        return MatRef::from_row_major_slice(s, a.nrows(), a.ncols());
    }
    let t = a.reversed_axes();
    match t.to_slice() {
        Some(s) => MatRef::from_column_major_slice(s, a.nrows(), a.ncols()),
        None => owned.insert(to_faer(a)).as_ref(),
    }
}

/// `op(a) b` by faer's parallel matrix product, written straight into a new array.
fn product(fa: MatRef<f64>, fb: MatRef<f64>) -> Array2<f64> {
    let (r, c) = (fa.nrows(), fb.ncols());
    let mut out = Array2::<f64>::zeros((r, c));
    if let Some(s) = out.as_slice_mut() {
        let om = MatMut::from_row_major_slice_mut(s, r, c);
        faer::linalg::matmul::matmul(om, Accum::Replace, fa, fb, 1.0, Par::rayon(0));
        return out;
    }
    // A new array is always row-major; kept for completeness.
    let mut m = Mat::<f64>::zeros(r, c);
    faer::linalg::matmul::matmul(m.as_mut(), Accum::Replace, fa, fb, 1.0, Par::rayon(0));
    from_faer(m.as_ref())
}

/// `aᵀ b` computed by faer's parallel matrix product.
pub fn at_b(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let (mut ca, mut cb) = (None, None);
    product(faer_of(a, &mut ca).transpose(), faer_of(b, &mut cb))
}

/// `a b` computed by faer's parallel matrix product.
pub fn a_b(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let (mut ca, mut cb) = (None, None);
    product(faer_of(a, &mut ca), faer_of(b, &mut cb))
}

/// `g += kᵀ k` on the lower triangle of `g` (the upper is left as it was): the Gram matrix of
/// a long matrix accumulated block of rows by block of rows, at half a full product's cost.
/// `g` must be square with as many rows as `k` has columns.
pub(crate) fn add_gram_lower(g: &mut Array2<f64>, k: ArrayView2<f64>) {
    let m = g.nrows();
    debug_assert_eq!((g.ncols(), k.ncols()), (m, m));
    let mut ck = None;
    let fk = faer_of(k, &mut ck);
    let run = |dst: MatMut<f64>| {
        faer::linalg::matmul::triangular::matmul(
            dst,
            BlockStructure::TriangularLower,
            Accum::Add,
            fk.transpose(),
            BlockStructure::Rectangular,
            fk,
            BlockStructure::Rectangular,
            1.0,
            Par::rayon(0),
        )
    };
    match g.as_slice_mut() {
        Some(s) => run(MatMut::from_row_major_slice_mut(s, m, m)),
        None => {
            let mut f = to_faer(g.view());
            run(f.as_mut());
            g.assign(&from_faer(f.as_ref()));
        }
    }
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

    /// Row-major inputs are read in place and others copied: both give the product.
    #[test]
    fn products_agree_on_views_and_copies() {
        let a = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64) - 2.0 * j as f64);
        let b = Array2::from_shape_fn((3, 4), |(i, j)| (i * j) as f64 + 0.5);
        let want = a.dot(&b);
        assert_eq!(a_b(a.view(), b.view()), want);
        // Transposed views are not row-major.
        let (at, bt) = (a.t().to_owned(), b.t().to_owned());
        assert_eq!(a_b(at.t(), bt.t()), want);
        assert_eq!(at_b(at.view(), b.view()), want);
        assert_eq!(at_b(a.t(), bt.t()), want);
        // A strided slice.
        let wide = Array2::from_shape_fn((5, 6), |(i, j)| a[[i, j / 2]]);
        assert_eq!(a_b(wide.slice(ndarray::s![.., ..;2]), b.view()), want);
    }

    /// The accumulated lower triangle is the full Gram matrix's; the upper is untouched.
    #[test]
    fn gram_lower_accumulates_blocks_of_rows() {
        let k = Array2::from_shape_fn((7, 4), |(i, j)| ((i * 3 + j * 5) % 7) as f64 - 3.0);
        let want = k.t().dot(&k);
        let mut g = Array2::from_elem((4, 4), -1.0);
        g.diag_mut().fill(0.0);
        for i in 0..4 {
            for j in 0..i {
                g[[i, j]] = 0.0;
            }
        }
        add_gram_lower(&mut g, k.slice(ndarray::s![..3, ..]));
        add_gram_lower(&mut g, k.slice(ndarray::s![3.., ..]));
        for i in 0..4 {
            for j in 0..4 {
                let expect = if j <= i { want[[i, j]] } else { -1.0 };
                assert!((g[[i, j]] - expect).abs() < 1e-12, "({i}, {j})");
            }
        }
        // A column-major accumulator gives the same.
        let mut gt = Array2::<f64>::zeros((4, 4)).reversed_axes();
        add_gram_lower(&mut gt, k.view());
        assert!((gt[[3, 1]] - want[[3, 1]]).abs() < 1e-12);
    }

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
