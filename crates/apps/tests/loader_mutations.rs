//! Mutation testing of every loader, run as ordinary tests: valid seed files (a .npy, a
//! WAV, a CSV, a PNG, IDX images and labels, a molecule file) with random bytes flipped,
//! inserted and cut off. Every mutant must give `Ok` or a typed error: a panic, an abort
//! or an allocation of the size a corrupt header claims fails the test.

mod common;

use ndarray::Array2;
use proptest::prelude::*;
use scattering_apps::idx::{read_idx_images, read_idx_labels, write_idx};
use scattering_apps::io::{parse_csv, read_images, read_signals, read_volumes};
use scattering_apps::molecules::read_molecules;
use std::path::Path;

fn npy_seed() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.npy");
    let a = Array2::from_shape_fn((3, 40), |(i, j)| (i * 40 + j) as f64 * 0.1);
    ndarray_npy::write_npy(&p, &a).unwrap();
    std::fs::read(p).unwrap()
}

fn wav_seed() -> Vec<u8> {
    common::wav_bytes(8000, 2, 16, 64)
}

fn png_seed() -> Vec<u8> {
    let img = image::GrayImage::from_fn(24, 20, |x, y| image::Luma([(x * 7 + y * 3) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn idx_seed(dims: &[usize], values: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.idx");
    write_idx(&p, dims, values).unwrap();
    std::fs::read(p).unwrap()
}

const MOLECULES: &str = "{\"Z\": [8, 1, 1], \"R\": [[0, 0, 0.12], [0, 0.76, -0.47], [0, -0.76, -0.47]], \"E\": -1.5}\n{\"Z\": [6, 1], \"R\": [[0, 0, 0], [0, 0, 1.09]], \"E\": -2.5}\n";

/// One mutation: flip, overwrite, insert or cut at a position (taken modulo the length).
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Cut(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, m)| Edit::Flip(i, m)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Edit::Set(i, v)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| Edit::Insert(i, v)),
        any::<usize>().prop_map(Edit::Cut),
    ]
}

fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let n = b.len().max(1);
        match e {
            Edit::Flip(i, m) if !b.is_empty() => b[i % n] ^= m,
            Edit::Set(i, v) if !b.is_empty() => b[i % n] = *v,
            Edit::Insert(i, v) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, v.iter().copied());
            }
            Edit::Cut(i) => b.truncate(i % (b.len() + 1)),
            _ => {}
        }
    }
    b
}

/// Writes the mutant under `name` in a fresh folder and runs `load` on it.
fn load_mutant<T>(name: &str, bytes: &[u8], load: impl Fn(&Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    load(&p)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn npy_mutants_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let seed = npy_seed();
        let m = mutate(&seed, &edits);
        let _ = load_mutant("m.npy", &m, read_signals);
        let _ = load_mutant("m.npy", &m, read_images);
        let _ = load_mutant("m.npy", &m, read_volumes);
    }

    #[test]
    fn wav_mutants_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let m = mutate(&wav_seed(), &edits);
        let _ = load_mutant("m.wav", &m, read_signals);
    }

    #[test]
    fn png_mutants_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let m = mutate(&png_seed(), &edits);
        let _ = load_mutant("m.png", &m, read_images);
    }

    #[test]
    fn idx_mutants_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let images = mutate(&idx_seed(&[2, 3, 4], &[7; 24]), &edits);
        let _ = load_mutant("m.idx", &images, read_idx_images);
        let labels = mutate(&idx_seed(&[5], &[1, 2, 3, 4, 5]), &edits);
        let _ = load_mutant("m.idx", &labels, |p| read_idx_labels(p, 10));
    }

    #[test]
    fn csv_and_molecule_mutants_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let csv = mutate(b"value\n1.5\n-2\n3e2\n# note\n4\n", &edits);
        let _ = parse_csv(&String::from_utf8_lossy(&csv));
        let _ = load_mutant("m.csv", &csv, read_signals);
        let mol = mutate(MOLECULES.as_bytes(), &edits);
        let _ = load_mutant("m.jsonl", &mol, |p| read_molecules(p, "E", 1.0));
    }
}

#[test]
fn the_seeds_themselves_load() {
    assert!(load_mutant("s.npy", &npy_seed(), read_signals).is_ok());
    assert!(load_mutant("s.wav", &wav_seed(), read_signals).is_ok());
    assert!(load_mutant("s.png", &png_seed(), read_images).is_ok());
    assert!(load_mutant("s.idx", &idx_seed(&[2, 3, 4], &[7; 24]), read_idx_images).is_ok());
    assert!(parse_csv("value\n1.5\n-2\n").is_ok());
    assert!(
        load_mutant("s.jsonl", MOLECULES.as_bytes(), |p| read_molecules(
            p, "E", 1.0
        ))
        .is_ok()
    );
}
