//! Records the target triple the SDK (and so the plugin) is built for; the
//! embedded manifest carries it, so that `ferry plugins install` can refuse a
//! library built for another platform without loading it.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=FERRY_SDK_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
