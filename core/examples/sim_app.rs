//! A small TASE.2 application tested with the simulator (`tase2_core::sim`), no sockets:
//!
//! - on the server (the plant), [`BreakerControl`] answers every operate of breaker `Brk1`: it
//!   closes or opens the breaker, unless the breaker's local/remote switch is on local, in which
//!   case the operate is refused;
//! - on the client (the control centre), [`LatestValues`] keeps the latest value of each point
//!   from the reports of an RBE transfer set.
//!
//! `cargo run -p tase2-core --example sim_app` prints what happens; `cargo test -p tase2-core
//! --example sim_app` runs the tests at the bottom, which are the pattern to copy: build the
//! model, install the server application with `Sim::on_server_event`, connect, then script the
//! plant and the network (a stall, a dropped connection) on the virtual clock.

use std::collections::BTreeMap;
use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{DataAccessError, ObjectName};
use tase2_core::server::{Endpoint, ServerConfig, ServerEvent};
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{Command, Error, Outcome, SessionConfig, SessionEvent};
use tase2_core::tase2::server::{
    DeviceId, DeviceSpec, OperatePolicy, PointId, Tase2, Tase2Builder, Tase2Config, Tase2Event,
};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, Command as Cmd, ControlMode, ControlValue, DeviceKind,
    DsConditions, DsTransferSetValue, Family, Form, PointType, PointValue, Rights, StateValue,
};
use tase2_core::Instant;

const DOMAIN: &str = "ICC1";
const MEASUREMENTS: [&str; 3] = ["Flow", "Voltage", "Current"];

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain(DOMAIN, item)
}

/// The plant's control logic, on the server: operates of `Brk1_Cmd` move breaker `Brk1`, unless
/// its switch `Brk1_Local` is on local (`On`), when the plant refuses them.
#[derive(Clone, Copy, Debug)]
pub struct BreakerControl {
    device: DeviceId,
    position: PointId,
    local: PointId,
}

impl BreakerControl {
    /// The logic for the plant model `ep` (see [`plant`]).
    pub fn new(ep: &Endpoint<Tase2>) -> BreakerControl {
        BreakerControl {
            device: ep.tase2().device_id(&icc1("Brk1_Cmd")).expect("Brk1_Cmd"),
            position: ep.tase2().point_id(&icc1("Brk1")).expect("Brk1"),
            local: ep
                .tase2()
                .point_id(&icc1("Brk1_Local"))
                .expect("Brk1_Local"),
        }
    }

    /// Whether the switch is on local.
    pub fn is_local(&self, ep: &Endpoint<Tase2>) -> bool {
        ep.tase2().value(self.local).map(|v| v.value)
            == Some(PointValue::state(StateValue::On).value)
    }

    /// Answer one server event (the server application's event loop calls this for each).
    pub fn handle(&self, now: Instant, ep: &mut Endpoint<Tase2>, event: &ServerEvent<Tase2Event>) {
        let ServerEvent::Extension(Tase2Event::OperateRequested {
            op, device, value, ..
        }) = event
        else {
            return;
        };
        if *device != self.device {
            return;
        }
        let answer = if self.is_local(ep) {
            // hardware-fault: "the device or the application controlling it refused".
            Err(DataAccessError::HARDWARE_FAULT)
        } else {
            Ok(())
        };
        // The operate cannot have timed out: we answer in the same instant it was asked.
        ep.answer_operate(*op, answer).expect("the operate waits");
        if answer.is_ok() {
            let state = match value {
                ControlValue::Command(Cmd::On) => StateValue::On,
                _ => StateValue::Off,
            };
            ep.update(now, self.position, PointValue::state(state));
        }
    }
}

/// The control centre's view, on the client: the latest value of each point, from reports.
#[derive(Debug, Default)]
pub struct LatestValues {
    values: BTreeMap<ObjectName, PointValue>,
    /// Reports seen.
    pub reports: usize,
}

impl LatestValues {
    /// Take in one session event (anything but a report is ignored).
    pub fn handle(&mut self, event: &SessionEvent) {
        if let SessionEvent::Report(r) = event {
            self.reports += 1;
            for (name, value) in r.points() {
                self.values.insert(name.clone(), *value);
            }
        }
    }

    /// The latest value of point `item` of the ICC domain.
    pub fn get(&self, item: &str) -> Option<&PointValue> {
        self.values.get(&icc1(item))
    }
}

/// The plant's model: breaker `Brk1` with its switch and command device, three measurements, one
/// data set of them all, and the control centre's bilateral table.
pub fn plant() -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        operate: OperatePolicy::AskApplication {
            timeout: Duration::from_secs(5),
        },
        ..Tase2Config::default()
    });
    b.domain(DOMAIN, 2).unwrap();
    let state = PointType::Indication(Family::State, Form::QTimeTag);
    let real = PointType::Indication(Family::Real, Form::QTimeTag);
    b.point(
        Some(DOMAIN),
        "Brk1",
        state,
        PointValue::state(StateValue::Off),
    )
    .unwrap();
    b.point(
        Some(DOMAIN),
        "Brk1_Local",
        state,
        PointValue::state(StateValue::Off),
    )
    .unwrap();
    for m in MEASUREMENTS {
        b.point(Some(DOMAIN), m, real, PointValue::real(0.0))
            .unwrap();
    }
    b.device(
        Some(DOMAIN),
        "Brk1_Cmd",
        DeviceSpec::new(DeviceKind::Command, ControlMode::Direct),
    )
    .unwrap();
    let mut members = vec![
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
        "Brk1",
        "Brk1_Local",
    ];
    members.extend(MEASUREMENTS);
    b.data_set(Some(DOMAIN), "DS_Plant", &members).unwrap();
    b.table(
        BilateralTable::new("BLT_1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), DOMAIN)
            .grant("Brk1_Cmd", Rights::READ_WRITE),
    )
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
}

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

/// The plant and the control centre connected in a simulator, the transfer set running.
pub struct Scenario {
    /// The simulator.
    pub sim: Sim<Tase2>,
    /// The control centre's index in it.
    pub centre: usize,
    /// The centre's view.
    pub view: LatestValues,
    control: BreakerControl,
}

impl Scenario {
    /// Connect, and start an RBE transfer set over `DS_Plant` (integrity every 60 s).
    pub fn new(seed: u64) -> Scenario {
        let server = plant();
        let control = BreakerControl::new(&server);
        let t0 = Instant::virtual_at(Duration::ZERO, 1_700_000_000);
        let mut sim: Sim<Tase2> = Sim::new(server, t0).with_seed(seed);
        sim.on_server_event(move |now, ep, e| control.handle(now, ep, e));
        let centre = sim.connect(association(), SessionConfig::default());
        let mut s = Scenario {
            sim,
            centre,
            view: LatestValues::default(),
            control,
        };
        s.start_transfer_set();
        s
    }

    /// (Re)start the centre's transfer set.
    pub fn start_transfer_set(&mut self) {
        let r = self.sim.run(
            self.centre,
            Command::ReserveAndStart {
                domain: DOMAIN.into(),
                value: DsTransferSetValue {
                    data_set: icc1("DS_Plant"),
                    integrity_check: 60,
                    conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
                    rbe: true,
                    ..Default::default()
                },
            },
        );
        assert!(matches!(r, Ok(Outcome::TransferSet(_))), "{r:?}");
        self.pump();
    }

    /// Hand the centre's reports to its view.
    fn pump(&mut self) {
        for e in self
            .sim
            .take_events(self.centre, |e| matches!(e, SessionEvent::Report(_)))
        {
            self.view.handle(&e);
        }
    }

    /// Let virtual time pass.
    pub fn advance(&mut self, d: Duration) {
        self.sim.advance(d);
        self.pump();
    }

    /// The plant measures a new value.
    pub fn measure(&mut self, item: &str, v: f32) {
        let now = self.sim.now;
        let p = self.sim.server.tase2().point_id(&icc1(item)).unwrap();
        self.sim.server.update(now, p, PointValue::real(v));
    }

    /// Someone at the plant turns the breaker's switch to local (`true`) or remote.
    pub fn set_local(&mut self, local: bool) {
        let now = self.sim.now;
        let s = if local {
            StateValue::On
        } else {
            StateValue::Off
        };
        self.sim
            .server
            .update(now, self.control.local, PointValue::state(s));
    }

    /// The centre operates the breaker.
    pub fn operate(&mut self, cmd: Cmd) -> Result<Outcome, Error> {
        let r = self.sim.run(
            self.centre,
            Command::Operate {
                device: icc1("Brk1_Cmd"),
                value: ControlValue::Command(cmd),
            },
        );
        self.pump();
        r
    }
}

fn show(s: &Scenario, what: &str) {
    let t = s.sim.now.monotonic().as_secs_f64();
    let v = |item| {
        s.view
            .get(item)
            .map_or("-".to_string(), |p| format!("{:?}", p.value))
    };
    println!(
        "t={t:7.3}s  {what:<44} centre sees Brk1={} Local={} Flow={} ({} reports)",
        v("Brk1"),
        v("Brk1_Local"),
        v("Flow"),
        s.view.reports
    );
}

fn main() {
    let mut s = Scenario::new(1);
    show(&s, "connected, transfer set started");
    s.measure("Flow", 12.5);
    s.advance(Duration::from_secs(1));
    show(&s, "plant measured Flow 12.5");
    let r = s.operate(Cmd::On);
    show(&s, &format!("centre closes Brk1: {r:?}"));
    s.set_local(true);
    s.advance(Duration::from_secs(1));
    show(&s, "switch turned to local");
    let r = s.operate(Cmd::Off).map_err(|e| match e {
        Error::Control(c) => format!("{:?}", c.kind),
        other => other.to_string(),
    });
    show(&s, &format!("centre opens Brk1: {r:?}"));
    s.set_local(false);
    s.sim.stall_client(s.centre, Duration::from_secs(20));
    for k in 0..10 {
        s.measure("Flow", 13.0 + k as f32);
        s.advance(Duration::from_secs(1));
    }
    show(&s, "centre stalled for 20 s, Flow changing");
    s.advance(Duration::from_secs(15));
    show(&s, "stall over: the queued reports arrived");
    let c = s.centre;
    s.sim.disconnect(c);
    show(&s, "connection dropped");
    s.sim.reconnect(c, association(), SessionConfig::default());
    s.start_transfer_set();
    s.measure("Flow", 30.0);
    s.advance(Duration::from_secs(1));
    show(&s, "reconnected, transfer set restarted");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::tase2::client::ControlErrorKind;
    use tase2_core::tase2::Value;

    fn state(v: &PointValue) -> Value {
        v.value
    }

    #[test]
    fn a_remote_operate_closes_the_breaker_and_the_centre_sees_it() {
        let mut s = Scenario::new(1);
        assert_eq!(s.operate(Cmd::On), Ok(Outcome::Unit));
        s.advance(Duration::from_secs(1));
        assert_eq!(
            s.view.get("Brk1").map(state),
            Some(Value::State(StateValue::On))
        );
    }

    #[test]
    fn on_local_the_operate_is_refused_and_the_breaker_stays() {
        let mut s = Scenario::new(1);
        s.set_local(true);
        s.advance(Duration::from_secs(1));
        assert_eq!(
            s.view.get("Brk1_Local").map(state),
            Some(Value::State(StateValue::On))
        );
        let Err(Error::Control(e)) = s.operate(Cmd::On) else {
            panic!("the operate went through on local")
        };
        assert_eq!(e.kind, ControlErrorKind::HardwareFault);
        s.advance(Duration::from_secs(1));
        let brk = s.sim.server.tase2().point_id(&icc1("Brk1")).unwrap();
        assert_eq!(
            s.sim.server.tase2().value(brk).unwrap().value,
            Value::State(StateValue::Off)
        );
        // Back on remote, the same operate goes through.
        s.set_local(false);
        assert_eq!(s.operate(Cmd::On), Ok(Outcome::Unit));
    }

    #[test]
    fn the_view_keeps_the_latest_value_of_each_point_through_a_stall() {
        let mut s = Scenario::new(1);
        s.sim.stall_client(s.centre, Duration::from_secs(30));
        for k in 1..=20 {
            s.measure("Flow", k as f32);
            s.measure("Voltage", 100.0 + k as f32);
            s.advance(Duration::from_secs(1));
        }
        assert_eq!(s.view.get("Flow").map(state), None, "stalled: nothing yet");
        s.advance(Duration::from_secs(10));
        assert_eq!(s.view.get("Flow").map(state), Some(Value::Real(20.0)));
        assert_eq!(s.view.get("Voltage").map(state), Some(Value::Real(120.0)));
        assert_eq!(s.view.get("Current").map(state), None, "never changed");
    }

    #[test]
    fn after_a_dropped_connection_the_centre_reconnects_and_gets_reports_again() {
        let mut s = Scenario::new(1);
        let c = s.centre;
        s.sim.disconnect(c);
        s.measure("Flow", 5.0);
        s.advance(Duration::from_secs(1));
        assert_eq!(s.view.get("Flow").map(state), None, "lost while down");
        s.sim.reconnect(c, association(), SessionConfig::default());
        s.start_transfer_set();
        s.measure("Flow", 6.0);
        s.advance(Duration::from_secs(1));
        assert_eq!(s.view.get("Flow").map(state), Some(Value::Real(6.0)));
    }
}
