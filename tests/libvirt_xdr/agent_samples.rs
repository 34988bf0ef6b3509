//! The samples of the guest agent procedures (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;

use super::{dom, flags};

/// The sample call of guest agent procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    let fs = || FsFreezeArgs {
        dom: dom(),
        mountpoints: vec!["/".into(), "/home".into()],
        flags: 0,
    };
    match p {
        P::DomainGetHostname => Call::DomainGetHostname(flags(2)),
        P::DomainFsfreeze => Call::DomainFsfreeze(fs()),
        P::DomainFsthaw => Call::DomainFsthaw(FsFreezeArgs {
            mountpoints: Vec::new(),
            ..fs()
        }),
        P::DomainGetTime => Call::DomainGetTime(flags(0)),
        P::DomainGetFsinfo => Call::DomainGetFsinfo(flags(0)),
        P::DomainSetUserPassword => Call::DomainSetUserPassword(SetUserPasswordArgs {
            dom: dom(),
            user: Some("root".into()),
            password: Some("$6$salt$hash".into()),
            flags: 1,
        }),
        P::DomainAuthorizedSshKeysGet => Call::DomainAuthorizedSshKeysGet(SshKeysGetArgs {
            dom: dom(),
            user: "root".into(),
            flags: 0,
        }),
        P::DomainAuthorizedSshKeysSet => Call::DomainAuthorizedSshKeysSet(SshKeysSetArgs {
            dom: dom(),
            user: "root".into(),
            keys: vec!["ssh-ed25519 AAAA k1".into()],
            flags: 1,
        }),
        P::DomainGetGuestInfo => Call::DomainGetGuestInfo(GuestInfoArgs {
            dom: dom(),
            types: 8,
            flags: 0,
        }),
        P::DomainSetTime => Call::DomainSetTime(SetTimeArgs {
            dom: dom(),
            seconds: 2_000_000_000,
            nseconds: 500,
            flags: 0,
        }),
        P::DomainAgentSetResponseTimeout => Call::DomainAgentSetResponseTimeout(AgentTimeoutArgs {
            dom: dom(),
            timeout: -2,
            flags: 0,
        }),
        P::DomainFstrim => Call::DomainFstrim(FsTrimArgs {
            dom: dom(),
            mount_point: None,
            minimum: 1 << 20,
            flags: 0,
        }),
        P::DomainGetGuestVcpus => Call::DomainGetGuestVcpus(flags(0)),
        P::DomainSetGuestVcpus => Call::DomainSetGuestVcpus(SetGuestVcpusArgs {
            dom: dom(),
            cpumap: "1,3-4".into(),
            state: 0,
            flags: 0,
        }),
        P::DomainPmSuspendForDuration => Call::DomainPmSuspendForDuration(PmSuspendArgs {
            dom: dom(),
            target: 0,
            duration: 0,
            flags: 0,
        }),
        P::DomainPmWakeup => Call::DomainPmWakeup(flags(0)),
        _ => unreachable!("{p:?} is not a guest agent procedure"),
    }
}

/// The sample successful reply of guest agent procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainGetHostname => Reply::DomainGetHostname(HostnameRet {
            hostname: "guest".into(),
        }),
        P::DomainFsfreeze => Reply::DomainFsfreeze(FsCountRet { filesystems: 2 }),
        P::DomainFsthaw => Reply::DomainFsthaw(FsCountRet { filesystems: 2 }),
        P::DomainGetTime => Reply::DomainGetTime(TimeRet {
            seconds: 2_000_000_000,
            nseconds: 500,
        }),
        P::DomainSetTime => Reply::DomainSetTime(()),
        P::DomainGetFsinfo => Reply::DomainGetFsinfo(FsInfoRet {
            info: vec![FsInfo {
                mountpoint: "/".into(),
                name: "vda1".into(),
                fstype: "ext4".into(),
                dev_aliases: vec!["vda".into()],
            }],
            ret: 1,
        }),
        P::DomainSetUserPassword => Reply::DomainSetUserPassword(()),
        P::DomainAuthorizedSshKeysGet => Reply::DomainAuthorizedSshKeysGet(SshKeysRet {
            keys: vec!["ssh-ed25519 AAAA k1".into()],
        }),
        P::DomainAuthorizedSshKeysSet => Reply::DomainAuthorizedSshKeysSet(()),
        P::DomainGetGuestInfo => Reply::DomainGetGuestInfo(GuestInfoRet {
            params: vec![TypedParam {
                field: "hostname".into(),
                value: ParamValue::String("guest".into()),
            }],
        }),
        P::DomainAgentSetResponseTimeout => {
            Reply::DomainAgentSetResponseTimeout(AgentTimeoutRet { result: 0 })
        }
        P::DomainFstrim => Reply::DomainFstrim(()),
        P::DomainGetGuestVcpus => Reply::DomainGetGuestVcpus(GuestVcpusRet {
            params: ["vcpus", "online", "offlinable"]
                .iter()
                .map(|f| TypedParam {
                    field: f.to_string(),
                    value: ParamValue::String("0-1".into()),
                })
                .collect(),
        }),
        P::DomainSetGuestVcpus => Reply::DomainSetGuestVcpus(()),
        P::DomainPmSuspendForDuration => Reply::DomainPmSuspendForDuration(()),
        P::DomainPmWakeup => Reply::DomainPmWakeup(()),
        _ => unreachable!("{p:?} is not a guest agent procedure"),
    }
}
