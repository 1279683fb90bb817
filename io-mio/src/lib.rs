//! FreeTase2 mio driver: single-threaded event loop for the sans-IO core.
