//! The fuzz targets' committed corpus (`fuzz/corpus/<target>/`), replayed as ordinary
//! tests on stable Rust: every seed, and every crash input ever fixed (kept there), must
//! load or fail with a typed error. `scripts/fuzz` runs the coverage-guided fuzzer itself.

use scattering_apps::fuzzing::{run, TARGETS};
use std::path::PathBuf;

#[test]
fn every_corpus_input_runs_without_panicking() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut count = 0;
    for target in TARGETS {
        let dir = root.join(target);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        assert!(!entries.is_empty(), "{target} has no seeds");
        for path in entries {
            let data = std::fs::read(&path).unwrap();
            run(target, &data);
            count += 1;
        }
    }
    assert!(count >= TARGETS.len());
}

#[test]
fn seeds_reach_the_success_paths() {
    // The seeds are valid files: the targets exercise the readers past their header checks.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let seed = |t: &str, f: &str| std::fs::read(root.join(t).join(f)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("s.wav");
    std::fs::write(&wav, &seed("signals", "wav_stereo16")[1..]).unwrap();
    assert_eq!(
        scattering_apps::io::read_signals(&wav).unwrap().data.dim(),
        (2, 64)
    );
    let png = dir.path().join("s.png");
    std::fs::write(&png, &seed("images", "png_gray")[1..]).unwrap();
    assert_eq!(
        scattering_apps::io::read_images(&png).unwrap().dim(),
        (1, 20, 24)
    );
    let csv = scattering_apps::io::parse_csv(
        std::str::from_utf8(&seed("signals", "csv_header")[1..]).unwrap(),
    )
    .unwrap();
    assert_eq!(csv.len(), 3);
}
