//! HMAT in `<cpu><numa>`: memory side caches of a cell and the
//! interconnects between cells, read and written back as libvirt does,
//! and refused where libvirt's virDomainNumaDefValidate refuses them.

use qvirt::model::{
    ModelErrorKind, NumaAccessType, NumaCacheAssociativity, NumaCachePolicy, NumaInterconnectKind,
};

use crate::{accept, doc, reject};

use ModelErrorKind::{Invalid, Unsupported};

const CACHE: &str = "<cache level='1' associativity='direct' policy='writeback'>\
    <size value='10' unit='KiB'/><line value='8' unit='B'/></cache>";

/// Two cells with CPUs and a memory-only one; `cache0` inside cell 0,
/// `links` inside `<interconnects>` (none without).
fn numa(cache0: &str, links: &str) -> String {
    let links = if links.is_empty() {
        String::new()
    } else {
        format!("<interconnects>{links}</interconnects>")
    };
    doc(
        &format!(
            "<vcpu>2</vcpu><cpu><numa>\
             <cell id='0' cpus='0' memory='64' unit='MiB'>{cache0}</cell>\
             <cell id='1' cpus='1' memory='64' unit='MiB'/>\
             <cell id='2' memory='64' unit='MiB'/>{links}</numa></cpu>"
        ),
        "",
    )
}

#[test]
fn caches_and_interconnects_read_and_write_back() {
    let d = accept(&numa(
        CACHE,
        "<latency initiator='0' target='0' type='access' value='5'/>\
         <latency initiator='0' target='0' cache='1' type='read' value='10'/>\
         <bandwidth initiator='0' target='0' type='access' value='200' unit='MiB'/>\
         <bandwidth initiator='1' target='2' cache='0' type='write' value='2048'/>",
    ));
    let cpu = d.cpu.as_ref().unwrap();
    let k = &cpu.numa[0].caches[0];
    assert_eq!(
        (k.level, k.associativity, k.policy, k.size_kib, k.line_bytes),
        (
            1,
            NumaCacheAssociativity::Direct,
            NumaCachePolicy::Writeback,
            10,
            8
        )
    );
    let l = &cpu.interconnects;
    assert_eq!(l.len(), 4);
    assert_eq!(
        (l[1].kind, l[1].cache, l[1].access, l[1].value),
        (
            NumaInterconnectKind::Latency,
            Some(1),
            NumaAccessType::Read,
            10
        )
    );
    assert_eq!(
        (l[2].kind, l[2].value),
        (NumaInterconnectKind::Bandwidth, 200 * 1024)
    );
    assert_eq!(
        (l[3].cache, l[3].value),
        (None, 2048),
        "cache='0' is the memory"
    );
    let x = d.to_xml();
    assert!(
        x.contains("<bandwidth initiator='0' target='0' type='access' value='204800' unit='KiB'/>"),
        "{x}"
    );
}

#[test]
fn bad_caches_are_refused_where_they_are() {
    let cache = |attrs: &str, inner: &str| format!("<cache {attrs}>{inner}</cache>");
    let sizes = "<size value='10' unit='KiB'/><line value='8' unit='B'/>";
    let ok = "associativity='direct' policy='writeback'";
    reject(
        &numa(&cache(&format!("level='0' {ok}"), sizes), ""),
        Invalid,
        "attribute level on <cell><cache> at 5:",
    );
    reject(
        &numa(&cache(&format!("level='4' {ok}"), sizes), ""),
        Invalid,
        "level 4 of NUMA cell 0",
    );
    reject(
        &numa(&[CACHE, CACHE].concat(), ""),
        Invalid,
        "Cache level '1' already defined",
    );
    reject(
        &numa(
            &cache("level='1' associativity='twoway' policy='writeback'", sizes),
            "",
        ),
        Unsupported,
        "'twoway' for attribute associativity",
    );
    reject(
        &numa(&cache("level='1' associativity='direct'", sizes), ""),
        Invalid,
        "policy",
    );
    reject(
        &numa(
            &cache(&format!("level='1' {ok}"), "<size value='10' unit='KiB'/>"),
            "",
        ),
        Invalid,
        "missing <line> in <cache> at 5:",
    );
}

#[test]
fn bad_interconnects_are_refused() {
    let lat = |attrs: &str| numa(CACHE, &format!("<latency {attrs} value='5'/>"));
    reject(
        &lat("initiator='0' target='3' type='access'"),
        Invalid,
        "'target' refers to a non-existent NUMA node",
    );
    reject(
        &lat("initiator='2' target='0' type='access'"),
        Invalid,
        "NUMA nodes without CPUs can't be initiator",
    );
    reject(
        &lat("initiator='0' target='1' cache='1' type='access'"),
        Invalid,
        "'cache' refers to a non-existent NUMA node cache",
    );
    reject(
        &lat("initiator='0' target='0' type='none'"),
        Unsupported,
        "'none' for attribute type",
    );
    let two = |a: &str, b: &str| numa(CACHE, &[a, b].concat());
    reject(
        &two(
            "<latency initiator='0' target='0' type='access' value='5'/>",
            "<latency initiator='0' target='0' type='access' value='6'/>",
        ),
        Invalid,
        "Duplicate info for NUMA latencies",
    );
    reject(
        &two(
            "<latency initiator='0' target='1' type='access' value='5'/>",
            "<bandwidth initiator='1' target='0' type='access' value='6'/>",
        ),
        Invalid,
        "Link already defined",
    );
}
