//! `virDomainSetLifecycleAction` (virsh's `set-lifecycle-action`):
//! libvirt's numbers for the event and the action, refused as libvirt's
//! QEMU driver refuses them (`virDomainDefLifecycleActionAllowed`,
//! `qemuValidateLifecycleAction`), then [`Driver::set_lifecycle_action`].

use super::types::Dom;
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver, LifecycleEvent, ModifyFlags};
use crate::model::LifecycleAction;

xdr_struct! {
    /// `remote_domain_set_lifecycle_action_args`.
    pub struct SetLifecycleActionArgs { pub dom: Dom, pub kind: u32, pub action: u32, pub flags: u32 }
}

/// libvirt's `virDomainLifecycleAction` words, by number.
const ACTIONS: [&str; 6] = [
    "destroy",
    "restart",
    "rename-restart",
    "preserve",
    "coredump-destroy",
    "coredump-restart",
];

fn unsupported(message: String) -> Error {
    Error::new(ErrorCode::ConfigUnsupported, message)
}

/// The action of libvirt's number `n` for `event`.
fn action_of(event: LifecycleEvent, n: u32) -> Result<LifecycleAction> {
    let word = ACTIONS.get(n as usize).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("invalid lifecycle action '{n}'"),
        )
    })?;
    match *word {
        "destroy" => Ok(LifecycleAction::Destroy),
        "restart" => Ok(LifecycleAction::Restart),
        "preserve" => Ok(LifecycleAction::Preserve),
        "rename-restart" => Err(unsupported(
            "qemu driver doesn't support the 'rename-restart' action for 'on_reboot'/'on_poweroff'/'on_crash'".to_string(),
        )),
        _ if event != LifecycleEvent::Crash => Err(unsupported(format!(
            "Lifecycle event '{}' doesn't support '{word}' action",
            event.as_str()
        ))),
        _ => Err(Error::new(
            ErrorCode::NoSupport,
            format!("on_crash '{word}' is not supported: qvirt writes no core dump of a crashed guest"),
        )),
    }
}

/// `virDomainSetLifecycleAction`.
pub fn set_lifecycle_action(driver: &dyn Driver, a: SetLifecycleActionArgs) -> Result<()> {
    check_flags(
        a.flags,
        affect::LIVE | affect::CONFIG,
        "virDomainSetLifecycleAction",
    )?;
    let event = match a.kind {
        0 => LifecycleEvent::Poweroff,
        1 => LifecycleEvent::Reboot,
        2 => LifecycleEvent::Crash,
        n => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("invalid lifecycle type '{n}'"),
            ));
        }
    };
    let action = action_of(event, a.action)?;
    let flags = ModifyFlags::new(a.flags & affect::LIVE != 0, a.flags & affect::CONFIG != 0);
    driver.set_lifecycle_action(&Domain::from(&a.dom), event, action, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_dumps_are_refused_as_libvirt_refuses_them() {
        let e = action_of(LifecycleEvent::Reboot, 4).unwrap_err();
        assert_eq!(
            e.message,
            "Lifecycle event 'reboot' doesn't support 'coredump-destroy' action"
        );
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
        assert_eq!(
            action_of(LifecycleEvent::Crash, 5).unwrap_err().code,
            ErrorCode::NoSupport
        );
        assert_eq!(
            action_of(LifecycleEvent::Crash, 3).unwrap(),
            LifecycleAction::Preserve
        );
        assert!(action_of(LifecycleEvent::Crash, 6).is_err());
    }
}
