//! The conformance suite: one body of cases, run against every driver.
//!
//! Each case is a plain function over a [`Ctx`], which hands out the
//! driver under test as `&dyn Driver` (cases use nothing else of qvirt's
//! but the trait, its value types and the model), plus the facts any way
//! into qvirt shares: the state directory, and how to open a second
//! manager on it. The [`conformance!`] macro stamps out one `#[test]` per
//! (driver, case), named `DRIVER::CASE` (`local::start_and_destroy`), so a
//! failure names both. The drivers: `local` (in-process), `socket` (a
//! daemon's UNIX socket) and `ssh` (the same daemon through OpenSSH and
//! `qvirtd --proxy`, between two network namespaces).
//!
//! Every test gets a fresh state directory under the system temp dir and a
//! guard that, even when the case panics, destroys every domain still
//! running there, kills any QEMU a status file still names, and removes the
//! directory (after printing the logs when the case failed).
//!
//! Two guests: a firmware-only VM (no disk: it sits in the BIOS) for most
//! cases, and the tiny Linux guest of `tests/guest/` (built once per test
//! process by `build-guest.sh`, which caches) for shutdown, reboot,
//! console and save cases. Waits are polls or event reads with deadlines.

mod cases_autostart;
mod cases_concurrency;
mod cases_define;
mod cases_events;
mod cases_failures;
mod cases_guest;
mod cases_guest_actions;
mod cases_host;
mod cases_hotplug;
mod cases_jobs;
mod cases_lifecycle;
mod cases_media;
mod cases_net;
mod cases_reattach;
mod cases_resources;
mod cases_save;
mod cases_secrets;
mod cases_snapshots;
mod cases_storage;
mod cases_tuning;
mod cases_vnc;
mod harness;
mod helpers;
mod libvirt_backend;
mod socket_backend;
mod ssh_backend;

pub use harness::*;
pub use helpers::*;

use std::path::Path;

use qvirt::Driver;

/// Stamps out one `#[test]` per case for a driver: `conformance!(NAME,
/// BACKEND)` makes module `NAME` with a test per case, each running the
/// case on a fresh [`Ctx`] opened through `BACKEND` (a [`Backend`]).
///
/// The case list is here, once. A driver that cannot run a case must say
/// so here, next to the case, with the reason (`case [not DRIVER:
/// "why"]`, which makes an ignored test carrying the reason); no case is
/// left out silently.
macro_rules! conformance {
    ($driver:ident, $backend:expr) => {
        conformance!(@stamp $driver, $backend,
            // Definitions and queries (no QEMU).
            cases_define::define_and_lookup,
            cases_define::redefine_updates_definition,
            cases_define::define_same_name_other_uuid_fails,
            cases_define::define_same_uuid_other_name_fails,
            cases_define::define_invalid_xml_fails,
            cases_define::define_unsupported_element_fails,
            cases_define::define_invalid_config_fails,
            cases_define::rename_keeps_the_domain,
            cases_define::notes_live_and_config,
            cases_define::undefine_removes_definition,
            cases_define::unknown_domains_are_no_domain,
            cases_define::autostart_get_and_set,
            cases_define::list_filters_and_sorts,
            cases_define::inactive_xml_round_trips,
            cases_define::info_of_shut_off_domain,
            cases_define::concurrent_defines_agree,
            cases_define::define_built_in_code,
            // Lifecycle of the firmware VM.
            cases_lifecycle::start_and_destroy,
            cases_lifecycle::start_twice_fails,
            cases_lifecycle::shut_off_refuses_runtime_operations,
            cases_lifecycle::suspend_and_resume,
            cases_lifecycle::start_paused_leaves_the_cpus_stopped,
            cases_lifecycle::start_autodestroy_ends_with_the_connection,
            cases_lifecycle::reset_keeps_the_process,
            cases_lifecycle::create_transient_and_destroy,
            cases_lifecycle::create_conflicts_with_defined,
            cases_lifecycle::define_and_create_of_one_uuid,
            cases_lifecycle::undefine_running_makes_transient,
            cases_lifecycle::transient_refuses_autostart_and_managed_save [not libvirt:
                "libvirt's virDomainGetAutostart answers 0 for a transient domain (as libvirtd does); only qvirt's own protocol refuses it"],
            cases_lifecycle::info_of_running_domain,
            cases_lifecycle::live_and_inactive_xml_differ,
            cases_lifecycle::ids_are_unique_and_fresh,
            cases_lifecycle::shutdown_ignored_times_out,
            cases_lifecycle::shutdown_destroys_on_timeout,
            cases_lifecycle::start_destroy_cycles,
            // Events.
            cases_events::events_follow_the_lifecycle,
            cases_events::events_of_transient_domain,
            cases_events::events_reach_every_subscriber,
            cases_events::event_stream_times_out,
            cases_events::events_keep_order_in_fast_cycles,
            // VNC.
            cases_vnc::vnc_autoport_picks_distinct_ports,
            cases_vnc::vnc_fixed_port_taken_fails_cleanly,
            // Memory, vCPUs, statistics, the monitor.
            cases_resources::live_memory_reaches_the_guest,
            cases_resources::live_vcpus_reach_the_guest,
            cases_resources::stats_and_monitor_command,
            cases_resources::balloon_stats_period_live_and_config,
            cases_tuning::memtune_and_blkiotune_in_the_definition,
            cases_tuning::memtune_live_shows_in_the_live_definition,
            cases_tuning::drives_show_the_throttle_in_force,
            cases_tuning::a_disk_throttle_changes_live_and_in_the_definition,
            cases_tuning::a_running_disk_is_resized,
            cases_tuning::iothreads_of_a_running_domain,
            cases_tuning::vcpu_and_emulator_pins_live_and_in_the_definition,
            cases_tuning::migration_speed_is_kept_and_reaches_qemu,
            cases_tuning::migration_parameters_reach_qemu,
            cases_tuning::a_write_past_the_block_threshold_is_an_event,
            cases_tuning::disk_and_memory_peek,
            // Failures, crashes, the state lock.
            cases_failures::failed_start_reports_qemu_log,
            cases_failures::missing_disk_is_named_before_qemu_runs,
            cases_failures::failed_create_leaves_nothing,
            cases_failures::second_manager_is_denied,
            cases_failures::killed_qemu_is_crashed,
            cases_failures::killed_transient_disappears,
            // A new manager takes over.
            cases_reattach::reattach_running_domain,
            cases_reattach::reattach_paused_and_transient,
            cases_reattach::reattach_finds_dead_domain_shut_off,
            cases_reattach::reopen_at_once,
            // Save and restore of the firmware VM.
            cases_save::managed_save_and_resume,
            cases_save::managed_save_remove_boots_fresh,
            cases_save::save_and_restore_transient,
            cases_save::save_and_restore_defined,
            cases_save::save_paused_restores_paused,
            cases_save::save_and_restore_with_state_and_definition,
            cases_save::restore_rejects_bad_files,
            cases_save::save_to_unwritable_path_keeps_running,
            cases_save::core_dumps_leave_the_domain_as_asked,
            // Jobs.
            cases_jobs::start_undefine_define_race,
            cases_jobs::job_info_and_completed_over_a_save,
            cases_jobs::job_info_follows_a_save [not libvirt:
                "the case slows the save with a bandwidth limit to watch it run, which none of libvirt 9.0's save calls (DOMAIN_SAVE, DOMAIN_SAVE_FLAGS, DOMAIN_SAVE_PARAMS) can carry; job_info_and_completed_over_a_save runs the same calls without it"],
            cases_jobs::job_abort_cancels_a_save [not libvirt:
                "the case slows the save with a bandwidth limit to watch it run, which none of libvirt 9.0's save calls (DOMAIN_SAVE, DOMAIN_SAVE_FLAGS, DOMAIN_SAVE_PARAMS) can carry; job_info_and_completed_over_a_save runs the same calls without it"],
            cases_jobs::destroy_during_save [not libvirt:
                "the case slows the save with a bandwidth limit to watch it run, which none of libvirt 9.0's save calls (DOMAIN_SAVE, DOMAIN_SAVE_FLAGS, DOMAIN_SAVE_PARAMS) can carry; job_info_and_completed_over_a_save runs the same calls without it"],
            // The host.
            cases_host::version_is_sane,
            cases_host::node_info_is_sane,
            cases_host::capabilities_are_sane,
            cases_host::uri_names_the_state,
            cases_host::xml_to_native_is_the_start_command_line,
            // The Linux guest.
            cases_guest::guest_shutdown_waits,
            cases_guest::guest_shutdown_right_after_start,
            cases_guest::guest_shutdown_too_short_times_out,
            cases_guest::guest_reboot_keeps_process,
            cases_guest::guest_console_echo,
            cases_guest::guest_console_force_takes_over [not libvirt:
                "libvirt's protocol ends a console taken over by another client with a bare end of stream, sent after the forced open's reply: the loser's next write cannot be told it was cut off (OperationDenied naming the domain)"],
            cases_guest::guest_save_and_restore,
            cases_guest::guest_killed_is_crashed,
            cases_guest_actions::guest_on_poweroff_restart,
            cases_guest_actions::guest_on_poweroff_preserve,
            cases_guest_actions::guest_on_reboot_destroy,
            cases_guest_actions::guest_on_reboot_preserve,
            cases_guest_actions::guest_poweroff_destroys_despite_reboot_preserve,
            // Networking.
            cases_net::guest_port_forward_http,
            cases_net::port_forward_taken_port_fails,
            cases_net::network_interface_is_unsupported,
            // Device hot-plug.
            cases_hotplug::disk_live_attach_and_detach_reach_the_guest,
            cases_hotplug::interface_live_attach_and_detach_reach_the_guest,
            cases_hotplug::attach_flags_choose_live_and_config,
            cases_hotplug::plugged_devices_survive_a_manager_restart,
            cases_hotplug::attaches_never_share_a_slot,
            cases_hotplug::bad_attaches_change_nothing,
            cases_hotplug::scsi_and_usb_disks_plug_in_and_out,
            cases_hotplug::unplug_the_guest_ignores_times_out,
            cases_hotplug::a_late_release_finishes_the_unplug,
            cases_hotplug::an_interface_update_changes_its_link_state,
            cases_hotplug::other_device_kinds_plug_in_and_survive_a_restart,
            // Removable media and screenshots.
            cases_media::media_change_live_and_config,
            cases_media::media_change_refusals,
            cases_media::cdrom_tray_follows_qemu,
            cases_media::tray_moves_are_told_once_each,
            cases_media::screenshot_of_firmware_vga,
            cases_media::screenshot_refusals,
            // Autostart (a daemon starts marked domains; an embedded
            // driver does not: the case checks each for its own).
            cases_autostart::autostart_with_the_manager,
            // Calls from several threads.
            cases_concurrency::calls_do_not_wait_behind_a_long_call,
            // Storage pools and volumes, snapshots, block jobs.
            cases_storage::default_pool_exists_on_first_use,
            cases_storage::volumes_made_resized_cloned_deleted,
            cases_storage::volume_features_and_metadata_preallocation,
            cases_storage::pools_define_build_start_stop,
            cases_storage::storage_bad_input_is_refused,
            cases_storage::volume_disk_runs_and_is_guarded,
            cases_storage::volume_without_space_leaves_nothing,
            cases_snapshots::snapshot_offline_internal,
            cases_snapshots::snapshot_guest_revert_and_commit,
            cases_snapshots::snapshot_is_the_domains_job,
            cases_snapshots::external_revert_is_guarded,
            cases_snapshots::block_copy_pivots_the_live_disk,
            // Secrets.
            cases_secrets::secrets_define_lookup_and_list,
            cases_secrets::secrets_redefine_rules,
            cases_secrets::secret_values_round_trip,
            cases_secrets::private_secret_value_is_never_given,
            cases_secrets::secrets_persist_across_reopen,
            cases_secrets::secret_undefine_removes_it,
            cases_secrets::unknown_secrets_are_no_secret,
        );
    };
    (@stamp $driver:ident, $backend:expr,
        $($module:ident :: $case:ident $([not $skip:ident: $why:literal])?),* $(,)?) => {
        mod $driver {
            $(
                conformance!(@case $driver, $backend, $module, $case $(, $skip, $why)?);
            )*
        }
    };
    // A case a driver cannot run: an ignored test that says why, so the
    // test list shows it.
    (@case libvirt, $backend:expr, $module:ident, $case:ident, libvirt, $why:literal) => {
        #[test]
        #[ignore = $why]
        fn $case() {}
    };
    (@case $driver:ident, $backend:expr, $module:ident, $case:ident $(, $skip:ident, $why:literal)?) => {
        #[test]
        fn $case() {
            $crate::harness::run(&$backend, stringify!($case), $crate::$module::$case);
        }
    };
}

/// A way into qvirt, as the suite opens it: the driver factory of one
/// `conformance!` line.
pub trait Backend: Sync {
    /// Opens a driver whose manager keeps its state in `root` (starting
    /// whatever serves it).
    fn open(&self, root: &Path) -> qvirt::Result<Box<dyn Driver>>;
    /// Stops using `driver` and the manager behind it, the way a program
    /// exits: running domains are left running.
    fn close(&self, driver: Box<dyn Driver>);
    /// The pid of the process that holds `root`'s lock while a driver
    /// from [`Backend::open`] is open.
    fn manager_pid(&self) -> u32;
    /// Whether opening starts the domains marked autostart, as a daemon
    /// does (an embedded driver does not).
    fn autostarts(&self) -> bool;
}

/// The in-process driver, through `qemu:///embed?root=ROOT`.
pub struct Local;

impl Backend for Local {
    fn open(&self, root: &Path) -> qvirt::Result<Box<dyn Driver>> {
        qvirt::connect(&embed_uri(root))
    }

    fn close(&self, driver: Box<dyn Driver>) {
        drop(driver);
    }

    fn manager_pid(&self) -> u32 {
        std::process::id()
    }

    fn autostarts(&self) -> bool {
        false
    }
}

conformance!(local, crate::Local);

/// Cases only some drivers run, each with the reason.
mod streams {
    /// Volume uploads and downloads are streams, which qvirt's own
    /// protocol does not carry yet (a `SocketDriver` refuses them with
    /// `NoSupport`): in process, and over libvirt's protocol.
    #[test]
    fn local_volume_upload_download_round_trip() {
        crate::harness::run(
            &crate::Local,
            "volume_upload_download_round_trip",
            crate::cases_storage::volume_upload_download_round_trip,
        );
    }

    #[test]
    fn libvirt_volume_upload_download_round_trip() {
        crate::harness::run(
            &*crate::LIBVIRT,
            "volume_upload_download_round_trip",
            crate::cases_storage::volume_upload_download_round_trip,
        );
    }
}

/// The same cases through a daemon's socket.
static SOCKET: std::sync::LazyLock<socket_backend::Socket> =
    std::sync::LazyLock::new(socket_backend::Socket::default);

conformance!(socket, *crate::SOCKET);

/// The same cases through OpenSSH, from one network namespace to
/// another, with `qvirtd --proxy` on the far side.
static SSH: std::sync::LazyLock<ssh_backend::Ssh> =
    std::sync::LazyLock::new(ssh_backend::Ssh::default);

conformance!(ssh, *crate::SSH);

/// The same cases over libvirt's protocol: qvirt's libvirt client
/// against the daemon's libvirt socket.
static LIBVIRT: std::sync::LazyLock<libvirt_backend::Libvirt> =
    std::sync::LazyLock::new(libvirt_backend::Libvirt::default);

conformance!(libvirt, *crate::LIBVIRT);

/// `qemu:///embed?root=ROOT`, with the characters a URI query cannot hold
/// as they are percent-encoded.
pub fn embed_uri(root: &Path) -> String {
    let mut uri = String::from("qemu:///embed?root=");
    for b in root.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(b) {
            uri.push(char::from(*b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}
