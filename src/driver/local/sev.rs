//! What a start needs of the host for `<launchSecurity type='sev'>`
//! (KVM, the SEV firmware's device and KVM's SEV switch, as libvirt's
//! virQEMUCapsKVMSupportsSecureGuestAMD looks for them), and the guest
//! owner's files QEMU reads, written before it starts. The smartcards'
//! NSS database is checked here too: both are what a guest's security
//! device needs of the host.

use std::path::Path;

use super::hostcheck::Host;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    DomainDef, LaunchSecurity, SMARTCARD_DEFAULT_DATABASE, SmartcardMode, VirtType,
};
use crate::qemu::argv::{sev_dh_cert_file, sev_session_file};

/// The SEV firmware's device.
const DEV_SEV: &str = "/dev/sev";

/// KVM's switch for SEV guests (`Y` or `1` when on).
const KVM_AMD_SEV: &str = "/sys/module/kvm_amd/parameters/sev";

fn lacks(def: &DomainDef, what: String) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!("cannot start domain '{}': {what}", def.name),
    )
}

impl Host {
    /// An SEV guest needs KVM, `/dev/sev`, and KVM's SEV switch on.
    pub(super) fn launch_security(&self, def: &DomainDef) -> Result<()> {
        let Some(LaunchSecurity::Sev(_)) = &def.launch_security else {
            return Ok(());
        };
        if def.virt_type != VirtType::Kvm {
            return Err(lacks(
                def,
                "<launchSecurity type='sev'> encrypts the guest's memory with the host CPU, which only KVM does: use <domain type='kvm'>".into(),
            ));
        }
        if !self.path(DEV_SEV).exists() {
            return Err(lacks(
                def,
                format!(
                    "<launchSecurity type='sev'> needs the AMD SEV firmware device {DEV_SEV}, which this host does not have (an AMD EPYC host with SEV enabled in its firmware and the ccp module loaded)"
                ),
            ));
        }
        let switch = std::fs::read_to_string(self.path(KVM_AMD_SEV)).unwrap_or_default();
        if !matches!(switch.trim(), "Y" | "y" | "1") {
            return Err(lacks(
                def,
                format!(
                    "<launchSecurity type='sev'> needs KVM's SEV support, which {KVM_AMD_SEV} says is off{} (load kvm_amd with sev=1)",
                    if switch.is_empty() {
                        " (the file is missing: kvm_amd is not loaded)".to_string()
                    } else {
                        format!(" ('{}')", switch.trim())
                    }
                ),
            ));
        }
        Ok(())
    }

    /// An emulated smartcard reads an NSS database: the host's default
    /// one for `mode='host'` (libcacard's), the one named (or the
    /// default) for `mode='host-certificates'`. QEMU only says it
    /// "failed to initialize vcard" without it.
    pub(super) fn smartcard_database(&self, def: &DomainDef) -> Result<()> {
        for s in &def.devices.smartcards {
            let db = match &s.mode {
                SmartcardMode::Host => SMARTCARD_DEFAULT_DATABASE,
                SmartcardMode::HostCertificates { database, .. } => {
                    database.as_deref().unwrap_or(SMARTCARD_DEFAULT_DATABASE)
                }
                SmartcardMode::Passthrough(_) => continue,
            };
            if !self.path(db).is_dir() {
                return Err(lacks(
                    def,
                    format!(
                        "its <smartcard mode='{}'> is emulated from the NSS database {db}, which this host does not have (create it with certutil -N -d sql:{db}, with the card's certificates or reader modules)",
                        s.mode.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Writes `<dhCert>` and `<session>` to the files the command line
/// names for QEMU, in the run directory.
pub(super) fn write_guest_owner_files(def: &DomainDef, run_dir: &Path) -> Result<()> {
    let Some(LaunchSecurity::Sev(s)) = &def.launch_security else {
        return Ok(());
    };
    if let Some(c) = &s.dh_cert {
        crate::sys::fsutil::write_atomic(&sev_dh_cert_file(run_dir), c.as_bytes())?;
    }
    if let Some(x) = &s.session {
        crate::sys::fsutil::write_atomic(&sev_session_file(run_dir), x.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("qvirt-sev-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn sev(kind: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='{kind}'><name>s</name><memory unit='MiB'>64</memory>
             <os><type arch='x86_64' machine='q35'>hvm</type></os><devices/>
             <launchSecurity type='sev'><cbitpos>47</cbitpos>
             <reducedPhysBits>1</reducedPhysBits><policy>0x0033</policy>
             <dhCert>Q0VSVA==</dhCert><session>U0VTUw==</session></launchSecurity></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn sev_needs_kvm_the_device_and_kvm_amd_switched_on() {
        let root = scratch("host");
        let host = Host { root: root.clone() };
        let e = host.launch_security(&sev("qemu")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("type='kvm'"), "{}", e.message);
        let e = host.launch_security(&sev("kvm")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("/dev/sev"), "{}", e.message);
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::write(root.join("dev/sev"), b"").unwrap();
        let e = host.launch_security(&sev("kvm")).unwrap_err();
        assert!(e.message.contains("kvm_amd is not loaded"), "{}", e.message);
        let params = root.join("sys/module/kvm_amd/parameters");
        std::fs::create_dir_all(&params).unwrap();
        std::fs::write(params.join("sev"), b"N\n").unwrap();
        let e = host.launch_security(&sev("kvm")).unwrap_err();
        assert!(e.message.contains("('N')"), "{}", e.message);
        std::fs::write(params.join("sev"), b"Y\n").unwrap();
        host.launch_security(&sev("kvm")).unwrap();
        std::fs::write(params.join("sev"), b"1\n").unwrap();
        host.launch_security(&sev("kvm")).unwrap();
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_guest_owner_files_hold_the_documents_text() {
        let dir = scratch("files");
        write_guest_owner_files(&sev("kvm"), &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(sev_dh_cert_file(&dir)).unwrap(),
            "Q0VSVA=="
        );
        assert_eq!(
            std::fs::read_to_string(sev_session_file(&dir)).unwrap(),
            "U0VTUw=="
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_emulated_smartcard_needs_its_nss_database() {
        let root = scratch("nss");
        let host = Host { root: root.clone() };
        let card = |sc: &str| {
            DomainDef::from_xml(&format!(
                "<domain type='qemu'><name>c</name><memory unit='MiB'>64</memory>
                 <os><type arch='x86_64' machine='pc'>hvm</type></os>
                 <devices>{sc}</devices></domain>"
            ))
            .unwrap()
        };
        let host_mode = card("<smartcard mode='host'/>");
        let e = host.smartcard_database(&host_mode).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("/etc/pki/nssdb"), "{}", e.message);
        let certs = card(
            "<smartcard mode='host-certificates'><certificate>a</certificate><certificate>b</certificate><certificate>c</certificate><database>/srv/db</database></smartcard>",
        );
        let e = host.smartcard_database(&certs).unwrap_err();
        assert!(e.message.contains("/srv/db"), "{}", e.message);
        std::fs::create_dir_all(root.join("etc/pki/nssdb")).unwrap();
        std::fs::create_dir_all(root.join("srv/db")).unwrap();
        host.smartcard_database(&host_mode).unwrap();
        host.smartcard_database(&certs).unwrap();
        let passthrough = card(
            "<smartcard mode='passthrough' type='unix'><source mode='bind' path='/tmp/x.sock'/></smartcard>",
        );
        Host {
            root: root.join("none"),
        }
        .smartcard_database(&passthrough)
        .unwrap();
        let _ = std::fs::remove_dir_all(&root);
    }
}
