//! Checks of a [`DomainDef`]: what libvirt refuses for this subset, what
//! would make QEMU misbehave, and what could not be written back as valid
//! XML (the schema's patterns, characters XML cannot carry). Runs on every
//! parsed document and on definitions built in code.

mod acpi;
mod aliases;
mod devices;
mod extras;
mod machine;
mod memdev;
pub(crate) mod pci;
mod peripherals;
mod smartcard;
mod tuning;

use super::parse::check_metadata;
use super::units::{MAX_KIB, parse_cpuset};
use super::xmlwrite::is_xml_char;
use super::{
    DomainDef, LifecycleAction, MAX_NAME_BYTES, MAX_XML_BYTES, MAX_XML_DEPTH, ModelError,
    ModelErrorKind,
};

type R = Result<(), ModelError>;

fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::new(ModelErrorKind::Invalid, msg)
}

fn unsupported(msg: impl Into<String>) -> ModelError {
    ModelError::new(ModelErrorKind::Unsupported, msg)
}

/// A value quoted for a message, shortened and with controls escaped.
fn show(v: &str) -> String {
    let mut s: String = v.chars().take(64).collect();
    if v.chars().count() > 64 {
        s.push_str("...");
    }
    s.escape_debug().to_string()
}

/// Refuses characters XML cannot carry, and control characters unless
/// `controls_ok` (free text such as a description keeps its line ends).
fn check_chars(what: &str, v: &str, controls_ok: bool) -> R {
    if let Some(c) = v.chars().find(|c| !is_xml_char(*c)) {
        return Err(invalid(format!(
            "{what} contains the character U+{:04X}, which XML cannot carry",
            c as u32
        )));
    }
    if !controls_ok && v.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} '{}' contains a control character",
            show(v)
        )));
    }
    Ok(())
}

/// A host path: absolute, no control characters.
fn check_path(what: &str, p: &str) -> R {
    check_chars(what, p, false)?;
    if !p.starts_with('/') {
        return Err(invalid(format!(
            "{what} '{}' is not an absolute path",
            show(p)
        )));
    }
    Ok(())
}

/// Whether every character of `s` is in `extra` or ASCII alphanumeric, and
/// `s` is not empty: the schema's simple name patterns.
fn pattern(s: &str, extra: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// An IPv4 address as the schema writes one: four decimal parts 0-255
/// without leading zeros.
fn schema_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// An IPv6 address as the schema's pattern admits one: hex groups of 1-4
/// digits, at most one `::` standing for at least one group, an IPv4 tail
/// only right after `::` or after six groups.
fn schema_ipv6(s: &str) -> bool {
    fn groups(part: &str) -> Option<Vec<&str>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        let g: Vec<&str> = part.split(':').collect();
        let hex =
            |x: &&str| !x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_hexdigit());
        g.iter().all(hex).then_some(g)
    }
    let (head, v4) = match s.rfind(':') {
        Some(i) if s[i + 1..].contains('.') => (&s[..=i], Some(&s[i + 1..])),
        _ => (s, None),
    };
    if v4.is_some_and(|t| !schema_ipv4(t)) {
        return false;
    }
    match head.split_once("::") {
        None => {
            let body = if v4.is_some() {
                head.strip_suffix(':')
            } else {
                Some(head)
            };
            let Some(g) = body.and_then(groups) else {
                return false;
            };
            g.len() == if v4.is_some() { 6 } else { 8 }
        }
        Some((before, after)) => {
            let after = if v4.is_some() {
                after.strip_suffix(':').unwrap_or(after)
            } else {
                after
            };
            let (Some(b), Some(a)) = (groups(before), groups(after)) else {
                return false;
            };
            if after.contains("::") {
                return false;
            }
            match v4 {
                None => b.len() + a.len() <= 7,
                Some(_) => (b.is_empty() && a.len() <= 5) || (a.is_empty() && b.len() <= 5),
            }
        }
    }
}

/// An IP address the schema's `ipAddr` pattern admits.
fn schema_ip(s: &str) -> bool {
    schema_ipv4(s) || schema_ipv6(s)
}

/// Validates a definition.
pub(crate) fn validate(def: &DomainDef) -> Result<(), ModelError> {
    identity(def)?;
    resources(def)?;
    machine::validate(def)?;
    if def.on_poweroff == LifecycleAction::Restart && def.on_reboot == LifecycleAction::Destroy {
        return Err(unsupported(
            "on_reboot 'destroy' together with on_poweroff 'restart' is not supported",
        ));
    }
    devices::validate(def)?;
    acpi::validate(def)?;
    aliases::validate(def)?;
    smartcard::validate(def)?;
    tuning::validate(def)?;
    memdev::validate(def)?;
    pci::validate(def)?;
    // Every valid definition must read back, so its text must fit the
    // reader's limits (escaping can make it longer than the input was).
    let len = super::format::format_domain(def).len();
    if len > MAX_XML_BYTES {
        return Err(ModelError::new(
            ModelErrorKind::TooLarge,
            format!(
                "the domain's XML would be {len} bytes, more than the limit of {MAX_XML_BYTES}"
            ),
        ));
    }
    Ok(())
}

fn identity(def: &DomainDef) -> R {
    let n = &def.name;
    if n.is_empty() {
        return Err(invalid("domain name is empty"));
    }
    check_chars("domain name", n, false)?;
    if n.contains('/') {
        return Err(invalid(format!("domain name '{}' contains '/'", show(n))));
    }
    if n.starts_with('.') {
        return Err(invalid(format!(
            "domain name '{}' starts with '.'",
            show(n)
        )));
    }
    if n.len() > MAX_NAME_BYTES {
        return Err(invalid(format!(
            "domain name is {} bytes long, more than {MAX_NAME_BYTES}",
            n.len()
        )));
    }
    if let Some(t) = &def.title {
        if t.is_empty() {
            return Err(invalid("domain title is empty"));
        }
        check_chars("domain title", t, false)?;
    }
    if let Some(d) = &def.description {
        if d.is_empty() {
            return Err(invalid("domain description is empty"));
        }
        check_chars("domain description", d, true)?;
    }
    if let Some(m) = &def.metadata {
        check_chars("metadata", m, true)?;
        check_metadata(m, MAX_XML_DEPTH - 1).map_err(invalid)?;
    }
    Ok(())
}

fn resources(def: &DomainDef) -> R {
    if def.memory_kib < 1024 {
        return Err(invalid(format!(
            "memory size {} KiB is below the minimum of 1 MiB",
            def.memory_kib
        )));
    }
    if def.memory_kib > MAX_KIB {
        return Err(invalid(format!(
            "memory size {} KiB is too large",
            def.memory_kib
        )));
    }
    if let Some(cur) = def.current_memory_kib {
        if cur == 0 {
            return Err(invalid("current memory is 0 KiB"));
        }
        if cur > def.memory_kib {
            return Err(invalid(format!(
                "current memory '{cur}k' exceeds maximum '{}k'",
                def.memory_kib
            )));
        }
    }
    let v = &def.vcpu;
    if v.max == 0 || v.max > u32::from(u16::MAX) {
        return Err(invalid(format!(
            "vcpu count {} is out of range 1-{}",
            v.max,
            u16::MAX
        )));
    }
    if let Some(cur) = v.current
        && (cur == 0 || cur > v.max)
    {
        return Err(invalid(format!(
            "current vcpu count {cur} must be between 1 and the maximum {}",
            v.max
        )));
    }
    if let Some(set) = &v.cpuset {
        match parse_cpuset(set) {
            None => return Err(invalid(format!("Failed to parse bitmap '{}'", show(set)))),
            Some(cpus) if cpus.is_empty() => {
                return Err(invalid(format!(
                    "Invalid value of 'cpuset': '{}' names no CPU",
                    show(set)
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_follow_the_schema() {
        for ok in [
            "127.0.0.1",
            "0.0.0.0",
            "::",
            "::1",
            "fe80::1",
            "2001:1:2:3:4:5:1234:1234",
            "1::2:3:4:5:6:7",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2::1.2.3.4",
        ] {
            assert!(schema_ip(ok), "{ok}");
        }
        for bad in [
            "",
            "1.2.3",
            "01.2.3.4",
            "256.1.1.1",
            "1::2::3",
            ":1::2",
            "1:2:3:4:5:6:7:8:9",
            "1:2::3:1.2.3.4",
            "12345::",
            "localhost",
            "1:2:3:4:5:6:7::8",
        ] {
            assert!(!schema_ip(bad), "{bad}");
        }
    }
}
