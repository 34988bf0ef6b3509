//! [`GuestAgent`]: the guest agent's calls as methods, over
//! [`Driver::agent_call`], for every driver.

use super::Driver;
use super::agent_types::{AgentCall, GuestFsInfo, GuestValue, PmTarget};
use super::error::Result;
use super::values::Domain;

/// The calls the QEMU guest agent answers, on a running domain with a
/// `<channel>` to `org.qemu.guest_agent.0`: `ArgumentUnsupported`
/// without one, `AgentUnresponsive` when the agent does not answer in
/// time. Calls on one domain take turns; other calls never wait for them.
pub trait GuestAgent {
    /// The guest's host name (virsh's `domhostname`).
    fn guest_hostname(&self, dom: &Domain) -> Result<String>;
    /// The guest's clock: seconds and nanoseconds since the epoch (virsh's
    /// `domtime`).
    fn guest_time(&self, dom: &Domain) -> Result<(i64, u32)>;
    /// Sets the guest's clock to `time` (seconds, nanoseconds), or with
    /// `None` from its own hardware clock (virsh's `domtime --sync`).
    fn set_guest_time(&self, dom: &Domain, time: Option<(i64, u32)>) -> Result<()>;
    /// Freezes the guest's file systems (those at `mountpoints`, all when
    /// empty); the number frozen (virsh's `domfsfreeze`).
    fn fs_freeze(&self, dom: &Domain, mountpoints: &[String]) -> Result<u32>;
    /// Thaws every frozen file system; the number thawed (`domfsthaw`).
    fn fs_thaw(&self, dom: &Domain) -> Result<u32>;
    /// Asks the guest to power off, or with `reboot` to reboot, from
    /// inside (virsh's `shutdown --mode agent`, `reboot --mode agent`),
    /// and returns once QEMU reports the power-off or reset, as libvirt
    /// does: `AgentUnresponsive` when that does not come within 60
    /// seconds. The domain must be running.
    fn agent_power(&self, dom: &Domain, reboot: bool) -> Result<()>;
    /// Sets how long the domain's agent calls wait for a reply (virsh's
    /// `guest-agent-timeout`); see [`AgentCall::SetResponseTimeout`].
    fn set_agent_timeout(&self, dom: &Domain, timeout: i32) -> Result<()>;
    /// What the guest says of itself in the groups of `types`
    /// ([`super::guest_info`] bits; 0: all it answers), as libvirt's
    /// fields (virsh's `guestinfo`).
    fn guest_info(&self, dom: &Domain, types: u32) -> Result<Vec<(String, GuestValue)>>;
    /// Sets `user`'s password in the guest (`crypted`: `password` is a
    /// crypt(3) hash), as virsh's `set-user-password`.
    fn set_user_password(
        &self,
        dom: &Domain,
        user: &str,
        password: &str,
        crypted: bool,
    ) -> Result<()>;
    /// The guest's mounted file systems and the domain's disks under
    /// them (virsh's `domfsinfo`).
    fn fs_info(&self, dom: &Domain) -> Result<Vec<GuestFsInfo>>;
    /// `user`'s SSH authorized keys in the guest (`get-user-sshkeys`).
    fn ssh_keys(&self, dom: &Domain, user: &str) -> Result<Vec<String>>;
    /// Replaces `user`'s SSH authorized keys with `keys`, or adds them
    /// (`append`), or takes them away (`remove`) (`set-user-sshkeys`).
    fn set_ssh_keys(
        &self,
        dom: &Domain,
        user: &str,
        keys: &[String],
        append: bool,
        remove: bool,
    ) -> Result<()>;
    /// Discards the unused blocks of the guest's file systems, free
    /// ranges of `minimum` bytes or more (virsh's `domfstrim`).
    fn fs_trim(&self, dom: &Domain, minimum: u64) -> Result<()>;
    /// The guest's vCPUs, those online and those that may go offline,
    /// each in libvirt's list form (virsh's `guestvcpus`).
    fn guest_vcpus(&self, dom: &Domain) -> Result<Vec<(String, GuestValue)>>;
    /// Takes the guest's vCPUs of `cpumap` online (`enable`) or offline
    /// (virsh's `guestvcpus --cpulist --enable|--disable`).
    fn set_guest_vcpus(&self, dom: &Domain, cpumap: &str, enable: bool) -> Result<()>;
    /// Suspends the guest from inside to `target`; back when it is
    /// `pmsuspended` (virsh's `dompmsuspend`).
    fn pm_suspend(&self, dom: &Domain, target: PmTarget) -> Result<()>;
}

impl<T: Driver + ?Sized> GuestAgent for T {
    fn guest_hostname(&self, dom: &Domain) -> Result<String> {
        self.agent_call(dom, AgentCall::Hostname)?.string()
    }
    fn guest_time(&self, dom: &Domain) -> Result<(i64, u32)> {
        self.agent_call(dom, AgentCall::GetTime)?.time()
    }
    fn set_guest_time(&self, dom: &Domain, time: Option<(i64, u32)>) -> Result<()> {
        self.agent_call(dom, AgentCall::SetTime(time)).map(|_| ())
    }
    fn fs_freeze(&self, dom: &Domain, mountpoints: &[String]) -> Result<u32> {
        self.agent_call(dom, AgentCall::FsFreeze(mountpoints.to_vec()))?
            .count()
    }
    fn fs_thaw(&self, dom: &Domain) -> Result<u32> {
        self.agent_call(dom, AgentCall::FsThaw)?.count()
    }
    fn agent_power(&self, dom: &Domain, reboot: bool) -> Result<()> {
        self.agent_call(dom, AgentCall::Power { reboot })
            .map(|_| ())
    }
    fn set_agent_timeout(&self, dom: &Domain, timeout: i32) -> Result<()> {
        self.agent_call(dom, AgentCall::SetResponseTimeout(timeout))
            .map(|_| ())
    }
    fn guest_info(&self, dom: &Domain, types: u32) -> Result<Vec<(String, GuestValue)>> {
        self.agent_call(dom, AgentCall::GuestInfo(types))?.fields()
    }
    fn set_user_password(
        &self,
        dom: &Domain,
        user: &str,
        password: &str,
        crypted: bool,
    ) -> Result<()> {
        let call = AgentCall::SetUserPassword {
            user: user.to_string(),
            password: password.to_string(),
            crypted,
        };
        self.agent_call(dom, call).map(|_| ())
    }
    fn fs_info(&self, dom: &Domain) -> Result<Vec<GuestFsInfo>> {
        self.agent_call(dom, AgentCall::FsInfo)?.file_systems()
    }
    fn ssh_keys(&self, dom: &Domain, user: &str) -> Result<Vec<String>> {
        self.agent_call(dom, AgentCall::SshKeys(user.to_string()))?
            .texts()
    }
    fn set_ssh_keys(
        &self,
        dom: &Domain,
        user: &str,
        keys: &[String],
        append: bool,
        remove: bool,
    ) -> Result<()> {
        let call = AgentCall::SetSshKeys {
            user: user.to_string(),
            keys: keys.to_vec(),
            append,
            remove,
        };
        self.agent_call(dom, call).map(|_| ())
    }
    fn fs_trim(&self, dom: &Domain, minimum: u64) -> Result<()> {
        self.agent_call(dom, AgentCall::FsTrim { minimum })
            .map(|_| ())
    }
    fn guest_vcpus(&self, dom: &Domain) -> Result<Vec<(String, GuestValue)>> {
        self.agent_call(dom, AgentCall::GuestVcpus)?.fields()
    }
    fn set_guest_vcpus(&self, dom: &Domain, cpumap: &str, enable: bool) -> Result<()> {
        let call = AgentCall::SetGuestVcpus {
            cpumap: cpumap.to_string(),
            enable,
        };
        self.agent_call(dom, call).map(|_| ())
    }
    fn pm_suspend(&self, dom: &Domain, target: PmTarget) -> Result<()> {
        self.agent_call(dom, AgentCall::PmSuspend(target))
            .map(|_| ())
    }
}
