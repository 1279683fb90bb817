//! WasmSession compiled to wasm32 and run by `wasm-bindgen-test-runner` on Node, against the core
//! TASE.2 server in the same module:
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p tase2-wasm --target wasm32-unknown-unknown --test wasm
//! ```
#![cfg(target_arch = "wasm32")]

mod pair;

use pair::Pair;
use serde_json::json;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn discovery_and_select_before_operate_in_wasm() {
    let mut p = Pair::connected();
    let op = p.session.discover(p.now_ms);
    let d = p.ok(op);
    assert_eq!(d["edition"], "2000.08");
    assert_eq!(d["domains"][0]["name"], "ICC1");
    let op = p
        .session
        .select_operate(p.now_ms, "ICC1/Brk1_Cmd", "close")
        .unwrap();
    assert_eq!(
        p.ok(op),
        json!({"kind": "check_back_id", "check_back_id": 101})
    );
    let op = p.session.operate(p.now_ms, "ICC1/Brk1_Cmd", "on").unwrap();
    let d = p.done(op);
    assert_eq!(d["control"]["kind"], "access_denied");
}
