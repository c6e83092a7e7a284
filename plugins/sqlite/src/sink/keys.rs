//! Natural keys held in memory: 128-bit hashes of `(source_system,
//! source_id)`, in sets and maps that do not hash them again.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use ferry_archive::checksum::hash64;

const SEED_1: u64 = 0x6b65_795f_6665_7272; // "key_ferr"
const SEED_2: u64 = 0x9e37_79b9_7f4a_7c15;

/// The 128-bit hash of a record's natural key.
pub(crate) fn key_hash(system: &str, id: &str) -> u128 {
    // Length-prefixing the system keeps ("a","bc") and ("ab","c") apart.
    let half = |seed: u64| {
        let h = hash64(system.as_bytes(), seed ^ system.len() as u64);
        hash64(id.as_bytes(), h)
    };
    (u128::from(half(SEED_1)) << 64) | u128::from(half(SEED_2))
}

/// A hasher for keys that already are hashes: passes them through.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; fold anything else in all the same.
        self.0 = hash64(bytes, self.0);
    }
    fn write_u128(&mut self, n: u128) {
        // Truncation intended: the low half of a well-mixed hash.
        self.0 = n as u64;
    }
}

/// A set of key hashes.
pub(crate) type KeySet = HashSet<u128, BuildHasherDefault<PassThrough>>;

/// A map from key hashes.
pub(crate) type KeyMap<V> = HashMap<u128, V, BuildHasherDefault<PassThrough>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_separated() {
        assert_ne!(key_hash("a", "bc"), key_hash("ab", "c"));
        assert_eq!(key_hash("sis", "1"), key_hash("sis", "1"));
        let mut set = KeySet::default();
        for i in 0..10_000u32 {
            assert!(set.insert(key_hash("sis", &i.to_string())));
        }
    }
}
