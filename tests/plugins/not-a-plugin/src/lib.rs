//! Test fixture: a shared library exporting a C function and no Ferry root module.

/// Adds two numbers; any C program could call it.
#[allow(unsafe_code, reason = "exporting an unmangled C symbol")]
#[unsafe(no_mangle)]
pub extern "C" fn ferry_fixture_add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}
