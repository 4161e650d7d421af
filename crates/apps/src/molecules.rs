//! Molecules as electronic densities: reading `(Z, R, E)` JSON lines, aligning, rendering
//! sums of Gaussians on a grid (full, valence and core channels, as in Eickenberg et al.,
//! "Solid harmonic wavelet scattering for predictions of molecule properties", 2018), and the
//! sorted Coulomb-matrix eigenvalues baseline (Rupp et al., 2012).

use crate::error::AppError;
use ndarray::{Array2, Array3};
use scattering_transform::{SolidHarmonicScattering3d, SolidHarmonicScattering3dParams};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Hartree in kcal/mol (CODATA).
pub const HARTREE_KCAL: f64 = 627.509_474;
/// Electronvolt in kcal/mol.
pub const EV_KCAL: f64 = 23.060_548;
/// Ångström in bohr.
pub const ANGSTROM_BOHR: f64 = 1.0 / 0.529_177_210_903;

/// One molecule: atomic numbers, positions in Ångström, and a target value.
#[derive(Debug, Clone)]
pub struct Molecule {
    /// Identifier from the file (or the line number).
    pub id: String,
    /// Atomic numbers.
    pub z: Vec<u32>,
    /// Cartesian positions, Ångström.
    pub r: Vec<[f64; 3]>,
    /// The target read from the file, converted to kcal/mol.
    pub energy: f64,
}

/// Largest coordinate accepted, in Ångström.
pub const MAX_COORDINATE: f64 = 1000.0;
/// Largest energy accepted, in kcal/mol.
pub const MAX_ENERGY: f64 = 1e7;
/// Smallest distance between two nuclei accepted, in Ångström.
pub const MIN_DISTANCE: f64 = 0.1;

/// Reads one JSON object per line (`.gz` transparently) with fields `Z`, `R` and `target`;
/// the target is multiplied by `to_kcal` (1 for kcal/mol, [`HARTREE_KCAL`] for Hartree).
pub fn read_molecules(path: &Path, target: &str, to_kcal: f64) -> Result<Vec<Molecule>, AppError> {
    let raw = std::fs::read(path).map_err(|e| AppError::io(path, e))?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .map_err(|e| AppError::format(path, format!("bad gzip data: {e}")))?;
        s
    } else {
        String::from_utf8(raw).map_err(|_| AppError::format(path, "not UTF-8 text"))?
    };
    let mut out = Vec::new();
    for (k, line) in BufReader::new(text.as_bytes()).lines().enumerate() {
        let line = line.map_err(|e| AppError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| AppError::format(path, format!("line {}: {why}", k + 1));
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        let z: Vec<u32> = serde_json::from_value(v.get("Z").cloned().unwrap_or_default())
            .map_err(|_| bad("`Z` must be a list of atomic numbers".into()))?;
        let r: Vec<[f64; 3]> = serde_json::from_value(v.get("R").cloned().unwrap_or_default())
            .map_err(|_| bad("`R` must be a list of [x, y, z]".into()))?;
        if z.is_empty() || z.len() != r.len() {
            return Err(bad(format!(
                "{} atomic numbers but {} positions",
                z.len(),
                r.len()
            )));
        }
        if z.iter().any(|&a| a == 0 || a > 54) {
            return Err(bad("atomic numbers must be 1..=54".into()));
        }
        let e = v
            .get(target)
            .and_then(|e| e.as_f64())
            .ok_or_else(|| bad(format!("no numeric field `{target}`")))?;
        if !e.is_finite() || r.iter().flatten().any(|c| !c.is_finite()) {
            return Err(bad("non-finite value".into()));
        }
        // Molecules, not galaxies: a coordinate past 1000 Å or an energy past 1e7 kcal/mol
        // is a unit or format error, and would silently wreck the features.
        if let Some(c) = r.iter().flatten().find(|c| c.abs() > MAX_COORDINATE) {
            return Err(bad(format!(
                "coordinate {c} Å is beyond ±{MAX_COORDINATE} Å; positions must be in Ångström"
            )));
        }
        if (e * to_kcal).abs() > MAX_ENERGY {
            return Err(bad(format!(
                "`{target}` = {e} is beyond ±{MAX_ENERGY:e} kcal/mol once converted; check its unit"
            )));
        }
        // Two nuclei closer than 0.1 Å (bonds are 0.74 Å and longer) make the Coulomb
        // features explode (Z_i Z_j / |R_i - R_j|).
        for i in 0..r.len() {
            for j in 0..i {
                let d = (0..3)
                    .map(|a| (r[i][a] - r[j][a]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                if d < MIN_DISTANCE {
                    return Err(bad(format!(
                        "atoms {j} and {i} are {d:.3} Å apart (under {MIN_DISTANCE} Å): \
                         duplicated or misplaced positions"
                    )));
                }
            }
        }
        let id = match v.get("id") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => (k + 1).to_string(),
        };
        out.push(Molecule {
            id,
            z,
            r,
            energy: e * to_kcal,
        });
    }
    if out.is_empty() {
        return Err(AppError::format(path, "no molecules"));
    }
    Ok(out)
}

/// Valence electrons of a neutral atom (electrons outside the last closed noble-gas shell).
pub fn valence(z: u32) -> u32 {
    match z {
        0..=2 => z,
        3..=10 => z - 2,
        11..=18 => z - 10,
        19..=36 => z - 18,
        _ => z - 36,
    }
}

/// Positions centred on the nuclear-charge centroid and rotated onto the principal axes of
/// the charge distribution, largest spread first (so a box longer along x fits best).
pub fn align(m: &Molecule) -> Vec<[f64; 3]> {
    let wsum: f64 = m.z.iter().map(|&z| f64::from(z)).sum();
    let mut c = [0.0; 3];
    for (p, &z) in m.r.iter().zip(&m.z) {
        for k in 0..3 {
            c[k] += f64::from(z) * p[k] / wsum;
        }
    }
    let centred: Vec<[f64; 3]> =
        m.r.iter()
            .map(|p| [p[0] - c[0], p[1] - c[1], p[2] - c[2]])
            .collect();
    let cov = Array2::from_shape_fn((3, 3), |(a, b)| {
        centred
            .iter()
            .zip(&m.z)
            .map(|(p, &z)| f64::from(z) * p[a] * p[b])
            .sum::<f64>()
    });
    match scattering_learn::linalg::sym_eig_desc(cov.view()) {
        Ok((_, v)) => centred
            .iter()
            .map(|p| {
                let mut q = [0.0; 3];
                for (k, qk) in q.iter_mut().enumerate() {
                    *qk = (0..3).map(|a| p[a] * v[[a, k]]).sum();
                }
                q
            })
            .collect(),
        Err(_) => centred,
    }
}

/// The grid on which densities are rendered.
#[derive(Debug, Clone, Copy)]
pub struct DensityGrid {
    /// Voxels along x, y, z (the volume array is indexed `[x, y, z]`).
    pub shape: (usize, usize, usize),
    /// Ångström per voxel.
    pub spacing: f64,
    /// Width of each atom's Gaussian, in voxels.
    pub sigma: f64,
}

impl DensityGrid {
    /// Renders `sum_i w_i g(x - r_i)` with unit-mass Gaussians of width `sigma`, atoms at the
    /// given (aligned, Ångström) positions and the grid centre at the origin. Errors if an atom
    /// falls closer than 3 sigma to the box edge (the transform is periodic).
    pub fn render(&self, pos: &[[f64; 3]], weights: &[f64]) -> Result<Array3<f64>, String> {
        let (nx, ny, nz) = self.shape;
        let dims = [nx, ny, nz];
        let s = self.sigma;
        let reach = (4.0 * s).ceil() as i64;
        let norm = 1.0 / ((2.0 * std::f64::consts::PI).powf(1.5) * s * s * s);
        let mut vol = Array3::<f64>::zeros((nx, ny, nz));
        for (p, &w) in pos.iter().zip(weights) {
            if w == 0.0 {
                continue;
            }
            let g: Vec<f64> = (0..3)
                .map(|k| p[k] / self.spacing + dims[k] as f64 / 2.0)
                .collect();
            for k in 0..3 {
                if g[k] < 3.0 * s || g[k] > dims[k] as f64 - 3.0 * s {
                    return Err(format!("an atom lies outside the {}x{}x{} grid (spacing {} Å); use a larger --grid or --spacing", nx, ny, nz, self.spacing));
                }
            }
            let lo: Vec<i64> = g.iter().map(|v| v.floor() as i64 - reach).collect();
            // Separable Gaussian: 1D factors per axis, periodic indices.
            let f: Vec<Vec<(usize, f64)>> = (0..3)
                .map(|k| {
                    (0..=2 * reach + 1)
                        .map(|t| {
                            let i = lo[k] + t;
                            let d = i as f64 - g[k];
                            (
                                i.rem_euclid(dims[k] as i64) as usize,
                                (-d * d / (2.0 * s * s)).exp(),
                            )
                        })
                        .collect()
                })
                .collect();
            for &(ix, fx) in &f[0] {
                for &(iy, fy) in &f[1] {
                    let a = w * norm * fx * fy;
                    for &(iz, fz) in &f[2] {
                        vol[[ix, iy, iz]] += a * fz;
                    }
                }
            }
        }
        Ok(vol)
    }

    /// Full, valence and core electron densities of a molecule.
    pub fn channels(&self, m: &Molecule) -> Result<[Array3<f64>; 3], String> {
        let pos = align(m);
        let full: Vec<f64> = m.z.iter().map(|&z| f64::from(z)).collect();
        let val: Vec<f64> = m.z.iter().map(|&z| f64::from(valence(z))).collect();
        let core: Vec<f64> = m.z.iter().map(|&z| f64::from(z - valence(z))).collect();
        Ok([
            self.render(&pos, &full)?,
            self.render(&pos, &val)?,
            self.render(&pos, &core)?,
        ])
    }
}

/// Scattering features of molecules: order-0 integrals and solid-harmonic scattering
/// invariants of the full, valence and core densities, concatenated (channel-major).
pub struct MoleculeScattering {
    grid: DensityGrid,
    s64: Option<SolidHarmonicScattering3d<f64>>,
    s32: Option<SolidHarmonicScattering3d<f32>>,
}

impl MoleculeScattering {
    /// Densities on `grid`; scattering with scales `0..=j`, orders `0..=l`, wavelet width
    /// `grid.sigma`, integral `powers`; `f64` selects the double-precision engine.
    pub fn new(
        grid: DensityGrid,
        j: usize,
        l: usize,
        powers: Vec<f64>,
        f64: bool,
    ) -> Result<Self, AppError> {
        let params = SolidHarmonicScattering3dParams::new(grid.shape, j, l)
            .sigma0(grid.sigma)
            .max_order(2)
            .integral_powers(powers);
        let (s64, s32) = if f64 {
            (Some(params.build()?), None)
        } else {
            (None, Some(params.build_f32()?))
        };
        Ok(Self { grid, s64, s32 })
    }

    /// Number of features per molecule.
    pub fn len(&self) -> usize {
        let (p, ln, qn) = self.output_shape();
        3 * (qn + p * ln * qn)
    }

    /// Always false: there is at least one feature.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn output_shape(&self) -> (usize, usize, usize) {
        self.s64
            .as_ref()
            .map(|s| s.output_shape())
            .or(self.s32.as_ref().map(|s| s.output_shape()))
            .unwrap_or((0, 0, 0))
    }

    /// The features of one molecule.
    pub fn features(&self, m: &Molecule) -> Result<Vec<f64>, AppError> {
        let ch = self
            .grid
            .channels(m)
            .map_err(|e| AppError::Usage(format!("molecule {}: {e}", m.id)))?;
        let views: Vec<_> = ch.iter().map(|c| c.view()).collect();
        let x =
            ndarray::stack(ndarray::Axis(0), &views).map_err(|e| AppError::Usage(e.to_string()))?;
        let (o0, sx) = match (&self.s64, &self.s32) {
            (Some(s), _) => (s.order0(x.view())?, s.forward(x.view())?),
            (_, Some(s)) => (s.order0(x.view())?, s.forward(x.view())?),
            _ => return Err(AppError::Usage("no scattering engine".into())),
        };
        let mut out = Vec::with_capacity(self.len());
        for c in 0..3 {
            out.extend(o0.row(c).iter().copied());
            out.extend(sx.index_axis(ndarray::Axis(0), c).iter().copied());
        }
        Ok(out)
    }
}

/// Eigenvalues of the Coulomb matrix (atomic units: `0.5 Z_i^2.4` on the diagonal,
/// `Z_i Z_j / |R_i − R_j|` off it), sorted by decreasing value, zero-padded to `size`.
pub fn coulomb_eigenvalues(m: &Molecule, size: usize) -> Vec<f64> {
    let n = m.z.len();
    let c = Array2::from_shape_fn((n, n), |(i, j)| {
        let (zi, zj) = (f64::from(m.z[i]), f64::from(m.z[j]));
        if i == j {
            0.5 * zi.powf(2.4)
        } else {
            let d: f64 = (0..3)
                .map(|k| (m.r[i][k] - m.r[j][k]).powi(2))
                .sum::<f64>()
                .sqrt()
                * ANGSTROM_BOHR;
            zi * zj / d.max(1e-6)
        }
    });
    let mut ev = scattering_learn::linalg::sym_eig_desc(c.view())
        .map(|(v, _)| v.to_vec())
        .unwrap_or_default();
    ev.resize(size.max(n), 0.0);
    ev.truncate(size);
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn water() -> Molecule {
        Molecule {
            id: "h2o".into(),
            z: vec![8, 1, 1],
            r: vec![
                [0.0, 0.0, 0.117],
                [0.0, 0.757, -0.467],
                [0.0, -0.757, -0.467],
            ],
            energy: 0.0,
        }
    }

    #[test]
    fn densities_integrate_to_electron_counts() {
        let g = DensityGrid {
            shape: (32, 32, 32),
            spacing: 0.25,
            sigma: 1.0,
        };
        let [full, val, core] = g.channels(&water()).unwrap();
        // Each Gaussian is cut at 4 sigma per axis, which drops about 6e-5 of its mass.
        assert!((full.sum() - 10.0).abs() < 1e-4, "{}", full.sum());
        assert!((val.sum() - 8.0).abs() < 1e-4);
        assert!((core.sum() - 2.0).abs() < 1e-4);
        assert!((&full - &val - &core).iter().all(|v| v.abs() < 1e-12));
        let tiny = DensityGrid {
            shape: (8, 8, 8),
            spacing: 0.25,
            sigma: 1.0,
        };
        assert!(tiny.channels(&water()).is_err());
    }

    #[test]
    fn alignment_is_rotation_invariant_up_to_axis_signs() {
        let m = water();
        let a = align(&m);
        let (c, s) = (0.6f64, 0.8f64);
        let rotated = Molecule {
            r: m.r
                .iter()
                .map(|p| [c * p[0] - s * p[1], s * p[0] + c * p[1], p[2]])
                .collect(),
            ..m.clone()
        };
        let b = align(&rotated);
        for (p, q) in a.iter().zip(&b) {
            for k in 0..3 {
                assert!((p[k].abs() - q[k].abs()).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn features_are_invariant_to_rotating_the_molecule() {
        let ms = MoleculeScattering::new(
            DensityGrid {
                shape: (24, 24, 24),
                spacing: 0.3,
                sigma: 1.0,
            },
            1,
            2,
            vec![0.5, 1.0, 2.0],
            true,
        )
        .unwrap();
        let m = Molecule {
            id: "nh3".into(),
            z: vec![7, 1, 1, 1],
            r: vec![
                [0.0, 0.0, 0.0],
                [0.94, 0.0, -0.38],
                [-0.47, 0.81, -0.38],
                [-0.47, -0.81, -0.38],
            ],
            energy: 0.0,
        };
        // An arbitrary rotation (unit quaternion) plus a translation.
        let (w, x, y, z) = (0.8f64, 0.2f64, -0.4f64, 0.4f64);
        let n = (w * w + x * x + y * y + z * z).sqrt();
        let (w, x, y, z) = (w / n, x / n, y / n, z / n);
        let rot = [
            [
                1.0 - 2.0 * (y * y + z * z),
                2.0 * (x * y - z * w),
                2.0 * (x * z + y * w),
            ],
            [
                2.0 * (x * y + z * w),
                1.0 - 2.0 * (x * x + z * z),
                2.0 * (y * z - x * w),
            ],
            [
                2.0 * (x * z - y * w),
                2.0 * (y * z + x * w),
                1.0 - 2.0 * (x * x + y * y),
            ],
        ];
        let moved = Molecule {
            r: m.r
                .iter()
                .map(|p| {
                    let mut q = [3.0, -1.0, 2.0];
                    for (a, qa) in q.iter_mut().enumerate() {
                        *qa += (0..3).map(|b| rot[a][b] * p[b]).sum::<f64>();
                    }
                    q
                })
                .collect(),
            ..m.clone()
        };
        let (f, g) = (ms.features(&m).unwrap(), ms.features(&moved).unwrap());
        assert_eq!(f.len(), ms.len());
        let num: f64 = f
            .iter()
            .zip(&g)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let den: f64 = f.iter().map(|a| a * a).sum::<f64>().sqrt();
        assert!(num / den < 1e-3, "relative change {}", num / den);
        // A different geometry (stretched bonds) does change them.
        let stretched = Molecule {
            r: m.r
                .iter()
                .map(|p| [p[0] * 1.3, p[1] * 1.3, p[2] * 1.3])
                .collect(),
            ..m.clone()
        };
        let h = ms.features(&stretched).unwrap();
        let d: f64 = f
            .iter()
            .zip(&h)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            d / den > 1e-2,
            "stretching changed features by only {}",
            d / den
        );
    }

    #[test]
    fn coulomb_eigenvalues_of_h2() {
        // H2 at 0.74 Å: [[0.5, 1/d], [1/d, 0.5]] has eigenvalues 0.5 ± 1/d (d in bohr).
        let m = Molecule {
            id: "h2".into(),
            z: vec![1, 1],
            r: vec![[0.0; 3], [0.74, 0.0, 0.0]],
            energy: 0.0,
        };
        let ev = coulomb_eigenvalues(&m, 4);
        let d = 0.74 * ANGSTROM_BOHR;
        assert!((ev[0] - (0.5 + 1.0 / d)).abs() < 1e-12 && (ev[1] - (0.5 - 1.0 / d)).abs() < 1e-12);
        assert_eq!(&ev[2..], &[0.0, 0.0]);
        assert_eq!(valence(6), 4);
        assert_eq!(valence(16), 6);
    }

    #[test]
    fn reader_converts_units_and_rejects_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.jsonl");
        std::fs::write(
            &p,
            "{\"id\":7,\"Z\":[1,1],\"R\":[[0,0,0],[0.74,0,0]],\"E\":-0.5}\n",
        )
        .unwrap();
        let m = read_molecules(&p, "E", HARTREE_KCAL).unwrap();
        assert_eq!(m[0].id, "7");
        assert!((m[0].energy + 0.5 * HARTREE_KCAL).abs() < 1e-9);
        assert!(read_molecules(&p, "U0", 1.0).is_err());
        std::fs::write(&p, "{\"Z\":[1,1],\"R\":[[0,0,0]],\"E\":1}\n").unwrap();
        assert!(read_molecules(&p, "E", 1.0).is_err());
    }

    #[test]
    fn absurd_molecules_are_refused_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.jsonl");
        let ok = r#"{"Z": [8, 1, 1], "R": [[0, 0, 0.12], [0, 0.76, -0.47], [0, -0.76, -0.47]], "E": -1.5}"#;
        let cases = [
            (
                r#"{"Z": [1, 1], "R": [[0, 0, 0], [0, 0, 0]], "E": 1}"#,
                "apart",
            ),
            (
                r#"{"Z": [1, 1], "R": [[0, 0, 0], [0, 0, 1e6]], "E": 1}"#,
                "Ångström",
            ),
            (
                r#"{"Z": [1, 1], "R": [[0, 0, 0], [0, 0, 0.74]], "E": 1e12}"#,
                "unit",
            ),
            (
                r#"{"Z": [1, 99], "R": [[0, 0, 0], [0, 0, 0.74]], "E": 1}"#,
                "1..=54",
            ),
        ];
        for (line, want) in cases {
            std::fs::write(&p, format!("{ok}\n{line}\n")).unwrap();
            let e = read_molecules(&p, "E", 1.0).unwrap_err().to_string();
            assert!(e.contains("line 2") && e.contains(want), "{line}: {e}");
        }
        std::fs::write(&p, format!("{ok}\n")).unwrap();
        assert_eq!(read_molecules(&p, "E", 1.0).unwrap().len(), 1);
    }
}
