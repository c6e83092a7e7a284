//! Ferry's build and test tasks (being written).
fn main() {}
