//! libvirt's second program, `qemu` (`src/remote/qemu_protocol.x`), on the
//! libvirt socket: `virsh qemu-monitor-command` sends
//! `QEMU_PROC_DOMAIN_MONITOR_COMMAND` there, which runs as qvirt's own
//! [`crate::Driver::qemu_monitor_command`] (QMP, tainting the domain), and
//! `virsh qemu-agent-command` sends `QEMU_PROC_DOMAIN_AGENT_COMMAND`, which
//! runs as [`crate::driver::AgentCall::Command`]; the human monitor
//! (`--hmp`) and the program's other procedures are refused by name. Replies and errors go out in the program's own
//! header, which is how the client matches them.

use std::time::Instant;

use super::calls::{Done, Step, has_place, run_guarded, submit};
use super::conn::Conn;
use super::reactor::Cx;
use crate::driver::error::{Error, ErrorCode};
use crate::driver::{AgentAnswer, AgentCall, Domain};
use crate::transport::libvirt::frame::{self, Header, Status, Type};
use crate::transport::libvirt::types::{
    AgentCommandArgs, AgentCommandRet, MonitorCommandArgs, MonitorCommandRet,
};
use crate::transport::libvirt::xdr::{from_bytes, to_bytes};

/// `QEMU_PROGRAM`.
pub const QEMU_PROGRAM: u32 = 0x2000_8087;
/// `QEMU_PROTOCOL_VERSION`.
pub const QEMU_VERSION: u32 = 1;
/// `QEMU_PROC_DOMAIN_MONITOR_COMMAND`.
const MONITOR_COMMAND: i32 = 1;
/// `QEMU_PROC_DOMAIN_AGENT_COMMAND`.
const AGENT_COMMAND: i32 = 3;
/// `VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP`.
const HMP: u32 = 1;

fn refuse(conn: &mut Conn, h: &Header, e: &Error) -> Step {
    conn.out.extend_from_slice(&frame::error_reply_in(
        QEMU_PROGRAM,
        QEMU_VERSION,
        h.proc,
        h.serial,
        e,
    ));
    Step::Handled
}

/// One call of the `qemu` program; `opened` and `read_only` are the
/// connection's state on the main program.
pub(super) fn call(
    cx: &mut Cx,
    conn: &mut Conn,
    h: Header,
    body: &[u8],
    opened: bool,
    read_only: bool,
    _now: Instant,
) -> Step {
    if h.kind != Type::Call || h.status != Status::Ok {
        let e = Error::new(
            ErrorCode::Protocol,
            format!("unexpected message type {:?} in the qemu program", h.kind),
        );
        return refuse(conn, &h, &e);
    }
    if !opened {
        let e = Error::new(
            ErrorCode::Protocol,
            "connection not open: CONNECT_OPEN first",
        );
        return refuse(conn, &h, &e);
    }
    if h.proc != MONITOR_COMMAND && h.proc != AGENT_COMMAND {
        let e = Error::new(
            ErrorCode::NoSupport,
            format!(
                "procedure {} of libvirt's qemu program is not served by qvirtd (only the monitor and agent commands are)",
                h.proc
            ),
        );
        return refuse(conn, &h, &e);
    }
    if read_only && h.proc == AGENT_COMMAND {
        let e = Error::new(
            ErrorCode::OperationDenied,
            "operation forbidden: read only access prevents virDomainQemuAgentCommand",
        );
        return refuse(conn, &h, &e);
    }
    if h.proc == AGENT_COMMAND {
        return agent_command(cx, conn, h, body);
    }
    if read_only {
        let e = Error::new(
            ErrorCode::OperationDenied,
            "operation forbidden: read only access prevents virDomainQemuMonitorCommand",
        );
        return refuse(conn, &h, &e);
    }
    let args: MonitorCommandArgs = match from_bytes(body, "qemu_domain_monitor_command_args") {
        Ok(a) => a,
        Err(e) => return refuse(conn, &h, &e),
    };
    if args.flags & HMP != 0 {
        let e = Error::new(
            ErrorCode::NoSupport,
            "the human monitor is not offered: send a QMP command as JSON ({\"execute\": ...})",
        );
        return refuse(conn, &h, &e);
    }
    if args.flags & !HMP != 0 {
        let e = Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "unsupported flags (0x{:x}) in virDomainQemuMonitorCommand",
                args.flags
            ),
        );
        return refuse(conn, &h, &e);
    }
    answer(cx, conn, h, "qemu_domain_monitor_command", move |driver| {
        let result = driver.qemu_monitor_command(&Domain::from(&args.dom), &args.cmd)?;
        Ok(to_bytes(&MonitorCommandRet { result }))
    })
}

/// Runs `work` (the call's body to reply with) on a worker, and replies
/// in the qemu program's header.
fn answer(
    cx: &mut Cx,
    conn: &mut Conn,
    h: Header,
    name: &'static str,
    work: impl FnOnce(&dyn crate::Driver) -> crate::driver::error::Result<Vec<u8>> + Send + 'static,
) -> Step {
    if !has_place(cx, conn) {
        return Step::Stall;
    }
    let (token, uid) = (conn.token, conn.peer.uid);
    let shared = cx.shared.clone();
    submit(cx, conn, false, move || {
        let frame = match run_guarded(name, || work(&*shared.driver)) {
            Ok(body) => {
                let mut reply = Header::remote(h.proc, Type::Reply, h.serial, Status::Ok);
                reply.prog = QEMU_PROGRAM;
                reply.vers = QEMU_VERSION;
                frame::message(&reply, &body)
            }
            Err(e) => frame::error_reply_in(QEMU_PROGRAM, QEMU_VERSION, h.proc, h.serial, &e),
        };
        shared.finish(Done {
            token,
            uid,
            frame,
            opened: None,
            console_over: None,
            wrote: None,
            stream_failed: None,
        });
    });
    Step::Handled
}

/// `QEMU_PROC_DOMAIN_AGENT_COMMAND`: the client's own guest agent command.
fn agent_command(cx: &mut Cx, conn: &mut Conn, h: Header, body: &[u8]) -> Step {
    let args: AgentCommandArgs = match from_bytes(body, "qemu_domain_agent_command_args") {
        Ok(a) => a,
        Err(e) => return refuse(conn, &h, &e),
    };
    if args.flags != 0 {
        let e = Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "unsupported flags (0x{:x}) in virDomainQemuAgentCommand",
                args.flags
            ),
        );
        return refuse(conn, &h, &e);
    }
    answer(cx, conn, h, "qemu_domain_agent_command", move |driver| {
        let call = AgentCall::Command {
            json: args.cmd.clone(),
            timeout: args.timeout,
        };
        match driver.agent_call(&Domain::from(&args.dom), call)? {
            // libvirt's own answer when it did not wait: its client takes
            // a missing result for an error anyway.
            AgentAnswer::Reply(None) => Err(Error::new(
                ErrorCode::AgentUnresponsive,
                "Guest agent not available for now: the command was sent without waiting for its reply",
            )),
            AgentAnswer::Reply(result) => Ok(to_bytes(&AgentCommandRet { result })),
            other => Err(Error::new(
                ErrorCode::Internal,
                format!("the agent command was answered with {other:?}"),
            )),
        }
    })
}
