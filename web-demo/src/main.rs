//! FreeTase2 web demo (filled by a later issue).

fn main() {}
