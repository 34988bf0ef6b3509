//! A running domain's I/O threads as QEMU lists them, with the host CPUs
//! each may run on (virsh's `iothreadinfo`), read from the kernel.

use nix::sched::{CpuSet, sched_getaffinity};
use nix::unistd::Pid;

use super::driver::Core;
use crate::driver::{Domain, DomainState, IoThreadInfo};
use crate::error::{Error, Result};

/// The CPUs thread `tid` may run on.
fn affinity(tid: i32) -> Result<Vec<u32>> {
    let set = sched_getaffinity(Pid::from_raw(tid)).map_err(|e| {
        Error::io(
            format!("cannot get CPU affinity of thread {tid}"),
            std::io::Error::from(e),
        )
    })?;
    Ok((0..CpuSet::count())
        .filter(|c| set.is_set(*c).unwrap_or(false))
        .map(|c| c as u32)
        .collect())
}

impl Core {
    /// [`crate::Driver::iothreads`].
    pub(crate) fn iothreads(&self, dom: &Domain) -> Result<Vec<IoThreadInfo>> {
        let run = self.running_in(
            dom,
            "list the I/O threads of",
            &[DomainState::Running, DomainState::Paused],
        )?;
        if run.def.iothreads.unwrap_or(0) == 0 {
            return Ok(Vec::new());
        }
        super::pinning::io_threads(run.qmp()?)?
            .into_iter()
            .map(|(id, tid)| Ok(IoThreadInfo::new(id, affinity(tid)?)))
            .collect()
    }
}
