//! The point simulation of `tase2 serve`: points that change on their own, step by step, from a
//! seeded pseudo-random sequence (the same seed gives the same run).
//!
//! [`Simulation::step`] reads the points' current values from the server (so a value a client
//! wrote is where a walk continues) and returns the updates for `Endpoint::update_many`.
//!
//! Devices have simulated field devices ([`FieldDevices`]) that answer every operate, and
//! [`InfoSim`] describes an information message sent periodically.

use std::collections::HashMap;
use std::time::Duration;

use tase2_core::mms::DataAccessError;
use tase2_core::server::Endpoint;
use tase2_core::tase2::server::{DeviceId, OperateId, PointId, Tase2};
use tase2_core::tase2::{
    Command, ControlValue, InfoHeader, PointValue, StateValue, Timestamp, Value,
};
use tase2_core::Instant;

/// xorshift64* (Marsaglia's xorshift with Vigna's multiplier): small, fast and deterministic;
/// plenty for simulated measurements, not for anything secret.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        // One splitmix64 round spreads nearby seeds apart; xorshift's state must not be 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What a simulated point does each step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Behaviour {
    /// Random walk: change by at most `step` (whole steps for discrete points), kept within
    /// `[min, max]`.
    Walk {
        /// Lowest value.
        min: f64,
        /// Highest value.
        max: f64,
        /// Largest change per step.
        step: f64,
    },
    /// Flip between on and off with this probability per step (state points).
    Toggle {
        /// Chance per step, 0-1.
        probability: f64,
    },
}

/// The simulated points and the generator.
#[derive(Clone, Debug)]
pub struct Simulation {
    /// Time between steps.
    pub period: Duration,
    rng: XorShift,
    points: Vec<(PointId, Behaviour)>,
}

impl Simulation {
    /// A simulation stepping every `period`, seeded with `seed`.
    pub fn new(period: Duration, seed: u64) -> Self {
        Simulation {
            period,
            rng: XorShift::new(seed),
            points: Vec::new(),
        }
    }

    /// Simulate `point`.
    pub fn add(&mut self, point: PointId, behaviour: Behaviour) {
        self.points.push((point, behaviour));
    }

    /// How many points are simulated.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is simulated.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The updates of one step, from the current values in `tase2`. Timestamps are left zero, so
    /// the server stamps them with the time of the update.
    pub fn step(&mut self, tase2: &Tase2) -> Vec<(PointId, PointValue)> {
        let mut out = Vec::with_capacity(self.points.len());
        for &(id, behaviour) in &self.points {
            let Some(current) = tase2.value(id) else {
                continue;
            };
            if let Some(value) = next_value(&mut self.rng, current.value, behaviour) {
                let mut v = *current;
                v.value = value;
                v.timestamp = Timestamp::default();
                out.push((id, v));
            }
        }
        out
    }
}

/// The next value of a point, or `None` when it stays as it is.
fn next_value(rng: &mut XorShift, value: Value, behaviour: Behaviour) -> Option<Value> {
    match (behaviour, value) {
        (Behaviour::Walk { min, max, step }, Value::Real(x)) => {
            let delta = (rng.unit() * 2.0 - 1.0) * step;
            Some(Value::Real((f64::from(x) + delta).clamp(min, max) as f32))
        }
        (Behaviour::Walk { min, max, step }, Value::Discrete(x)) => {
            let whole = step.floor().max(1.0) as i64;
            let delta = (rng.next_u64() % (2 * whole as u64 + 1)) as i64 - whole;
            let lo = min.ceil() as i64;
            let hi = max.floor() as i64;
            let next = (i64::from(x) + delta).clamp(lo, hi.max(lo));
            Some(Value::Discrete(
                next.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            ))
        }
        (Behaviour::Toggle { probability }, Value::State(s)) => (rng.unit() < probability)
            .then_some(Value::State(match s {
                StateValue::On => StateValue::Off,
                _ => StateValue::On,
            })),
        // Shapes the configuration check refuses; nothing to do.
        _ => None,
    }
}

/// What a simulated field device answers to an operate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Answer {
    /// The operate succeeds; the feedback point (if any) follows.
    #[default]
    Accept,
    /// The device fails: the client gets hardware-fault.
    Refuse,
    /// No answer: the server's operate timeout refuses it (temporarily-unavailable).
    Ignore,
}

/// One simulated field device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldDevice {
    /// What it answers.
    pub answer: Answer,
    /// The point an accepted operate sets.
    pub feedback: Option<PointId>,
}

/// The simulated field devices behind the model's devices.
#[derive(Clone, Debug, Default)]
pub struct FieldDevices {
    devices: HashMap<DeviceId, FieldDevice>,
}

impl FieldDevices {
    /// Simulate `device` (a device with no entry accepts, without feedback).
    pub fn add(&mut self, device: DeviceId, field: FieldDevice) {
        self.devices.insert(device, field);
    }

    /// How many devices are simulated.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether no device is simulated.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// The field device of `device`.
    pub fn get(&self, device: DeviceId) -> FieldDevice {
        self.devices.get(&device).copied().unwrap_or_default()
    }

    /// Answer the operate `op` of `device` with `value` as its field device does: accept it (and
    /// set the feedback point), refuse it with hardware-fault, or leave it unanswered. Returns
    /// what it did.
    pub fn operate(
        &self,
        ep: &mut Endpoint<Tase2>,
        now: Instant,
        op: OperateId,
        device: DeviceId,
        value: ControlValue,
    ) -> Answer {
        let field = self.get(device);
        match field.answer {
            Answer::Accept => {
                if ep.answer_operate(op, Ok(())).is_err() {
                    // Timed out or its association ended meanwhile: nothing was operated.
                    return Answer::Ignore;
                }
                if let Some(point) = field.feedback {
                    let next = ep.tase2().value(point).and_then(|v| feedback(*v, value));
                    if let Some(v) = next {
                        ep.update(now, point, v);
                    }
                }
            }
            Answer::Refuse => {
                let _ = ep.answer_operate(op, Err(DataAccessError::HARDWARE_FAULT));
            }
            Answer::Ignore => {}
        }
        field.answer
    }
}

/// The value a feedback point takes after an operate with `value` (timestamp left zero: the server
/// stamps it), or `None` if the point does not fit the value (the configuration check refuses
/// those).
pub fn feedback(current: PointValue, value: ControlValue) -> Option<PointValue> {
    let next = match (current.value, value) {
        (Value::State(_), ControlValue::Command(Command::On)) => Value::State(StateValue::On),
        (Value::State(_), ControlValue::Command(Command::Off)) => Value::State(StateValue::Off),
        (Value::Real(_), ControlValue::Real(x)) => Value::Real(x),
        (Value::Discrete(_), ControlValue::Discrete(x)) => Value::Discrete(x.into()),
        _ => return None,
    };
    let mut v = current;
    v.value = next;
    v.timestamp = Timestamp::default();
    Some(v)
}

/// The body of a simulated information message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InfoBody {
    /// Text; `{n}` stands for the message number.
    Text(String),
    /// Binary octets.
    Binary(Vec<u8>),
}

/// An information message sent every `every` (block 4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfoSim {
    /// The ICC domain, or `None` for VCC scope.
    pub domain: Option<String>,
    /// Time between messages.
    pub every: Duration,
    /// The header's InfoReference.
    pub info_reference: i32,
    /// The header's LocalReference.
    pub local_reference: i32,
    /// What it says.
    pub body: InfoBody,
}

impl InfoSim {
    /// Message number `n` (also its MessageId): the header (Size set) and the octets.
    pub fn message(&self, n: i32) -> (InfoHeader, Vec<u8>) {
        let data = match &self.body {
            InfoBody::Text(t) => t.replace("{n}", &n.to_string()).into_bytes(),
            InfoBody::Binary(b) => b.clone(),
        };
        let header = InfoHeader {
            info_reference: self.info_reference,
            local_reference: self.local_reference,
            message_id: n,
            size: data.len() as i32,
        };
        (header, data)
    }

    /// The largest message it can send (its text with the longest number).
    pub fn max_len(&self) -> usize {
        match &self.body {
            InfoBody::Text(_) => self.message(i32::MAX).1.len(),
            InfoBody::Binary(b) => b.len(),
        }
    }
}

/// The message number after `n`: 1, 2, ... i32::MAX, then 1 again.
pub fn next_message_number(n: i32) -> i32 {
    if n == i32::MAX {
        1
    } else {
        n + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_follows_the_operate_value() {
        let brk = PointValue::state(StateValue::Off).at(Timestamp {
            seconds: 5,
            millis: 0,
        });
        let on = feedback(brk, ControlValue::Command(Command::On)).unwrap();
        assert_eq!(on.value, Value::State(StateValue::On));
        assert_eq!(on.timestamp, Timestamp::default());
        assert_eq!(
            feedback(on, ControlValue::Command(Command::Off))
                .unwrap()
                .value,
            Value::State(StateValue::Off)
        );
        assert_eq!(
            feedback(PointValue::real(0.0), ControlValue::Real(123.5))
                .unwrap()
                .value,
            Value::Real(123.5)
        );
        assert_eq!(
            feedback(PointValue::discrete(9), ControlValue::Discrete(-3))
                .unwrap()
                .value,
            Value::Discrete(-3)
        );
        assert_eq!(
            feedback(PointValue::real(0.0), ControlValue::Discrete(1)),
            None
        );
        assert_eq!(
            feedback(brk, ControlValue::Real(1.0)),
            None,
            "a state point does not take a setpoint"
        );
    }

    #[test]
    fn info_messages_number_their_text() {
        let m = InfoSim {
            domain: Some("ICC1".into()),
            every: Duration::from_secs(5),
            info_reference: 10,
            local_reference: 1,
            body: InfoBody::Text("entry {n} of {n}".into()),
        };
        let (h, data) = m.message(7);
        assert_eq!(data, b"entry 7 of 7");
        assert_eq!(
            h,
            InfoHeader {
                info_reference: 10,
                local_reference: 1,
                message_id: 7,
                size: 12
            }
        );
        assert_eq!(m.max_len(), "entry 2147483647 of 2147483647".len());
        assert_eq!(next_message_number(1), 2);
        assert_eq!(next_message_number(i32::MAX), 1);
        let bin = InfoSim {
            body: InfoBody::Binary(vec![0, 0xff]),
            ..m
        };
        assert_eq!(bin.message(3).1, [0, 0xff]);
        assert_eq!(bin.message(3).0.size, 2);
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        let mut c = XorShift::new(8);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..8).map(|_| c.next_u64()).collect::<Vec<_>>());
        let mut z = XorShift::new(0);
        assert!((0..1000).all(|_| (0.0..1.0).contains(&z.unit())));
    }

    #[test]
    fn walks_stay_within_bounds_and_move() {
        let mut rng = XorShift::new(3);
        let walk = Behaviour::Walk {
            min: 10.0,
            max: 12.0,
            step: 0.5,
        };
        let mut v = Value::Real(11.0);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            v = next_value(&mut rng, v, walk).unwrap();
            let Value::Real(x) = v else { panic!() };
            assert!((10.0..=12.0).contains(&x), "{x}");
            seen.insert(x.to_bits());
        }
        assert!(seen.len() > 100);
        let tap = Behaviour::Walk {
            min: 1.0,
            max: 17.0,
            step: 1.0,
        };
        let mut d = Value::Discrete(9);
        for _ in 0..500 {
            let Value::Discrete(before) = d else { panic!() };
            d = next_value(&mut rng, d, tap).unwrap();
            let Value::Discrete(x) = d else { panic!() };
            assert!(
                (1..=17).contains(&x) && (x - before).abs() <= 1,
                "{before} -> {x}"
            );
        }
    }

    #[test]
    fn toggles_flip_on_and_off() {
        let mut rng = XorShift::new(1);
        let always = Behaviour::Toggle { probability: 1.0 };
        let never = Behaviour::Toggle { probability: 0.0 };
        let on = Value::State(StateValue::On);
        assert_eq!(
            next_value(&mut rng, on, always),
            Some(Value::State(StateValue::Off))
        );
        assert_eq!(
            next_value(&mut rng, Value::State(StateValue::Off), always),
            Some(on)
        );
        assert_eq!(next_value(&mut rng, on, never), None);
    }
}
