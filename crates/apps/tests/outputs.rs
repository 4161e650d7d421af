//! All-or-nothing outputs: a run's files appear together or not at all, replaced files come
//! back when a commit fails, concurrent commits never mix files, temporaries of dead runs
//! are cleaned up, and unwritable destinations are refused before any computation.

use scattering_apps::io::{prepare_destination, prepare_folder, Outputs};
use std::process::Command;

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_failing_commit_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.txt"), dir.path().join("b"));
    std::fs::write(&a, "old").unwrap();
    std::fs::create_dir(&b).unwrap();
    let mut out = Outputs::new();
    out.text(&a, "new").unwrap();
    out.text(&b, "new").unwrap();
    let e = out.commit().unwrap_err().to_string();
    assert!(e.contains("folder"), "{e}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "old");
    assert_eq!(names(dir.path()), vec!["a.txt", "b"], "no temporaries left");
}

#[test]
fn a_commit_replaces_every_file_and_leaves_no_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.txt"), dir.path().join("sub/b.txt"));
    std::fs::write(&a, "old").unwrap();
    let mut out = Outputs::new();
    out.text(&a, "new a").unwrap();
    out.text(&b, "new b").unwrap();
    // Nothing visible under the final names before the commit.
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "old");
    assert!(!b.exists());
    out.commit().unwrap();
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "new a");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "new b");
    assert_eq!(names(dir.path()), vec![".scattering.lock", "a.txt", "sub"]);
}

#[test]
fn concurrent_commits_never_mix_their_files() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..20 {
        std::thread::scope(|s| {
            for id in 0..3 {
                let d = dir.path();
                s.spawn(move || {
                    let mut out = Outputs::new();
                    for f in ["x.txt", "y.txt", "z.txt"] {
                        out.text(&d.join(f), &format!("{round}-{id}")).unwrap();
                    }
                    out.commit().unwrap();
                });
            }
        });
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert_eq!(read("x.txt"), read("y.txt"), "round {round}");
        assert_eq!(read("y.txt"), read("z.txt"), "round {round}");
    }
}

#[test]
fn temporaries_and_locks_of_dead_runs_are_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    // No process has this id (above Linux's pid_max).
    let stale = dir.path().join(".tmp4294967290.big.npy");
    std::fs::write(&stale, "left by a killed run").unwrap();
    // A lock file left by a killed run holds no lock (the OS released it).
    std::fs::write(dir.path().join(".scattering.lock"), "4294967290").unwrap();
    let mut out = Outputs::new();
    out.text(&dir.path().join("r.txt"), "fresh").unwrap();
    if cfg!(target_os = "linux") {
        assert!(!stale.exists(), "the stale temporary was removed");
    }
    out.commit().unwrap();
    assert_eq!(names(dir.path()), vec![".scattering.lock", "r.txt"]);
}

#[test]
fn unwritable_destinations_are_refused_before_computing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    assert!(
        prepare_folder(&file.join("out")).is_err(),
        "a folder under a file"
    );
    assert!(
        prepare_destination(dir.path()).is_err(),
        "a folder as the output"
    );
    prepare_destination(&dir.path().join("new/deeper/o.npy")).unwrap();

    // scatter: the metadata path is a folder, found before the transform runs.
    let out = dir.path().join("o.npy");
    std::fs::create_dir(dir.path().join("o.meta.json")).unwrap();
    let wav = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/audio/bird.wav");
    let run = Command::new(env!("CARGO_BIN_EXE_scatter"))
        .args(["time", "--input", wav, "--output"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && stderr.contains("folder"),
        "{stderr}"
    );
    assert!(!out.exists());
    // An experiment whose --out lies under a regular file stops at once.
    let run = Command::new(env!("CARGO_BIN_EXE_ising"))
        .args(["--quick", "--out"])
        .arg(file.join("run"))
        .output()
        .unwrap();
    assert!(!run.status.success());
}
