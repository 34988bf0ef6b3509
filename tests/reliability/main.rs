//! The hostile-world suite: qvirt's promises — VMs are never lost, the
//! state always matches reality, errors say what happened — checked
//! against a world that misbehaves, with a real `qemu-system-x86_64` and
//! the real daemon (`qvirtd`, as built).
//!
//! - `daemon_kill`: the daemon is SIGKILLed while VMs run and clients
//!   call; a new daemon, or an embedded driver, takes over every VM.
//! - `qemu_kill`: a QEMU is SIGKILLed; the domain is shut off (crashed),
//!   subscribers hear it, `on_crash` is applied, nothing is left behind.
//! - `storm`: the daemon is SIGKILLed at random moments of a storm of
//!   define/undefine calls; the config directory always holds exactly
//!   what the answered calls said.
//! - `bad_config`: a config directory full of broken files; the daemon
//!   serves the good ones, logs each bad one, and changes none.
//! - `wire_abuse`: garbage, oversized, cut, idle and trickling clients;
//!   each gets a coded error or is closed, the daemon's memory stays
//!   bounded, and a well-behaved client is served throughout.
//! - `hostile_xml`: definitions built to break the reader, the command
//!   line or the file system; refused with a code, or escaped.
//! - `hardening`: kills at chosen points of a save, a start from a
//!   managed save image and a media change; descriptors run out; links
//!   planted for save images and logs; state under open directories;
//!   domain names that could meet the manager's files.
//! - `access`: other uids, the read-only socket, planted symlinks and
//!   open directories; refused with coded errors, nothing followed.
//! - `limits`: what an unprivileged user can make the daemon hold through
//!   its read-only socket (subscriptions, places, frame buffers, bytes),
//!   and a subscriber too slow for its events.
//! - `snapshot_kill`: the daemon is SIGKILLed while it takes a snapshot;
//!   the next manager finds the snapshot whole or not at all.
//! - `snapshot_external_kill`: the same at each step of an external
//!   disk-only snapshot (overlay written, node added, disk switched).
//! - `secrets`: a domain's XML shows its VNC password only to a
//!   read-write connection that asks for it.
//!
//! The fuzz targets (`fuzz/`) cover the same ground with random input;
//! their crashing inputs, if any, are kept as regression tests beside the
//! code they broke.
//!
//! Nothing here times an operation: assertions are about states, files,
//! processes and error codes, and every wait is a poll with a deadline.
//! Tests that run many VMs take the [`support::heavy`] guard so they run
//! one at a time.

mod access;
mod bad_config;
mod daemon_kill;
mod hardening;
mod hostile_xml;
mod limits;
mod qemu_kill;
mod secrets;
mod snapshot_external_kill;
mod snapshot_kill;
mod storm;
mod support;
mod wire_abuse;
