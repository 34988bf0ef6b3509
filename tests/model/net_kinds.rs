//! One test per validation rule of an interface's own settings: its
//! driver and ROM, direct (macvtap) interfaces, Open vSwitch virtual
//! ports and vhost-user interfaces.

use qvirt::model::ModelErrorKind;

use crate::{accept, doc, reject};

use ModelErrorKind::{Invalid, Unsupported};

#[test]
fn interface_driver_and_rom() {
    let d = accept(&doc(
        "",
        "<interface type='bridge'><source bridge='br0'/><model type='virtio'/>\
         <driver name='vhost' txmode='timer' ioeventfd='on' event_idx='off' queues='4' \
         rx_queue_size='512' tx_queue_size='256' rss='on' rss_hash_report='off' iommu='on'>\
         <host csum='off' mrg_rxbuf='on'/><guest tso6='off'/></driver>\
         <rom bar='on' file='/var/lib/roms/pxe.rom'/></interface>",
    ));
    let n = &d.devices.interfaces[0];
    let drv = n.driver.unwrap();
    assert_eq!(drv.name, Some(qvirt::model::NetDriverName::Vhost));
    assert_eq!(drv.queue_pairs(), 4);
    assert_eq!(drv.host.csum, Some(false));
    assert_eq!(drv.guest.tso6, Some(false));
    assert_eq!(drv.virtio.iommu, Some(true));
    assert_eq!(n.rom.as_ref().unwrap().bar, Some(true));
    reject(
        &doc(
            "",
            "<interface type='user'><driver name='kernel'/></interface>",
        ),
        Unsupported,
        "'kernel'",
    );
    reject(
        &doc(
            "",
            "<interface type='user'><driver queues='-5'/></interface>",
        ),
        Invalid,
        "queues",
    );
    reject(
        &doc(
            "",
            "<interface type='user'><driver><host tso9='on'/></driver></interface>",
        ),
        Unsupported,
        "tso9",
    );
}

/// `<interface type='direct'>`: a macvtap on a host device, in one of
/// libvirt's four modes (vepa when none is written, and then written out,
/// as libvirt does); the device name follows the rules of every network
/// device name; `<virtualport>` stays refused by name.
#[test]
fn direct_interfaces() {
    use qvirt::model::{DirectMode, InterfaceType};
    let d = accept(&doc(
        "",
        "<interface type='direct'><mac address='52:54:00:12:34:56'/>\
         <source dev='enp3s0' mode='bridge'/><model type='virtio'/>\
         <target dev='macvtap0'/><driver name='vhost'/></interface>\
         <interface type='direct'><source dev='eth0'/></interface>",
    ));
    let nets = &d.devices.interfaces;
    assert_eq!(
        nets[0].kind,
        InterfaceType::Direct {
            dev: "enp3s0".into(),
            mode: DirectMode::Bridge
        }
    );
    assert_eq!(nets[0].target_dev.as_deref(), Some("macvtap0"));
    assert_eq!(
        nets[1].kind,
        InterfaceType::Direct {
            dev: "eth0".into(),
            mode: DirectMode::Vepa
        }
    );
    let xml = d.to_xml();
    assert!(
        xml.contains("<source dev='enp3s0' mode='bridge'/>")
            && xml.contains("<source dev='eth0' mode='vepa'/>"),
        "{xml}"
    );
    for mode in ["vepa", "private", "bridge", "passthrough"] {
        let d = accept(&doc(
            "",
            &format!("<interface type='direct'><source dev='eth0' mode='{mode}'/></interface>"),
        ));
        assert!(d.to_xml().contains(&format!("mode='{mode}'")));
    }
    reject(
        &doc(
            "",
            "<interface type='direct'><source dev='eth0' mode='vepa2'/></interface>",
        ),
        Unsupported,
        "unsupported value 'vepa2' for attribute mode",
    );
    reject(
        &doc("", "<interface type='direct'/>"),
        Invalid,
        "missing <source dev=...>",
    );
    reject(
        &doc(
            "",
            "<interface type='direct'><source mode='bridge'/></interface>",
        ),
        Invalid,
        "missing attribute dev",
    );
    reject(
        &doc(
            "",
            "<interface type='direct'><source dev='eth 0'/></interface>",
        ),
        Invalid,
        "source dev 'eth 0' is not a valid network device name",
    );
    reject(
        &doc(
            "",
            "<interface type='direct'><source dev='eth0' mode='vepa'/>\
             <virtualport type='802.1Qbg'><parameters managerid='11' typeid='1193047' \
             typeidversion='2'/></virtualport></interface>",
        ),
        Unsupported,
        "unsupported element <virtualport>",
    );
    reject(
        &doc(
            "",
            "<interface type='direct'><source dev='eth0'/>\
             <portForward proto='tcp'><range start='2222' to='22'/></portForward></interface>",
        ),
        Invalid,
        "only for interfaces of type 'user'",
    );
}

/// `<virtualport type='openvswitch'>`: on bridge interfaces, with its
/// parameters; other virtual port kinds are refused by name.
#[test]
fn openvswitch_virtualports() {
    let d = accept(&doc(
        "",
        "<interface type='bridge'><source bridge='ovsbr'/><virtualport type='openvswitch'>\
         <parameters interfaceid='36cf8691-9674-435f-87d8-7e1b8e5eef18' profileid='gold'/></virtualport></interface>",
    ));
    let v = d.devices.interfaces[0].virtualport.as_ref().unwrap();
    assert_eq!(v.profile_id.as_deref(), Some("gold"));
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br0'/><virtualport type='802.1Qbh'/></interface>",
        ),
        Unsupported,
        "'802.1Qbh'",
    );
    reject(
        &doc(
            "",
            "<interface type='user'><virtualport type='openvswitch'/></interface>",
        ),
        Unsupported,
        "virtualport",
    );
}

/// `<interface type='vhostuser'>`: a socket, client or server, and the
/// virtio frontend libvirt requires.
#[test]
fn vhostuser_interfaces() {
    let d = accept(&doc(
        "",
        "<interface type='vhostuser'><source type='unix' path='/run/vhu0' mode='server'/><model type='virtio'/></interface>",
    ));
    assert!(matches!(
        &d.devices.interfaces[0].kind,
        qvirt::model::InterfaceType::VhostUser { server: true, .. }
    ));
    reject(
        &doc(
            "",
            "<interface type='vhostuser'><source type='unix' path='/run/vhu0' mode='client'/><model type='e1000'/></interface>",
        ),
        Invalid,
        "virtio",
    );
    reject(
        &doc(
            "",
            "<interface type='vhostuser'><model type='virtio'/></interface>",
        ),
        Invalid,
        "source path",
    );
}
