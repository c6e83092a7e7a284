//! Record batches as Arrow IPC stream bytes (schema, one batch, end of
//! stream), the body of a records, diagnostics or receipts frame.
//!
//! Decoding is zero-copy over the frame's bytes and validates the batch in
//! full (arrow-ipc's default): what a runner sends is untrusted input.

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;

/// Encodes one batch.
pub fn encode(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let mut w = StreamWriter::try_new(Vec::new(), batch.schema_ref())
        .map_err(|e| format!("cannot encode a batch: {e}"))?;
    w.write(batch).map_err(|e| format!("cannot encode a batch: {e}"))?;
    w.finish().map_err(|e| format!("cannot encode a batch: {e}"))?;
    w.into_inner().map_err(|e| format!("cannot encode a batch: {e}"))
}

/// Decodes the one batch of a stream.
pub fn decode(bytes: Vec<u8>) -> Result<RecordBatch, String> {
    let mut buf = Buffer::from_vec(bytes);
    let mut decoder = StreamDecoder::new();
    let mut batch = None;
    while !buf.is_empty() {
        match decoder.decode(&mut buf).map_err(|e| format!("an unreadable Arrow IPC stream: {e}"))? {
            Some(b) if batch.is_none() => batch = Some(b),
            Some(_) => return Err("an Arrow IPC stream with more than one batch".into()),
            None => {}
        }
    }
    decoder.finish().map_err(|e| format!("an Arrow IPC stream cut short: {e}"))?;
    batch.ok_or_else(|| "an Arrow IPC stream without a batch".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true)
                .with_metadata(HashMap::from([("pii".to_owned(), "true".to_owned())])),
        ])
        .with_metadata(HashMap::from([("entity".to_owned(), "students".to_owned())]));
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![Some("a"), None, Some("ç")])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_batch_round_trips_with_its_metadata() {
        let b = batch();
        let back = decode(encode(&b).unwrap()).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.schema().metadata(), b.schema().metadata());
        assert_eq!(back.schema().field(1).metadata(), b.schema().field(1).metadata());
    }

    #[test]
    fn a_cut_or_corrupt_stream_is_an_error_not_a_panic() {
        let bytes = encode(&batch()).unwrap();
        for cut in [0, 1, 8, bytes.len() / 2, bytes.len() - 9] {
            assert!(decode(bytes[..cut].to_vec()).is_err(), "cut at {cut}");
        }
        // Flipping bytes in the body either fails to decode or fails validation.
        let mut bad = bytes.clone();
        let n = bad.len();
        for b in &mut bad[n / 2..n / 2 + 16] {
            *b = 0xff;
        }
        let _ = decode(bad);
    }
}
