//! QEMU's events of a display's clients (`VNC_CONNECTED`,
//! `VNC_INITIALIZED`, `VNC_DISCONNECTED` and their `SPICE_` twins) as
//! qvirt's [`EventKind::Graphics`], read as libvirt reads them: the
//! server's and the client's address, the server's authentication scheme,
//! and who the client proved to be (a VNC client's x509 name or SASL user
//! name).

use serde_json::Value;

use crate::driver::{AddressFamily, EventKind, GraphicsAddress, GraphicsEvent, GraphicsPhase};

/// The graphics event a QMP event `name` with `data` is; `None` for any
/// other event, or one without the addresses libvirt needs.
pub(crate) fn of(name: &str, data: &Value) -> Option<EventKind> {
    let (spice, phase) = match name {
        "VNC_CONNECTED" => (false, GraphicsPhase::Connect),
        "VNC_INITIALIZED" => (false, GraphicsPhase::Initialize),
        "VNC_DISCONNECTED" => (false, GraphicsPhase::Disconnect),
        "SPICE_CONNECTED" => (true, GraphicsPhase::Connect),
        "SPICE_INITIALIZED" => (true, GraphicsPhase::Initialize),
        "SPICE_DISCONNECTED" => (true, GraphicsPhase::Disconnect),
        _ => return None,
    };
    let server = data.get("server")?;
    let client = data.get("client")?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    // SPICE names the port `port`, VNC `service`.
    let service = if spice { "port" } else { "service" };
    let address = |v: &Value| -> Option<GraphicsAddress> {
        let family = match v.get("family")?.as_str()? {
            "ipv6" => AddressFamily::Ipv6,
            "unix" => AddressFamily::Unix,
            // libvirt reads any other family as IPv4.
            _ => AddressFamily::Ipv4,
        };
        Some(GraphicsAddress::new(
            family,
            &text(v, "host")?,
            &text(v, service)?,
        ))
    };
    let mut subject = Vec::new();
    if !spice {
        if let Some(name) = text(client, "x509_dname") {
            subject.push(("x509dname".to_string(), name));
        }
        if let Some(name) = text(client, "sasl_username") {
            subject.push(("saslUsername".to_string(), name));
        }
    }
    Some(EventKind::Graphics(Box::new(GraphicsEvent {
        phase,
        local: address(server)?,
        remote: address(client)?,
        auth: text(server, "auth").unwrap_or_default(),
        subject,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vnc_and_spice_events_read_as_libvirt_reads_them() {
        let data = json!({
            "server": {"auth": "none", "family": "ipv4", "service": "5900",
                       "host": "127.0.0.1", "websocket": false},
            "client": {"family": "ipv6", "service": "46234", "host": "::1",
                       "websocket": false, "x509_dname": "CN=a", "sasl_username": "u"}
        });
        let Some(EventKind::Graphics(g)) = of("VNC_INITIALIZED", &data) else {
            panic!("a graphics event");
        };
        let GraphicsEvent {
            phase,
            local,
            remote,
            auth,
            subject,
        } = *g;
        assert_eq!(phase, GraphicsPhase::Initialize);
        assert_eq!(
            local,
            GraphicsAddress::new(AddressFamily::Ipv4, "127.0.0.1", "5900")
        );
        assert_eq!(
            remote,
            GraphicsAddress::new(AddressFamily::Ipv6, "::1", "46234")
        );
        assert_eq!(auth, "none");
        assert_eq!(
            subject,
            [
                ("x509dname".to_string(), "CN=a".to_string()),
                ("saslUsername".to_string(), "u".to_string())
            ]
        );
        let spice = json!({
            "server": {"port": "5901", "family": "unix", "host": "/s"},
            "client": {"port": "", "family": "unix", "host": "/s"}
        });
        let Some(EventKind::Graphics(g)) = of("SPICE_DISCONNECTED", &spice) else {
            panic!("a graphics event");
        };
        assert_eq!((g.phase, g.auth.as_str()), (GraphicsPhase::Disconnect, ""));
        assert!(of("VNC_CONNECTED", &json!({"server": {}})).is_none());
        assert!(of("RESET", &json!({})).is_none());
    }
}
