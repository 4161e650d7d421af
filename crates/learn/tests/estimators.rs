//! The shared `Fit`/`Predict` traits and the cross-validation written on them: out-of-fold
//! predictions, grid search (nested), the shared-work paths against one-by-one fits,
//! standardisation, and errors.

use ndarray::{Array2, ArrayView2};
use rand::{rngs::StdRng, Rng, SeedableRng};
use scattering_learn::{
    cross_val_losses, cross_val_predict, error_rate, kfold, mae, stratified_kfold, AffineSpace,
    Fit, ForwardSelection, GridSearch, Kernel, KernelRidge, LearnError, Logistic, Pls, Predict,
    Ridge, Standardized,
};

/// Rows with `d` features and `y = 3 x_2 - 2 x_5 + 1 + noise`.
fn linear_data(n: usize, d: usize, noise: f64, seed: u64) -> (Array2<f64>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0));
    let y = x
        .rows()
        .into_iter()
        .map(|r| 3.0 * r[2] - 2.0 * r[5] + 1.0 + noise * rng.random_range(-1.0..1.0))
        .collect();
    (x, y)
}

fn predict_vec<M: Predict<Vec<f64>>>(m: &M, x: ArrayView2<f64>) -> Vec<f64> {
    m.predict(x).unwrap()
}

#[test]
fn out_of_fold_predictions_of_every_regressor_recover_a_linear_law() {
    let (x, y) = linear_data(120, 8, 0.0, 1);
    let folds = kfold(120, 4, 3).unwrap();
    let check = |name: &str, pred: Vec<f64>, tol: f64| {
        let e = mae(&pred, &y);
        assert!(e < tol, "{name}: out-of-fold MAE {e}");
    };
    check(
        "ridge",
        cross_val_predict(&Ridge::new(1e-9), x.view(), &y[..], &folds)
            .unwrap()
            .0,
        1e-6,
    );
    check(
        "pls",
        cross_val_predict(&Pls::new(8), x.view(), &y[..], &folds)
            .unwrap()
            .0,
        1e-6,
    );
    check(
        "forward selection",
        cross_val_predict(&ForwardSelection { features: 2 }, x.view(), &y[..], &folds)
            .unwrap()
            .0,
        1e-6,
    );
    let kr = Standardized(KernelRidge {
        kernel: Kernel::GaussianPlusLinear {
            gamma: 1e-3,
            weight: 1.0,
        },
        alpha: 1e-6,
    });
    check(
        "kernel ridge",
        cross_val_predict(&kr, x.view(), &y[..], &folds).unwrap().0,
        1e-2,
    );

    // Matrix targets give the same predictions as one value per row.
    let ym = Array2::from_shape_fn((120, 1), |(i, _)| y[i]);
    let (pm, _) = cross_val_predict(&Ridge::new(1e-3), x.view(), &ym, &folds).unwrap();
    let (pv, _) = cross_val_predict(&Ridge::new(1e-3), x.view(), &y[..], &folds).unwrap();
    assert!(pm
        .column(0)
        .iter()
        .zip(&pv)
        .all(|(a, b)| (a - b).abs() < 1e-12));
}

#[test]
fn forward_selection_finds_the_two_informative_features() {
    let (x, y) = linear_data(80, 10, 0.01, 2);
    let m = ForwardSelection { features: 2 }
        .fit(x.view(), &y[..])
        .unwrap();
    let mut cols = m.columns.clone();
    cols.sort_unstable();
    assert_eq!(cols, vec![2, 5]);
}

#[test]
fn shared_work_paths_equal_one_by_one_fits() {
    let (x, y) = linear_data(60, 7, 0.3, 3);
    let xv = linear_data(10, 7, 0.0, 4).0;
    let ridges: Vec<Ridge> = [1e-6, 1e-2, 1.0, 1e2].map(Ridge::new).to_vec();
    let sels: Vec<ForwardSelection> = [1, 3, 6].map(|k| ForwardSelection { features: k }).to_vec();
    let std_ridges: Vec<Standardized<Ridge>> = ridges.iter().map(|&r| Standardized(r)).collect();
    fn compare<E: Fit<[f64]>>(c: &[E], x: ArrayView2<f64>, y: &[f64], xv: ArrayView2<f64>) {
        for (m, e) in E::fit_each(c, x, y).unwrap().into_iter().zip(c) {
            let a = predict_vec(&m.unwrap(), xv);
            let b = predict_vec(&e.fit(x, y).unwrap(), xv);
            let d = a
                .iter()
                .zip(&b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
            assert!(d < 1e-9, "path and single fit differ by {d:e}");
        }
    }
    compare(&ridges, x.view(), &y, xv.view());
    compare(&sels, x.view(), &y, xv.view());
    compare(&std_ridges, x.view(), &y, xv.view());
}

#[test]
fn standardised_ridge_ignores_the_units_of_a_feature() {
    let (x, y) = linear_data(50, 6, 0.2, 5);
    let mut x2 = x.clone();
    x2.column_mut(2).mapv_inplace(|v| v * 1e4);
    let est = Standardized(Ridge::new(1.0));
    let a = predict_vec(&est.fit(x.view(), &y[..]).unwrap(), x.view());
    let b = predict_vec(&est.fit(x2.view(), &y[..]).unwrap(), x2.view());
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-9));
    // Without standardisation the penalty acts differently on the rescaled column.
    let c = predict_vec(
        &Fit::<[f64]>::fit(&Ridge::new(1.0), x.view(), &y[..]).unwrap(),
        x.view(),
    );
    let d = predict_vec(
        &Fit::<[f64]>::fit(&Ridge::new(1.0), x2.view(), &y[..]).unwrap(),
        x2.view(),
    );
    assert!(c.iter().zip(&d).any(|(p, q)| (p - q).abs() > 1e-3));
}

#[test]
fn grid_search_picks_the_right_penalty_and_skips_candidates_that_fail() {
    let (x, y) = linear_data(90, 6, 0.05, 6);
    // A huge penalty flattens the fit; a negative one cannot be fitted at all.
    let search = GridSearch::new(
        vec![
            KernelRidge {
                kernel: Kernel::GaussianPlusLinear {
                    gamma: 1e-3,
                    weight: 1.0,
                },
                alpha: -1.0,
            },
            KernelRidge {
                kernel: Kernel::GaussianPlusLinear {
                    gamma: 1e-3,
                    weight: 1.0,
                },
                alpha: 1e6,
            },
            KernelRidge {
                kernel: Kernel::GaussianPlusLinear {
                    gamma: 1e-3,
                    weight: 1.0,
                },
                alpha: 1e-4,
            },
        ],
        3,
        0,
        |t: &[f64], p: &[f64]| mae(p, t),
    );
    let m = search.fit(x.view(), &y[..]).unwrap();
    assert_eq!(m.chosen, 2, "losses {:?}", m.losses);
    assert!(m.losses[0].is_infinite() && m.losses[1] > 10.0 * m.losses[2]);
    // Nested: the grid search inside an outer cross-validation.
    let (pred, models) =
        cross_val_predict(&search, x.view(), &y[..], &kfold(90, 3, 1).unwrap()).unwrap();
    assert!(models.iter().all(|m| m.chosen == 2));
    assert!(mae(&pred, &y) < 0.1);
}

#[test]
fn classifiers_share_the_cross_validation() {
    // Two Gaussian blobs in 5D.
    let mut rng = StdRng::seed_from_u64(7);
    let labels: Vec<usize> = (0..80).map(|i| i % 2).collect();
    let x = Array2::from_shape_fn((80, 5), |(i, j)| {
        let c = if labels[i] == 1 && j < 2 { 3.0 } else { 0.0 };
        c + rng.random_range(-1.0..1.0)
    });
    let folds = stratified_kfold(&labels, 4, 0).unwrap();
    let (p, _) = cross_val_predict(&Logistic::default(), x.view(), &labels[..], &folds).unwrap();
    assert!(error_rate(&p, &labels) < 0.1);
    let (p, _) =
        cross_val_predict(&AffineSpace::new(vec![1], 2), x.view(), &labels[..], &folds).unwrap();
    assert!(error_rate(&p, &labels) < 0.15);
    let losses = cross_val_losses(
        &[
            Logistic::default(),
            Logistic {
                alpha: 1e9,
                ..Default::default()
            },
        ],
        x.view(),
        &labels[..],
        &folds,
        |t: &[usize], p: &[usize]| error_rate(p, t),
    )
    .unwrap();
    assert!(losses[0] < losses[1], "{losses:?}");
}

#[test]
fn bad_calls_are_typed_errors() {
    let (x, y) = linear_data(20, 6, 0.0, 8);
    let empty: GridSearch<Ridge, [f64]> = GridSearch::new(vec![], 3, 0, |t, p| mae(p, t));
    assert!(matches!(
        empty.fit(x.view(), &y[..]),
        Err(LearnError::Param(_))
    ));
    assert!(matches!(
        cross_val_predict(
            &Ridge::new(1.0),
            x.view(),
            &y[..5],
            &kfold(20, 2, 0).unwrap()
        ),
        Err(LearnError::Shape(_))
    ));
    let two = Array2::from_shape_fn((20, 2), |(i, j)| y[i] * (j + 1) as f64);
    let m = Fit::<Array2<f64>>::fit(&Ridge::new(1.0), x.view(), &two).unwrap();
    assert!(matches!(
        Predict::<Vec<f64>>::predict(&m, x.view()),
        Err(LearnError::Shape(_))
    ));
}
