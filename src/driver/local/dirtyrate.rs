//! The rate at which a running guest dirties its memory (virsh's
//! `domdirtyrate-calc`, `domstats --dirtyrate`), measured by QEMU
//! (`calc-dirty-rate`, `query-dirty-rate`) with libvirt's rules
//! (`qemuDomainStartDirtyRateCalc`).

use serde_json::{Value, json};

use super::driver::Core;
use crate::driver::{DirtyRate, DirtyRateMode, Domain, DomainState};
use crate::error::{Error, ErrorCode, Result};
use crate::model::VirtType;
use crate::qemu::qmp::QMP_TIMEOUT;

/// libvirt's bounds of a measurement, seconds.
const PERIOD: std::ops::RangeInclusive<i32> = 1..=60;

const ACTIVE: &[DomainState] = &[DomainState::Running, DomainState::Paused];

impl Core {
    /// [`crate::Driver::dirty_rate_calc`].
    pub(crate) fn dirty_rate_calc(
        &self,
        dom: &Domain,
        seconds: i32,
        mode: DirtyRateMode,
    ) -> Result<()> {
        if !PERIOD.contains(&seconds) {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "seconds={seconds} is invalid, please choose value within [{}, {}].",
                    PERIOD.start(),
                    PERIOD.end()
                ),
            ));
        }
        let run = self.running_in(dom, "measure the dirty page rate of", ACTIVE)?;
        // As libvirt: the ring is there only when the domain asked KVM
        // for it (and a TCG domain with one does not start).
        let ring = run
            .def
            .features
            .kvm
            .as_ref()
            .and_then(|k| k.dirty_ring_size);
        if mode == DirtyRateMode::DirtyRing && ring.is_none() {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "dirty-ring calculation mode requires dirty-ring feature enabled.",
            ));
        }
        // QEMU 7.2 under TCG exits on a dirty-bitmap measurement: it is
        // refused rather than let it take the domain down.
        if mode == DirtyRateMode::DirtyBitmap && run.def.virt_type == VirtType::Qemu {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "dirty-bitmap calculation mode needs KVM: domain '{}' runs under TCG (type='qemu'); use page-sampling",
                    dom.name
                ),
            ));
        }
        let mut args = json!({"calc-time": seconds});
        if mode != DirtyRateMode::PageSampling {
            args["mode"] = json!(mode.as_str());
        }
        run.qmp()?
            .execute("calc-dirty-rate", Some(args), QMP_TIMEOUT)
            .map(drop)
    }

    /// [`crate::Driver::dirty_rate`].
    pub(crate) fn dirty_rate(&self, dom: &Domain) -> Result<DirtyRate> {
        let run = self.running_in(dom, "read the dirty page rate of", ACTIVE)?;
        let v = run.qmp()?.execute("query-dirty-rate", None, QMP_TIMEOUT)?;
        Ok(rate_of(&v))
    }
}

/// QEMU's `DirtyRateInfo` in libvirt's terms.
fn rate_of(v: &Value) -> DirtyRate {
    let status = match v["status"].as_str() {
        Some("measuring") => 1,
        Some("measured") => 2,
        _ => 0,
    };
    DirtyRate {
        status,
        start_time: v["start-time"].as_i64().unwrap_or(0),
        period: v["calc-time"].as_i64().unwrap_or(0) as i32,
        mode: v["mode"]
            .as_str()
            .and_then(DirtyRateMode::from_word)
            .unwrap_or_default(),
        mib_per_s: (status == 2).then(|| v["dirty-rate"].as_i64()).flatten(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemus_answer_reads_as_libvirts() {
        let v = json!({"status": "measured", "start-time": 7, "calc-time": 1,
            "dirty-rate": 3, "mode": "page-sampling", "sample-pages": 512});
        let r = rate_of(&v);
        assert_eq!(
            (r.status, r.start_time, r.period, r.mib_per_s),
            (2, 7, 1, Some(3))
        );
        let v = json!({"status": "measuring", "start-time": 7, "calc-time": 1,
            "mode": "dirty-bitmap"});
        let r = rate_of(&v);
        assert_eq!(
            (r.status, r.mode, r.mib_per_s),
            (1, DirtyRateMode::DirtyBitmap, None)
        );
    }
}
