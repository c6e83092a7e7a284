//! The record codec: how canonical records are laid out in a batch.
//!
//! Records are encoded with postcard (compact, positional, no field names),
//! back to back. Positional means a field change is a model major version;
//! see `docs/canonical-model.md`.

use ferry_model::Record;

use crate::error::Error;

/// Appends one encoded record to `buf`.
pub fn encode<R: Record>(record: &R, buf: &mut Vec<u8>) -> Result<(), Error> {
    postcard::serialize_with_flavor(record, AppendVec(buf))
        .map_err(|e| Error::internal(format!("cannot encode a {} record: {e}", R::KIND)))
}

/// A postcard flavor appending to a borrowed `Vec` (one batch buffer for all
/// records, slices copied whole).
struct AppendVec<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for AppendVec<'_> {
    type Output = ();
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }
    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Decodes the records in `bytes`, one at a time.
pub fn decode<R: Record>(bytes: &[u8]) -> Decoder<'_, R> {
    Decoder { rest: bytes, _r: std::marker::PhantomData }
}

/// Iterator over the records of a batch.
pub struct Decoder<'a, R> {
    rest: &'a [u8],
    _r: std::marker::PhantomData<fn() -> R>,
}

impl<R: Record> Iterator for Decoder<'_, R> {
    type Item = Result<R, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match postcard::take_from_bytes::<R>(self.rest) {
            Ok((r, rest)) => {
                self.rest = rest;
                Some(Ok(r))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(Error::data(format!(
                    "a batch of {} is not readable ({e}); were source and sink built against the same canonical model major version?",
                    R::KIND
                ))))
            }
        }
    }
}
