//! Memory sizes with libvirt's units, and libvirt's CPU list syntax.
//!
//! Sizes follow libvirt's `virScaleInteger`: `b`/`bytes` are bytes; a
//! single letter or a letter with `iB` is a power of 1024 (`k`, `KiB`,
//! `M`, `MiB`, ... up to `E`/`EiB`); a letter with `B` is a power of 1000
//! (`KB`, `MB`, ...). Letters are case-insensitive as in libvirt. A size
//! is stored in KiB, rounding bytes up to a whole KiB, as libvirt does.

/// The largest size in bytes libvirt accepts (`LLONG_MAX`).
const MAX_BYTES: u64 = i64::MAX as u64;

/// The largest size in KiB that survives a round trip through libvirt's
/// reader (it refuses `KiB >= ceil(LLONG_MAX / 1024)`).
pub(crate) const MAX_KIB: u64 = MAX_BYTES.div_ceil(1024) - 1;

/// Why a size could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SizeError {
    /// The number is not a plain unsigned decimal.
    BadNumber,
    /// The unit is not one libvirt knows.
    UnknownUnit,
    /// The size does not fit.
    Overflow,
}

/// Bytes per `unit`, or `None` for a unit libvirt does not know.
pub(crate) fn unit_bytes(unit: &str) -> Option<u64> {
    let lower = unit.to_ascii_lowercase();
    if matches!(lower.as_str(), "b" | "byte" | "bytes") {
        return Some(1);
    }
    let mut chars = lower.chars();
    let letter = chars.next()?;
    let base: u64 = match chars.as_str() {
        "" | "ib" => 1024,
        "b" => 1000,
        _ => return None,
    };
    let power = match letter {
        'k' => 1,
        'm' => 2,
        'g' => 3,
        't' => 4,
        'p' => 5,
        'e' => 6,
        _ => return None,
    };
    Some(base.pow(power))
}

/// Reads a decimal `u64` the way the schema writes one: ASCII digits,
/// surrounding whitespace allowed.
pub(crate) fn parse_decimal(value: &str) -> Option<u64> {
    let v = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Converts `value` in `unit` (default KiB) to KiB, saying why it failed.
pub(crate) fn size_to_kib(value: &str, unit: Option<&str>) -> Result<u64, SizeError> {
    let n = parse_decimal(value).ok_or(SizeError::BadNumber)?;
    let scale = match unit {
        None => 1024,
        Some(u) => unit_bytes(u).ok_or(SizeError::UnknownUnit)?,
    };
    let bytes = n.checked_mul(scale).ok_or(SizeError::Overflow)?;
    if bytes > MAX_BYTES {
        return Err(SizeError::Overflow);
    }
    let kib = bytes.div_ceil(1024);
    if kib > MAX_KIB {
        return Err(SizeError::Overflow);
    }
    Ok(kib)
}

/// Converts `value` in `unit` to KiB, as libvirt reads `<memory unit=...>`:
/// no unit means KiB, bytes round up to a whole KiB. `None` when the
/// number, the unit or the size is not acceptable.
pub fn parse_memory(value: &str, unit: Option<&str>) -> Option<u64> {
    size_to_kib(value, unit).ok()
}

/// The highest CPU number a cpuset may name, plus one (libvirt's
/// `VIR_DOMAIN_CPUMASK_LEN`).
pub(crate) const CPUSET_LEN: u64 = 16384;

/// CPUs as libvirt writes a CPU list (`virBitmapFormat`): ascending runs
/// as `A-B`, joined by commas; the inverse of [`parse_cpuset`].
pub fn format_cpuset(cpus: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &c in cpus {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == c => *end = c,
            _ => runs.push((c, c)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads libvirt's CPU list syntax (`0-3,^2,8`) into the CPUs it names, in
/// ascending order. `None` when it is not well-formed, names a CPU at or
/// past [`CPUSET_LEN`], or has a range whose start is after its end. The
/// syntax accepted is exactly the schema's, so a cpuset kept as written is
/// schema-valid.
pub fn parse_cpuset(s: &str) -> Option<Vec<u32>> {
    if s.is_empty() {
        return None;
    }
    let mut set = vec![false; CPUSET_LEN as usize];
    let mut negated = Vec::new();
    for item in s.split(',') {
        if let Some(rest) = item.strip_prefix('^') {
            negated.push(cpu_number(rest)?);
            continue;
        }
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (cpu_number(a)?, cpu_number(b)?);
                if a > b {
                    return None;
                }
                for c in a..=b {
                    set[c as usize] = true;
                }
            }
            None => set[cpu_number(item)? as usize] = true,
        }
    }
    for c in negated {
        set[c as usize] = false;
    }
    Some(
        set.iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .map(|(i, _)| i as u32)
            .collect(),
    )
}

fn cpu_number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = s.parse().ok()?;
    (n < CPUSET_LEN).then_some(n as u32)
}

/// Days since 1970-01-01 as the (year, month, day) of the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DDTHH:MM:SS` of a moment given in seconds since the epoch,
/// in UTC.
pub fn utc_datetime(secs: i64) -> String {
    let rest = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

/// The moment `YYYY-MM-DDTHH:MM:SS` (UTC, as libvirt writes
/// `passwdValidTo`) in seconds since the epoch; `None` when malformed.
pub fn parse_utc_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &s[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    // A day the month lacks (2026-02-30) does not come back the same.
    (utc_datetime(secs) == s).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_read_back_as_written() {
        assert_eq!(parse_utc_datetime("1970-01-01T00:00:01"), Some(1));
        assert_eq!(
            parse_utc_datetime("2026-12-05T23:01:02"),
            Some(1_796_511_662)
        );
        assert_eq!(utc_datetime(1_796_511_662), "2026-12-05T23:01:02");
        for bad in [
            "2026-02-30T00:00:00",
            "2026-12-05 23:01:02",
            "2026-13-01T00:00:00",
            "x",
        ] {
            assert_eq!(parse_utc_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn units_scale_like_libvirt() {
        assert_eq!(parse_memory("1", Some("KiB")), Some(1));
        assert_eq!(parse_memory("1", Some("MB")), Some(977));
        assert_eq!(parse_memory("1", Some("b")), Some(1));
        assert_eq!(parse_memory("1", Some("gib")), Some(1024 * 1024));
        assert_eq!(parse_memory("1", Some("xb")), None);
        assert_eq!(parse_memory("-1", None), None);
        assert_eq!(parse_memory("9999999999", Some("EiB")), None);
    }

    #[test]
    fn cpusets_follow_libvirt_syntax() {
        assert_eq!(parse_cpuset("0-3,^2,8"), Some(vec![0, 1, 3, 8]));
        assert_eq!(parse_cpuset("aaa"), None);
        assert_eq!(parse_cpuset("3-1"), None);
        assert_eq!(parse_cpuset("0,"), None);
        assert_eq!(parse_cpuset("16384"), None);
        assert_eq!(parse_cpuset("^1"), Some(vec![]));
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `bytes` in standard base64 with padding (RFC 4648), as libvirt keeps
/// secret values and as virsh's `secret-set-value --base64` takes them.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes of standard base64 text (padding required when the length
/// calls for it, no other characters); `None` when it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    for (i, quad) in t.chunks(4).enumerate() {
        let last = i + 1 == t.len() / 4;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            let v = BASE64.iter().position(|&x| x == c)? as u32;
            n = (n << 6) | v;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod base64_tests {
    use super::{base64_decode, base64_encode};

    #[test]
    fn rfc4648_vectors_both_ways() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), coded);
            assert_eq!(base64_decode(coded).as_deref(), Some(plain.as_bytes()));
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&all)), Some(all));
        for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }
}
