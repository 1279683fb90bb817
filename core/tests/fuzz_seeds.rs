//! Replays the fuzz seed corpus (`fuzz/seeds/<layer>/`), deterministic mutations of it and the inputs
//! of fixed crashes (`fuzz/regressions/<layer>/`) through the `tase2_core::fuzzing` bodies, so
//! `cargo test` on stable exercises what the nightly fuzzer checks: no decoder panics, and
//! decode → encode → decode is stable.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

use tase2_core::fuzzing;

/// Mutated inputs per layer; a few thousand keeps the debug-build test under a few seconds.
const MUTATIONS_PER_LAYER: usize = 4_000;

type Body = fn(&[u8]);

const LAYERS: &[(&str, Body)] = &[
    ("ber", fuzzing::ber),
    ("tpkt", fuzzing::tpkt),
    ("cotp", fuzzing::cotp),
    ("session", fuzzing::session),
    ("presentation", fuzzing::presentation),
    ("acse", fuzzing::acse),
    ("mms", fuzzing::mms),
    ("association", fuzzing::association),
    ("tase2", fuzzing::tase2),
    ("tase2_client", fuzzing::tase2_client),
    ("record", fuzzing::record),
    ("failover", fuzzing::failover),
];

/// xorshift64: deterministic and good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Bytes that sit on BER, TPKT, COTP and session boundaries.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x1f, 0x30, 0xa0,
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = b.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                b[i] = rng.byte();
            }
            3 => b.truncate(rng.below(len + 1)),
            4 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let ins: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                b.splice(at..at, ins);
            }
            5 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below(len - at);
                b.drain(at..at + n);
            }
            6 if len > 0 => {
                // Repeat a slice: nests or duplicates elements.
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(32));
                let copy = b[at..at + n].to_vec();
                let to = rng.below(len + 1);
                b.splice(to..to, copy);
            }
            _ => b.push(rng.byte()),
        }
    }
    b
}

/// The files of `fuzz/<kind>/<layer>/`, sorted by name; none if the directory does not exist.
fn files(kind: &str, layer: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join(layer);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Run `body` on `input`; on a panic, name the input so it can be turned into a regression test.
fn run(layer: &str, what: &str, body: Body, input: &[u8]) {
    if let Err(e) = panic::catch_unwind(AssertUnwindSafe(|| body(input))) {
        eprintln!("fuzzing::{layer} panicked on {what}: {input:02x?}");
        panic::resume_unwind(e);
    }
}

#[test]
fn every_layer_survives_its_seeds_and_their_mutations() {
    for &(layer, body) in LAYERS {
        let seeds = files("seeds", layer);
        assert!(!seeds.is_empty(), "no seeds for {layer}");
        for (name, seed) in &seeds {
            run(layer, name, body, seed);
        }
        // Inputs that once broke a body; each has a unit test next to the decoder it fixed.
        for (name, input) in files("regressions", layer) {
            run(layer, &name, body, &input);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..MUTATIONS_PER_LAYER {
            let (name, seed) = &seeds[i % seeds.len()];
            let input = mutate(&mut rng, seed);
            run(layer, &format!("mutation {i} of {name}"), body, &input);
        }
    }
}

#[test]
fn every_layer_survives_short_and_degenerate_inputs() {
    let mut inputs: Vec<Vec<u8>> = vec![vec![]];
    for b in 0..=255u8 {
        inputs.push(vec![b]);
        inputs.push(vec![b; 2]);
        inputs.push(vec![b, 0x80, 0, 0]);
        inputs.push(vec![3, 0, 0, b]);
    }
    // Deep indefinite-length nesting, past the BER depth limit.
    inputs.push([0x30, 0x80].repeat(100));
    inputs.push(
        [0xa0, 0x80]
            .repeat(100)
            .into_iter()
            .chain([0; 200])
            .collect(),
    );
    for &(layer, body) in LAYERS {
        for input in &inputs {
            run(layer, "a degenerate input", body, input);
        }
    }
}
