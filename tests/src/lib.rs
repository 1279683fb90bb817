//! Shared helpers for the cross-crate integration tests.

/// The README's Rust examples, compiled (and the runnable ones run) by `cargo test --doc`, so the
/// project's first page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
