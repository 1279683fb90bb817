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

/// A client session recorded by the tokio driver (`tase2 watch --record` against `tase2 serve`,
/// `cargo xtask fixtures`) replays octet for octet in wasm: the same core, the same outputs.
#[wasm_bindgen_test]
fn a_recording_made_under_tokio_replays_in_wasm() {
    let log = include_bytes!("../../tests/data/recordings/tase2-watch.client.rec");
    let stats = tase2_core::record::replay_session(log).expect("replays");
    assert!(stats.output_bytes > 0 && stats.input_bytes > 0, "{stats:?}");
    assert!(stats.inputs > 10, "{stats:?}");
}

/// What the browser viewer downloads: a session recorded in wasm replays, and a changed octet
/// is caught.
#[wasm_bindgen_test]
fn a_session_recorded_in_wasm_replays() {
    let mut p = Pair::connected_with(|s| s.record().unwrap());
    let op = p.session.discover(p.now_ms);
    p.ok(op);
    let log = p.session.recording().expect("recording");
    let stats = tase2_core::record::replay_session(&log).expect("replays");
    assert!(stats.output_bytes > 100, "{stats:?}");
    let mut bad = log.clone();
    // The last frame is the newest output or input; flip an octet of the log's own header
    // instead: the replay must refuse it, never pass.
    bad[12] ^= 0x01;
    assert!(tase2_core::record::replay_session(&bad).is_err());
}
