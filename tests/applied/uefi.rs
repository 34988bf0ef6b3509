//! UEFI: `<os firmware='efi'>` picks its firmware from QEMU's descriptors,
//! the NVRAM is made from the template at the first start and kept after,
//! undefine follows virsh's NVRAM flags, and a firmware no descriptor
//! offers is a coded error that leaves nothing behind.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use qvirt::ErrorCode;
use qvirt::driver::UndefineFlags;

use super::support::{State, qemus_under};

/// The text of the Microsoft KEK certificate that only the varstore
/// template with enrolled keys holds.
const ENROLLED: &[u8] = b"Microsoft Corporation KEK CA 2011";

fn uefi(name: &str, machine: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <os firmware='efi'>
    <type arch='x86_64' machine='{machine}'>hvm</type>
    <firmware>
      <feature enabled='yes' name='secure-boot'/>
      <feature enabled='yes' name='enrolled-keys'/>
    </firmware>
  </os>
  <features><acpi/></features>
  <devices><memballoon model='none'/></devices>
</domain>"
    )
}

#[test]
fn uefi_firmware_is_chosen_and_its_nvram_made_from_the_template() {
    let st = State::new("uefi");
    st.start(&uefi("efi", "q35"));
    let live = qvirt::DomainDef::from_xml(&st.live_xml("efi")).unwrap();
    let loader = live.os.loader.as_ref().expect("a loader chosen");
    assert_eq!(
        loader.secure,
        Some(true),
        "secure boot needs a secure loader"
    );
    assert!(
        live.features.smm.is_some_and(|s| s.enabled),
        "secure boot needs SMM"
    );
    let nvram = live.os.nvram.as_ref().expect("an NVRAM chosen");
    let template = nvram.template.clone().expect("a template");
    let store = st.root().join("nvram/efi_VARS.fd");
    assert_eq!(nvram.path.as_deref(), Some(store.to_str().unwrap()));
    let template_bytes = std::fs::read(&template).unwrap();
    let store_bytes = std::fs::read(&store).unwrap();
    assert_eq!(store_bytes.len(), template_bytes.len());
    let has = |hay: &[u8]| hay.windows(ENROLLED.len()).any(|w| w == ENROLLED);
    assert!(has(&template_bytes), "{template} has no enrolled keys");
    assert!(
        has(&store_bytes),
        "the NVRAM was not copied from {template}"
    );
    let meta = std::fs::metadata(&store).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // A second start keeps the store the guest may have written.
    let inode = meta.ino();
    {
        let d = st.driver();
        let dom = d.lookup_by_name("efi").unwrap();
        d.destroy(&dom).unwrap();
        d.start(&dom).unwrap();
    }
    assert_eq!(std::fs::metadata(&store).unwrap().ino(), inode);
    // A rename keeps the store: its path becomes explicit.
    {
        let d = st.driver();
        let dom = d.lookup_by_name("efi").unwrap();
        d.destroy(&dom).unwrap();
        let renamed = d.rename(&dom, "efi2").unwrap();
        let run = d.start(&renamed).unwrap();
        let live =
            qvirt::DomainDef::from_xml(&d.xml_desc(&run, qvirt::driver::XmlFlags::NONE).unwrap())
                .unwrap();
        let path = live.os.nvram.as_ref().and_then(|n| n.path.clone());
        assert_eq!(path.as_deref(), Some(store.to_str().unwrap()));
        assert!(!st.root().join("nvram/efi2_VARS.fd").exists());
        d.destroy(&run).unwrap();
        d.rename(&run, "efi").unwrap();
        d.start(&run).unwrap();
    }
    assert_eq!(std::fs::metadata(&store).unwrap().ino(), inode);
    // virsh's undefine refuses to forget an NVRAM silently.
    let d = st.driver();
    let dom = d.lookup_by_name("efi").unwrap();
    d.destroy(&dom).unwrap();
    let e = d.undefine(&dom).unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationInvalid, "{}", e.message);
    assert!(e.message.contains("nvram"), "{}", e.message);
    let keep = UndefineFlags {
        keep_nvram: true,
        ..UndefineFlags::default()
    };
    d.undefine_flags(&dom, keep).unwrap();
    assert!(store.exists(), "--keep-nvram removed the store");
    let dom = d.define_xml(&uefi("efi", "q35")).unwrap();
    let both = UndefineFlags {
        nvram: true,
        keep_nvram: true,
        ..UndefineFlags::default()
    };
    assert_eq!(
        d.undefine_flags(&dom, both).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    let remove = UndefineFlags {
        nvram: true,
        ..UndefineFlags::default()
    };
    d.undefine_flags(&dom, remove).unwrap();
    assert!(!store.exists(), "--nvram kept the store");
}

/// Secure boot on an i440FX machine: no descriptor offers it (Debian's
/// secure OVMF is for Q35 only). The start fails with a coded error that
/// names what to install, and leaves no QEMU, runtime directory or NVRAM.
#[test]
fn a_firmware_no_descriptor_offers_is_refused_cleanly() {
    let st = State::new("nofw");
    let e = st.try_start(&uefi("nofw", "pc")).unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{}", e.message);
    assert!(e.message.contains("ovmf"), "{}", e.message);
    assert!(e.message.contains("secure-boot=yes"), "{}", e.message);
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was left");
    assert!(!st.run_dir("nofw").exists(), "a runtime dir was left");
    assert!(
        !st.root().join("nvram/nofw_VARS.fd").exists(),
        "an NVRAM was made"
    );
}

/// An NVRAM store that belongs to another user is not used: the start
/// fails with a coded error naming it, and no QEMU runs.
#[test]
fn an_nvram_owned_by_someone_else_is_refused() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test gives a file to another user, which needs root"
    );
    let st = State::new("nvown");
    let store = st.root().join("theirs_VARS.fd");
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &store)
        .expect("OVMF is installed (Debian package ovmf)");
    nix::unistd::chown(&store, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    let xml = format!(
        "<domain type='qemu'>
  <name>theirs</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>{}</nvram>
  </os>
  <features><acpi/></features>
  <devices><memballoon model='none'/></devices>
</domain>",
        store.display()
    );
    let e = st.try_start(&xml).unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationDenied, "{}", e.message);
    assert!(e.message.contains(store.to_str().unwrap()), "{}", e.message);
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was left");
}

/// `domxml-to-native` makes the choices a start makes (firmware from the
/// descriptors, NVRAM path, sockets made up in the runtime directory, the
/// swtpm's socket): what it prints is, word for word, what QEMU then runs.
#[test]
fn domxml_to_native_prints_what_the_start_runs() {
    let st = State::new("native");
    // A UUID of its own: one made up would differ between the two.
    let xml = "<domain type='qemu'>
  <name>native</name>
  <uuid>4f1c2f34-7a55-4bfa-9a1b-54e0b3d0c1a7</uuid>
  <memory unit='MiB'>64</memory>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware><feature enabled='yes' name='secure-boot'/></firmware>
  </os>
  <features><acpi/></features>
  <devices>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
    <memballoon model='none'/>
  </devices>
</domain>";
    let file = st.root().join("native.xml");
    std::fs::write(&file, xml).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .arg("-c")
        .arg(format!("qemu:///embed?root={}", st.root().display()))
        .args(["domxml-to-native", "qemu-argv"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    st.start(xml);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", st.qemu_pid("native"))).unwrap();
    let ran: Vec<std::ffi::OsString> = cmdline
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| std::ffi::OsString::from(String::from_utf8(w.to_vec()).unwrap()))
        .collect();
    assert_eq!(printed.trim_end(), qvirt::sys::shell::shell_join(&ran));
    st.stop("native");
}

/// A definition as libvirt 9.2 and later write it once the firmware was
/// chosen: `<os firmware='efi'>` with the chosen loader and variable store
/// template named. The choice is held to that loader; one that no
/// descriptor here describes (another distribution's path) is refused
/// before QEMU runs, naming it.
#[test]
fn a_chosen_firmware_written_in_the_definition_is_kept() {
    let st = State::new("uefi-named");
    st.start(&uefi("first", "q35"));
    let live = qvirt::DomainDef::from_xml(&st.live_xml("first")).unwrap();
    let code = live.os.loader.as_ref().unwrap().path.clone().unwrap();
    let template = live.os.nvram.as_ref().unwrap().template.clone().unwrap();
    let named = |name: &str, code: &str| {
        uefi(name, "q35").replace(
            "    </firmware>\n",
            &format!(
                "    </firmware>\n    <loader readonly='yes' secure='yes' type='pflash'>{code}</loader>\n    <nvram template='{template}'>{}/{name}_VARS.fd</nvram>\n",
                st.root().join("nvram").display()
            ),
        )
    };
    st.start(&named("second", &code));
    let live = qvirt::DomainDef::from_xml(&st.live_xml("second")).unwrap();
    assert_eq!(
        live.os.loader.as_ref().unwrap().path.as_deref(),
        Some(code.as_str())
    );
    let e = st
        .try_start(&named("third", "/usr/share/edk2/x64/OVMF_CODE.secboot.fd"))
        .unwrap_err();
    // The file check before the start names it first.
    assert_eq!(e.code, ErrorCode::Io, "{}", e.message);
    assert!(
        e.message
            .contains("/usr/share/edk2/x64/OVMF_CODE.secboot.fd"),
        "{}",
        e.message
    );
    assert!(!st.run_dir("third").exists(), "a runtime dir was left");
    // A loader a descriptor describes, but whose features differ from
    // what the definition asks (OVMF without secure boot, for
    // secure-boot=yes with Microsoft's keys): the descriptor and the
    // first difference are named.
    let plain = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    if std::path::Path::new(plain).exists() {
        let e = st
            .try_start(&named("fourth", plain).replace(" secure='yes'", ""))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported, "{}", e.message);
        assert!(
            e.message.contains(plain)
                && e.message
                    .contains("does not fit what the definition asks: /usr/share/qemu/firmware/"),
            "{}",
            e.message
        );
        assert!(!st.run_dir("fourth").exists(), "a runtime dir was left");
    }
}
