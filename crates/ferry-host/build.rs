//! Records the target triple `ferry` is built for: `ferry plugins install`
//! picks the library of a bundle built for it.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=FERRY_HOST_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
