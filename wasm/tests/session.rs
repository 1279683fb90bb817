//! WasmSession against the core TASE.2 server (`Endpoint<Tase2>`), bytes pumped in memory on a
//! made-up `Date.now()` clock that jumps to the next deadline: every assertion is on the JSON
//! JavaScript would see.

mod pair;

use pair::{at, icc1, Pair, T0};
use serde_json::{json, Value};
use tase2_core::tase2::{Flags, InfoHeader, PointValue, Validity};

#[test]
fn discovery_lists_the_domain_with_tase2_type_names() {
    let mut p = Pair::connected();
    let op = p.session.discover(p.now_ms);
    let d = p.ok(op);
    assert_eq!(d["kind"], "discovery");
    assert_eq!(d["edition"], "2000.08");
    assert_eq!(d["version"], json!([2000, 8]));
    assert_eq!(d["features"], json!([1, 2, 4, 5]));
    let vcc = d["vcc"].as_array().unwrap();
    let freq = vcc.iter().find(|v| v["name"] == "Freq").expect("Freq");
    assert_eq!(freq["tase2_type"], "Data_RealQTimeTag");
    let tv = vcc.iter().find(|v| v["name"] == "TASE2_Version").unwrap();
    assert_eq!(tv["tase2_type"], "TASE2_Version");
    assert_eq!(tv["mms_type"], Value::Null);
    let [icc] = d["domains"].as_array().unwrap().as_slice() else {
        panic!("one domain: {d}")
    };
    assert_eq!(icc["name"], "ICC1");
    assert_eq!(icc["table_id"], "BLT_1");
    assert!(icc["data_sets"]
        .as_array()
        .unwrap()
        .contains(&json!("DS_All")));
    let vars = icc["variables"].as_array().unwrap();
    let var = |n: &str| vars.iter().find(|v| v["name"] == n).cloned();
    assert_eq!(var("ICC1/P1").unwrap()["tase2_type"], "Data_RealQTimeTag");
    // Its MMS type is that of no other point type: no alternatives listed.
    let brk = var("ICC1/Brk1").unwrap();
    assert_eq!(brk["tase2_type"], "Data_StateQTimeTag");
    assert!(brk.get("alternative_types").is_none(), "{brk}");
    // A device is no point: its MMS type is shown instead.
    let cmd = var("ICC1/Brk1_Cmd").unwrap_or_else(|| panic!("{vars:?}"));
    assert_eq!(cmd["tase2_type"], Value::Null);
    assert_eq!(cmd["mms_type"], "INT16");
    assert!(p.take(|e| e["type"] == "deviation").is_empty());
}

#[test]
fn points_are_read_typed_and_named_and_a_non_point_fails_alone() {
    let mut p = Pair::connected();
    let op = p.session.read_points(
        p.now_ms,
        vec!["ICC1/P3".into(), "ICC1/Brk1".into(), "ICC1/Nope".into()],
    );
    let r = p.ok(op);
    assert_eq!(r["kind"], "points");
    let pts = r["points"].as_array().unwrap();
    assert_eq!(pts[0]["ok"], true);
    assert_eq!(pts[0]["name"], "ICC1/P3");
    assert_eq!(pts[0]["point_type"], "Data_RealQTimeTag");
    assert_eq!(pts[0]["value"], 3.0);
    assert_eq!(pts[0]["flags"]["validity"], "valid");
    assert_eq!(pts[0]["flags"]["source"], "telemetered");
    assert!(pts[0]["timestamp"]["seconds"].is_i64());
    assert_eq!(pts[1]["value"], "off");
    assert_eq!(pts[1]["flags"]["state"], "off");
    assert_eq!(pts[2]["ok"], false);
    assert_eq!(pts[2]["name"], "ICC1/Nope");
    assert_eq!(pts[2]["kind"], "not_a_point");
    assert!(pts[2]["error"].as_str().unwrap().contains("ICC1/Nope"));
}

#[test]
fn a_transfer_set_reports_a_change_typed_and_stops() {
    let mut p = Pair::connected();
    let op = p
        .session
        .reserve_and_start(
            p.now_ms,
            "ICC1",
            r#"{"data_set":"ICC1/DS_All","conditions":["change"],"rbe":true,"buffer_time":1}"#,
        )
        .unwrap();
    let r = p.ok(op);
    assert_eq!(r["kind"], "transfer_set");
    let ts = r["transfer_set"].as_str().unwrap().to_owned();
    assert!(ts.starts_with("ICC1/DSTransfer_Set_"), "{ts}");
    let p2 = p.server.hooks().point_id(&icc1("P2")).unwrap();
    let v = PointValue::real(22.5).with_flags(Flags::VALID.with_validity(Validity::Suspect));
    let now = at(p.now_ms);
    p.server.update(now, p2, v);
    p.advance(2_000.0);
    let reports = p.take(|e| e["type"] == "report");
    let [rep] = reports.as_slice() else {
        panic!("one report: {reports:?} {:?}", p.events)
    };
    assert_eq!(rep["transfer_set"], ts.as_str());
    assert_eq!(rep["conditions"], json!(["change"]));
    assert!(rep["timestamp"].as_i64().unwrap() >= (T0 / 1000.0) as i64);
    assert_eq!(rep["acknowledged"], false, "not critical");
    let [pt] = rep["points"].as_array().unwrap().as_slice() else {
        panic!("RBE: only P2: {rep}")
    };
    assert_eq!(pt["name"], "ICC1/P2");
    assert_eq!(pt["point_type"], "Data_RealQTimeTag");
    assert_eq!(pt["value"], 22.5);
    assert_eq!(pt["flags"]["validity"], "suspect");
    assert_eq!(pt["flags"]["raw"], 0b0010_0000);
    let op = p.session.stop_transfer_set(p.now_ms, &ts);
    assert_eq!(p.ok(op), json!({"kind": "unit"}));
}

#[test]
fn an_information_message_arrives_as_text_once_enabled() {
    let mut p = Pair::connected();
    let op = p.session.enable_info_messages(p.now_ms, true);
    assert_eq!(p.ok(op)["kind"], "unit");
    let header = InfoHeader {
        info_reference: 10,
        local_reference: 1,
        message_id: 7,
        size: 0,
    };
    p.server
        .send_info_message(Some("ICC1"), header, b"feeder 12 out of service")
        .unwrap();
    p.settle();
    let m = p.take(|e| e["type"] == "info_message");
    let [m] = m.as_slice() else {
        panic!("{m:?} {:?}", p.events)
    };
    assert_eq!(m["scope"], "icc");
    assert_eq!(m["domain"], "ICC1");
    assert_eq!(m["info_reference"], 10);
    assert_eq!(m["local_reference"], 1);
    assert_eq!(m["message_id"], 7);
    assert_eq!(m["size"], 24);
    assert_eq!(m["buffer"], "Info_Buff_256");
    assert_eq!(m["text"], "feeder 12 out of service");
    assert!(m.get("hex").is_none());
}

#[test]
fn select_before_operate_answers_the_check_back_id_and_a_refusal_is_explained() {
    let mut p = Pair::connected();
    let op = p.session.device_info(p.now_ms, "ICC1/Brk1_Cmd");
    assert_eq!(
        p.ok(op),
        json!({"kind": "device", "device_kind": "command", "mode": "sbo", "tagged": true})
    );
    // Operate without a select: refused, in words.
    let op = p
        .session
        .operate(p.now_ms, "ICC1/Brk1_Cmd", "close")
        .unwrap();
    let d = p.done(op);
    assert_eq!(d["ok"], false);
    assert_eq!(d["kind"], "control");
    assert_eq!(d["code"], 3);
    assert_eq!(d["control"]["op"], "operate");
    assert_eq!(d["control"]["kind"], "access_denied");
    assert!(d["control"]["explanation"]
        .as_str()
        .unwrap()
        .starts_with("not selected"));
    assert!(d["error"].as_str().unwrap().starts_with("operate refused"));
    // Select, then operate: the CheckBackID.
    let op = p.session.select(p.now_ms, "ICC1/Brk1_Cmd");
    assert_eq!(
        p.ok(op),
        json!({"kind": "check_back_id", "check_back_id": 101})
    );
    let op = p.session.operate(p.now_ms, "ICC1/Brk1_Cmd", "on").unwrap();
    assert_eq!(p.ok(op)["kind"], "unit");
    // Both in one command, through the JSON entry point.
    let op = p
        .session
        .command(
            p.now_ms,
            r#"{"command":"select_operate","device":"ICC1/Brk1_Cmd","value":"off"}"#,
        )
        .unwrap();
    assert_eq!(p.ok(op)["check_back_id"], 101);
    // A direct setpoint.
    let op = p.session.operate_real(p.now_ms, "ICC1/Gen_SP", 412.5);
    assert_eq!(p.ok(op)["kind"], "unit");
    // Tagged open-and-close inhibit: the select is refused, and the tag reads back.
    let op = p
        .session
        .set_tag(p.now_ms, "ICC1/Brk1_Cmd", "open-and-close", "crew on line")
        .unwrap();
    assert_eq!(p.ok(op)["kind"], "unit");
    let op = p.session.tag(p.now_ms, "ICC1/Brk1_Cmd");
    assert_eq!(
        p.ok(op),
        json!({"kind": "tag", "tag": "open_and_close_inhibit", "armed": false, "reason": "crew on line"})
    );
    let op = p.session.select(p.now_ms, "ICC1/Brk1_Cmd");
    let d = p.done(op);
    assert_eq!(d["control"]["op"], "select");
    assert_eq!(d["control"]["kind"], "access_denied");
    assert!(d["control"]["explanation"]
        .as_str()
        .unwrap()
        .contains("tagged"));
}

#[test]
fn conclude_ends_with_a_closed_event_without_error() {
    let mut p = Pair::connected();
    p.session.conclude(p.now_ms).unwrap();
    for _ in 0..100 {
        if p.session.is_closed() {
            break;
        }
        if !p.deliver() {
            let t = p.next_deadline_ms().unwrap();
            p.fire(t);
        }
    }
    let c = p.take(|e| e["type"] == "closed");
    assert_eq!(c, vec![json!({"type": "closed", "error": null})]);
    let op = p.session.discover(p.now_ms);
    let d = p.done(op);
    assert_eq!(
        (d["ok"].clone(), d["kind"].clone()),
        (json!(false), json!("closed"))
    );
    assert_eq!(d["error"], "association released");
}
