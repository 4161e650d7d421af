//! Fuzz target `signals`: see `scattering_apps::fuzzing::signals`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    scattering_apps::fuzzing::run("signals", data);
});
