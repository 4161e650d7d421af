//! Fuzz target `idx`: see `scattering_apps::fuzzing::idx`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    scattering_apps::fuzzing::run("idx", data);
});
