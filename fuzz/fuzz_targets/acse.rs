//! `acse` layer: see `tase2_core::fuzzing::acse`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tase2_core::fuzzing::acse(data);
});
