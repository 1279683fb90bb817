//! `tase2` layer: see `tase2_core::fuzzing::tase2`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tase2_core::fuzzing::tase2(data);
});
