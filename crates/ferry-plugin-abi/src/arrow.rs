//! The Arrow C Data Interface, declared here exactly as the Arrow
//! specification gives it (`ArrowSchema`, `ArrowArray`), so that the host and
//! plugins share no Rust Arrow implementation: each side may use any arrow-rs
//! version, or another language, and only these two C structs cross.
//!
//! Ownership follows the specification: the producer allocates and sets
//! `release`; the consumer moves the struct and calls `release` exactly once.
//! [`ArrowBatch`] owns one schema and one array and releases what it still
//! holds when dropped. Plugins are never unloaded, so a release callback's
//! code stays loaded for as long as any batch it made is alive.
#![allow(unsafe_code, reason = "the C Data Interface is raw pointers and release callbacks")]

use std::ffi::{c_char, c_void};

use abi_stable::StableAbi;

/// `struct ArrowSchema` of the Arrow C Data Interface.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct ArrowSchema {
    /// The format string (`u`, `l`, `+s`, `d:18,4`, …).
    pub format: *const c_char,
    /// The field name.
    pub name: *const c_char,
    /// Binary-encoded key/value metadata, or null.
    pub metadata: *const c_char,
    /// `ARROW_FLAG_*` bits.
    pub flags: i64,
    /// Number of children.
    pub n_children: i64,
    /// The children.
    pub children: *mut *mut ArrowSchema,
    /// The dictionary's schema, for dictionary-encoded fields.
    pub dictionary: *mut ArrowSchema,
    /// Releases the producer's data; null once released.
    pub release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    /// The producer's private data.
    pub private_data: *mut c_void,
}

/// `struct ArrowArray` of the Arrow C Data Interface.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct ArrowArray {
    /// Number of elements.
    pub length: i64,
    /// Number of nulls, or -1 when not computed.
    pub null_count: i64,
    /// Offset into the buffers.
    pub offset: i64,
    /// Number of buffers.
    pub n_buffers: i64,
    /// Number of children.
    pub n_children: i64,
    /// The buffers.
    pub buffers: *mut *const c_void,
    /// The children.
    pub children: *mut *mut ArrowArray,
    /// The dictionary, for dictionary-encoded arrays.
    pub dictionary: *mut ArrowArray,
    /// Releases the producer's data; null once released.
    pub release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    /// The producer's private data.
    pub private_data: *mut c_void,
}

impl ArrowSchema {
    /// A released (empty) schema.
    pub const fn empty() -> ArrowSchema {
        ArrowSchema {
            format: std::ptr::null(),
            name: std::ptr::null(),
            metadata: std::ptr::null(),
            flags: 0,
            n_children: 0,
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }
    /// Whether it was released (or never set).
    pub fn is_released(&self) -> bool {
        self.release.is_none()
    }
}

impl ArrowArray {
    /// A released (empty) array.
    pub const fn empty() -> ArrowArray {
        ArrowArray {
            length: 0,
            null_count: 0,
            offset: 0,
            n_buffers: 0,
            n_children: 0,
            buffers: std::ptr::null_mut(),
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }
    /// Whether it was released (or never set).
    pub fn is_released(&self) -> bool {
        self.release.is_none()
    }
}

/// One Arrow record batch crossing the boundary: a struct-typed array (format
/// `+s`) whose children are the columns, and its schema. Empty when both are
/// released (a batch with no data, such as "no diagnostics").
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct ArrowBatch {
    /// The struct schema.
    pub schema: ArrowSchema,
    /// The struct array.
    pub array: ArrowArray,
}

impl ArrowBatch {
    /// A batch holding nothing.
    pub const fn empty() -> ArrowBatch {
        ArrowBatch { schema: ArrowSchema::empty(), array: ArrowArray::empty() }
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.schema.is_released() && self.array.is_released()
    }

    /// Takes the two structs out, leaving this batch empty; the caller now
    /// owns them and must release them (or hand them to an Arrow
    /// implementation's importer, which will).
    pub fn take(&mut self) -> (ArrowSchema, ArrowArray) {
        (
            std::mem::replace(&mut self.schema, ArrowSchema::empty()),
            std::mem::replace(&mut self.array, ArrowArray::empty()),
        )
    }
}

impl Default for ArrowBatch {
    fn default() -> ArrowBatch {
        ArrowBatch::empty()
    }
}

impl Drop for ArrowSchema {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: the producer set `release` for this struct, which has
            // not been released yet (it would be null then); the spec says
            // the consumer calls it once, which this drop is.
            unsafe { release(self) };
            self.release = None;
        }
    }
}

impl Drop for ArrowArray {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: as for `ArrowSchema`.
            unsafe { release(self) };
            self.release = None;
        }
    }
}

// SAFETY: the C Data Interface is thread-agnostic: a producer's structs may be
// moved to and released on any thread (arrow-rs's own FFI structs are Send).
unsafe impl Send for ArrowSchema {}
// SAFETY: as above.
unsafe impl Send for ArrowArray {}
