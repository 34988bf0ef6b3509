//! XDR (RFC 4506) as libvirt's RPC uses it, written by hand: a
//! big-endian encoder and a bounds-checked decoder, and the [`Xdr`]
//! trait that each wire value implements (through [`xdr_struct!`] for
//! the protocol's structs).
//!
//! The quirks that matter here: every item takes a multiple of 4 bytes,
//! so `char`, `unsigned char` and `short` take a whole 4-byte word (and a
//! `char x[N]` array takes N words, one per character); a string or
//! variable opaque is a 4-byte length, the bytes, and zero padding to 4;
//! a fixed opaque (`opaque uuid[16]`) has no length; an optional value
//! (`T *`) is a 4-byte 0 or 1 then the value; a `bool` is a 4-byte 0 or 1.
//!
//! The decoder never allocates more than the input can hold: a count or
//! length is checked against the bytes left before anything is reserved,
//! so a hostile length costs nothing.

use crate::driver::error::{Error, ErrorCode, Result};

/// The protocol error for `what`.
pub(crate) fn malformed(what: impl Into<String>) -> Error {
    Error::new(ErrorCode::Protocol, what)
}

/// Writes XDR.
#[derive(Debug, Default)]
pub struct Enc {
    /// What has been written.
    pub buf: Vec<u8>,
}

impl Enc {
    /// An empty encoder.
    pub fn new() -> Enc {
        Enc::default()
    }

    /// A signed 4-byte integer.
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// An unsigned 4-byte integer.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A signed 8-byte integer (`hyper`).
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// An unsigned 8-byte integer (`unsigned hyper`).
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Bytes with no length, padded to 4 (a fixed opaque, or a raw
    /// stream payload's body is not padded: see [`Enc::raw`]).
    pub fn fixed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.pad(bytes.len());
    }

    /// A length, the bytes, padding (a string or a variable opaque).
    pub fn opaque(&mut self, bytes: &[u8]) {
        self.u32(bytes.len() as u32);
        self.fixed(bytes);
    }

    /// Bytes as they are, with no length and no padding.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn pad(&mut self, len: usize) {
        let pad = (4 - len % 4) % 4;
        self.buf.extend_from_slice(&[0u8; 3][..pad]);
    }
}

/// Reads XDR from a byte slice.
#[derive(Debug)]
pub struct Dec<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    /// A decoder over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Dec<'a> {
        Dec { bytes, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self, what: &str) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(malformed(format!("{n} stray bytes after {what}"))),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(malformed(format!(
                "XDR cut off: {n} bytes wanted at offset {}, {} left",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn word(&mut self) -> Result<[u8; 4]> {
        let s = self.take(4)?;
        Ok([s[0], s[1], s[2], s[3]])
    }

    /// A signed 4-byte integer.
    pub fn i32(&mut self) -> Result<i32> {
        self.word().map(i32::from_be_bytes)
    }

    /// An unsigned 4-byte integer.
    pub fn u32(&mut self) -> Result<u32> {
        self.word().map(u32::from_be_bytes)
    }

    /// A signed 8-byte integer.
    pub fn i64(&mut self) -> Result<i64> {
        let s = self.take(8)?;
        Ok(i64::from_be_bytes(s.try_into().expect("8 bytes")))
    }

    /// An unsigned 8-byte integer.
    pub fn u64(&mut self) -> Result<u64> {
        let s = self.take(8)?;
        Ok(u64::from_be_bytes(s.try_into().expect("8 bytes")))
    }

    /// `n` bytes with no length, then their padding (which must be zero,
    /// as RFC 4506 says).
    pub fn fixed(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self.take(n)?;
        let pad = (4 - n % 4) % 4;
        if self.take(pad)?.iter().any(|b| *b != 0) {
            return Err(malformed("XDR padding is not zero"));
        }
        Ok(s)
    }

    /// A length, the bytes, padding; at most `max` bytes.
    pub fn opaque(&mut self, max: usize) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(malformed(format!(
                "XDR length {n} is over the limit of {max}"
            )));
        }
        self.fixed(n)
    }

    /// A count of items, each at least 4 bytes on the wire, checked
    /// against `max` and against the bytes left (so nothing is reserved
    /// for items the input cannot hold).
    pub fn count(&mut self, max: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n > max || n > self.remaining() / 4 {
            return Err(malformed(format!(
                "XDR array of {n} items: over the limit of {max} or longer than the {} bytes left",
                self.remaining()
            )));
        }
        Ok(n)
    }

    /// What is left, as it is (a raw stream payload).
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        s
    }
}

/// A value with an XDR encoding.
pub trait Xdr: Sized {
    /// Appends the encoding.
    fn put(&self, e: &mut Enc);
    /// Reads one value.
    fn get(d: &mut Dec<'_>) -> Result<Self>;
}

/// Encodes `v` alone.
pub fn to_bytes<T: Xdr>(v: &T) -> Vec<u8> {
    let mut e = Enc::new();
    v.put(&mut e);
    e.buf
}

/// Decodes a body that must hold exactly one `T`.
pub fn from_bytes<T: Xdr>(bytes: &[u8], what: &str) -> Result<T> {
    let mut d = Dec::new(bytes);
    let v = T::get(&mut d).map_err(|e| malformed(format!("malformed {what}: {}", e.message)))?;
    d.finish(what)?;
    Ok(v)
}

/// The longest string libvirt sends (`REMOTE_STRING_MAX`, 4 MiB).
pub const STRING_MAX: usize = 4 * 1024 * 1024;

impl Xdr for () {
    fn put(&self, _: &mut Enc) {}
    fn get(_: &mut Dec<'_>) -> Result<()> {
        Ok(())
    }
}

impl Xdr for i32 {
    fn put(&self, e: &mut Enc) {
        e.i32(*self)
    }
    fn get(d: &mut Dec<'_>) -> Result<i32> {
        d.i32()
    }
}

impl Xdr for u32 {
    fn put(&self, e: &mut Enc) {
        e.u32(*self)
    }
    fn get(d: &mut Dec<'_>) -> Result<u32> {
        d.u32()
    }
}

impl Xdr for i64 {
    fn put(&self, e: &mut Enc) {
        e.i64(*self)
    }
    fn get(d: &mut Dec<'_>) -> Result<i64> {
        d.i64()
    }
}

impl Xdr for u64 {
    fn put(&self, e: &mut Enc) {
        e.u64(*self)
    }
    fn get(d: &mut Dec<'_>) -> Result<u64> {
        d.u64()
    }
}

/// `unsigned char`: one byte, in a whole 4-byte word.
impl Xdr for u8 {
    fn put(&self, e: &mut Enc) {
        e.u32(u32::from(*self))
    }
    fn get(d: &mut Dec<'_>) -> Result<u8> {
        let v = d.u32()?;
        u8::try_from(v).map_err(|_| malformed(format!("unsigned char out of range: {v}")))
    }
}

/// `char`: one signed byte, in a whole 4-byte word (sign-extended).
impl Xdr for i8 {
    fn put(&self, e: &mut Enc) {
        e.i32(i32::from(*self))
    }
    fn get(d: &mut Dec<'_>) -> Result<i8> {
        let v = d.i32()?;
        i8::try_from(v).map_err(|_| malformed(format!("char out of range: {v}")))
    }
}

/// `unsigned short`: two bytes, in a whole 4-byte word.
impl Xdr for u16 {
    fn put(&self, e: &mut Enc) {
        e.u32(u32::from(*self))
    }
    fn get(d: &mut Dec<'_>) -> Result<u16> {
        let v = d.u32()?;
        u16::try_from(v).map_err(|_| malformed(format!("unsigned short out of range: {v}")))
    }
}

/// `bool`: 0 or 1 in a 4-byte word.
impl Xdr for bool {
    fn put(&self, e: &mut Enc) {
        e.u32(u32::from(*self))
    }
    fn get(d: &mut Dec<'_>) -> Result<bool> {
        match d.u32()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(malformed(format!("XDR bool of {v}"))),
        }
    }
}

/// `remote_nonnull_string`: UTF-8 text of at most [`STRING_MAX`] bytes.
impl Xdr for String {
    fn put(&self, e: &mut Enc) {
        e.opaque(self.as_bytes())
    }
    fn get(d: &mut Dec<'_>) -> Result<String> {
        let bytes = d.opaque(STRING_MAX)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| malformed("a string is not UTF-8"))
    }
}

/// `T *`: absent or present.
impl<T: Xdr> Xdr for Option<T> {
    fn put(&self, e: &mut Enc) {
        match self {
            None => e.u32(0),
            Some(v) => {
                e.u32(1);
                v.put(e);
            }
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<Option<T>> {
        match d.u32()? {
            0 => Ok(None),
            1 => Ok(Some(T::get(d)?)),
            v => Err(malformed(format!("XDR optional flag of {v}"))),
        }
    }
}

/// `T items<>`: a count and the items. The count is bounded by the bytes
/// left (each item takes at least 4).
impl<T: Xdr> Xdr for Vec<T> {
    fn put(&self, e: &mut Enc) {
        e.u32(self.len() as u32);
        for v in self {
            v.put(e);
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<Vec<T>> {
        let n = d.count(usize::MAX)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::get(d)?);
        }
        Ok(out)
    }
}

/// `opaque uuid[16]`: a UUID's 16 bytes, no length.
impl Xdr for uuid::Uuid {
    fn put(&self, e: &mut Enc) {
        e.fixed(self.as_bytes())
    }
    fn get(d: &mut Dec<'_>) -> Result<uuid::Uuid> {
        let b = d.fixed(16)?;
        Ok(uuid::Uuid::from_bytes(b.try_into().expect("16 bytes")))
    }
}

/// `opaque data<>`: bytes with a length.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Opaque(pub Vec<u8>);

impl Xdr for Opaque {
    fn put(&self, e: &mut Enc) {
        e.opaque(&self.0)
    }
    fn get(d: &mut Dec<'_>) -> Result<Opaque> {
        d.opaque(usize::MAX).map(|b| Opaque(b.to_vec()))
    }
}

/// `char text<N>` or `char text[N]`: characters, each in a 4-byte word
/// (as rpcgen encodes `char` arrays). `FIXED` means `[N]`: exactly N
/// characters, NUL-padded, no count (read up to the first NUL);
/// otherwise `<N>`, a count first, the characters kept as they are (libvirt
/// counts a C string's terminating NUL in).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chars<const N: usize, const FIXED: bool>(pub String);

impl<const N: usize, const FIXED: bool> Chars<N, FIXED> {
    /// The text without a terminating NUL.
    pub fn text(&self) -> &str {
        self.0.trim_end_matches('\0')
    }
}

impl<const N: usize, const FIXED: bool> Xdr for Chars<N, FIXED> {
    fn put(&self, e: &mut Enc) {
        let bytes = self.0.as_bytes();
        if FIXED {
            for i in 0..N {
                e.i32(i32::from(bytes.get(i).copied().unwrap_or(0) as i8));
            }
        } else {
            let n = bytes.len().min(N);
            e.u32(n as u32);
            for b in &bytes[..n] {
                e.i32(i32::from(*b as i8));
            }
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        let n = if FIXED { N } else { d.count(N)? };
        let mut bytes = Vec::with_capacity(n.min(d.remaining() / 4));
        for _ in 0..n {
            let c = d.i32()?;
            let b = i8::try_from(c).map_err(|_| malformed(format!("char out of range: {c}")))?;
            bytes.push(b as u8);
        }
        // A fixed array is a C string in a buffer: it ends at the first NUL.
        if FIXED && let Some(end) = bytes.iter().position(|b| *b == 0) {
            bytes.truncate(end);
        }
        String::from_utf8(bytes)
            .map(Chars)
            .map_err(|_| malformed("a char array is not UTF-8"))
    }
}

/// Declares a struct whose XDR encoding is its fields in order, as
/// rpcgen lays out a `struct` of the protocol files.
macro_rules! xdr_struct {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty),* $(,)? }
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Eq, Default)]
            #[allow(missing_docs)]
            pub struct $name { $($(#[$fmeta])* pub $field: $ty,)* }

            impl $crate::transport::libvirt::xdr::Xdr for $name {
                fn put(&self, e: &mut $crate::transport::libvirt::xdr::Enc) {
                    let _ = &e;
                    $(self.$field.put(e);)*
                }
                fn get(d: &mut $crate::transport::libvirt::xdr::Dec<'_>) -> $crate::driver::error::Result<Self> {
                    let _ = &d;
                    Ok($name { $($field: <$ty as $crate::transport::libvirt::xdr::Xdr>::get(d)?,)* })
                }
            }
        )*
    };
}
pub(crate) use xdr_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_padded_and_counted() {
        assert_eq!(to_bytes(&"abcde".to_string()), b"\0\0\0\x05abcde\0\0\0");
        assert_eq!(to_bytes(&String::new()), b"\0\0\0\0");
        assert_eq!(
            from_bytes::<String>(b"\0\0\0\x02hi\0\0", "s").unwrap(),
            "hi"
        );
        // Non-zero padding, a cut string, a length past the end.
        assert!(from_bytes::<String>(b"\0\0\0\x02hi\0\x01", "s").is_err());
        assert!(from_bytes::<String>(b"\0\0\0\x02h", "s").is_err());
        assert!(from_bytes::<String>(b"\xff\xff\xff\xff", "s").is_err());
    }

    #[test]
    fn small_integers_take_a_word() {
        assert_eq!(to_bytes(&7u8), [0, 0, 0, 7]);
        assert_eq!(to_bytes(&0x102u16), [0, 0, 1, 2]);
        assert!(from_bytes::<u8>(&[0, 0, 1, 0], "u8").is_err());
        assert_eq!(to_bytes(&-1i8), [0xff; 4]);
        assert_eq!(from_bytes::<i8>(&[0xff; 4], "i8").unwrap(), -1);
        assert!(from_bytes::<i8>(&[0, 0, 0, 0x80], "i8").is_err());
        assert_eq!(to_bytes(&true), [0, 0, 0, 1]);
        assert!(from_bytes::<bool>(&[0, 0, 0, 2], "bool").is_err());
    }

    #[test]
    fn char_arrays_take_a_word_per_character() {
        let fixed: Chars<4, true> = Chars("ab".into());
        assert_eq!(
            to_bytes(&fixed),
            [0, 0, 0, 97, 0, 0, 0, 98, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            from_bytes::<Chars<4, true>>(&to_bytes(&fixed), "c").unwrap(),
            fixed
        );
        let var: Chars<8, false> = Chars("x".into());
        assert_eq!(to_bytes(&var), [0, 0, 0, 1, 0, 0, 0, 120]);
        assert!(from_bytes::<Chars<0, false>>(&to_bytes(&var), "c").is_err());
    }

    #[test]
    fn a_huge_count_reserves_nothing() {
        let err = from_bytes::<Vec<u32>>(&[0xff, 0xff, 0xff, 0xff], "list").unwrap_err();
        assert!(err.message.contains("longer than"), "{}", err.message);
    }
}
