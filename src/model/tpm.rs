//! `<tpm>`: a TPM device and the backend that implements it.

use super::words::words;

words! {
    /// `<tpm model=...>`.
    pub enum TpmModel {
        /// TPM Interface Specification device.
        TpmTis = "tpm-tis",
        /// Command Response Buffer device.
        TpmCrb = "tpm-crb",
        /// The pSeries vTPM.
        TpmSpapr = "tpm-spapr",
        /// The pSeries TPM proxy.
        SpaprTpmProxy = "spapr-tpm-proxy",
    }

    /// `<backend version=...>` of an emulated TPM.
    pub enum TpmVersion {
        /// TPM 1.2.
        V1_2 = "1.2",
        /// TPM 2.0.
        V2_0 = "2.0",
    }
}

/// `<tpm model=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tpm {
    /// `model`; `None` when not written (tpm-tis on x86).
    pub model: Option<TpmModel>,
    /// `<backend>`.
    pub backend: TpmBackend,
}

/// `<backend type=...>` of a TPM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TpmBackend {
    /// `emulator`: a software TPM (swtpm) run by the manager, with its
    /// state kept per domain.
    Emulator {
        /// `version`; `None` when not written (2.0 for tpm-crb, else 1.2
        /// as libvirt 9.0).
        version: Option<TpmVersion>,
        /// `persistent_state='yes|no'`: keep the state of a transient
        /// domain after it stops.
        persistent_state: Option<bool>,
    },
    /// `passthrough`: the host's TPM, `<device path=...>`.
    Passthrough {
        /// `<device path=...>`: the host's TPM character device.
        path: String,
    },
    /// `external`: a TPM emulator another process runs, reached on its
    /// UNIX socket (`<source type='unix' mode='connect' path=...>`).
    External {
        /// `path`: the emulator's socket, which QEMU connects to.
        path: String,
    },
}
