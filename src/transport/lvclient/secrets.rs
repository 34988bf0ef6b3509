//! Secrets as libvirt's calls, the ones virsh makes for its `secret-*`
//! verbs. libvirt lists secrets in no order: qvirt's API gives them by
//! UUID, so the list is sorted here. A value longer than libvirt's
//! protocol carries is refused here, as the manager refuses it, rather
//! than sent as a message the daemon cannot read.

use uuid::Uuid;

use super::conn::Conn;
use crate::driver::Secret;
use crate::driver::error::Result;
use crate::model::SecretUsageType;
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;

fn handle(s: &Secret) -> SecretHandle {
    SecretHandle::from(s)
}

fn flags_args(s: &Secret) -> SecretFlagsArgs {
    SecretFlagsArgs {
        secret: handle(s),
        flags: 0,
    }
}

/// [`crate::Driver::list_secrets`].
pub(super) fn list_secrets(c: &Conn) -> Result<Vec<Secret>> {
    let ret = c.connect_list_all_secrets(ListAllArgs {
        need_results: 1,
        flags: 0,
    })?;
    let mut all = ret
        .secrets
        .iter()
        .map(SecretHandle::secret)
        .collect::<Result<Vec<_>>>()?;
    all.sort_by_key(|s| s.uuid);
    Ok(all)
}

/// [`crate::Driver::secret_lookup_by_uuid`].
pub(super) fn lookup_by_uuid(c: &Conn, uuid: Uuid) -> Result<Secret> {
    c.secret_lookup_by_uuid(UuidArgs { uuid })?.secret.secret()
}

/// [`crate::Driver::secret_lookup_by_usage`].
pub(super) fn lookup_by_usage(c: &Conn, usage: SecretUsageType, id: &str) -> Result<Secret> {
    c.secret_lookup_by_usage(SecretUsageArgs {
        usage_type: usage.number() as i32,
        usage_id: id.to_string(),
    })?
    .secret
    .secret()
}

/// [`crate::Driver::secret_define_xml`].
pub(super) fn define_xml(c: &Conn, xml: &str) -> Result<Secret> {
    c.secret_define_xml(XmlFlagsArgs {
        xml: xml.to_string(),
        flags: 0,
    })?
    .secret
    .secret()
}

/// [`crate::Driver::secret_xml`].
pub(super) fn xml(c: &Conn, s: &Secret) -> Result<String> {
    Ok(c.secret_get_xml_desc(flags_args(s))?.xml)
}

/// [`crate::Driver::secret_set_value`].
pub(super) fn set_value(c: &Conn, s: &Secret, value: &[u8]) -> Result<()> {
    Secret::check_value(value)?;
    c.secret_set_value(SecretSetValueArgs {
        secret: handle(s),
        value: SecretValue(value.to_vec()),
        flags: 0,
    })
}

/// [`crate::Driver::secret_get_value`].
pub(super) fn get_value(c: &Conn, s: &Secret) -> Result<Vec<u8>> {
    Ok(c.secret_get_value(flags_args(s))?.value.0)
}

/// [`crate::Driver::secret_undefine`].
pub(super) fn undefine(c: &Conn, s: &Secret) -> Result<()> {
    c.secret_undefine(SecretArgs { secret: handle(s) })
}
