//! FreeTase2 tokio driver: TASE.2 / MMS client and server over tokio.
