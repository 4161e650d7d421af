//! User-defined wavelet families, defined here outside the crates as a user would, run
//! through the transforms: Littlewood-Paley bounds, energy and contractivity, gradients
//! against finite differences, rotation invariance in 3D, prebuilt banks as data (equal
//! to the family they came from, refused when malformed), and the built-in families
//! reproduced through the generic constructions.

mod common;
use common::{gradient_error, noise, norm2, white_noise};
use ndarray::{s, Array4};
use scattering_filters::bank1d::{sigma_for_xi, xi_max};
use scattering_filters::littlewood_paley::bounds;
use scattering_filters::solid_harmonic::solid_harmonic_3d;
use scattering_filters::{
    AndenLayout, Bank1dParams, FilterBank1d, FilterBank2d, FnRadial3d, FnWavelet, FnWavelet2d,
    FrequencyLayout, Gabor, Gabor2d, GaussianHarmonic, Morlet, Morlet2d, RadialProfile3d,
    SolidHarmonicBank, Wavelet2d,
};
use scattering_transform::{
    Averaging, Padding, Scattering1d, Scattering1dParams, Scattering2dParams,
    SolidHarmonicScattering3dParams, Transform, TransformError,
};
use std::f64::consts::PI;

/// A constant-Q layout: Andén's octaves without the linear low-frequency tail.
struct ConstantQ;

impl FrequencyLayout for ConstantQ {
    fn name(&self) -> &str {
        "constant-q"
    }
    fn centers(&self, p: &Bank1dParams, q: usize) -> Vec<(f64, f64)> {
        (0..p.j * q)
            .map(|k| {
                let xi = xi_max(q) * 2f64.powf(-(k as f64) / q as f64);
                (xi, sigma_for_xi(xi, q, p.r_psi))
            })
            .collect()
    }
}

/// Log-Gabor wavelets: Gaussian in log-frequency, zero at DC and at negative frequencies.
fn log_gabor() -> FnWavelet<impl Fn(f64, f64, f64) -> f64 + Send + Sync> {
    FnWavelet::new("log-gabor", |f: f64, xi: f64, sigma: f64| {
        if f <= 0.0 {
            0.0
        } else {
            (-(f / xi).ln().powi(2) / (2.0 * (sigma / xi).powi(2))).exp()
        }
    })
}

/// The bank's filters divided by the square root of its largest Littlewood-Paley value
/// (orders 1 and 2), so that the frame bound is 1.
fn tight_bank(mut bank: FilterBank1d) -> FilterBank1d {
    let peak = [1, 2]
        .iter()
        .map(|&o| bank.littlewood_paley(o).into_iter().fold(0.0f64, f64::max))
        .fold(0.0f64, f64::max);
    let c = 1.0 / peak.sqrt();
    for f in std::iter::once(&mut bank.phi)
        .chain(&mut bank.psi1)
        .chain(&mut bank.psi2)
    {
        f.levels.iter_mut().flatten().for_each(|v| *v *= c);
    }
    bank
}

fn user_1d(avg: Averaging) -> Scattering1d {
    let p = Scattering1dParams::new(1024, 5)
        .q((4, 2))
        .average(avg)
        .padding(Padding::Periodic);
    let n_pad = p.padded_length().unwrap();
    let bp = Bank1dParams::new(5, (4, 2), None).unwrap();
    let bank = FilterBank1d::with_family(n_pad, &bp, &log_gabor(), &ConstantQ).unwrap();
    p.build_with_bank(tight_bank(bank)).unwrap()
}

#[test]
fn user_1d_family_is_a_frame_contractive_and_differentiable() {
    let bp = Bank1dParams::new(5, (4, 2), None).unwrap();
    let bank = tight_bank(FilterBank1d::with_family(4096, &bp, &log_gabor(), &ConstantQ).unwrap());
    assert_eq!(
        (bank.wavelet.as_str(), bank.layout.as_str()),
        ("log-gabor", "constant-q")
    );
    assert_eq!(bank.psi1.len(), 20);
    // A frame over the band the wavelets cover (no tail, so not below the lowest one):
    // bounded above by 1, and away from 0.
    let lp = bank.littlewood_paley(1);
    let (lo, hi) = bounds(&lp, 0.015, 0.4);
    eprintln!("log-Gabor LP over [0.015, 0.4]: [{lo:.3}, {hi:.3}]");
    assert!(hi <= 1.0 + 1e-12, "{hi}");
    assert!(lo > 0.05, "{lo}");

    for avg in [Averaging::Local, Averaging::Global, Averaging::None] {
        let s = user_1d(avg);
        assert_eq!(s.bank().wavelet, "log-gabor");
        let weight = match avg {
            Averaging::Local => s.t() as f64,
            Averaging::Global => 1024.0,
            Averaging::None => 1.0,
        };
        // Energy: ||S x||^2 <= ||x||^2, with a frame bound of 1 (order 0 left out where it
        // is the signal itself).
        let x = white_noise(2, 1024, 5);
        let mut sx = s.forward(x.view()).unwrap();
        if avg == Averaging::None {
            sx.slice_mut(s![.., 0, ..]).fill(0.0);
        }
        let ratio = weight * norm2(sx.iter()) / norm2(x.iter());
        eprintln!("{avg:?}: ||Sx||^2 / ||x||^2 = {ratio:.3}");
        assert!(ratio <= 1.0 && ratio > 0.2, "{avg:?}: energy ratio {ratio}");
        // Contractive on random pairs, far and near.
        for seed in 0..3 {
            let x = white_noise(1, 1024, 10 + seed);
            let y = if seed == 0 {
                white_noise(1, 1024, 20)
            } else {
                &x + &(white_noise(1, 1024, 30 + seed) * 0.01)
            };
            let mut d = s.forward(x.view()).unwrap() - s.forward(y.view()).unwrap();
            if avg == Averaging::None {
                d.slice_mut(s![.., 0, ..]).fill(0.0);
            }
            let (lhs, rhs) = (weight * norm2(d.iter()), norm2((&x - &y).iter()));
            assert!(lhs <= rhs, "{avg:?} seed {seed}: {lhs} > {rhs}");
        }
        let e = gradient_error(&s, 2);
        assert!(e < 1e-5, "{avg:?}: gradient relative error {e:e}");
    }
}

#[test]
fn prebuilt_1d_bank_equals_its_family_and_bad_banks_are_refused() {
    let p = Scattering1dParams::new(700, 5)
        .q((4, 1))
        .sigma0(0.12)
        .alpha(4.0);
    let from_family: Scattering1d = p
        .clone()
        .build_with_family(&log_gabor(), &ConstantQ)
        .unwrap();
    let bank = from_family.bank().clone();
    assert_eq!(bank.n, p.padded_length().unwrap());
    assert_eq!(bank.params.sigma0, 0.12);
    let from_bank: Scattering1d = p.clone().build_with_bank(bank.clone()).unwrap();
    let x = white_noise(2, 700, 1);
    assert_eq!(
        from_bank.forward(x.view()).unwrap(),
        from_family.forward(x.view()).unwrap()
    );
    assert_eq!(from_bank.meta(), from_family.meta());

    let refused = |b: FilterBank1d, what: &str| {
        let r: Result<Scattering1d, _> = p.clone().build_with_bank(b);
        assert!(
            matches!(
                r,
                Err(TransformError::InvalidParameter {
                    name: "bank" | "N",
                    ..
                })
            ),
            "{what}: {:?}",
            r.err()
        );
    };
    let mut b = bank.clone();
    b.n *= 2;
    refused(b, "wrong length");
    let mut b = bank.clone();
    b.psi1[3].levels[0].pop();
    refused(b, "short filter");
    let mut b = bank.clone();
    b.psi2[1].levels[0][5] = f64::NAN;
    refused(b, "NaN filter");
    let mut b = bank.clone();
    b.phi.levels.truncate(2);
    refused(b, "missing low-pass level");
    let mut b = bank.clone();
    b.psi2.clear();
    refused(b, "no second-order wavelets");
}

#[test]
fn bad_1d_families_and_bank_parameters_are_errors() {
    struct Empty;
    impl FrequencyLayout for Empty {
        fn name(&self) -> &str {
            "empty"
        }
        fn centers(&self, _: &Bank1dParams, _: usize) -> Vec<(f64, f64)> {
            Vec::new()
        }
    }
    struct AboveNyquist;
    impl FrequencyLayout for AboveNyquist {
        fn name(&self) -> &str {
            "above"
        }
        fn centers(&self, _: &Bank1dParams, _: usize) -> Vec<(f64, f64)> {
            vec![(0.7, 0.01)]
        }
    }
    let p = Scattering1dParams::new(512, 4);
    for layout in [&Empty as &dyn FrequencyLayout, &AboveNyquist] {
        let r = p.clone().build_with_family::<f64>(&Morlet, layout);
        assert!(matches!(r, Err(TransformError::Filter(_))), "{:?}", r.err());
    }
    let nan = FnWavelet::new("nan", |_, _, _| f64::NAN);
    assert!(p.clone().build_with_wavelet::<f64>(&nan).is_err());
    for bad in [
        p.clone().sigma0(0.0),
        p.clone().r_psi(1.0),
        p.clone().alpha(-1.0),
        p.clone().sigma0(f64::NAN),
    ] {
        assert!(bad.build().is_err());
    }
    // Gabor through the same layout: same places, nonzero mean.
    let g = p
        .clone()
        .build_with_family::<f64>(&Gabor, &AndenLayout)
        .unwrap();
    let m = p.build().unwrap();
    assert_eq!(g.meta(), m.meta());
    assert!(g.bank().psi1.last().unwrap().levels[0][0].abs() > 1e-3);
    assert!(m.bank().psi1.last().unwrap().levels[0][0].abs() < 1e-12);
}

/// Frequency of bin `k` of an `n`-point DFT in radians per sample, in `[-pi, pi)`.
fn omega(k: usize, n: usize) -> f64 {
    let signed = if k < n.div_ceil(2) {
        k as i64
    } else {
        k as i64 - n as i64
    };
    2.0 * PI * signed as f64 / n as f64
}

/// Log-polar wavelets: one octave per scale, one direction each (zero at DC), scaled by
/// `gain`.
fn log_polar(gain: f64) -> impl Wavelet2d {
    FnWavelet2d::new(
        "log-polar",
        move |wy: f64, wx: f64, j: usize, theta: f64| {
            let r = wy.hypot(wx);
            if r == 0.0 {
                return 0.0;
            }
            let radial = (-2.0 * (r / (2.0 / 2f64.powi(j as i32))).log2().powi(2)).exp();
            let (s, c) = (wy.atan2(wx) - theta).sin_cos();
            gain * radial * (-(s.atan2(c) / (PI / 6.0)).powi(2)).exp()
        },
    )
}

#[test]
fn user_2d_family_through_the_image_transform() {
    let (m, n, j, l) = (32, 32, 3, 6);
    // The frame bound of the family, read from its bank, then a bank that meets it at 1.
    let raw = FilterBank2d::with_wavelet(m, n, j, l, &log_polar(1.0)).unwrap();
    let peak = raw.littlewood_paley().into_iter().fold(0.0f64, f64::max);
    let wavelet = log_polar(1.0 / peak.sqrt());
    let bank = FilterBank2d::with_wavelet(m, n, j, l, &wavelet).unwrap();
    let lp = bank.littlewood_paley();
    let max = lp.iter().fold(0.0f64, |a, &b| a.max(b));
    // Above 1 only where the (unscaled) low-pass adds to the wavelets.
    let psis_only: f64 = lp
        .iter()
        .zip(&bank.phi.levels[0].data)
        .map(|(v, p)| v - p * p)
        .fold(0.0, f64::max);
    assert!(psis_only <= 1.0 + 1e-12 && max > 0.5, "{psis_only} {max}");
    // Every frequency between the low-pass and Nyquist is covered.
    let covered = (0..m * n).all(|k| {
        let (wy, wx) = (omega(k / n, m), omega(k % n, n));
        let r = wy.hypot(wx);
        !(0.4..=2.5).contains(&r) || lp[k] > 0.1
    });
    assert!(covered);

    let p = Scattering2dParams::new((m, n), j)
        .l(l)
        .padding(Padding::Periodic);
    let s = p
        .clone()
        .build_with_wavelet::<f64>(log_polar(1.0 / peak.sqrt()))
        .unwrap();
    assert_eq!(s.bank().unwrap(), bank);
    let x = noise::<f64>(&[2, m, n], 3);
    let sx = s.forward_batch(x.view()).unwrap();
    assert_eq!(sx.shape()[1], 1 + l * j + l * l * j * (j - 1) / 2);
    assert!(sx.iter().all(|v| v.is_finite()));
    let e = gradient_error(&s, 2);
    assert!(e < 1e-5, "gradient relative error {e:e}");
    // The same filters given as data.
    let from_bank = p.clone().build_with_bank::<f64>(bank.clone()).unwrap();
    assert_eq!(from_bank.forward_batch(x.view()).unwrap(), sx);
    // Malformed banks.
    let mut b = bank.clone();
    b.psi[4].levels.pop();
    assert!(p.clone().build_with_bank::<f64>(b).is_err());
    let mut b = bank.clone();
    b.phi.levels[1].data[0] = f64::INFINITY;
    assert!(p.clone().build_with_bank::<f64>(b).is_err());
    let mut b = bank;
    b.l = 4;
    assert!(p.build_with_bank::<f64>(b).is_err());
}

#[test]
fn morlet_through_the_closure_family_is_the_default_transform() {
    // The default Morlet spectra, handed back through `FnWavelet2d` sample by sample: the
    // generic path must give the default transform's numbers.
    let (m, n, j, l) = (24, 24, 2, 4);
    let p = Scattering2dParams::new((16, 16), j).l(l);
    let (mp, np) = p.padded_shape().unwrap();
    assert_eq!((mp, np), (m, n));
    let bank = FilterBank2d::new(mp, np, j, l).unwrap();
    let spectra: Vec<Vec<f64>> = bank.psi.iter().map(|f| f.levels[0].data.clone()).collect();
    let angle_of = move |t: usize| {
        ((l as f64 - l as f64 / 2.0 - 1.0) as i64 - t as i64) as f64 * PI / l as f64
    };
    let copy = FnWavelet2d::new("copy", move |wy: f64, wx: f64, jj: usize, theta: f64| {
        let t = (0..l)
            .find(|&t| (angle_of(t) - theta).abs() < 1e-12)
            .unwrap();
        let a = ((wy / (2.0 * PI) * m as f64).round() as i64).rem_euclid(m as i64) as usize;
        let b = ((wx / (2.0 * PI) * n as f64).round() as i64).rem_euclid(n as i64) as usize;
        spectra[jj * l + t][a * n + b]
    });
    let x = noise::<f64>(&[2, 16, 16], 4);
    let want = p.clone().build().unwrap().forward_batch(x.view()).unwrap();
    let got = p.clone().build_with_wavelet::<f64>(copy).unwrap();
    assert_eq!(got.forward_batch(x.view()).unwrap(), want);
    // Gabor differs from Morlet by its DC response only.
    let gabor = FilterBank2d::with_wavelet(m, n, j, l, &Gabor2d).unwrap();
    assert!(gabor.psi.iter().all(|f| f.levels[0].data[0] > 1e-6));
    assert!(bank.psi.iter().all(|f| f.levels[0].data[0].abs() < 1e-12));
    let sg = p.build_with_wavelet::<f64>(Gabor2d).unwrap();
    assert_ne!(sg.forward_batch(x.view()).unwrap(), want);
    assert_eq!(Morlet2d.name(), "morlet");
}

/// A narrower radial band than the Gaussian's: `(r sigma)^(l+2) exp(-(r sigma)^2 / 2)`.
fn narrow() -> impl RadialProfile3d {
    FnRadial3d::new("narrow", |r: f64, s: f64, l: usize| {
        (r * s).powi(l as i32 + 2) * (-0.5 * (r * s).powi(2)).exp()
    })
}

#[test]
fn generic_radial_construction_reproduces_the_gaussian_wavelets() {
    // The Gaussian's own profile through the generic construction (`FnRadial3d` has no
    // override) gives Kymatio's wavelets.
    let g = FnRadial3d::new("gaussian-by-profile", |r, s, l| {
        GaussianHarmonic.radial(r, s, l)
    });
    for (shape, sigma) in [((8, 6, 10), 0.8), ((9, 9, 9), 2.0)] {
        for l in 0..=3 {
            let want = solid_harmonic_3d(shape, sigma, l);
            let got = g.filters(shape, sigma, l).unwrap();
            let peak = want.iter().flatten().fold(0.0f64, |a, v| a.max(v.norm()));
            let err = got
                .iter()
                .flatten()
                .zip(want.iter().flatten())
                .fold(0.0f64, |a, (x, y)| a.max((x - y).norm()));
            assert!(err <= 1e-12 * peak, "{shape:?} l={l}: {err:e}");
        }
    }
    // sum_m |psi_lm|^2 = R^2 at every frequency, for any profile.
    let p = narrow();
    let (shape, sigma, l) = ((7, 7, 7), 1.3, 2);
    let f = p.filters(shape, sigma, l).unwrap();
    for idx in 0..7 * 7 * 7 {
        let (a, b, c) = (idx / 49, (idx / 7) % 7, idx % 7);
        let r = (omega(a, 7).powi(2) + omega(b, 7).powi(2) + omega(c, 7).powi(2)).sqrt();
        let sum: f64 = f.iter().map(|m| m[idx].norm_sqr()).sum();
        let want = p.radial(r, sigma, l).powi(2);
        assert!(
            (sum - want).abs() <= 1e-12 * want.max(1e-3),
            "{idx}: {sum} vs {want}"
        );
    }
    // A profile that does not vanish at the origin for l > 0 is refused.
    let flat = FnRadial3d::new("flat", |_, _, _| 1.0);
    assert!(flat.filters((5, 5, 5), 1.0, 0).is_ok());
    assert!(flat.filters((5, 5, 5), 1.0, 1).is_err());
    let params = SolidHarmonicScattering3dParams::new((8, 8, 8), 1, 1);
    assert!(params.build_with_profile::<f64>(&flat).is_err());
}

#[test]
fn user_3d_profile_through_the_solid_transform() {
    let params =
        SolidHarmonicScattering3dParams::new((11, 11, 11), 1, 2).integral_powers(vec![1.0, 2.0]);
    let s = params.clone().build_with_profile::<f64>(&narrow()).unwrap();
    let x: Array4<f64> = noise::<f64>(&[2, 11, 11, 11], 6)
        .into_dimensionality()
        .unwrap();
    let sx = s.forward(x.view()).unwrap();
    // Invariant to a quarter turn about the z axis: (z, y, x) -> (z, x, -y), exact on an
    // odd grid (no Nyquist bin).
    let mut turned = x.clone();
    turned.swap_axes(2, 3);
    let turned = turned.slice(s![.., .., .., ..;-1]).to_owned();
    let st = s.forward(turned.view()).unwrap();
    let err = (&st - &sx).iter().fold(0.0f64, |a, v| a.max(v.abs()))
        / sx.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    assert!(err < 1e-10, "rotation changed the output by {err:e}");
    // ...which the profile matters to: the narrow band is not the Gaussian.
    let gauss = params.clone().build().unwrap().forward(x.view()).unwrap();
    assert!((&gauss - &sx).iter().any(|v| v.abs() > 1e-3));
    let e = gradient_error(&s, 2);
    assert!(e < 1e-5, "gradient relative error {e:e}");

    // The Gaussian by profile takes the stored-filter path; the default takes the line
    // forms. They agree.
    let by_profile = params
        .clone()
        .build_with_profile::<f64>(&FnRadial3d::new("g", |r, s, l| {
            GaussianHarmonic.radial(r, s, l)
        }))
        .unwrap()
        .forward(x.view())
        .unwrap();
    let err = (&by_profile - &gauss)
        .iter()
        .fold(0.0f64, |a, v| a.max(v.abs()))
        / gauss.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    assert!(err < 1e-10, "stored vs line-formed: {err:e}");

    // A prebuilt bank gives the same numbers as its profile, and a malformed one an error.
    let bank = SolidHarmonicBank::with_profile((11, 11, 11), 1, 2, 1.0, &narrow()).unwrap();
    let from_bank = params.clone().build_with_bank::<f64>(&bank).unwrap();
    assert_eq!(from_bank.forward(x.view()).unwrap(), sx);
    let mut b = bank.clone();
    b.filters[2][1].pop();
    assert!(params.clone().build_with_bank::<f64>(&b).is_err());
    let mut b = bank.clone();
    b.filters[1][0][1][3].re = f64::NAN;
    assert!(params.clone().build_with_bank::<f64>(&b).is_err());
    let b = SolidHarmonicBank::with_profile((11, 11, 11), 1, 1, 1.0, &narrow()).unwrap();
    assert!(params.build_with_bank::<f64>(&b).is_err());
}
