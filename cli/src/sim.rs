//! The point simulation of `tase2 serve`: points that change on their own, step by step, from a
//! seeded pseudo-random sequence (the same seed gives the same run).
//!
//! [`Simulation::step`] reads the points' current values from the server (so a value a client
//! wrote is where a walk continues) and returns the updates for `Endpoint::update_many`.

use std::time::Duration;

use tase2_core::tase2::server::{PointId, Tase2};
use tase2_core::tase2::{PointValue, StateValue, Timestamp, Value};

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

#[cfg(test)]
mod tests {
    use super::*;

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
