//! Where a manager keeps its state: one layout for the embedded driver and
//! the daemons, so that a daemon is a LocalDriver behind a socket.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode, Result};

use crate::sys::fsutil::ensure_private_dir;

/// The most bytes a UNIX socket path may have (`sun_path` holds 108,
/// with the terminating NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// The longest socket name QEMU gets in a domain's runtime directory for
/// what virt-install writes (the guest agent's channel); a longer channel
/// name is refused when the domain starts.
const LONGEST_SOCKET: &str = "c.org.qemu.guest_agent.0";

/// The directories and files of one state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Persistent definitions, one `NAME.xml` each.
    pub config: PathBuf,
    /// Autostart marks: an empty file named after each domain that starts
    /// with the manager.
    pub autostart: PathBuf,
    /// Runtime state: one directory per running domain, named by its
    /// UUID (see [`Layout::run_dir`]), beside the lock and the sockets.
    pub run: PathBuf,
    /// Logs: the manager's own (`qvirt.log`), and per domain
    /// `qemu/NAME.log` (QEMU's output) and `console/NAME.log` (the serial
    /// console).
    pub log: PathBuf,
    /// Managed save images, `NAME.save`.
    pub save: PathBuf,
    /// UEFI variable stores, `NAME_VARS.fd`.
    pub nvram: PathBuf,
    /// Software TPM state, one directory per domain UUID.
    pub tpm: PathBuf,
    /// Storage pool definitions (`NAME.xml`), their autostart marks
    /// (`autostart/NAME`) and the formats of the images qvirt made.
    pub storage: PathBuf,
    /// The directory of the pool `default`, made on first use.
    pub images: PathBuf,
    /// Snapshot metadata, a directory per domain UUID.
    pub snapshots: PathBuf,
    /// Secrets: `UUID.xml` definitions and their `UUID.base64` values.
    pub secrets: PathBuf,
    /// Cached probes of QEMU binaries.
    pub cache: PathBuf,
    /// The lock file that says which manager owns this state.
    pub lock: PathBuf,
}

impl Layout {
    /// The embedded layout: everything under `root`.
    pub fn embedded(root: &Path) -> Layout {
        Layout {
            config: root.join("config"),
            autostart: root.join("config/autostart"),
            run: root.join("run"),
            log: root.join("log"),
            save: root.join("save"),
            nvram: root.join("nvram"),
            tpm: root.join("swtpm"),
            storage: root.join("storage"),
            images: root.join("images"),
            snapshots: root.join("snapshot"),
            secrets: root.join("secrets"),
            cache: root.join("cache"),
            lock: root.join("run/lock"),
        }
    }

    /// The x509 certificates QEMU uses as an NBD client over TLS
    /// (`ca-cert.pem`, and `client-cert.pem` with `client-key.pem` where
    /// the server asks for them): `pki/nbd` beside the definitions,
    /// libvirt's `nbd_tls_x509_cert_dir` for this state. Made by the
    /// administrator, not by the manager.
    pub fn nbd_tls_dir(&self) -> PathBuf {
        self.config.join("pki/nbd")
    }

    /// The x509 certificates QEMU uses for TCP character devices with
    /// `tls='yes'` (`ca-cert.pem`; `server-cert.pem` and
    /// `server-key.pem` for a listener; `client-cert.pem` and
    /// `client-key.pem` for a client a server asks them of):
    /// `pki/chardev` beside the definitions, libvirt's
    /// `chardev_tls_x509_cert_dir` for this state. Made by the
    /// administrator, not by the manager.
    pub fn chardev_tls_dir(&self) -> PathBuf {
        self.config.join("pki/chardev")
    }

    /// The x509 certificates of SPICE displays over TLS (`ca-cert.pem`,
    /// `server-cert.pem`, `server-key.pem`): `pki/spice` beside the
    /// definitions, libvirt's `spice_tls_x509_cert_dir`; SPICE's TLS is
    /// on (libvirt's `spice_tls`) when the three are there. Made by the
    /// administrator, not by the manager.
    pub fn spice_tls_dir(&self) -> PathBuf {
        self.config.join("pki/spice")
    }

    /// Creates every directory (mode 0700) and checks each is private,
    /// and that no directory above it lets another user swap it (see
    /// [`ensure_private_dir`]); checks that QEMU's sockets fit under `run`.
    pub fn prepare(&self) -> Result<()> {
        for dir in [
            &self.config,
            &self.autostart,
            &self.run,
            &self.log,
            &self.log.join("qemu"),
            &self.log.join("console"),
            &self.save,
            &self.nvram,
            &self.tpm,
            &self.storage,
            &self.snapshots,
            &self.secrets,
            &self.cache,
        ] {
            ensure_private_dir(dir)?;
        }
        let probe = self.run_dir(&uuid::Uuid::nil()).join(LONGEST_SOCKET);
        let len = probe.as_os_str().len();
        if len > MAX_SOCKET_PATH {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "the runtime directory {} is too deep: QEMU's sockets under it would take {len} bytes, more than the {MAX_SOCKET_PATH} a UNIX socket address holds; use a shorter state directory",
                    self.run.display()
                ),
            ));
        }
        Ok(())
    }

    /// The persistent definition of `name`.
    pub fn config_file(&self, name: &str) -> PathBuf {
        self.config.join(format!("{name}.xml"))
    }

    /// The autostart mark of `name`.
    pub fn autostart_file(&self, name: &str) -> PathBuf {
        self.autostart.join(name)
    }

    /// The runtime directory of a running domain: named by its UUID, so
    /// that no domain name can meet the manager's own files (`lock`, the
    /// sockets) and the socket paths in it have the same length whatever
    /// the name. (Managers before this layout used `run/NAME`; a reattach
    /// finds either, by the status file inside.)
    pub fn run_dir(&self, uuid: &uuid::Uuid) -> PathBuf {
        self.run.join(uuid.to_string())
    }

    /// Where the reason a defined domain last stopped is kept, so a later
    /// manager reports "shut off (destroyed)" rather than "unknown". The
    /// leading dot keeps it apart from domain names.
    pub fn reason_file(&self, uuid: &uuid::Uuid) -> PathBuf {
        self.run.join(format!(".{uuid}.reason"))
    }

    /// The log of `name`'s QEMU (`qemu/NAME.log`: in a directory of its
    /// own, so no domain name can meet the manager's log or another
    /// domain's console log).
    pub fn log_file(&self, name: &str) -> PathBuf {
        self.log.join("qemu").join(format!("{name}.log"))
    }

    /// The serial console log of `name` (`console/NAME.log`).
    pub fn console_log_file(&self, name: &str) -> PathBuf {
        self.log.join("console").join(format!("{name}.log"))
    }

    /// The UEFI variable store `name` gets when its `<nvram>` names none.
    pub fn nvram_file(&self, name: &str) -> PathBuf {
        self.nvram.join(format!("{name}_VARS.fd"))
    }

    /// The log of `name`'s software TPM.
    pub fn tpm_log_file(&self, name: &str) -> PathBuf {
        self.log.join(format!("{name}-swtpm.log"))
    }

    /// The managed save image of `name`.
    pub fn managed_save_file(&self, name: &str) -> PathBuf {
        self.save.join(format!("{name}.save"))
    }

    /// The manager's own log.
    pub fn manager_log(&self) -> PathBuf {
        self.log.join("qvirt.log")
    }
}
