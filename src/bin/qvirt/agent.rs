//! The guest agent verbs, as virsh's: `domhostname`, `domtime`,
//! `domfsfreeze`, `domfsthaw`, `domfsinfo`, `guestinfo`,
//! `set-user-password`, `get-user-sshkeys`, `set-user-sshkeys` and
//! `qemu-agent-command` (a command of the caller's own), each
//! answered by the QEMU guest agent in the running guest, and
//! `guest-agent-timeout`, how long they wait for it (`shutdown --mode agent` and
//! `reboot --mode agent` are with the lifecycle verbs).

use clap::Subcommand;
use qvirt::driver::{AgentAnswer, AgentCall, GuestAgent, GuestValue, guest_info};
use qvirt::{Error, ErrorCode, Result};

use crate::args::DomArg;
use crate::{Ctx, outln};

/// The guest agent verbs.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Print the guest's host name, as its agent reports it.
    #[command(name = "domhostname")]
    Hostname(DomArg),
    /// Print the guest's clock (seconds since the epoch), or set it.
    #[command(name = "domtime")]
    Time {
        #[command(flatten)]
        dom: DomArg,
        /// Print the time as `YYYY-MM-DD HH:MM:SS` (UTC).
        #[arg(long)]
        pretty: bool,
        /// Set the guest's clock to the host's.
        #[arg(long, conflicts_with_all = ["sync", "time"])]
        now: bool,
        /// Set the guest's clock from its own hardware clock.
        #[arg(long, conflicts_with = "time")]
        sync: bool,
        /// Set the guest's clock to this many seconds since the epoch.
        #[arg(long, value_name = "SECONDS")]
        time: Option<i64>,
    },
    /// Freeze the guest's file systems (those mounted at the given
    /// points; all by default).
    #[command(name = "domfsfreeze")]
    FsFreeze {
        #[command(flatten)]
        dom: DomArg,
        /// A mount point to freeze (repeatable).
        #[arg(long = "mountpoint", value_name = "PATH")]
        mountpoints: Vec<String>,
    },
    /// List the guest's mounted file systems and the domain's disks under
    /// them.
    #[command(name = "domfsinfo")]
    FsInfo(DomArg),
    /// Set a guest user's password.
    #[command(name = "set-user-password")]
    SetUserPassword {
        #[command(flatten)]
        dom: DomArg,
        /// The user.
        user: String,
        /// The password (with --encrypted, its crypt(3) hash).
        password: String,
        /// The password is already a crypt(3) hash.
        #[arg(long)]
        encrypted: bool,
    },
    /// Print a guest user's SSH authorized keys, one a line.
    #[command(name = "get-user-sshkeys")]
    GetSshKeys {
        #[command(flatten)]
        dom: DomArg,
        /// The user.
        user: String,
    },
    /// Add keys to a guest user's SSH authorized keys (or replace them
    /// with --reset, or take them away with --remove).
    #[command(name = "set-user-sshkeys")]
    SetSshKeys {
        #[command(flatten)]
        dom: DomArg,
        /// The user.
        user: String,
        /// A file of keys, one a line (`-` reads stdin); none with
        /// --reset empties the list.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// Replace the keys rather than add to them.
        #[arg(long, conflicts_with = "remove")]
        reset: bool,
        /// Take the keys away.
        #[arg(long)]
        remove: bool,
    },
    /// Send the guest agent a command of your own (JSON, `{"execute":
    /// ...}`) and print its reply (the domain is tainted, as libvirt's).
    #[command(name = "qemu-agent-command")]
    Command {
        #[command(flatten)]
        dom: DomArg,
        /// The command, as JSON.
        command: String,
        /// Seconds to wait for the reply.
        #[arg(long, conflicts_with_all = ["block", "async"])]
        timeout: Option<u32>,
        /// Do not wait for the reply.
        #[arg(long = "async")]
        r#async: bool,
        /// Wait as long as any agent command may take (the default).
        #[arg(long)]
        block: bool,
    },
    /// Set how long the domain's agent calls wait for the agent's reply.
    #[command(name = "guest-agent-timeout")]
    Timeout {
        #[command(flatten)]
        dom: DomArg,
        /// Seconds, or -2 block (the default), -1 libvirt's default (5
        /// seconds), 0 do not wait.
        #[arg(long, allow_negative_numbers = true, default_value_t = -2)]
        timeout: i32,
    },
    /// Thaw the guest's frozen file systems.
    #[command(name = "domfsthaw")]
    FsThaw(DomArg),
    /// Print what the guest's agent says of the guest (every group by
    /// default).
    #[command(name = "guestinfo")]
    GuestInfo {
        #[command(flatten)]
        dom: DomArg,
        /// The logged-in users.
        #[arg(long)]
        user: bool,
        /// The operating system.
        #[arg(long)]
        os: bool,
        /// The time zone.
        #[arg(long)]
        timezone: bool,
        /// The host name.
        #[arg(long)]
        hostname: bool,
        /// The mounted file systems.
        #[arg(long)]
        filesystem: bool,
        /// The disks (block devices and partitions).
        #[arg(long)]
        disk: bool,
        /// The network interfaces.
        #[arg(long)]
        interface: bool,
    },
}

/// Runs a guest agent verb.
pub fn run(ctx: &mut Ctx, command: AgentCommand) -> Result<()> {
    match command {
        AgentCommand::Hostname(d) => {
            let dom = ctx.domain(&d.domain)?;
            let name = ctx.driver()?.guest_hostname(&dom)?;
            outln!("{name}")
        }
        AgentCommand::Time {
            dom,
            pretty,
            now,
            sync,
            time,
        } => {
            let dom = ctx.domain(&dom.domain)?;
            let driver = ctx.driver()?;
            if now || sync || time.is_some() {
                let to = if sync {
                    None
                } else {
                    Some(time.map_or_else(host_now, |t| (t, 0)))
                };
                return driver.set_guest_time(&dom, to);
            }
            let (secs, _) = driver.guest_time(&dom)?;
            if pretty {
                outln!(
                    "Time: {}",
                    qvirt::model::utc_datetime(secs).replacen('T', " ", 1)
                )
            } else {
                outln!("Time: {secs}")
            }
        }
        AgentCommand::Command {
            dom,
            command,
            timeout,
            r#async,
            block,
        } => {
            let dom = ctx.domain(&dom.domain)?;
            let timeout = match (timeout, r#async, block) {
                (Some(t), _, _) => i32::try_from(t).unwrap_or(i32::MAX),
                (None, true, _) => 0,
                (None, false, true) => -2,
                (None, false, false) => -1,
            };
            let call = AgentCall::Command {
                json: command,
                timeout,
            };
            match ctx.driver()?.agent_call(&dom, call)? {
                AgentAnswer::Reply(Some(reply)) => outln!("{reply}"),
                AgentAnswer::Reply(None) => Ok(()),
                other => Err(Error::new(
                    ErrorCode::Protocol,
                    format!("the agent command was answered with {other:?}"),
                )),
            }
        }
        AgentCommand::FsFreeze { dom, mountpoints } => {
            let dom = ctx.domain(&dom.domain)?;
            let n = ctx.driver()?.fs_freeze(&dom, &mountpoints)?;
            outln!("Froze {n} filesystem(s)")
        }
        AgentCommand::FsInfo(d) => {
            let dom = ctx.domain(&d.domain)?;
            let mut rows = vec![[
                "Mountpoint".to_string(),
                "Name".into(),
                "Type".into(),
                "Target".into(),
            ]];
            for f in ctx.driver()?.fs_info(&dom)? {
                rows.push([f.mountpoint, f.name, f.fstype, f.disks.join(",")]);
            }
            crate::output::write(&crate::query::table(&rows))
        }
        AgentCommand::SetUserPassword {
            dom,
            user,
            password,
            encrypted,
        } => {
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?
                .set_user_password(&d, &user, &password, encrypted)?;
            outln!("Password set successfully for {user} in {}", d.name)
        }
        AgentCommand::Timeout { dom, timeout } => {
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.set_agent_timeout(&d, timeout)
        }
        AgentCommand::GetSshKeys { dom, user } => {
            let d = ctx.domain(&dom.domain)?;
            for key in ctx.driver()?.ssh_keys(&d, &user)? {
                outln!("{key}")?;
            }
            Ok(())
        }
        AgentCommand::SetSshKeys {
            dom,
            user,
            file,
            reset,
            remove,
        } => {
            let keys: Vec<String> = match &file {
                Some(f) => crate::read_input(f)?
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect(),
                None if reset => Vec::new(),
                None => {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        "set-user-sshkeys needs --file (or --reset alone to remove every key)",
                    ));
                }
            };
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.set_ssh_keys(&d, &user, &keys, !reset, remove)
        }
        AgentCommand::FsThaw(d) => {
            let dom = ctx.domain(&d.domain)?;
            let n = ctx.driver()?.fs_thaw(&dom)?;
            outln!("Thawed {n} filesystem(s)")
        }
        AgentCommand::GuestInfo {
            dom,
            user,
            os,
            timezone,
            hostname,
            filesystem,
            disk,
            interface,
        } => {
            let dom = ctx.domain(&dom.domain)?;
            let types = [
                (user, guest_info::USERS),
                (os, guest_info::OS),
                (timezone, guest_info::TIMEZONE),
                (hostname, guest_info::HOSTNAME),
                (filesystem, guest_info::FILESYSTEM),
                (disk, guest_info::DISKS),
                (interface, guest_info::INTERFACES),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .fold(0, |acc, (_, bit)| acc | bit);
            for (field, value) in ctx.driver()?.guest_info(&dom, types)? {
                #[allow(unreachable_patterns)]
                let text = match value {
                    GuestValue::Text(s) => s,
                    GuestValue::Int(n) => n.to_string(),
                    GuestValue::UInt(n) => n.to_string(),
                    GuestValue::ULLong(n) => n.to_string(),
                    // As virsh prints a boolean typed parameter.
                    GuestValue::Bool(b) => if b { "yes" } else { "no" }.to_string(),
                    other => {
                        return Err(Error::new(
                            ErrorCode::Protocol,
                            format!("unknown guest information value {other:?}"),
                        ));
                    }
                };
                outln!("{field:<20}: {text}")?;
            }
            Ok(())
        }
    }
}

/// The host's clock as (seconds, nanoseconds) since the epoch.
fn host_now() -> (i64, u32) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}
