//! The wire twins of a change of I/O threads ([`IoThreadChange`]), of
//! a lifecycle event ([`LifecycleEvent`]), of a save image
//! ([`SaveImage`]), of a block copy ([`BlockCopy`]) and of the state a
//! restore takes ([`RestoreOptions`]). Variants are append-only, as in
//! [`super::types`].

use serde::{Deserialize, Serialize};

use super::types::{WireDomain, WireVolumeFormat};
use crate::driver::{
    BlockCopy, IoThreadChange, IoThreadParams, LifecycleEvent, RestoreOptions, SaveImage,
    SaveOptions,
};
use crate::error::{Error, ErrorCode, Result};

/// What a restore takes besides the image: a [`RestoreOptions`], or
/// the [`SaveOptions`] a save writes into the image beside its bandwidth.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WireSaveState {
    pub running: Option<bool>,
    pub xml: Option<String>,
}

impl WireSaveState {
    /// Whether it asks for nothing.
    pub fn is_empty(&self) -> bool {
        *self == WireSaveState::default()
    }

    /// The part of a save's options that is not a [`super::types::WireSaveOptions`].
    pub fn of_save(o: &SaveOptions) -> WireSaveState {
        WireSaveState {
            running: o.running,
            xml: o.xml.clone(),
        }
    }

    /// A save's options of their two wire halves.
    pub fn save_options(self, wire: super::types::WireSaveOptions) -> SaveOptions {
        let mut o = SaveOptions::from(wire);
        o.running = self.running;
        o.xml = self.xml;
        o
    }
}

impl From<RestoreOptions> for WireSaveState {
    fn from(o: RestoreOptions) -> WireSaveState {
        WireSaveState {
            running: o.running,
            xml: o.xml,
        }
    }
}

impl From<WireSaveState> for RestoreOptions {
    fn from(s: WireSaveState) -> RestoreOptions {
        RestoreOptions {
            running: s.running,
            xml: s.xml,
        }
    }
}

/// An [`IoThreadParams`].
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireIoThreadParams {
    pub poll_max_ns: Option<u64>,
    pub poll_grow: Option<u32>,
    pub poll_shrink: Option<u32>,
    pub thread_pool_min: Option<i32>,
    pub thread_pool_max: Option<i32>,
}

/// An [`IoThreadChange`].
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireIoThreadChange {
    Add(u32),
    Remove(u32),
    Pin(u32, Vec<u32>),
    Tune(u32, WireIoThreadParams),
}

impl From<IoThreadChange> for WireIoThreadChange {
    fn from(c: IoThreadChange) -> WireIoThreadChange {
        match c {
            IoThreadChange::Add(id) => WireIoThreadChange::Add(id),
            IoThreadChange::Remove(id) => WireIoThreadChange::Remove(id),
            IoThreadChange::Pin(id, cpus) => WireIoThreadChange::Pin(id, cpus),
            IoThreadChange::Tune(id, p) => WireIoThreadChange::Tune(
                id,
                WireIoThreadParams {
                    poll_max_ns: p.poll_max_ns,
                    poll_grow: p.poll_grow,
                    poll_shrink: p.poll_shrink,
                    thread_pool_min: p.thread_pool_min,
                    thread_pool_max: p.thread_pool_max,
                },
            ),
        }
    }
}

impl From<WireIoThreadChange> for IoThreadChange {
    fn from(c: WireIoThreadChange) -> IoThreadChange {
        match c {
            WireIoThreadChange::Add(id) => IoThreadChange::Add(id),
            WireIoThreadChange::Remove(id) => IoThreadChange::Remove(id),
            WireIoThreadChange::Pin(id, cpus) => IoThreadChange::Pin(id, cpus),
            WireIoThreadChange::Tune(id, p) => IoThreadChange::Tune(
                id,
                IoThreadParams {
                    poll_max_ns: p.poll_max_ns,
                    poll_grow: p.poll_grow,
                    poll_shrink: p.poll_shrink,
                    thread_pool_min: p.thread_pool_min,
                    thread_pool_max: p.thread_pool_max,
                },
            ),
        }
    }
}

/// The number of lifecycle event `e` (libvirt's `virDomainLifecycle`).
pub fn lifecycle_event_number(e: LifecycleEvent) -> u32 {
    match e {
        LifecycleEvent::Poweroff => 0,
        LifecycleEvent::Reboot => 1,
        LifecycleEvent::Crash => 2,
    }
}

/// The lifecycle event of number `n`.
pub fn lifecycle_event(n: u32) -> Result<LifecycleEvent> {
    match n {
        0 => Ok(LifecycleEvent::Poweroff),
        1 => Ok(LifecycleEvent::Reboot),
        2 => Ok(LifecycleEvent::Crash),
        n => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("unknown lifecycle event {n}: 0 power-off, 1 reboot, 2 crash"),
        )),
    }
}

/// A [`SaveImage`].
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireSaveImage {
    File(String),
    Managed(WireDomain),
}

impl TryFrom<&SaveImage> for WireSaveImage {
    type Error = Error;
    fn try_from(image: &SaveImage) -> Result<WireSaveImage> {
        match image {
            SaveImage::File(path) => path
                .to_str()
                .map(|p| WireSaveImage::File(p.to_string()))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("save image path {} is not UTF-8", path.display()),
                    )
                }),
            SaveImage::Managed(dom) => Ok(WireSaveImage::Managed(dom.clone().into())),
        }
    }
}

impl From<WireSaveImage> for SaveImage {
    fn from(image: WireSaveImage) -> SaveImage {
        match image {
            WireSaveImage::File(path) => SaveImage::File(path.into()),
            WireSaveImage::Managed(dom) => SaveImage::Managed(dom.into()),
        }
    }
}

/// A [`BlockCopy`], the path as its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireBlockCopy {
    pub dest: Vec<u8>,
    pub format: Option<WireVolumeFormat>,
    pub bandwidth: u64,
    pub granularity: u32,
    pub buf_size: u64,
    pub flags: u32,
}

impl From<BlockCopy> for WireBlockCopy {
    fn from(c: BlockCopy) -> WireBlockCopy {
        use std::os::unix::ffi::OsStringExt;
        WireBlockCopy {
            dest: c.dest.into_os_string().into_vec(),
            format: c.format.map(Into::into),
            bandwidth: c.bandwidth,
            granularity: c.granularity,
            buf_size: c.buf_size,
            flags: c.flags.bits(),
        }
    }
}
