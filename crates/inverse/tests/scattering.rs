//! Inversion with scattering: reconstruction from coefficients and the scattering
//! regulariser.

use ndarray::Array2;
use scattering_inverse::{
    best_shift_error, phantom, AntiAlias, BlurSubsample, LinearOperator, ScatteringSolver,
};
use scattering_models::{Representation, ScatteringMoments, ScatteringMoments2d};
use scattering_transform::{Averaging, Padding, Scattering1dParams, Scattering2dParams};

/// A 1D signal from its locally averaged scattering (order 2): the coefficients are matched
/// to 1e-3 relative, from a white-noise start.
#[test]
fn reconstruction_matches_local_scattering_in_1d() {
    let n = 256;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64;
            (40.0 * t).sin() * (-((t - 0.5) / 0.15).powi(2)).exp()
        })
        .collect();
    let s = Scattering1dParams::new(n, 4)
        .q((2, 1))
        .average(Averaging::Local)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    let phi = ScatteringMoments::from_transform(s);
    let target = phi.forward(&x).unwrap();
    let solver = ScatteringSolver {
        seed: 1,
        max_iterations: 400,
        tolerance: 1e-12,
    };
    let r = solver.reconstruct(&phi, &target, 0.3).unwrap();
    assert!(
        r.relative_error < 1e-3,
        "relative error {}",
        r.relative_error
    );
    assert!(r.loss_curve.first() > r.loss_curve.last());
    // The same seed gives the same bits.
    let again = solver.reconstruct(&phi, &target, 0.3).unwrap();
    assert_eq!(r.x, again.x);
}

/// A Dirac (16 x 16, global scattering with 2^J = N, order 2) is recovered up to a
/// translation: the error after the best circular shift and sign is small.
#[test]
fn a_dirac_is_recovered_up_to_translation() {
    let n = 16;
    let mut x = Array2::zeros((n, n));
    x[[5, 9]] = 1.0;
    let phi = ScatteringMoments2d::new((n, n), 4, 4).unwrap();
    let flat: Vec<f64> = x.iter().copied().collect();
    let target = phi.forward(&flat).unwrap();
    let r = ScatteringSolver {
        seed: 3,
        max_iterations: 1000,
        tolerance: 1e-14,
    }
    .reconstruct(&phi, &target, 0.1)
    .unwrap();
    let est = Array2::from_shape_vec((n, n), r.x).unwrap();
    let (err, _, _) = best_shift_error(x.view(), est.view()).unwrap();
    eprintln!(
        "Dirac: scattering error {:.2e}, L2 after shift {err:.3}",
        r.relative_error
    );
    assert!(err < 0.3, "L2 error after the best shift {err}");
}

/// Super-resolution by 2 of the phantom with oracle scattering coefficients: the
/// regularised estimate fits the data and improves on the nearest-neighbour start.
#[test]
fn the_scattering_regulariser_improves_on_its_start() {
    let x = phantom::shepp_logan(32);
    let op = BlurSubsample::new((32, 32), 1, AntiAlias::Box).unwrap();
    let y = op.apply(x.view()).unwrap();
    let start = op.adjoint(y.view()).unwrap() * 4.0;
    let s = Scattering2dParams::new((32, 32), 3)
        .l(4)
        .average(Averaging::Local)
        .padding(Padding::Periodic)
        .build()
        .unwrap();
    let phi = ScatteringMoments::from_transform(s);
    let flat: Vec<f64> = x.iter().copied().collect();
    let target = phi.forward(&flat).unwrap();
    let solution = ScatteringSolver {
        max_iterations: 200,
        ..Default::default()
    }
    .regularised(&op, y.view(), &phi, &target, 1.0, start.view())
    .unwrap();
    let err = |a: &Array2<f64>| (a - &x).mapv(|v| v * v).sum().sqrt();
    eprintln!(
        "SR x2: start {:.3}, regularised {:.3}",
        err(&start),
        err(&solution.x)
    );
    assert!(err(&solution.x) < 0.8 * err(&start));
    let fit = (op.apply(solution.x.view()).unwrap() - &y)
        .mapv(|v| v * v)
        .sum()
        .sqrt();
    assert!(
        fit < 0.05 * y.mapv(|v| v * v).sum().sqrt(),
        "data misfit {fit}"
    );
    // Bad calls.
    let phi2 = ScatteringMoments2d::new((32, 32), 3, 4).unwrap();
    let wrong: Vec<f64> = vec![0.0; 3];
    assert!(ScatteringSolver::default()
        .regularised(&op, y.view(), &phi2, &wrong, 1.0, start.view())
        .is_err());
}
