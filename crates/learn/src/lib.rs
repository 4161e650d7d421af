//! Learning on scattering features: standardisation, ridge, kernel ridge and PLS regression, multinomial
//! logistic regression, the affine-space classifier of Bruna & Mallat, random Fourier and
//! Nystrom feature maps for Gaussian kernels at sizes where the kernel matrix does not fit,
//! k-fold cross-validation and orthogonal least squares for feature selection.
//!
//! Every estimator implements [`Fit`] (hyper-parameters to model) and its model [`Predict`],
//! for class labels (`[usize]`), one real target per row (`[f64]`) or a matrix of outputs;
//! cross-validation, grid search and standardisation ([`cross_val_predict`],
//! [`GridSearch`], [`Standardized`]) are written once on those traits. The estimators also
//! keep their own `fit(x, ArrayView2)`; method syntax picks that one, so name the trait
//! (`Fit::<[f64]>::fit(&ridge, x, &y)`) to fit one value per row directly.
//!
//! Everything takes rows as samples (`ArrayView2<f64>`, samples × features) and returns a
//! typed [`LearnError`] on bad shapes, parameters or non-finite values. Dense algebra runs on
//! faer (pure Rust, multithreaded); the logistic fit is argmin's L-BFGS on faer products,
//! PLS comes from linfa.
//!
//! ```
//! use ndarray::{array, Array2};
//! use scattering_learn::{AffineSpace, Ridge, Standardizer};
//!
//! // Two classes in 2D, one along each axis.
//! let x = array![[1.0, 0.0], [2.0, 0.1], [3.0, -0.1], [0.0, 1.0], [0.1, 2.0], [-0.1, 3.0]];
//! let y = [0, 0, 0, 1, 1, 1];
//! let (scaler, xs) = Standardizer::fit_transform(x.view())?;
//! let model = AffineSpace::new(vec![1], 2).fit(xs.view(), &y)?;
//! let test = scaler.transform(array![[5.0, 0.0], [0.0, 5.0]].view())?;
//! assert_eq!(model.predict(test.view())?, vec![0, 1]);
//!
//! // Ridge regression with an intercept.
//! let t = Array2::from_shape_fn((6, 1), |(i, _)| 2.0 * x[[i, 0]] + 1.0);
//! let fit = Ridge::new(1e-9).fit(x.view(), t.view())?;
//! assert!((fit.intercept[0] - 1.0).abs() < 1e-6);
//! # Ok::<(), scattering_learn::LearnError>(())
//! ```

#![warn(missing_docs)]

pub mod affine;
pub mod cv;
pub mod error;
pub mod estimator;
pub mod kernel_approx;
pub mod kernel_classifier;
pub mod kernel_ridge;
pub mod linalg;
pub mod logistic;
pub mod metrics;
pub mod ols;
pub mod pls;
pub mod preprocess;
pub mod ridge;

pub use affine::{AffineModel, AffineSpace};
pub use cv::{
    cross_val_losses, cross_val_predict, kfold, stratified_kfold, Fold, GridSearch, GridSearchModel,
};
pub use error::{LearnError, Result};
pub use estimator::{Fit, Predict, Standardized, StandardizedModel, Targets};
pub use kernel_approx::{Nystrom, NystromMap, RandomFourierFeatures, RandomFourierMap};
pub use kernel_classifier::{
    argmax_classes, median_sq_distance, NystromClassifier, NystromClassifierModel,
};
pub use kernel_ridge::{Kernel, KernelRidge, KernelRidgeModel};
pub use logistic::{Logistic, LogisticModel};
pub use metrics::{error_rate, mae, rmse};
pub use ols::{orthogonal_least_squares, ForwardSelection, OlsPath, SelectedLinearModel};
pub use pls::{Pls, PlsModel};
pub use preprocess::Standardizer;
pub use ridge::{LinearModel, Ridge};
