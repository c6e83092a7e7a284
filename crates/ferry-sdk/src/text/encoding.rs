//! Character encodings of delimited files: the choice a user configures
//! ([`EncodingChoice`]), the encoding a file was read with ([`Encoding`]),
//! UTF-8 detection and per-field decoding and encoding.

use std::fmt;
use std::io::{self, Read};

use serde::{Deserialize, Deserializer};

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// A character encoding whose bytes below 0x80 are ASCII (UTF-8, Windows-1252,
/// ISO-8859-x, Shift_JIS…), so that delimiters, quotes and line breaks can be
/// found before decoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Encoding(&'static encoding_rs::Encoding);

impl Encoding {
    /// UTF-8.
    pub const UTF_8: Encoding = Encoding(encoding_rs::UTF_8);
    /// Windows-1252 (what `latin1` and `iso-8859-1` mean in practice).
    pub const WINDOWS_1252: Encoding = Encoding(encoding_rs::WINDOWS_1252);

    /// The encoding a label names: any WHATWG label (`utf-8`, `windows-1252`,
    /// `cp1252`, `latin1`, `iso-8859-15`, `shift_jis`…), plus `utf-8-bom` and
    /// `utf-8-sig` for UTF-8. Encodings in which ASCII bytes do not stand for
    /// themselves (UTF-16, ISO-2022-JP) cannot be used for delimited text.
    pub fn for_label(label: &str) -> Result<Encoding, String> {
        let l = label.trim();
        if l.eq_ignore_ascii_case("utf-8-bom") || l.eq_ignore_ascii_case("utf-8-sig") {
            return Ok(Encoding::UTF_8);
        }
        match encoding_rs::Encoding::for_label(l.as_bytes()) {
            Some(e) if e.is_ascii_compatible() && e != encoding_rs::REPLACEMENT => Ok(Encoding(e)),
            Some(e) => Err(format!(
                "the encoding {:?} ({}) cannot be configured for delimited text; use \"utf-8\", \"windows-1252\" or \"auto\" (a UTF-16 file is read as such when it starts with a byte-order mark)",
                label,
                e.name()
            )),
            None => Err(format!(
                "unknown encoding {label:?}; use \"auto\", \"utf-8\", \"windows-1252\" (also \"cp1252\", \"latin1\") or another WHATWG encoding label"
            )),
        }
    }

    /// UTF-16 (big-endian or little-endian): what a file with a UTF-16
    /// byte-order mark is read as, transcoded to UTF-8 before parsing.
    pub(crate) fn utf16(big_endian: bool) -> Encoding {
        Encoding(if big_endian { encoding_rs::UTF_16BE } else { encoding_rs::UTF_16LE })
    }

    /// The encoding's canonical name (`UTF-8`, `windows-1252`).
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Whether this is UTF-8.
    pub fn is_utf8(self) -> bool {
        self.0 == encoding_rs::UTF_8
    }

    /// Decodes `bytes` (one field) and appends the text to `out`. Returns
    /// `false`, leaving `out` as it was, when the bytes are not valid in this
    /// encoding. Windows-1252 decodes every byte.
    pub(crate) fn decode_append(self, bytes: &[u8], out: &mut String) -> bool {
        if self.is_utf8() || bytes.is_ascii() {
            return match std::str::from_utf8(bytes) {
                Ok(s) => {
                    out.push_str(s);
                    true
                }
                Err(_) => false,
            };
        }
        let mut decoder = self.0.new_decoder_without_bom_handling();
        let Some(max) = decoder.max_utf8_buffer_length_without_replacement(bytes.len()) else {
            return false;
        };
        out.reserve(max);
        let before = out.len();
        let (result, _read) = decoder.decode_to_string_without_replacement(bytes, out, true);
        match result {
            encoding_rs::DecoderResult::InputEmpty => true,
            encoding_rs::DecoderResult::Malformed(..) | encoding_rs::DecoderResult::OutputFull => {
                out.truncate(before);
                false
            }
        }
    }

    /// Decodes `bytes`, replacing what is not valid with U+FFFD (for showing
    /// a bad row, never for data).
    pub(crate) fn decode_lossy_append(self, bytes: &[u8], out: &mut String) {
        let (text, _) = self.0.decode_without_bom_handling(bytes);
        out.push_str(&text);
    }

    /// Encodes `text` and appends the bytes to `out`. On a character this
    /// encoding cannot represent, returns its byte offset in `text`, leaving
    /// `out` as it was.
    pub(crate) fn encode_append(self, text: &str, out: &mut Vec<u8>) -> Result<(), usize> {
        if self.is_utf8() || text.is_ascii() {
            out.extend_from_slice(text.as_bytes());
            return Ok(());
        }
        let mut encoder = self.0.new_encoder();
        let Some(max) = encoder.max_buffer_length_from_utf8_without_replacement(text.len()) else {
            return Err(0);
        };
        let before = out.len();
        out.reserve(max);
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(text, out, true);
        match result {
            encoding_rs::EncoderResult::InputEmpty => Ok(()),
            encoding_rs::EncoderResult::Unmappable(c) => {
                out.truncate(before);
                Err(read.saturating_sub(c.len_utf8()))
            }
            encoding_rs::EncoderResult::OutputFull => {
                out.truncate(before);
                Err(read)
            }
        }
    }
}

impl fmt::Debug for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The configured encoding of an input file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EncodingChoice {
    /// UTF-8 if the whole file is valid UTF-8 (after an optional byte-order
    /// mark), Windows-1252 if it has no valid non-ASCII UTF-8 at all, and
    /// field by field for a file with both (see [`Decoding::sniff`]).
    #[default]
    Auto,
    /// This encoding. A file that starts with a UTF-8 byte-order mark is read
    /// as UTF-8 whatever is configured.
    Fixed(Encoding),
}

impl EncodingChoice {
    /// Parses `auto` or an encoding label (see [`Encoding::for_label`]).
    pub fn from_label(label: &str) -> Result<EncodingChoice, String> {
        if label.trim().eq_ignore_ascii_case("auto") {
            Ok(EncodingChoice::Auto)
        } else {
            Encoding::for_label(label).map(EncodingChoice::Fixed)
        }
    }
}

impl<'de> Deserialize<'de> for EncodingChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EncodingChoice, D::Error> {
        let s = String::deserialize(d)?;
        EncodingChoice::from_label(&s).map_err(|e| serde::de::Error::custom(format!("encoding: {e}")))
    }
}

/// How the fields of one file are decoded, decided once per file by
/// [`Decoding::sniff`] (a file with a UTF-16 byte-order mark is transcoded
/// to UTF-8 before any of this applies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoding {
    /// Every field in this encoding. In UTF-8, a field that is not valid
    /// UTF-8 is a row error.
    Strict(Encoding),
    /// A file holding both UTF-8 text and text in a legacy encoding (a UTF-8
    /// export edited in a Windows tool, say). Each field is read as UTF-8
    /// when it is valid UTF-8, and in `legacy` otherwise; the fields read the
    /// way the file's minority is written are noted on their row
    /// ([`CellNote`](super::CellNote)), so that nothing is guessed silently.
    Mixed {
        /// The encoding of the fields that are not valid UTF-8.
        legacy: Encoding,
        /// Most of the file's non-ASCII text is in `legacy`: note the fields
        /// read as UTF-8 (else the fields read in `legacy` are noted).
        legacy_majority: bool,
    },
}

impl Decoding {
    /// The encoding the file is said to be in: UTF-8 for a mixed file whose
    /// non-ASCII text is mostly UTF-8.
    pub fn encoding(self) -> Encoding {
        match self {
            Decoding::Strict(e) => e,
            Decoding::Mixed { legacy, legacy_majority: true } => legacy,
            Decoding::Mixed { legacy_majority: false, .. } => Encoding::UTF_8,
        }
    }

    /// Reads `input` to the end (in chunks, never whole) and decides how to
    /// decode it, for the configured `choice`:
    ///
    /// - `utf-8`: strict UTF-8, without reading anything;
    /// - `auto`, or a legacy encoding (Windows-1252 for `auto`): a file that
    ///   is valid UTF-8 is UTF-8; one with no valid non-ASCII UTF-8 at all is
    ///   in the legacy encoding (silently: that is what a genuinely
    ///   Windows-1252 file looks like); a file with both is
    ///   [`Decoding::Mixed`], read field by field.
    ///
    /// A UTF-8 byte-order mark is skipped; one of UTF-16 makes the input
    /// UTF-8 once transcoded, so this returns strict UTF-8.
    pub fn sniff(mut input: impl Read, choice: EncodingChoice) -> io::Result<Decoding> {
        let legacy = match choice {
            EncodingChoice::Fixed(e) if e.is_utf8() => return Ok(Decoding::Strict(e)),
            EncodingChoice::Fixed(e) => e,
            EncodingChoice::Auto => Encoding::WINDOWS_1252,
        };
        let scan = scan_utf8(&mut input)?;
        if scan.utf16_bom {
            return Ok(Decoding::Strict(Encoding::UTF_8));
        }
        Ok(match (scan.invalid, scan.multibyte) {
            (0, 0) if scan.bom || choice == EncodingChoice::Auto => Decoding::Strict(Encoding::UTF_8),
            (0, 0) => Decoding::Strict(legacy),
            (0, _) => Decoding::Strict(Encoding::UTF_8),
            (_, 0) if !scan.bom => Decoding::Strict(legacy),
            (invalid, multibyte) => Decoding::Mixed { legacy, legacy_majority: invalid > multibyte },
        })
    }
}

/// What a pass over a whole input found.
#[derive(Debug, Default)]
struct Utf8Scan {
    /// It starts with a UTF-8 byte-order mark.
    bom: bool,
    /// It starts with a UTF-16 byte-order mark (nothing else is counted).
    utf16_bom: bool,
    /// Continuation bytes of valid non-ASCII UTF-8 characters (about one
    /// per character of Latin scripts).
    multibyte: u64,
    /// Bytes (or cut sequences) that are not valid UTF-8.
    invalid: u64,
}

/// Counts the valid non-ASCII UTF-8 text and the invalid sequences of
/// `input`, in chunks. A pure UTF-8 chunk costs one validation and one count
/// of characters.
fn scan_utf8(input: &mut impl Read) -> io::Result<Utf8Scan> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut scan = Utf8Scan::default();
    // Bytes of a character cut by the end of the previous chunk.
    let mut carry = 0usize;
    let mut first = true;
    loop {
        let n = match input.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // A character cut by the end of the input is invalid.
            scan.invalid += u64::from(carry > 0);
            return Ok(scan);
        }
        let filled = carry + n;
        let mut chunk = &buf[..filled];
        if first {
            if chunk.starts_with(BOM) {
                scan.bom = true;
                chunk = &chunk[3..];
            } else if chunk.starts_with(b"\xFF\xFE") || chunk.starts_with(b"\xFE\xFF") {
                scan.utf16_bom = true;
                return Ok(scan);
            }
            first = false;
        }
        // Continuation bytes of valid text: about one per accented Latin
        // letter, counted by the standard library's optimized routines.
        let extra = |s: &str| (s.len() - s.chars().count()) as u64;
        let mut rest = chunk;
        carry = 0;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    scan.multibyte += extra(s);
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    scan.multibyte += std::str::from_utf8(&rest[..valid]).map_or(0, extra);
                    match e.error_len() {
                        Some(len) => {
                            scan.invalid += 1;
                            rest = &rest[valid + len..];
                        }
                        None => {
                            // An incomplete character at the end: keep it for the next chunk.
                            carry = rest.len() - valid;
                            break;
                        }
                    }
                }
            }
        }
        if carry > 0 {
            buf.copy_within(filled - carry..filled, 0);
        }
    }
}

/// Reads `input` to the end and says whether it is valid UTF-8, in chunks
/// (the input is never held in memory as a whole).
pub fn is_valid_utf8(mut input: impl Read) -> io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes of a character cut by the end of the previous chunk.
    let mut carry = 0usize;
    loop {
        let n = match input.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // A character cut by the end of the input is invalid.
            return Ok(carry == 0);
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                // An incomplete character at the end: keep it for the next chunk.
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(EncodingChoice::from_label("auto").unwrap(), EncodingChoice::Auto);
        for l in ["utf-8", "UTF8", "utf-8-bom"] {
            assert_eq!(Encoding::for_label(l).unwrap(), Encoding::UTF_8, "{l}");
        }
        for l in ["windows-1252", "cp1252", "latin1", "ISO-8859-1"] {
            assert_eq!(Encoding::for_label(l).unwrap(), Encoding::WINDOWS_1252, "{l}");
        }
        assert!(Encoding::for_label("utf-16le").unwrap_err().contains("cannot be configured"));
        assert!(Encoding::for_label("klingon").unwrap_err().contains("unknown encoding"));
    }

    #[test]
    fn utf8_detection_across_chunk_boundaries() {
        // "é" is two bytes; place one across the 64 KiB chunk boundary.
        let mut data = vec![b'a'; 64 * 1024 - 1];
        data.extend_from_slice("é and more".as_bytes());
        assert!(is_valid_utf8(&data[..]).unwrap());
        data.push(0xE9); // a Windows-1252 "é"
        assert!(!is_valid_utf8(&data[..]).unwrap());
        // Cut in the middle of a character at the very end.
        assert!(!is_valid_utf8(&"é".as_bytes()[..1]).unwrap());
        assert!(is_valid_utf8(&b""[..]).unwrap());
    }

    #[test]
    fn decode_and_encode_windows_1252() {
        let mut s = String::new();
        assert!(Encoding::WINDOWS_1252.decode_append(b"Jos\xE9 N\xFA\xF1ez \x80", &mut s));
        assert_eq!(s, "José Núñez €");
        let mut b = Vec::new();
        Encoding::WINDOWS_1252.encode_append("Zoë €", &mut b).unwrap();
        assert_eq!(b, b"Zo\xEB \x80");
        let err = Encoding::WINDOWS_1252.encode_append("abc 漢字", &mut b).unwrap_err();
        assert_eq!(err, 4);
        assert_eq!(b, b"Zo\xEB \x80", "a failed encode leaves the buffer as it was");
        let mut s = String::from("x");
        assert!(!Encoding::UTF_8.decode_append(b"\xE9", &mut s));
        assert_eq!(s, "x");
    }
}
