//! `<bandwidth>` on a host network device, with `tc` as libvirt's
//! `virNetDevBandwidthSet` sets it: the device's own transmit (to the
//! guest on a tap, from it on a macvtap) through an HTB class of the
//! average rate (peak as its ceiling, burst, a quantum fit for a 1500-byte
//! MTU) with an SFQ below it; its receive side policed at the average
//! rate, dropping the excess. The rules go with the device.

use crate::error::{Error, ErrorCode, Result};
use crate::model::{Bandwidth, BandwidthRate};

fn tc(dev: &str, args: &[&str]) -> Result<()> {
    let out = super::iproute2(
        "tc",
        args,
        &format!("<bandwidth> of network device '{dev}'"),
    )?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        // The kernel lacks a queueing discipline, classifier or action
        // the recipe needs: the host cannot shape, as it cannot lack
        // any other device a definition asks for.
        let lacking = ["unknown", "not found", "Failed to load"]
            .iter()
            .any(|w| said.contains(w));
        return Err(Error::new(
            if lacking {
                ErrorCode::NoSupport
            } else {
                ErrorCode::OperationFailed
            },
            format!(
                "cannot shape network device '{dev}': tc {}: {}",
                args.join(" "),
                said.trim()
            ),
        ));
    }
    Ok(())
}

/// The commands that shape `dev` as `bw` asks. `host_view` is libvirt's
/// "shares the host's view" (a macvtap): its transmit is the guest's
/// outbound traffic; a tap's transmit is the guest's inbound.
pub(crate) fn commands(dev: &str, bw: &Bandwidth, host_view: bool) -> Vec<Vec<String>> {
    let (rx, tx) = if host_view {
        (bw.inbound, bw.outbound)
    } else {
        (bw.outbound, bw.inbound)
    };
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let mut add = |args: &[&str]| cmds.push(args.iter().map(|s| s.to_string()).collect());
    if let Some(BandwidthRate {
        average,
        peak,
        burst,
    }) = tx
    {
        let rate = format!("{average}kbps");
        add(&[
            "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "1",
        ]);
        let mut class = vec![
            "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", &rate,
        ];
        let peak = peak.map(|p| format!("{p}kbps"));
        if let Some(p) = &peak {
            class.extend(["ceil", p.as_str()]);
        }
        let burst = burst.map(|b| format!("{b}kb"));
        if let Some(b) = &burst {
            class.extend(["burst", b.as_str()]);
        }
        // HTB's advice: a class's quantum near the MTU (1500).
        let quantum = (average * 1024 / 8 / 1500).max(1).to_string();
        class.extend(["quantum", quantum.as_str()]);
        add(&class);
        add(&[
            "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "2:", "sfq", "perturb", "10",
        ]);
        add(&[
            "filter", "add", "dev", dev, "parent", "1:0", "protocol", "all", "prio", "1", "handle",
            "1", "fw", "flowid", "1",
        ]);
    }
    if let Some(r) = rx {
        let rate = format!("{}kbps", r.average);
        // tc keeps a burst in a 32-bit count of bytes.
        let burst = format!(
            "{}kb",
            r.burst.unwrap_or(r.average.min(u64::from(u32::MAX) / 1024))
        );
        add(&["qdisc", "add", "dev", dev, "ingress"]);
        add(&[
            "filter", "add", "dev", dev, "parent", "ffff:", "protocol", "all", "u32", "match",
            "u32", "0", "0", "police", "rate", &rate, "burst", &burst, "mtu", "64kb", "drop",
            "flowid", ":1",
        ]);
    }
    cmds
}

/// Shapes `dev` as `bw` asks (see [`commands`]).
pub(crate) fn shape(dev: &str, bw: &Bandwidth, host_view: bool) -> Result<()> {
    for c in commands(dev, bw, host_view) {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        tc(dev, &args)?;
    }
    Ok(())
}

/// Takes every rule of [`shape`] off `dev` (the root and ingress queueing
/// disciplines, with the classes and filters under them); a device
/// without them is left as it is.
pub(crate) fn clear(dev: &str) {
    for parent in ["root", "ingress"] {
        let what = format!("<bandwidth> of network device '{dev}'");
        let _ = super::iproute2("tc", &["qdisc", "del", "dev", dev, parent], &what);
    }
}

/// Replaces the shaping of `dev` with `bw` (none: unshaped). When the new
/// rules cannot be set, `old` is set again and the error returned.
pub(crate) fn reshape(
    dev: &str,
    bw: Option<&Bandwidth>,
    old: Option<&Bandwidth>,
    host_view: bool,
) -> Result<()> {
    clear(dev);
    let Some(bw) = bw else { return Ok(()) };
    let result = shape(dev, bw, host_view);
    if result.is_err() {
        clear(dev);
        if let Some(old) = old {
            let _ = shape(dev, old, host_view);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tap_shapes_inbound_on_transmit_and_polices_outbound() {
        let bw = Bandwidth {
            inbound: Some(BandwidthRate {
                average: 1000,
                peak: Some(2000),
                burst: Some(1024),
            }),
            outbound: Some(BandwidthRate {
                average: 500,
                peak: None,
                burst: None,
            }),
        };
        let cmds: Vec<String> = commands("vnet0", &bw, false)
            .iter()
            .map(|c| c.join(" "))
            .collect();
        assert_eq!(
            cmds,
            [
                "qdisc add dev vnet0 root handle 1: htb default 1",
                "class add dev vnet0 parent 1: classid 1:1 htb rate 1000kbps ceil 2000kbps burst 1024kb quantum 85",
                "qdisc add dev vnet0 parent 1:1 handle 2: sfq perturb 10",
                "filter add dev vnet0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
                "qdisc add dev vnet0 ingress",
                "filter add dev vnet0 parent ffff: protocol all u32 match u32 0 0 police rate 500kbps burst 500kb mtu 64kb drop flowid :1",
            ]
        );
        // A macvtap sends what the guest sends: the roles swap.
        let swapped = commands("macvtap0", &bw, true);
        assert!(swapped[1].join(" ").contains("rate 500kbps"), "{swapped:?}");
        assert!(
            swapped[5].join(" ").contains("rate 1000kbps burst 1024kb"),
            "{swapped:?}"
        );
    }
}
