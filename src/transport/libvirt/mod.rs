//! libvirt's RPC protocol, so that unmodified libvirt clients (virsh,
//! python3-libvirt, virt-install) drive qvirt: the XDR codec
//! ([`xdr`]), the framing and errors ([`frame`]), the wire values
//! ([`types`]), one procedure table ([`procedures`]) mapped onto the same
//! [`Driver`](crate::Driver) ([`dispatch`]), and libvirt's numbers for
//! qvirt's values ([`values`]).
//!
//! The server side lives in the daemon's loop
//! (`transport::server`, beside qvirt's own protocol); this module knows
//! nothing of sockets but the frames. Depends on `driver` and `model`
//! (to read a device update with qvirt's own rules).
//!
//! Written from libvirt 9.0's `virnetprotocol.x`, `remote_protocol.x`
//! and `virkeepaliveprotocol.x` (their layout, not their code).

pub mod absent;
pub mod agent;
pub mod blockcopy;
pub mod blockjobs;
pub mod coredump;
mod declare;
mod delegate;
pub mod devalias;
pub mod dirtyrate;
pub mod dispatch;
pub mod domlist;
pub mod domparams;
pub mod domstats;
pub mod drives;
pub mod frame;
pub mod guestpm;
pub mod hostcaps;
pub mod hostfacts;
pub mod ifaces;
pub mod iftune;
pub mod jobstats;
pub mod lifecycle;
pub mod migparams;
pub mod migrate;
pub mod migspeed;
pub mod names;
pub mod nodedevs;
pub mod nodestats;
pub mod numatune;
pub mod peek;
pub mod pins;
pub mod procedures;
pub mod resources;
pub mod saveimage;
pub mod saveparams;
pub mod sched;
pub mod secrets;
pub mod snapshots;
pub(crate) mod storage;
pub mod sysinfo;
pub mod threads;
pub mod tunables;
pub mod types;
pub mod values;
pub mod vcpus;
pub mod xdr;

/// The fuzzing entry point for the decoders: any bytes as a whole
/// message (length word, header, body) or as a body of every kind, no
/// panic; a call or reply that decodes re-encodes to what decodes to the
/// same value.
#[cfg(fuzzing)]
pub fn fuzz_xdr_decode(data: &[u8]) {
    use frame::{HEADER_LEN, Header, LEN_LEN, MAX_MESSAGE, RemoteError, check_len};
    use procedures::{Call, Reply};
    let Some(prefix) = data.first_chunk::<4>() else {
        return;
    };
    let body_of = |h: &Header| (h.proc, &data[(LEN_LEN + HEADER_LEN).min(data.len())..]);
    if check_len(*prefix, MAX_MESSAGE).is_ok()
        && let Ok(h) = Header::parse(&data[LEN_LEN.min(data.len())..])
    {
        let (proc, body) = body_of(&h);
        if let Ok(call) = Call::decode(proc, body) {
            let (p, again) = call.encode();
            assert_eq!(
                Call::decode(p, &again).expect("re-encoded call decodes"),
                call
            );
        }
        if let Ok(reply) = Reply::decode(proc, body) {
            assert_eq!(
                Reply::decode(proc, &reply.encode()).expect("re-encoded reply decodes"),
                reply
            );
        }
        let _ = RemoteError::decode(body);
        let _ = xdr::from_bytes::<types::LifecycleMsg>(body, "event");
        let _ = xdr::from_bytes::<types::TrayChangeMsg>(body, "event");
        let _ = xdr::from_bytes::<types::BlockThresholdMsg>(body, "event");
        let _ = xdr::from_bytes::<types::BlockJobMsg>(body, "event");
        let _ = xdr::from_bytes::<types::DeviceMsg>(body, "event");
        let _ = xdr::from_bytes::<types::IoErrorReasonMsg>(body, "event");
        let _ = xdr::from_bytes::<types::RtcChangeMsg>(body, "event");
        let _ = xdr::from_bytes::<types::BalloonChangeMsg>(body, "event");
        let _ = xdr::from_bytes::<types::AgentLifecycleMsg>(body, "event");
        let _ = xdr::from_bytes::<types::MetadataChangeMsg>(body, "event");
        let _ = xdr::from_bytes::<types::WatchdogMsg>(body, "event");
        let _ = xdr::from_bytes::<types::PmMsg>(body, "event");
        let _ = xdr::from_bytes::<types::GraphicsMsg>(body, "event");
        let _ = xdr::from_bytes::<types::TunableMsg>(body, "event");
        let _ = xdr::from_bytes::<types::MigrationIterationMsg>(body, "event");
        let _ = xdr::from_bytes::<types::JobCompletedMsg>(body, "event");
        let _ = xdr::from_bytes::<types::MemoryDeviceSizeMsg>(body, "event");
        let _ = xdr::from_bytes::<types::DiskChangeMsg>(body, "event");
    }
}
