//! A bounds-checked reader of DER tag-length-value items.
//!
//! Just enough ASN.1 for [`crate::x509`] and [`crate::pin`]: single-byte
//! tags and definite lengths, which is all DER certificates and public keys
//! use. Every read checks its bounds, so truncated or hostile input becomes
//! an error, never a panic.

/// Universal tags the walkers look for.
pub(crate) mod tag {
    pub(crate) const BOOLEAN: u8 = 0x01;
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
}

/// One item: its tag, its content, and the whole encoding (header included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    pub(crate) raw: &'a [u8],
}

/// Reads consecutive items from a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next item, whatever its tag.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>, String> {
        let (&tag, after_tag) = self
            .rest
            .split_first()
            .ok_or_else(|| "unexpected end of data".to_string())?;
        // Tag numbers of 31 and above take extra bytes; nothing in a
        // certificate or key uses them, so they are treated as damage.
        if tag & 0x1f == 0x1f {
            return Err(format!("unsupported multi-byte tag 0x{tag:02x}"));
        }
        let (&first, after_len) = after_tag
            .split_first()
            .ok_or_else(|| "truncated length".to_string())?;
        let (len, body) = if first < 0x80 {
            (usize::from(first), after_len)
        } else if first == 0x80 {
            return Err("indefinite length is not DER".to_string());
        } else {
            let count = usize::from(first & 0x7f);
            if count > 4 {
                return Err(format!("length of {count} bytes is too large"));
            }
            let len_bytes = after_len
                .get(..count)
                .ok_or_else(|| "truncated length".to_string())?;
            let len = len_bytes
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            let len = usize::try_from(len).map_err(|_| "length too large".to_string())?;
            (len, after_len.get(count..).unwrap_or_default())
        };
        let content = body.get(..len).ok_or_else(|| {
            format!(
                "item with tag 0x{tag:02x} needs {len} bytes, {} remain",
                body.len()
            )
        })?;
        let header_len = self.rest.len() - body.len();
        let total = header_len + len;
        let raw = self.rest.get(..total).unwrap_or_default();
        self.rest = self.rest.get(total..).unwrap_or_default();
        Ok(Tlv { tag, content, raw })
    }

    /// The next item, which must carry `tag`; `what` names it in the error.
    pub(crate) fn read_item(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
        match self.peek_tag() {
            Some(found) if found == tag => self.read().map_err(|e| format!("{what}: {e}")),
            Some(found) => Err(format!(
                "{what}: expected tag 0x{tag:02x}, found 0x{found:02x}"
            )),
            None => Err(format!("{what}: missing")),
        }
    }

    /// The next item if it carries `tag`, otherwise nothing is consumed.
    pub(crate) fn optional(&mut self, tag: u8, what: &str) -> Result<Option<Tlv<'a>>, String> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some).map_err(|e| format!("{what}: {e}"))
        } else {
            Ok(None)
        }
    }
}

/// `bytes` as exactly one item with `tag` and nothing after it.
pub(crate) fn single<'a>(bytes: &'a [u8], tag: u8, what: &str) -> Result<Tlv<'a>, String> {
    let mut reader = Reader::new(bytes);
    let item = reader.read_item(tag, what)?;
    if !reader.is_empty() {
        return Err(format!("{what}: trailing bytes after the item"));
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{for_each_split, hexdump};

    #[test]
    fn short_and_long_lengths_are_read() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(0xaa, 0x80));
        for (input, content_len) in [(&[0x02, 0x01, 0x05][..], 1), (&long, 0x80)] {
            let item = single(input, input[0], "item").unwrap();
            assert_eq!(item.raw, input, "\n{}", hexdump(input));
            assert_eq!(item.content.len(), content_len, "\n{}", hexdump(input));
        }
    }

    #[test]
    fn every_prefix_of_an_item_is_an_error() {
        let input = [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0xff];
        for_each_split(&input, |offset, head, _| {
            let result = single(head, tag::SEQUENCE, "seq");
            assert_eq!(result.is_ok(), offset == input.len(), "\n{}", hexdump(head));
        });
    }

    #[test]
    fn damaged_headers_are_errors() {
        let cases: &[&[u8]] = &[
            &[0x30, 0x80, 0x00, 0x00],
            &[0x1f, 0x01, 0x00],
            &[0x04, 0x85, 1, 0, 0, 0, 0],
            &[0x04, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x04, 0x82, 0x01],
        ];
        for input in cases {
            assert!(Reader::new(input).read().is_err(), "\n{}", hexdump(input));
        }
    }
}
