//! TASE.2 client session under hostile server input: see `tase2_core::fuzzing::tase2_client`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tase2_core::fuzzing::tase2_client(data);
});
