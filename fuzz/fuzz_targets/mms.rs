//! `mms` layer: see `tase2_core::fuzzing::mms`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tase2_core::fuzzing::mms(data);
});
