//! Telling a text export from a file that only has a text export's name: an
//! archive, a spreadsheet, a database, or bytes that are no text at all.

/// Magic numbers of formats a text export is mistaken for, with what to do.
const MAGIC: &[(&[u8], &str)] = &[
    (b"\x1F\x8B", "this is a gzip-compressed file; decompress it first (gunzip) and read the file inside"),
    (b"SQLite format 3\0", "this is an SQLite database (a Ferry archive?); read it with --from sqlite:FILE"),
    (
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "this is an old Office file (an .xls workbook?); save each sheet as tab-delimited text or CSV",
    ),
    (b"%PDF-", "this is a PDF document; export the table as tab-delimited text or CSV"),
    (
        b"7z\xBC\xAF\x27\x1C",
        "this is a 7-Zip archive; extract it first and point Ferry at the folder of its files",
    ),
    (b"\xFD7zXZ\0", "this is an xz-compressed file; decompress it first and read the file inside"),
    (b"\x89PNG\r\n\x1A\n", "this is a PNG image"),
    (b"\xFF\xD8\xFF", "this is a JPEG image"),
];

/// Why `head`, the first bytes of a file (after any byte-order mark), is not
/// delimited text, or `None` when it may be. Known formats are named; other
/// files are judged by their share of NUL and control bytes, which text
/// exports do not have (a stray NUL in a field is reported on its row).
pub(crate) fn not_text(head: &[u8]) -> Option<String> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        let has = |s: &[u8]| head.windows(s.len()).any(|w| w == s);
        return Some(if has(b"xl/") {
            "this is an Excel workbook (.xlsx, a ZIP archive); save each sheet as tab-delimited text or CSV"
                .to_owned()
        } else {
            "this is a ZIP archive; unzip it first and point Ferry at the folder of its files".to_owned()
        });
    }
    if let Some((_, why)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some((*why).to_owned());
    }
    if head.len() < 16 {
        return None;
    }
    let nuls = head.iter().filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if nuls * 4 >= head.len() && (odd * 10 >= nuls * 9 || (nuls - odd) * 10 >= nuls * 9) {
        return Some(
            "this looks like UTF-16 text without a byte-order mark; save it as UTF-8 (or as UTF-16 with a byte-order mark)"
                .to_owned(),
        );
    }
    // Tab, line feed, form feed, carriage return and the DOS end-of-file mark are text.
    let control = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | 0x1A)) || b == 0x7F)
        .count();
    if control >= 4 && control * 20 > head.len() {
        return Some(format!(
            "{}% of its first {} bytes are NUL or control bytes, which text exports do not have (is it the right file?)",
            control * 100 / head.len(),
            head.len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_formats_and_spots_binary_data() {
        assert!(not_text(b"PK\x03\x04\x14\0\0\0rest").unwrap().contains("ZIP archive; unzip it first"));
        assert!(
            not_text(b"PK\x03\x04\x14\0\0\0[Content_Types].xml xl/workbook.xml").unwrap().contains("Excel")
        );
        assert!(not_text(b"SQLite format 3\0\x10\0").unwrap().contains("SQLite"));
        assert!(not_text(b"\x1F\x8B\x08\0").unwrap().contains("gzip"));
        // Pseudo-random bytes.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert!(not_text(&noise).unwrap().contains("control bytes"), "{:?}", not_text(&noise));
        let utf16: Vec<u8> = "ID\tName\r\n1\tAna\r\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(not_text(&utf16).unwrap().contains("UTF-16"));
        // Text, even with a stray NUL, or Windows-1252, is text.
        assert_eq!(not_text(b"ID\tLast_Name\n1\tN\xFA\xF1ez\n2\t\0Ruiz\n3\tKim\n"), None);
        assert_eq!(not_text(b"a,b\r\n"), None);
    }
}
