//! The parts of the `tase2` tool other crates need: the TOML model loader ([`model::load`]) and
//! what it builds on, so a test or another tool builds exactly the server `tase2 serve` runs (a
//! recording of `tase2 serve --record` is replayed into a model loaded this way from the TOML in
//! its header, see [`server_from_header`]).

pub mod config;
pub mod model;
pub mod sim;

use tase2_core::record::{Header, Role};
use tase2_core::tase2::Timestamp;

/// [`Header::setup_kind`] of a `tase2 serve --record` log: `setup` is the UTF-8 TOML text of
/// the model and `start` the instant it was loaded with (its initial time stamps are `start`'s
/// UTC time), so `model::load(toml, origin, start)` rebuilds the server.
pub const SERVE_SETUP_KIND: &str = "tase2-serve-toml";

/// Rebuild the server a `tase2 serve --record` log recorded, from its header: the model loaded
/// from the TOML in `setup` with the initial time stamps of `start`. Its endpoint is the one to
/// replay the log into (`tase2_core::record::replay`).
pub fn server_from_header(header: &Header) -> Result<model::Model, String> {
    if header.role != Role::Server {
        return Err(format!("a {:?} recording, not a server", header.role));
    }
    if header.setup_kind != SERVE_SETUP_KIND {
        return Err(format!(
            "setup of kind {:?}, not {SERVE_SETUP_KIND:?} (not recorded by tase2 serve)",
            header.setup_kind
        ));
    }
    let text = std::str::from_utf8(&header.setup)
        .map_err(|e| format!("the recorded model is not UTF-8: {e}"))?;
    let start = Timestamp::from_utc_micros(header.start.utc_micros());
    model::load(text, "the recorded model", start).map_err(|e| e.to_string())
}
