//! The snapshot and block-job verbs, as virsh's: `snapshot-*`,
//! `blockcommit`, `blockpull` and `blockjob`. Taking and reverting a
//! snapshot is the domain's job: `domjobinfo` and `domjobabort` see it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Subcommand;
use qvirt::driver::{
    BlockCommitFlags, BlockCopy, BlockCopyFlags, Driver, Snapshot, SnapshotCreateFlags,
    SnapshotDeleteFlags, SnapshotInfo, SnapshotRevertFlags,
};
use qvirt::model::{SnapshotDef, SnapshotDisk, SnapshotLocation, VolumeFormat, Word};
use qvirt::{Domain, Error, ErrorCode, Result};

use crate::{Ctx, outln};

/// A snapshot of a domain: named, or the current one.
#[derive(Debug, clap::Args)]
pub struct SnapArg {
    /// The domain.
    pub domain: String,
    /// The snapshot (the current one with --current).
    pub snapshotname: Option<String>,
    /// The current snapshot.
    #[arg(long)]
    pub current: bool,
}

/// The snapshot and block-job verbs.
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Take a snapshot from its parts: internal (with memory while the
    /// domain runs) unless --disk-only.
    #[command(name = "snapshot-create-as")]
    SnapshotCreateAs {
        /// The domain.
        domain: String,
        /// The snapshot's name (default: its creation time).
        name: Option<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// External disk-only snapshot: each disk onto a new qcow2 overlay.
        #[arg(long)]
        disk_only: bool,
        /// All disks or none (always so).
        #[arg(long)]
        atomic: bool,
        /// Freeze the guest's file systems (needs a guest agent: refused).
        #[arg(long)]
        quiesce: bool,
        /// Print the `<domainsnapshot>` XML instead of taking it.
        #[arg(long)]
        print_xml: bool,
        /// One disk's part, as virsh writes it:
        /// `DISK[,snapshot=internal|external|no][,driver=qcow2][,stype=file][,file=PATH]`
        /// (`,,` is a comma in a name). Repeatable.
        #[arg(long, value_name = "DISKSPEC")]
        diskspec: Vec<String>,
        /// The memory's part: `snapshot=no` or `snapshot=internal` (an
        /// external memory file is refused).
        #[arg(long, value_name = "MEMSPEC")]
        memspec: Option<String>,
    },
    /// Take a snapshot from a `<domainsnapshot>` XML file.
    #[command(name = "snapshot-create")]
    SnapshotCreate {
        /// The domain.
        domain: String,
        /// The XML file.
        file: PathBuf,
        /// External disk-only snapshot.
        #[arg(long)]
        disk_only: bool,
        /// All disks or none (always so).
        #[arg(long)]
        atomic: bool,
    },
    /// List a domain's snapshots.
    #[command(name = "snapshot-list")]
    SnapshotList {
        /// The domain.
        domain: String,
        /// As a tree of parents and children.
        #[arg(long)]
        tree: bool,
        /// With each snapshot's parent.
        #[arg(long)]
        parent: bool,
        /// Only the current snapshot.
        #[arg(long)]
        current: bool,
        /// Names only.
        #[arg(long)]
        name: bool,
    },
    /// Show a snapshot's facts.
    #[command(name = "snapshot-info")]
    SnapshotInfo(SnapArg),
    /// Print a snapshot's XML.
    #[command(name = "snapshot-dumpxml")]
    SnapshotDumpXml {
        /// The domain.
        domain: String,
        /// The snapshot.
        snapshotname: String,
    },
    /// Print the current snapshot's XML (its name with --name).
    #[command(name = "snapshot-current")]
    SnapshotCurrent {
        /// The domain.
        domain: String,
        /// Only its name.
        #[arg(long)]
        name: bool,
    },
    /// Print a snapshot's parent.
    #[command(name = "snapshot-parent")]
    SnapshotParent(SnapArg),
    /// Bring a domain back to a snapshot.
    #[command(name = "snapshot-revert")]
    SnapshotRevert {
        #[command(flatten)]
        snap: SnapArg,
        /// Running afterwards.
        #[arg(long, conflicts_with = "paused")]
        running: bool,
        /// Paused afterwards.
        #[arg(long)]
        paused: bool,
        /// Revert even where it is risky.
        #[arg(long)]
        force: bool,
    },
    /// Delete a snapshot (its children move to its parent).
    #[command(name = "snapshot-delete")]
    SnapshotDelete {
        #[command(flatten)]
        snap: SnapArg,
        /// Its descendants too.
        #[arg(long)]
        children: bool,
        /// Only its descendants.
        #[arg(long)]
        children_only: bool,
        /// Only the record; the images keep the data.
        #[arg(long)]
        metadata: bool,
    },
    /// Merge a disk's overlay into its backing image (active commit).
    #[command(name = "blockcommit")]
    BlockCommit {
        /// The domain.
        domain: String,
        /// The disk: its target (vda) or source path.
        path: String,
        /// Commit the active layer (the only commit qvirt does).
        #[arg(long)]
        active: bool,
        /// Once ready, switch the disk to the base image (implies --wait).
        #[arg(long)]
        pivot: bool,
        /// Once ready, end the job leaving the disk on the overlay.
        #[arg(long)]
        keep_overlay: bool,
        /// Wait until the job is ready.
        #[arg(long)]
        wait: bool,
        /// Show progress while waiting.
        #[arg(long)]
        verbose: bool,
        /// Give up waiting after this many seconds (the job goes on).
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// Copy a running disk to a new image, kept in step until pivoted.
    #[command(name = "blockcopy")]
    BlockCopy {
        /// The domain.
        domain: String,
        /// The disk: its target (vda) or source path.
        path: String,
        /// The copy: an absolute path of a file or a block device.
        dest: String,
        /// Copy only the active layer, over the same backing image.
        #[arg(long)]
        shallow: bool,
        /// Use the existing destination as it is.
        #[arg(long)]
        reuse_external: bool,
        /// The copy is raw (as --format raw).
        #[arg(long)]
        raw: bool,
        /// The copy's format (raw, qcow2); default: the disk's.
        #[arg(long, conflicts_with = "raw")]
        format: Option<String>,
        /// MiB/s the copy may move (bytes/s with --bytes).
        #[arg(long)]
        bandwidth: Option<u64>,
        /// --bandwidth is in bytes a second.
        #[arg(long)]
        bytes: bool,
        /// The dirty bitmap's granularity, bytes (a power of two).
        #[arg(long)]
        granularity: Option<u32>,
        /// The most bytes in flight.
        #[arg(long)]
        buf_size: Option<u64>,
        /// A job of the running domain only (needed for a persistent one).
        #[arg(long)]
        transient_job: bool,
        /// Guest writes complete once they reached the copy too.
        #[arg(long)]
        synchronous_writes: bool,
        /// Wait until the copy is in step.
        #[arg(long)]
        wait: bool,
        /// Show progress while waiting.
        #[arg(long)]
        verbose: bool,
        /// Give up waiting after this many seconds (the job goes on).
        #[arg(long)]
        timeout: Option<u64>,
        /// Once in step, move the disk onto the copy (implies --wait).
        #[arg(long)]
        pivot: bool,
        /// Once in step, end the job leaving the disk where it is and the
        /// copy consistent (implies --wait).
        #[arg(long, conflicts_with = "pivot")]
        finish: bool,
    },
    /// Copy a disk's backing data into its active layer.
    #[command(name = "blockpull")]
    BlockPull {
        /// The domain.
        domain: String,
        /// The disk.
        path: String,
        /// Wait until the job ends.
        #[arg(long)]
        wait: bool,
        /// Show progress while waiting.
        #[arg(long)]
        verbose: bool,
    },
    /// Show or end a disk's block job.
    #[command(name = "blockjob")]
    BlockJob {
        /// The domain.
        domain: String,
        /// The disk.
        path: String,
        /// Show it (the default).
        #[arg(long)]
        info: bool,
        /// Cancel it.
        #[arg(long)]
        abort: bool,
        /// Complete a ready active commit onto the base image, or a ready
        /// copy onto the copy.
        #[arg(long)]
        pivot: bool,
    },
}

fn snapshot(ctx: &mut Ctx, arg: &SnapArg) -> Result<(Domain, Snapshot)> {
    let dom = ctx.domain(&arg.domain)?;
    let d = ctx.driver()?;
    let snap = match (&arg.snapshotname, arg.current) {
        (Some(name), false) => d.snapshot_lookup(&dom, name)?,
        (None, true) | (None, false) => d.snapshot_current(&dom)?.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("domain '{}' has no current snapshot", dom.name),
            )
        })?,
        (Some(_), true) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "name a snapshot or give --current, not both",
            ));
        }
    };
    Ok((dom, snap))
}

fn create_flags(disk_only: bool, atomic: bool, quiesce: bool) -> SnapshotCreateFlags {
    let mut f = SnapshotCreateFlags::NONE;
    if disk_only {
        f = f | SnapshotCreateFlags::DISK_ONLY;
    }
    if atomic {
        f = f | SnapshotCreateFlags::ATOMIC;
    }
    if quiesce {
        f = f | SnapshotCreateFlags::QUIESCE;
    }
    f
}

fn time_of(secs: u64) -> String {
    // virsh prints local time; UTC keeps this free of time zone data.
    let days = secs / 86400;
    let rem = secs % 86400;
    let (y, m, d) = qvirt::model::civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn print_tree(list: &[SnapshotInfo], parent: Option<&str>, depth: usize) -> Result<()> {
    for s in list.iter().filter(|s| s.parent.as_deref() == parent) {
        if depth == 0 {
            outln!("{}", s.name)?;
        } else {
            outln!("{}+- {}", "  ".repeat(depth - 1), s.name)?;
        }
        print_tree(list, Some(&s.name), depth + 1)?;
    }
    Ok(())
}

/// Runs a snapshot or block-job verb.
pub fn run(ctx: &mut Ctx, command: SnapshotCommand) -> Result<()> {
    use SnapshotCommand as C;
    match command {
        C::SnapshotCreateAs {
            domain,
            name,
            description,
            disk_only,
            atomic,
            quiesce,
            print_xml,
            diskspec,
            memspec,
        } => {
            let mut def = SnapshotDef::named(String::new());
            def.name = name;
            def.description = description;
            def.disks = diskspec
                .iter()
                .map(|s| parse_diskspec(s))
                .collect::<Result<_>>()?;
            if let Some(spec) = memspec {
                def.memory = Some(parse_memspec(&spec)?);
            }
            if print_xml {
                return outln!("{}", def.to_xml().trim_end());
            }
            let dom = ctx.domain(&domain)?;
            let snap = ctx.driver()?.snapshot_create_xml(
                &dom,
                &def.to_xml(),
                create_flags(disk_only, atomic, quiesce),
            )?;
            outln!("Domain snapshot {} created", snap.name)
        }
        C::SnapshotCreate {
            domain,
            file,
            disk_only,
            atomic,
        } => {
            let xml = std::fs::read_to_string(&file)
                .map_err(|e| Error::io(format!("cannot read {}", file.display()), e))?;
            let dom = ctx.domain(&domain)?;
            let snap = ctx.driver()?.snapshot_create_xml(
                &dom,
                &xml,
                create_flags(disk_only, atomic, false),
            )?;
            outln!(
                "Domain snapshot {} created from '{}'",
                snap.name,
                file.display()
            )
        }
        C::SnapshotList {
            domain,
            tree,
            parent,
            current,
            name,
        } => {
            let dom = ctx.domain(&domain)?;
            let mut list = ctx.driver()?.snapshot_list(&dom)?;
            if current {
                list.retain(|s| s.current);
            }
            if tree {
                return print_tree(&list, None, 0);
            }
            if name {
                for s in &list {
                    outln!("{}", s.name)?;
                }
                return Ok(());
            }
            if parent {
                outln!(" {:<20} {:<27} {}", "Name", "Creation Time", "Parent")?;
            } else {
                outln!(" {:<20} {:<27} {}", "Name", "Creation Time", "State")?;
            }
            outln!("{}", "-".repeat(64))?;
            for s in &list {
                let last = if parent {
                    s.parent.clone().unwrap_or_default()
                } else {
                    s.state.as_str().to_string()
                };
                outln!(" {:<20} {:<27} {}", s.name, time_of(s.creation_time), last)?;
            }
            Ok(())
        }
        C::SnapshotInfo(arg) => {
            let (dom, snap) = snapshot(ctx, &arg)?;
            let i = ctx.driver()?.snapshot_info(&snap)?;
            let yes = |b: bool| if b { "yes" } else { "no" };
            outln!("{:<16}{}", "Name:", i.name)?;
            outln!("{:<16}{}", "Domain:", dom.name)?;
            outln!("{:<16}{}", "Current:", yes(i.current))?;
            outln!("{:<16}{}", "State:", i.state.as_str())?;
            outln!(
                "{:<16}{}",
                "Location:",
                if i.external { "external" } else { "internal" }
            )?;
            outln!("{:<16}{}", "Parent:", i.parent.as_deref().unwrap_or("-"))?;
            outln!("{:<16}{}", "Children:", i.children)?;
            outln!("{:<16}{}", "Metadata:", "yes")
        }
        C::SnapshotDumpXml {
            domain,
            snapshotname,
        } => {
            let dom = ctx.domain(&domain)?;
            let d = ctx.driver()?;
            let snap = d.snapshot_lookup(&dom, &snapshotname)?;
            outln!("{}", d.snapshot_xml(&snap)?.trim_end())
        }
        C::SnapshotCurrent { domain, name } => {
            let dom = ctx.domain(&domain)?;
            let d = ctx.driver()?;
            let Some(snap) = d.snapshot_current(&dom)? else {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("domain '{}' has no current snapshot", dom.name),
                ));
            };
            if name {
                outln!("{}", snap.name)
            } else {
                outln!("{}", d.snapshot_xml(&snap)?.trim_end())
            }
        }
        C::SnapshotParent(arg) => {
            let (_, snap) = snapshot(ctx, &arg)?;
            match ctx.driver()?.snapshot_info(&snap)?.parent {
                Some(p) => outln!("{p}"),
                None => Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("snapshot '{}' has no parent", snap.name),
                )),
            }
        }
        C::SnapshotRevert {
            snap,
            running,
            paused,
            force,
        } => {
            let (_, s) = snapshot(ctx, &snap)?;
            let mut f = SnapshotRevertFlags::NONE;
            if running {
                f = f | SnapshotRevertFlags::RUNNING;
            }
            if paused {
                f = f | SnapshotRevertFlags::PAUSED;
            }
            if force {
                f = f | SnapshotRevertFlags::FORCE;
            }
            ctx.driver()?.snapshot_revert(&s, f)
        }
        C::SnapshotDelete {
            snap,
            children,
            children_only,
            metadata,
        } => {
            let (_, s) = snapshot(ctx, &snap)?;
            let mut f = SnapshotDeleteFlags::NONE;
            if children {
                f = f | SnapshotDeleteFlags::CHILDREN;
            }
            if children_only {
                f = f | SnapshotDeleteFlags::CHILDREN_ONLY;
            }
            if metadata {
                f = f | SnapshotDeleteFlags::METADATA_ONLY;
            }
            ctx.driver()?.snapshot_delete(&s, f)?;
            if children_only {
                outln!("Domain snapshot {} children deleted", s.name)
            } else {
                outln!("Domain snapshot {} deleted", s.name)
            }
        }
        C::BlockCommit {
            domain,
            path,
            active,
            pivot,
            keep_overlay,
            wait,
            verbose,
            timeout,
        } => {
            if !active {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    "qvirt commits the active layer only: add --active",
                ));
            }
            let dom = ctx.domain(&domain)?;
            let d = ctx.driver()?;
            d.block_commit(&dom, &path, BlockCommitFlags::ACTIVE)?;
            if !(wait || pivot || keep_overlay) {
                return outln!("Active Block Commit started");
            }
            wait_ready(d, &dom, &path, "commit", verbose, timeout)?;
            if pivot {
                d.block_job_abort(&dom, &path, true)?;
                outln!("Successfully pivoted")
            } else if keep_overlay {
                d.block_job_abort(&dom, &path, false)?;
                outln!("Commit complete, overlay image kept")
            } else {
                outln!("Now in synchronized phase")
            }
        }
        C::BlockCopy {
            domain,
            path,
            dest,
            shallow,
            reuse_external,
            raw,
            format,
            bandwidth,
            bytes,
            granularity,
            buf_size,
            transient_job,
            synchronous_writes,
            wait,
            verbose,
            timeout,
            pivot,
            finish,
        } => {
            let format = match (raw, format) {
                (true, _) => Some(VolumeFormat::Raw),
                (false, Some(f)) => Some(VolumeFormat::from_word(&f).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("unknown copy format '{f}' (raw, qcow2)"),
                    )
                })?),
                (false, None) => None,
            };
            let bandwidth = match (bandwidth, bytes) {
                (None, _) => 0,
                (Some(b), true) => b,
                (Some(b), false) => b.checked_mul(1 << 20).ok_or_else(|| {
                    Error::new(ErrorCode::InvalidArgument, "bandwidth is too large")
                })?,
            };
            let mut flags = BlockCopyFlags::NONE;
            for (on, flag) in [
                (shallow, BlockCopyFlags::SHALLOW),
                (reuse_external, BlockCopyFlags::REUSE_EXT),
                (transient_job, BlockCopyFlags::TRANSIENT_JOB),
                (synchronous_writes, BlockCopyFlags::SYNCHRONOUS_WRITES),
            ] {
                if on {
                    flags = flags | flag;
                }
            }
            let copy = BlockCopy {
                dest: PathBuf::from(dest),
                format,
                bandwidth,
                granularity: granularity.unwrap_or(0),
                buf_size: buf_size.unwrap_or(0),
                flags,
            };
            let dom = ctx.domain(&domain)?;
            let d = ctx.driver()?;
            d.block_copy(&dom, &path, &copy)?;
            if !(wait || pivot || finish) {
                return outln!("Block Copy started");
            }
            wait_ready(d, &dom, &path, "copy", verbose, timeout)?;
            if pivot {
                d.block_job_abort(&dom, &path, true)?;
                outln!("Successfully pivoted")
            } else if finish {
                d.block_job_abort(&dom, &path, false)?;
                outln!("Successfully copied")
            } else {
                outln!("Now in mirroring phase")
            }
        }
        C::BlockPull {
            domain,
            path,
            wait,
            verbose,
        } => {
            let dom = ctx.domain(&domain)?;
            let d = ctx.driver()?;
            d.block_pull(&dom, &path)?;
            if !wait {
                return outln!("Block Pull started");
            }
            while let Some(job) = d.block_job_info(&dom, &path)? {
                if verbose {
                    let pct = (job.cur * 100).checked_div(job.end).unwrap_or(0);
                    eprint!("\rBlock Pull: [{pct:3} %]");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if verbose {
                eprintln!();
            }
            outln!("Pull complete")
        }
        C::BlockJob {
            domain,
            path,
            info: _,
            abort,
            pivot,
        } => {
            let dom = ctx.domain(&domain)?;
            let d = ctx.driver()?;
            if abort || pivot {
                return d.block_job_abort(&dom, &path, pivot);
            }
            match d.block_job_info(&dom, &path)? {
                Some(j) => {
                    let pct = (j.cur * 100).checked_div(j.end).unwrap_or(0);
                    outln!(
                        "{}: [{pct:3} %]{}",
                        j.kind.as_str(),
                        if j.ready { " (ready)" } else { "" }
                    )
                }
                None => outln!("No current block job for {path}"),
            }
        }
    }
}

/// Waits until the disk's two-phase job (a `what`: commit, copy) is
/// ready, showing its progress with `verbose`, for at most `timeout`
/// seconds (the job goes on after).
fn wait_ready(
    d: &dyn Driver,
    dom: &Domain,
    path: &str,
    what: &str,
    verbose: bool,
    timeout: Option<u64>,
) -> Result<()> {
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs(t));
    loop {
        let Some(job) = d.block_job_info(dom, path)? else {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("the {what} of disk {path} ended before it was ready"),
            ));
        };
        if verbose {
            let pct = (job.cur * 100).checked_div(job.end).unwrap_or(0);
            eprint!("\rBlock {what}: [{pct:3} %]");
        }
        if job.ready {
            if verbose {
                eprintln!();
            }
            return Ok(());
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("the {what} of disk {path} was not ready in time; it goes on"),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Splits a virsh spec at single commas; `,,` is a comma of a value.
fn spec_fields(spec: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ',' if chars.peek() == Some(&',') => {
                chars.next();
                fields.last_mut().expect("one field").push(',');
            }
            ',' => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

fn spec_error(what: &str, spec: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        format!("invalid {what} '{spec}': {why}"),
    )
}

fn location(what: &str, spec: &str, value: &str) -> Result<SnapshotLocation> {
    SnapshotLocation::from_word(value).ok_or_else(|| {
        spec_error(
            what,
            spec,
            format!("snapshot='{value}' is none of internal, external, no"),
        )
    })
}

/// `--diskspec DISK[,snapshot=...][,driver=qcow2][,stype=file][,file=PATH]`.
fn parse_diskspec(spec: &str) -> Result<SnapshotDisk> {
    let fields = spec_fields(spec);
    let name = fields[0].clone();
    if name.is_empty() {
        return Err(spec_error("--diskspec", spec, "it names no disk"));
    }
    let mut disk = SnapshotDisk {
        name,
        location: None,
        source: None,
    };
    for field in &fields[1..] {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| spec_error("--diskspec", spec, format!("'{field}' is not KEY=VALUE")))?;
        match key {
            "snapshot" => disk.location = Some(location("--diskspec", spec, value)?),
            "file" => disk.source = Some(value.to_string()),
            // The overlays qvirt makes are qcow2 files.
            "driver" if value == "qcow2" => {}
            "stype" if value == "file" => {}
            "driver" | "stype" => {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!(
                        "--diskspec {key}={value}: qvirt makes external snapshots as qcow2 files (driver=qcow2, stype=file)"
                    ),
                ));
            }
            other => {
                return Err(spec_error(
                    "--diskspec",
                    spec,
                    format!("unknown key '{other}' (snapshot, driver, stype, file)"),
                ));
            }
        }
    }
    if disk.source.is_some() && disk.location.is_none() {
        disk.location = Some(SnapshotLocation::External);
    }
    Ok(disk)
}

/// `--memspec [file=]PATH[,snapshot=...]`, of which qvirt takes the
/// memory's place only: `snapshot=no` or `snapshot=internal`.
fn parse_memspec(spec: &str) -> Result<SnapshotLocation> {
    let mut place = None;
    for field in spec_fields(spec) {
        match field.split_once('=') {
            Some(("snapshot", value)) => place = Some(location("--memspec", spec, value)?),
            _ => {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!(
                        "--memspec '{spec}': qvirt keeps a snapshot's memory in the qcow2 images (snapshot=internal) or not at all (snapshot=no), never in a file of its own"
                    ),
                ));
            }
        }
    }
    match place {
        Some(SnapshotLocation::External) => Err(Error::new(
            ErrorCode::NoSupport,
            "--memspec snapshot=external: qvirt keeps a snapshot's memory in the qcow2 images or not at all",
        )),
        Some(p) => Ok(p),
        None => Err(spec_error("--memspec", spec, "it says no snapshot=")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_read_as_virsh_writes_them() {
        let d = parse_diskspec("vda,snapshot=external,file=/srv/a,,b.qcow2").unwrap();
        assert_eq!(d.name, "vda");
        assert_eq!(d.location, Some(SnapshotLocation::External));
        assert_eq!(d.source.as_deref(), Some("/srv/a,b.qcow2"));
        let d = parse_diskspec("vdb,snapshot=no").unwrap();
        assert_eq!((d.location, d.source), (Some(SnapshotLocation::No), None));
        assert!(parse_diskspec(",snapshot=no").is_err());
        assert!(parse_diskspec("vda,size=1").is_err());
        assert_eq!(
            parse_diskspec("vda,driver=raw").unwrap_err().code,
            ErrorCode::NoSupport
        );
        assert_eq!(parse_memspec("snapshot=no").unwrap(), SnapshotLocation::No);
        assert_eq!(
            parse_memspec("/srv/mem,snapshot=external")
                .unwrap_err()
                .code,
            ErrorCode::NoSupport
        );
    }
}
