//! Session logs under hostile files: see `tase2_core::fuzzing::record`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tase2_core::fuzzing::record(data);
});
