//! The tase2 command-line tool.

fn main() {}
