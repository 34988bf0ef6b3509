//! Reading `<launchSecurity>` and `<perf>`.

use super::el::{El, R, invalid, set, unsupported};
use super::optional_text;
use crate::model::{LaunchSecurity, ModelErrorKind, PerfEvent, PerfEventName, Sev};

/// `<launchSecurity type='sev'>`, as libvirt 9.0 reads it. The other
/// types (`s390-pv`, and `sev-snp` of later releases) are refused by
/// name.
pub(super) fn launch_security(e: El) -> R<LaunchSecurity> {
    e.req("type")?;
    if e.get("type") != Some("sev") {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "type",
            "only AMD SEV (type='sev') is supported",
        ));
    }
    e.allow(&["type", "kernelHashes"])?;
    let kernel_hashes = e.yes_no("kernelHashes")?;
    let (mut cbitpos, mut reduced, mut policy) = (None, None, None);
    let (mut dh_cert, mut session) = (None, None);
    for c in e.children()? {
        match c.name() {
            "cbitpos" => set(&mut cbitpos, c, |c| c.u32_text())?,
            "reducedPhysBits" => set(&mut reduced, c, |c| c.u32_text())?,
            "policy" => set(&mut policy, c, hex_policy)?,
            "dhCert" => set(&mut dh_cert, c, optional_text)?,
            "session" => set(&mut session, c, optional_text)?,
            _ => c.skip()?,
        }
    }
    let policy = policy.ok_or_else(|| {
        invalid(format!(
            "failed to get launch security policy: <launchSecurity> at {} has no <policy>",
            e.at()
        ))
    })?;
    // libvirt 9.0 fills these from QEMU's query-sev-capabilities when
    // they are left out; qvirt does not ask QEMU for the host's SEV
    // platform data, so it needs them written.
    let platform = |what: &str| {
        unsupported(format!(
            "<launchSecurity type='sev'> at {} without <{what}> is not supported: qvirt does not read the host's SEV platform data, so give <{what}> (the host's value, as virsh domcapabilities shows it on an SEV host)",
            e.at()
        ))
    };
    Ok(LaunchSecurity::Sev(Sev {
        cbitpos: cbitpos.ok_or_else(|| platform("cbitpos"))?,
        reduced_phys_bits: reduced.ok_or_else(|| platform("reducedPhysBits"))?,
        policy,
        dh_cert: dh_cert.flatten(),
        session: session.flatten(),
        kernel_hashes,
    }))
}

/// `<policy>`: hexadecimal, with or without `0x` (libvirt reads it in
/// base 16).
fn hex_policy(e: El) -> R<u32> {
    let t = e.plain_text()?;
    let s = t.trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(e.bad_text(
            ModelErrorKind::Invalid,
            &t,
            "failed to get launch security policy: expected a hexadecimal number such as 0x0033",
        ));
    }
    u32::from_str_radix(digits, 16).map_err(|_| {
        e.bad_text(
            ModelErrorKind::Invalid,
            &t,
            "the launch security policy is a 32-bit number",
        )
    })
}

/// `<perf>`: each `<event name enabled>` once. `enabled='yes'` is
/// refused by name: qvirt opens no perf counters on QEMU's process, so
/// it would have no `perf.NAME` statistics to give.
pub(super) fn perf(e: El) -> R<Vec<PerfEvent>> {
    e.allow(&[])?;
    let mut out: Vec<PerfEvent> = Vec::new();
    for c in e.children()? {
        if c.name() != "event" {
            c.skip()?;
            continue;
        }
        c.allow(&["name", "enabled"])?;
        c.empty()?;
        let name: PerfEventName = c.req_word("name")?;
        c.req("enabled")?;
        let enabled = c.yes_no("enabled")?.unwrap_or(false);
        if out.iter().any(|p| p.name == name) {
            return Err(invalid(format!(
                "perf event '{}' was already specified, again at {}",
                name.as_str(),
                c.at()
            )));
        }
        if enabled {
            // Noted, and reading goes on to the other events.
            c.read(|c| -> R<()> {
                Err(c.bad_value(
                    ModelErrorKind::Unsupported,
                    "enabled",
                    &format!(
                        "qvirt opens no perf counters on QEMU's process, so it has no perf.{} statistics to give; enabled='no' is accepted",
                        name.as_str()
                    ),
                ))
            })?;
            continue;
        }
        out.push(PerfEvent { name, enabled });
    }
    out.sort_by_key(|p| p.name);
    Ok(out)
}
