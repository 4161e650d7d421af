//! Fuzz target `params`: see `scattering_apps::fuzzing::params`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    scattering_apps::fuzzing::run("params", data);
});
