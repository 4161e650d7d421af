//! Fuzz target `images`: see `scattering_apps::fuzzing::images`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    scattering_apps::fuzzing::run("images", data);
});
