//! One-line JSON, written byte for byte as `serde_json::to_string` followed
//! by [`super::json_safe`] would write it, in one pass and without the
//! per-byte work: a 10,000-task `list --json` is 3.6 MB of JSON, and
//! serde_json's string escaping and the second pass over its result were a
//! fifth of the command's time.
//!
//! Only what git-par's documents are made of is written here (strings,
//! integers, booleans, options, sequences, structs, maps with string keys,
//! unit enum variants); anything else (a float, bytes, a non-string key)
//! answers [`Unsupported`], and the caller writes the document with
//! serde_json instead, so no value is ever written differently.

use serde::ser::{self, Serialize};

/// A value this writer leaves to serde_json.
#[derive(Debug)]
pub struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a value the compact JSON writer leaves to serde_json")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        Unsupported
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

/// `value` as one line of JSON (no trailing newline), in pieces to be
/// written one after the other.
pub fn to_chunks<T: Serialize + ?Sized>(value: &T) -> Result<Vec<Vec<u8>>> {
    let mut writer = Writer { out: Vec::with_capacity(4096), done: Vec::new() };
    value.serialize(&mut writer)?;
    writer.done.push(writer.out);
    Ok(writer.done)
}

/// `value` as one line of JSON (no trailing newline).
#[cfg(test)]
fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    Ok(to_chunks(value)?.concat())
}

/// The size of a piece of a large document. Grown as one vector, a 4 MB
/// document was copied at each doubling, into fresh memory each time:
/// in pieces, each byte is written once.
const CHUNK: usize = 256 * 1024;

struct Writer {
    /// The piece being written.
    out: Vec<u8>,
    /// The pieces before it.
    done: Vec<Vec<u8>>,
}

/// Bytes that may need an escape: controls, `"`, `\`, DEL, and 0xC2 (the
/// first byte of U+0080..U+009F, the C1 controls [`super::json_safe`] escapes).
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0x7f] = true;
    table[0xc2] = true;
    table
};

/// Whether any of the 8 bytes in `word` is [`SPECIAL`]. Exact (no false
/// answers either way): each test is the classic "has a byte less than n".
fn word_is_special(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let less_than = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let zero = |x: u64| less_than(x, 1);
    (less_than(word, 0x20)
        | zero(word ^ (ONES * u64::from(b'"')))
        | zero(word ^ (ONES * u64::from(b'\\')))
        | zero(word ^ (ONES * 0x7f))
        | zero(word ^ (ONES * 0xc2)))
        != 0
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether no byte of `bytes` needs an escape, tested eight at a time.
fn is_clean(bytes: &[u8]) -> bool {
    let word = |chunk: &[u8]| {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        u64::from_le_bytes(word)
    };
    if bytes.len() < 8 {
        // Shifted in from a word of letters: no call to memcpy for a short key.
        let padded = bytes.iter().fold(u64::from_le_bytes([b'a'; 8]), |w, &b| (w << 8) | u64::from(b));
        return !word_is_special(padded);
    }
    let mut chunks = bytes.chunks_exact(8);
    if chunks.by_ref().any(|chunk| word_is_special(word(chunk))) {
        return false;
    }
    // The last eight bytes, overlapping what was tested, cover the rest.
    chunks.remainder().is_empty() || !word_is_special(word(&bytes[bytes.len() - 8..]))
}

impl Writer {
    /// Makes room for `n` more bytes: in this piece while it is small,
    /// else in a new one.
    #[inline]
    fn room(&mut self, n: usize) {
        if self.out.capacity() - self.out.len() < n {
            self.grow(n);
        }
    }

    #[cold]
    fn grow(&mut self, n: usize) {
        if self.out.len() >= CHUNK / 2 {
            let full = std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK.max(n)));
            self.done.push(full);
        } else {
            self.out.reserve(n);
        }
    }

    fn string(&mut self, s: &str) {
        let bytes = s.as_bytes();
        // Room for the quotes and a comma, colon or bracket around them.
        self.room(bytes.len() + 4);
        self.out.push(b'"');
        if is_clean(bytes) {
            self.out.extend_from_slice(bytes);
        } else {
            self.escaped(bytes);
        }
        self.out.push(b'"');
    }

    /// A string that needs an escape, byte by byte.
    fn escaped(&mut self, bytes: &[u8]) {
        // `run` starts the bytes not yet copied; `i` is the next to look at.
        let mut run = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if !SPECIAL[b as usize] {
                i += 1;
                continue;
            }
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                _ => b"",
            };
            // The code point written as `\u00XX`: a control, DEL, or U+0080..U+009F
            // (0xC2 and its second byte; other 0xC2 characters stay as they are).
            let (code, len) = match b {
                0xc2 => match bytes.get(i + 1) {
                    Some(&next @ 0x80..=0x9f) => (next, 2),
                    _ => {
                        i += 1;
                        continue;
                    }
                },
                _ => (b, 1),
            };
            self.out.extend_from_slice(&bytes[run..i]);
            if short.is_empty() {
                self.out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(code >> 4) as usize],
                    HEX[(code & 0xf) as usize],
                ]);
            } else {
                self.out.extend_from_slice(short);
            }
            i += len;
            run = i;
        }
        self.out.extend_from_slice(&bytes[run..]);
    }

    fn unsigned(&mut self, mut n: u64) {
        self.room(24);
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&digits[at..]);
    }

    fn signed(&mut self, n: i64) {
        if n < 0 {
            self.out.push(b'-');
        }
        self.unsigned(n.unsigned_abs());
    }
}

/// A sequence or an object being written: whether a comma goes before the next item.
pub struct Compound<'a> {
    writer: &'a mut Writer,
    first: bool,
    close: &'static [u8],
}

impl Compound<'_> {
    fn comma(&mut self) {
        self.writer.room(8);
        if !self.first {
            self.writer.out.push(b',');
        }
        self.first = false;
    }

    fn key(&mut self, key: &str) {
        self.comma();
        self.writer.string(key);
        self.writer.out.push(b':');
    }

    fn end(self) -> Result {
        self.writer.room(4);
        self.writer.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = ser::Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.signed(v.into());
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.signed(v.into());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.signed(v.into());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.signed(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.unsigned(v.into());
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.unsigned(v.into());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.unsigned(v.into());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.unsigned(v);
        Ok(())
    }
    fn serialize_f32(self, _v: f32) -> Result {
        Err(Unsupported)
    }
    fn serialize_f64(self, _v: f64) -> Result {
        Err(Unsupported)
    }
    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.out.push(b'{');
        self.string(variant);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>> {
        self.out.push(b'[');
        Ok(Compound { writer: self, first: true, close: b"]" })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>> {
        self.out.push(b'{');
        Ok(Compound { writer: self, first: true, close: b"}" })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.comma();
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.comma();
        key.serialize(KeyWriter(&mut *self.writer))?;
        self.writer.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.key(key);
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

/// A map key: only a string is written here.
struct KeyWriter<'a>(&'a mut Writer);

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<(), Unsupported>;
    type SerializeTuple = ser::Impossible<(), Unsupported>;
    type SerializeTupleStruct = ser::Impossible<(), Unsupported>;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = ser::Impossible<(), Unsupported>;
    type SerializeStruct = ser::Impossible<(), Unsupported>;
    type SerializeStructVariant = ser::Impossible<(), Unsupported>;

    fn serialize_str(self, v: &str) -> Result {
        self.0.string(v);
        Ok(())
    }
    fn serialize_bool(self, _v: bool) -> Result {
        Err(Unsupported)
    }
    fn serialize_i8(self, _v: i8) -> Result {
        Err(Unsupported)
    }
    fn serialize_i16(self, _v: i16) -> Result {
        Err(Unsupported)
    }
    fn serialize_i32(self, _v: i32) -> Result {
        Err(Unsupported)
    }
    fn serialize_i64(self, _v: i64) -> Result {
        Err(Unsupported)
    }
    fn serialize_u8(self, _v: u8) -> Result {
        Err(Unsupported)
    }
    fn serialize_u16(self, _v: u16) -> Result {
        Err(Unsupported)
    }
    fn serialize_u32(self, _v: u32) -> Result {
        Err(Unsupported)
    }
    fn serialize_u64(self, _v: u64) -> Result {
        Err(Unsupported)
    }
    fn serialize_f32(self, _v: f32) -> Result {
        Err(Unsupported)
    }
    fn serialize_f64(self, _v: f64) -> Result {
        Err(Unsupported)
    }
    fn serialize_char(self, _v: char) -> Result {
        Err(Unsupported)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result {
        Err(Unsupported)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result {
        Err(Unsupported)
    }
    fn serialize_unit(self) -> Result {
        Err(Unsupported)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(Unsupported)
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, _variant: &'static str) -> Result {
        Err(Unsupported)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, _value: &T) -> Result {
        Err(Unsupported)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(Unsupported)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Unsupported)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::to_vec;

    /// What `Ui::json` wrote before this writer: serde_json, then json_safe.
    fn reference<T: Serialize>(value: &T) -> String {
        let text = serde_json::to_string(value).expect("serialises");
        super::super::json_safe(&text).into_owned()
    }

    fn same<T: Serialize>(value: &T) {
        let ours = to_vec(value).expect("supported");
        assert_eq!(String::from_utf8(ours).expect("UTF-8"), reference(value));
    }

    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Todo,
        Done,
    }

    #[derive(Serialize)]
    struct Inner<'a> {
        path: &'a str,
        kind: Kind,
    }

    #[derive(Serialize)]
    struct Body<'a> {
        name: String,
        line: usize,
        small: u8,
        negative: i64,
        flag: bool,
        none: Option<&'a str>,
        some: Option<Option<String>>,
        some_none: Option<Option<String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u32>,
        list: Vec<&'a str>,
        empty: Vec<u32>,
        inner: Vec<Inner<'a>>,
        map: BTreeMap<String, u32>,
        tuple: (u32, &'a str),
        unit: (),
        path: &'a std::path::Path,
    }

    #[derive(Serialize)]
    struct Document<'a, T: Serialize> {
        version: u32,
        #[serde(flatten)]
        body: &'a T,
    }

    fn body(text: &str) -> Body<'_> {
        Body {
            name: text.to_string(),
            line: usize::MAX,
            small: 0,
            negative: i64::MIN,
            flag: true,
            none: None,
            some: Some(Some(text.to_string())),
            some_none: Some(None),
            skipped: None,
            list: vec![text, "", "plain"],
            empty: Vec::new(),
            inner: vec![Inner { path: text, kind: Kind::Todo }, Inner { path: "b", kind: Kind::Done }],
            map: [(text.to_string(), 1), ("k".to_string(), 2)].into_iter().collect(),
            tuple: (7, text),
            unit: (),
            path: std::path::Path::new("/tmp/x y"),
        }
    }

    #[test]
    fn writes_what_serde_json_and_json_safe_write() {
        for text in [
            "",
            "plain",
            "a \"quoted\" \\ back\\slash",
            "controls \u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1b}\u{1f} end",
            "del \u{7f} c1 \u{80}\u{85}\u{9f} not c1 \u{a0}\u{c2}\u{c0}",
            "Ā¢ é 😀 中文 \u{2028}",
            "exactly8",
            "sixteen bytes!!!",
            "seventeen bytes!!",
            "\u{80}\u{80}\u{80}\u{80}\u{80}",
            "T00001 [P] Implement part 1 in `src/p1/f1.rs` — done",
        ] {
            same(&body(text));
            same(&Document { version: 1, body: &body(text) });
        }
    }

    #[test]
    fn leaves_floats_and_bytes_to_serde_json() {
        assert!(to_vec(&1.5f64).is_err());
        assert!(to_vec(&Bytes).is_err());
        let mut map = BTreeMap::new();
        map.insert(1u32, 2u32);
        assert!(to_vec(&map).is_err(), "serde_json quotes integer keys; left to it");
    }

    /// Bytes, which serde_json writes as a list of numbers.
    struct Bytes;
    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(b"x")
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_string_is_written_as_before(text in "\\PC*|[\\x00-\\x7f\\u{80}-\\u{a0}]{0,40}", n in any::<u64>(), i in any::<i32>()) {
            let value = (text.as_str(), n, i, vec![text.clone(), text.clone()]);
            let ours = String::from_utf8(to_vec(&value).expect("supported")).expect("UTF-8");
            prop_assert_eq!(ours, reference(&value));
        }
    }
}
