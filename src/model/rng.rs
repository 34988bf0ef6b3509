//! Random number generators: `<rng>` with its rate limit and the host
//! source of its entropy.

use super::chardev::CharSource;
use super::devices::{Address, VirtioOptions};
use super::words::words;

words! {
    /// `<rng model=...>`.
    pub enum RngModel {
        /// virtio-rng.
        Virtio = "virtio",
        /// virtio-rng, transitional.
        VirtioTransitional = "virtio-transitional",
        /// virtio-rng, modern only.
        VirtioNonTransitional = "virtio-non-transitional",
    }
}

/// `<rng model=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    /// `model`.
    pub model: RngModel,
    /// `<rate bytes= period=>`: at most `bytes` per `period` ms.
    pub rate: Option<RngRate>,
    /// `<backend>`.
    pub backend: RngBackend,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: output only, the id a running domain's XML
    /// shows (`rng0`); a definition's is not kept.
    pub alias: Option<String>,
}

/// `<rate bytes= period=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngRate {
    /// `bytes`.
    pub bytes: u32,
    /// `period` in milliseconds; `None` when not written (1000).
    pub period: Option<u32>,
}

/// `<backend model=...>` of an rng.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RngBackend {
    /// `random`: a host device, `/dev/urandom` or `/dev/random`; `None`
    /// when not written (`/dev/urandom`).
    Random(Option<String>),
    /// `builtin`: QEMU's own generator.
    Builtin,
    /// `egd`: an Entropy Gathering Daemon reached over a character device
    /// (`type='tcp'` or `type='unix'` with its `<source>`).
    Egd(CharSource),
}
