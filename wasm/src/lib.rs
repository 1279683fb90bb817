//! FreeTase2 for the browser: the client core as a wasm-bindgen class.
