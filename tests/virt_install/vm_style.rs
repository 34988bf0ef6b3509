//! A virt-manager-style VM, as virt-install writes it for Windows 11
//! (`virt-manager-style-win11.xml`: q35, UEFI with secure boot and
//! enrolled keys, an emulated TPM 2.0, spice with qxl, ich9 sound, two
//! USB redirections, the qemu-guest-agent and spice channels, a virtio
//! balloon with stats and a virtio RNG) starts, shows its firmware's
//! screen, boots a Linux guest through that firmware, and powers off on
//! `shutdown`.
//!
//! As `boot.rs` does, the test switches it to TCG (`type='qemu'`, no
//! `host-passthrough` CPU), caps memory, and points its disk at a scratch
//! file; it also boots the project's Linux test guest directly (its
//! Debian-signed kernel loaded by the firmware, `<kernel>`/`<initrd>`),
//! since there is no Windows to boot. It says so on stderr.

use std::time::{Duration, Instant};

use qvirt::driver::{DomainState, ShutdownOptions, StateReason, UndefineFlags};
use qvirt::model::DomainDef;

use super::corpus_dir;

/// Where the test guest's files are (built from Debian packages by
/// `tests/guest/build-guest.sh`, which prints the folder last).
fn guest_dir() -> std::path::PathBuf {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build-guest.sh");
    let out = std::process::Command::new(&script)
        .output()
        .expect("run the guest build script");
    assert!(
        out.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = std::path::PathBuf::from(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim(),
    );
    assert!(
        dir.join("vmlinuz").is_file(),
        "no vmlinuz in {}",
        dir.display()
    );
    dir
}

/// How many colours a PNG has.
fn colours(png: &[u8]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader.next_frame(&mut buf).expect("a decodable image");
    let pixel = frame.color_type.samples() * usize::from(frame.bit_depth as u8).div_ceil(8);
    let mut seen: Vec<&[u8]> = buf[..frame.buffer_size()].chunks(pixel.max(1)).collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

#[test]
fn a_virt_manager_style_vm_shows_its_firmware_boots_and_powers_off() {
    let root = std::env::temp_dir().join(format!("qvirt-vi-vmstyle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let guest = guest_dir();
    let xml = std::fs::read_to_string(corpus_dir().join("virt-manager-style-win11.xml")).unwrap();
    let mut def = DomainDef::from_xml(&xml).unwrap();
    let said = super::boot::adapt(&mut def, &root);
    def.memory_kib = 256 * 1024;
    def.current_memory_kib = None;
    def.vcpu.max = 1;
    def.vcpu.current = None;
    def.os.kernel = Some(guest.join("vmlinuz").display().to_string());
    def.os.initrd = Some(guest.join("initrd.img").display().to_string());
    def.os.cmdline = Some("console=ttyS0 no_timer_check".to_string());
    eprintln!(
        "{}: {}, 256 MiB and 1 vCPU, the Linux test guest booted by the firmware",
        def.name,
        said.join(", ")
    );
    let state = root.join("state");
    let driver = qvirt::connect(&format!("qemu:///embed?root={}", state.display())).unwrap();
    let dom = driver.define_xml(&def.to_xml()).unwrap();
    let dom = driver.start(&dom).unwrap();
    let console_log = state.join(format!("log/console/{}.log", def.name));
    let console = || std::fs::read_to_string(&console_log).unwrap_or_default();

    // The firmware's screen: something drawn before the kernel says a word.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let png = driver
            .screenshot(&dom)
            .expect("a screenshot over spice's qxl");
        let before_kernel = !console().contains("Linux version");
        if colours(&png) > 1 {
            assert!(
                before_kernel,
                "the first drawn screen came after the kernel started: not the firmware's"
            );
            break;
        }
        assert!(
            before_kernel && Instant::now() < deadline,
            "the firmware drew nothing before the kernel started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The firmware boots the guest with secure boot on and the TPM there.
    let deadline = Instant::now() + Duration::from_secs(300);
    while !console().contains("QVIRT-GUEST-READY") {
        assert!(
            Instant::now() < deadline,
            "the guest did not boot:\n{}",
            console()
        );
        assert_eq!(driver.info(&dom).unwrap().state, DomainState::Running);
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = console();
    assert!(text.contains("UEFI Secure Boot is enabled"), "{text}");
    assert!(
        text.contains("Measured initrd data into PCR"),
        "the TPM: {text}"
    );

    driver
        .shutdown(
            &dom,
            ShutdownOptions::NO_WAIT.with_wait(Duration::from_secs(120)),
        )
        .expect("the guest powers off on ACPI's request");
    let info = driver.info(&dom).unwrap();
    assert_eq!(info.state, DomainState::Shutoff);
    assert_eq!(info.reason, StateReason::Shutdown);
    driver
        .undefine_flags(
            &dom,
            UndefineFlags {
                nvram: true,
                tpm: true,
                ..UndefineFlags::default()
            },
        )
        .unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(&root);
}
