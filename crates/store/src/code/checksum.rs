//! FC's `codeChecksum`: CRC-64/XZ of the uploaded zip, written as an unsigned decimal.
//!
//! The official SDKs compute the same value locally and compare it with what the server answers, so the
//! algorithm must match bit for bit: CRC-64/XZ (also called CRC-64/GO-ECMA), reflected polynomial
//! `0xC96C5795D7870F42`, initial value and final xor all ones.

use crc::{Crc, Digest, Table, CRC_64_XZ};

use super::CodeError;

/// Slice-by-16 tables (32 KiB): a 100 MiB upload is hashed several times faster than with one table.
static CRC64_XZ: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_XZ);

/// CRC-64/XZ of `bytes`, the number FC reports as `codeChecksum`.
pub fn crc64_xz(bytes: &[u8]) -> u64 {
    CRC64_XZ.checksum(bytes)
}

/// A streaming [`crc64_xz`], for bodies that arrive in chunks.
#[derive(Clone)]
pub struct Crc64Digest(Digest<'static, u64, Table<16>>);

impl Crc64Digest {
    pub fn new() -> Self {
        Crc64Digest(CRC64_XZ.digest())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finalize(self) -> u64 {
        self.0.finalize()
    }
}

impl Default for Crc64Digest {
    fn default() -> Self {
        Self::new()
    }
}

/// Accepts only the canonical decimal form of a `u64`, so a checksum can be joined onto a path without
/// injecting separators or `..`, and `"007"` cannot alias `"7"`.
pub(crate) fn require_checksum(checksum: &str) -> Result<&str, CodeError> {
    let canonical = checksum.len() <= 20
        && checksum.bytes().all(|b| b.is_ascii_digit())
        && checksum.parse::<u64>().is_ok_and(|n| n.to_string() == checksum);
    if canonical {
        Ok(checksum)
    } else {
        Err(CodeError::InvalidChecksum { checksum: checksum.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_check_values() {
        assert_eq!(crc64_xz(b"123456789"), 11051210869376104954);
        assert_eq!(crc64_xz(b""), 0);
        assert_eq!(crc64_xz(b"hello world"), 5981764153023615706);
    }

    #[test]
    fn streaming_digest_matches_one_shot() {
        let mut digest = Crc64Digest::new();
        for chunk in b"hello world".chunks(3) {
            digest.update(chunk);
        }
        assert_eq!(digest.finalize(), 5981764153023615706);
    }

    #[test]
    fn only_canonical_decimals_are_checksums() {
        for good in ["0", "7", "18446744073709551615"] {
            assert!(require_checksum(good).is_ok(), "{good}");
        }
        for bad in ["", "007", "-1", "+1", "1a", "../1", "1/2", " 1", "18446744073709551616", "١٢"] {
            assert!(matches!(require_checksum(bad), Err(CodeError::InvalidChecksum { .. })), "{bad}");
        }
    }
}
