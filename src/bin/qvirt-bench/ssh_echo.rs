//! The floor of a call over `qemu+ssh://`: a round trip through ssh
//! itself. The very ssh command line the connection runs (same program,
//! options, user, key and host), with `cat` as the remote command in
//! place of `qvirtd --proxy`, and a message the size of a small call
//! written and read back, one at a time.

use std::io::{Read, Write};
use std::process::Stdio;

use qvirt::driver::uri::{Target, parse};
use qvirt::transport::client::ssh::ssh_command;
use qvirt::{Error, Result};

use crate::stats::Samples;

/// Bytes per echo: about one lookup call's frame.
const MESSAGE: usize = 64;

/// `n` echo round trips through ssh to the host of `uri` (after 500
/// untimed ones); `None` when `uri` is not a `qemu+ssh://` one.
pub fn round_trips(uri: &str, n: usize) -> Result<Option<Samples>> {
    let Target::Ssh(t) = parse(uri)? else {
        return Ok(None);
    };
    let (program, args) = ssh_command(&t, "cat");
    let mut child = std::process::Command::new(&program)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::io(format!("cannot run {}", program.display()), e))?;
    let mut input = child.stdin.take().expect("piped");
    let mut output = child.stdout.take().expect("piped");
    let message = [0x5au8; MESSAGE];
    let mut back = [0u8; MESSAGE];
    let mut echo = || -> Result<()> {
        input
            .write_all(&message)
            .and_then(|()| input.flush())
            .and_then(|()| output.read_exact(&mut back))
            .map_err(|e| Error::io("the echo through ssh failed", e))
    };
    let result = (|| {
        for _ in 0..500 {
            echo()?;
        }
        let mut samples = Samples::with_capacity(n);
        for _ in 0..n {
            samples.time(&mut echo)?;
        }
        Ok(samples)
    })();
    drop(input);
    let _ = child.kill();
    let _ = child.wait();
    result.map(Some)
}
