//! The runner protocol's frames: a kind tag (one byte), the body's length
//! (four bytes, little-endian), the body. Control messages are JSON; record
//! batches, diagnostics and receipts are Arrow IPC stream bytes.
//!
//! A reader refuses a frame whose declared length is over its limit before
//! allocating anything, and a frame cut short by the end of the pipe is an
//! error (the peer died mid-frame), not a short frame.

use std::io::{self, Read, Write};

/// The largest frame a reader accepts by default (1 GiB): far above any
/// batch a run sends, far below what would exhaust memory by itself.
pub const DEFAULT_MAX_FRAME: u32 = 1 << 30;

/// The kind of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A control message (JSON): requests, replies, hello, errors.
    Control,
    /// Records: Arrow IPC stream bytes (schema, one batch, end of stream).
    Records,
    /// Diagnostics: Arrow IPC stream bytes with the model's diagnostics schema.
    Diagnostics,
    /// Receipts: Arrow IPC stream bytes with the model's receipts schema.
    Receipts,
    /// A plugin's log event (JSON), from the runner.
    Log,
    /// Stop as soon as possible (no body), from the host.
    Cancel,
}

impl Kind {
    fn tag(self) -> u8 {
        match self {
            Kind::Control => 1,
            Kind::Records => 2,
            Kind::Diagnostics => 3,
            Kind::Receipts => 4,
            Kind::Log => 5,
            Kind::Cancel => 6,
        }
    }

    fn from_tag(tag: u8) -> Option<Kind> {
        Some(match tag {
            1 => Kind::Control,
            2 => Kind::Records,
            3 => Kind::Diagnostics,
            4 => Kind::Receipts,
            5 => Kind::Log,
            6 => Kind::Cancel,
            _ => return None,
        })
    }
}

/// One frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// What it holds.
    pub kind: Kind,
    /// The bytes.
    pub body: Vec<u8>,
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream ended cleanly between frames (the peer closed its end).
    #[error("the pipe was closed")]
    Closed,
    /// The stream ended inside a frame.
    #[error("the pipe was closed in the middle of a frame ({got} of {want} bytes)")]
    Truncated {
        /// Bytes read of the part being read.
        got: usize,
        /// Bytes that part needs.
        want: usize,
    },
    /// The declared length is over the reader's limit.
    #[error("a frame of {len} bytes is over the limit of {max} bytes")]
    TooLong {
        /// The declared length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// The kind tag is not one this protocol knows.
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    /// Reading failed.
    #[error("reading the pipe failed: {0}")]
    Io(#[from] io::Error),
}

/// Writes one frame (header and body in one buffered write) and flushes.
pub fn write_frame(w: &mut impl Write, kind: Kind, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a frame over 4 GiB cannot be sent"))?;
    let mut header = [0u8; 5];
    header[0] = kind.tag();
    header[1..].copy_from_slice(&len.to_le_bytes());
    w.write_all(&header)?;
    w.write_all(body)?;
    w.flush()
}

/// Reads exactly `buf.len()` bytes; `Ok(n)` with `n < buf.len()` at the end.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads one frame whose body is at most `max` bytes.
pub fn read_frame(r: &mut impl Read, max: u32) -> Result<Frame, FrameError> {
    let mut header = [0u8; 5];
    match read_full(r, &mut header)? {
        0 => return Err(FrameError::Closed),
        5 => {}
        got => return Err(FrameError::Truncated { got, want: 5 }),
    }
    let kind = Kind::from_tag(header[0]).ok_or(FrameError::UnknownKind(header[0]))?;
    let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
    if len > max {
        return Err(FrameError::TooLong { len, max });
    }
    let want = len as usize;
    let mut body = vec![0u8; want];
    let got = read_full(r, &mut body)?;
    if got < want {
        return Err(FrameError::Truncated { got, want });
    }
    Ok(Frame { kind, body })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn encoded(frames: &[(Kind, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, b) in frames {
            write_frame(&mut out, *k, b).unwrap();
        }
        out
    }

    #[test]
    fn frames_round_trip_in_order() {
        let bytes = encoded(&[
            (Kind::Control, b"{\"op\":\"hello\"}"),
            (Kind::Records, &[0, 1, 2]),
            (Kind::Cancel, b""),
        ]);
        let mut r = bytes.as_slice();
        assert_eq!(
            read_frame(&mut r, 100).unwrap(),
            Frame { kind: Kind::Control, body: b"{\"op\":\"hello\"}".to_vec() }
        );
        assert_eq!(read_frame(&mut r, 100).unwrap(), Frame { kind: Kind::Records, body: vec![0, 1, 2] });
        assert_eq!(read_frame(&mut r, 100).unwrap(), Frame { kind: Kind::Cancel, body: vec![] });
        assert!(matches!(read_frame(&mut r, 100), Err(FrameError::Closed)));
    }

    #[test]
    fn a_frame_cut_short_is_truncated_not_short() {
        let bytes = encoded(&[(Kind::Records, &[7; 10])]);
        for cut in 1..bytes.len() {
            let err = read_frame(&mut &bytes[..cut], 100).unwrap_err();
            match err {
                FrameError::Truncated { got, want } if cut < 5 => assert_eq!((got, want), (cut, 5)),
                FrameError::Truncated { got, want } => assert_eq!((got, want), (cut - 5, 10)),
                other => panic!("cut at {cut}: {other}"),
            }
        }
    }

    #[test]
    fn an_oversize_length_is_refused_before_reading_the_body() {
        // A header claiming 4 GiB - 1 with no body behind it: refused by the
        // limit, without allocating or waiting for the body.
        let header = [Kind::Records.tag(), 0xff, 0xff, 0xff, 0xff];
        let err = read_frame(&mut header.as_slice(), DEFAULT_MAX_FRAME).unwrap_err();
        assert!(matches!(err, FrameError::TooLong { len: u32::MAX, max: DEFAULT_MAX_FRAME }), "{err}");
        let bytes = encoded(&[(Kind::Control, &[b'x'; 65])]);
        assert!(matches!(
            read_frame(&mut bytes.as_slice(), 64),
            Err(FrameError::TooLong { len: 65, max: 64 })
        ));
        assert!(read_frame(&mut bytes.as_slice(), 65).is_ok());
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let bytes = [42u8, 0, 0, 0, 0];
        assert!(matches!(read_frame(&mut bytes.as_slice(), 10), Err(FrameError::UnknownKind(42))));
    }
}
