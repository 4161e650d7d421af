//! Fuzz target `molecules`: see `scattering_apps::fuzzing::molecules`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    scattering_apps::fuzzing::run("molecules", data);
});
