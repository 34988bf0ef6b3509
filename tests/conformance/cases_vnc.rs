//! VNC ports: autoport picks a free port per domain and shows it in the
//! live XML; a fixed port that is taken fails the start cleanly.

use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use qvirt::driver::XmlFlags;
use qvirt::{Domain, DomainDef, Driver, ErrorCode};

use crate::{Ctx, QUICK, Vm, Watch, assert_failed_start_left_nothing, define, define_and_start};

/// The VNC port the live XML of `dom` shows.
fn live_port(d: &dyn Driver, dom: &Domain) -> u16 {
    let def = DomainDef::from_xml(&d.xml_desc(dom, XmlFlags::NONE).unwrap()).unwrap();
    let g = def.devices.graphics.first().expect("a graphics device");
    let port = g.port.expect("the live XML has the port in use");
    u16::try_from(port).unwrap_or_else(|_| panic!("a real port, not {port}"))
}

/// Reads the RFB greeting a VNC server sends on connect.
fn rfb_greeting(port: u16) -> String {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .unwrap_or_else(|e| panic!("connect to VNC port {port}: {e}"));
    s.set_read_timeout(Some(QUICK)).unwrap();
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).expect("an RFB greeting");
    String::from_utf8_lossy(&buf).into_owned()
}

/// Two domains with autoport get different ports from 5900 up, each
/// served by its QEMU and shown in the live XML; the inactive XML keeps
/// autoport without a port.
pub fn vnc_autoport_picks_distinct_ports(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vnc = "<graphics type='vnc' autoport='yes'/>";
    let a = define_and_start(d, &Vm::firmware("fw-a").device(vnc));
    let b = define_and_start(d, &Vm::firmware("fw-b").device(vnc));
    let (pa, pb) = (live_port(d, &a), live_port(d, &b));
    assert_ne!(pa, pb, "each domain has its own port");
    assert!(pa >= 5900 && pb >= 5900, "ports {pa} {pb}");
    for p in [pa, pb] {
        let greeting = rfb_greeting(p);
        assert!(greeting.starts_with("RFB "), "port {p}: {greeting:?}");
    }
    let inactive = DomainDef::from_xml(&d.xml_desc(&a, XmlFlags::INACTIVE).unwrap()).unwrap();
    let g = &inactive.devices.graphics[0];
    assert_eq!(g.autoport, Some(true));
    assert!(
        g.port.is_none_or(|p| p == -1),
        "no fixed port: {:?}",
        g.port
    );
    // A third one, while both run, gets yet another port.
    let c = d
        .create_xml(&Vm::firmware("fw-c").device(vnc).xml())
        .unwrap();
    let pc = live_port(d, &c);
    assert!(pc != pa && pc != pb);
}

/// A fixed VNC port that another program holds: the start fails, leaves
/// no QEMU and no runtime files, and the domain is shut off (failed). The
/// same start works once the port is free.
pub fn vnc_fixed_port_taken_fails_cleanly(cx: &mut Ctx<'_>) {
    let holder = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    let d = cx.d();
    let mut w = Watch::new(d);
    let vm = Vm::firmware("fw-a").device(&format!(
        "<graphics type='vnc' port='{port}' autoport='no' listen='127.0.0.1'/>"
    ));
    let dom = define(d, &vm);
    w.expect(vm.uuid, &[qvirt::driver::EventKind::Defined]);
    let e = d.start(&dom).expect_err("the port is taken");
    assert!(
        matches!(e.code, ErrorCode::OperationFailed | ErrorCode::QemuFailed),
        "{:?}: {}",
        e.code,
        e.message
    );
    assert!(
        e.message.contains(&port.to_string()),
        "names the port: {}",
        e.message
    );
    assert_failed_start_left_nothing(cx, &dom, "fw-a");
    w.expect_none(vm.uuid, Duration::from_millis(200));
    // The same fixed port works once free, and is the one in use.
    drop(holder);
    // (A child another test forks meanwhile may hold a copy of the socket
    // until it execs.)
    crate::wait_until("the port to be free", QUICK, || {
        TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .ok()
            .map(drop)
    });
    let run = d.start(&dom).unwrap();
    assert_eq!(live_port(d, &run), port);
    assert!(rfb_greeting(port).starts_with("RFB "));
}
