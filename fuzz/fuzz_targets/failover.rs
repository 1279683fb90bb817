//! The reconnect and failover policy: see `tase2_core::fuzzing::failover`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tase2_core::fuzzing::failover(data);
});
