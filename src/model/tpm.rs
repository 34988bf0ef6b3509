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

    /// A PCR bank of a TPM 2.0, by its hash (`<active_pcr_banks>`'s
    /// children), in libvirt's order.
    pub enum TpmPcrBank {
        /// SHA-1.
        Sha1 = "sha1",
        /// SHA-256.
        Sha256 = "sha256",
        /// SHA-384.
        Sha384 = "sha384",
        /// SHA-512.
        Sha512 = "sha512",
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

impl Tpm {
    /// The version an emulated TPM of `model` is when its `<backend>`
    /// names none: 2.0 for tpm-crb (which 1.2 cannot drive), else 1.2,
    /// as libvirt 9.0 chooses.
    pub fn default_version(model: Option<TpmModel>) -> TpmVersion {
        if model == Some(TpmModel::TpmCrb) {
            TpmVersion::V2_0
        } else {
            TpmVersion::V1_2
        }
    }
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
        /// `<encryption secret=UUID>`: the emulator's state is encrypted
        /// with a key derived from that secret's value (usage `vtpm`).
        encryption: Option<uuid::Uuid>,
        /// `<active_pcr_banks>` (TPM 2.0): the banks made active before
        /// every start, once each in libvirt's order; `None` (also for
        /// an empty element, as libvirt reads it) leaves them as they
        /// were last set.
        active_pcr_banks: Option<Vec<TpmPcrBank>>,
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
