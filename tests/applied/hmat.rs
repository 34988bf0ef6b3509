//! HMAT (`<cell><cache>`, `<numa><interconnects>`): the Linux guest finds
//! the ACPI HMAT table QEMU builds and reads from it the memory side
//! cache of its node 0 (size, line, indexing, write policy) and the
//! latency and bandwidth from node 0's CPUs to node 0's memory.

use crate::inguest::Shell;
use crate::support::{State, linux_vm};

#[test]
fn the_guest_reads_its_memory_side_cache_and_latencies_from_hmat() {
    let st = State::new("hmat");
    st.start(&linux_vm(
        "hmat",
        192,
        "<vcpu>2</vcpu>
  <cpu><numa>
    <cell id='0' cpus='0' memory='96' unit='MiB'>
      <cache level='1' associativity='direct' policy='writeback'>
        <size value='10' unit='KiB'/>
        <line value='8' unit='B'/>
      </cache>
    </cell>
    <cell id='1' cpus='1' memory='96' unit='MiB'/>
    <interconnects>
      <latency initiator='0' target='0' type='access' value='5'/>
      <latency initiator='0' target='0' cache='1' type='access' value='10'/>
      <bandwidth initiator='0' target='0' type='access' value='204800' unit='KiB'/>
      <bandwidth initiator='0' target='0' cache='1' type='access' value='208896' unit='KiB'/>
    </interconnects>
  </numa></cpu>",
        "<memballoon model='none'/>",
    ));
    let d = st.driver();
    let mut sh = Shell::open(&*d, "hmat");
    let tables = sh.run("ls /sys/firmware/acpi/tables");
    assert!(
        tables.split_whitespace().any(|t| t == "HMAT"),
        "no HMAT table in the guest: {tables}"
    );
    // Short lines: the console wraps what it echoes at 80 columns.
    sh.run("cd /sys/devices/system/node/node0/memory_side_cache");
    let mut out = sh.run("cd index1 && cat size line_size indexing write_policy");
    sh.run("cd /sys/devices/system/node/node0/access0/initiators");
    for figures in [
        "read_latency write_latency",
        "read_bandwidth write_bandwidth",
    ] {
        out += "\n";
        out += &sh.run(&format!("cat {figures}"));
    }
    // Linux's words: indexing 0 is direct mapped, write_policy 0 is
    // write-back; latencies in ns, bandwidths in MB/s (204800 KiB/s).
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["10240", "8", "0", "0", "5", "5", "200", "200"],
        "node 0's memory side cache, then its latencies and bandwidths"
    );
    drop(sh);
    drop(d);
    st.stop("hmat");
}
