//! The Linux test guest's shell on its serial console, through qvirt's
//! own console of it: the libvirt tests that look inside the guest share
//! it.

use std::time::{Duration, Instant};

use qvirt::Driver;
use qvirt::driver::{ConsoleStream, Domain};

use crate::{BOOT, QUICK};

/// The guest's shell, through qvirt's own console of it.
pub struct Guest {
    console: Box<dyn ConsoleStream>,
    pending: String,
}

impl Guest {
    /// Opens the console of `dom` and waits for the shell's prompt
    /// (pressing Enter when the guest is silent: the marker may have gone
    /// by before the console opened).
    pub fn open(d: &dyn Driver, dom: &Domain) -> Guest {
        let console = d.console(dom, false).expect("open the guest's console");
        let mut g = Guest {
            console,
            pending: String::new(),
        };
        g.read_until("guest# ", BOOT, true);
        g
    }

    pub fn read_until(&mut self, needle: &str, within: Duration, nudge: bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = self.pending.find(needle) {
                let end = i + needle.len();
                let head = self.pending[..end].to_string();
                self.pending.drain(..end);
                return head;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no '{needle}' on the console within {within:?}:\n{}",
                self.pending
            );
            let chunk = self
                .console
                .read(left.min(Duration::from_secs(5)))
                .expect("read the console");
            if chunk.is_empty() && nudge {
                self.console.write(b"\n").expect("write the console");
            }
            self.pending.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Runs `command` in the guest's shell; its output.
    pub fn run(&mut self, command: &str) -> String {
        self.console
            .write(format!("{command}; echo END''OF''OUT\n").as_bytes())
            .expect("write the console");
        let text = self.read_until("ENDOFOUT", QUICK, false);
        // The echoed command line holds END''OF''OUT, not ENDOFOUT.
        let body = text.rsplit_once("ENDOFOUT").map_or("", |(b, _)| b);
        let after = body.rsplit_once("END''OF''OUT").map_or(body, |(_, a)| a);
        after.replace('\r', "").trim().to_string()
    }

    /// What `value` prints in the guest after `wait` ran, on one line
    /// (the console echoes a long command line wrapped, which can leave
    /// parts of it in front of the output: the value is marked).
    #[allow(dead_code)]
    pub fn value(&mut self, wait: &str, value: &str) -> String {
        let out = self.run(&format!("{wait}; echo \"R:$({value} | tr '\\n' ' ')\""));
        out.lines()
            .rev()
            .find_map(|l| l.strip_prefix("R:").filter(|v| !v.contains("$(")))
            .unwrap_or_else(|| panic!("no value in {out:?}"))
            .trim()
            .to_string()
    }
}
