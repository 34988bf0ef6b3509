//! The options of `blkdeviotune` that change a disk's throttle, one per
//! limit libvirt names (virsh's `--total-bytes-sec` and the others) and
//! `--group-name`.

use clap::Args;
use qvirt::driver::BlockIoTuneChange;

/// Declares the limit options with libvirt's names, in its order.
macro_rules! limit_options {
    ($($field:ident: $doc:literal,)*) => {
        /// The limits to set (0: none); families not given keep theirs.
        #[derive(Debug, Args)]
        pub struct IoTuneArgs {
            $(
                #[doc = $doc]
                #[arg(long, value_name = "N")]
                pub $field: Option<u64>,
            )*
            /// The throttle group the disk shares its limits with.
            #[arg(long, value_name = "NAME")]
            pub group_name: Option<String>,
        }

        /// The limits' names, in the options' order.
        #[cfg(test)]
        const NAMES: &[&str] = &[$(stringify!($field),)*];

        impl IoTuneArgs {
            /// The change the options ask for; `None` when none is given.
            pub fn change(&self) -> Option<BlockIoTuneChange> {
                let limits: Vec<(String, u64)> = [$((stringify!($field), self.$field),)*]
                    .into_iter()
                    .filter_map(|(n, v)| v.map(|v| (n.to_string(), v)))
                    .collect();
                if limits.is_empty() && self.group_name.is_none() {
                    return None;
                }
                Some(BlockIoTuneChange::new(limits, self.group_name.clone()))
            }
        }
    };
}

limit_options! {
    total_bytes_sec: "Total bytes per second.",
    read_bytes_sec: "Bytes read per second.",
    write_bytes_sec: "Bytes written per second.",
    total_iops_sec: "Total I/O operations per second.",
    read_iops_sec: "Reads per second.",
    write_iops_sec: "Writes per second.",
    total_bytes_sec_max: "Total bytes per second in a burst.",
    read_bytes_sec_max: "Bytes read per second in a burst.",
    write_bytes_sec_max: "Bytes written per second in a burst.",
    total_iops_sec_max: "Total I/O operations per second in a burst.",
    read_iops_sec_max: "Reads per second in a burst.",
    write_iops_sec_max: "Writes per second in a burst.",
    size_iops_sec: "The size one I/O operation counts for, in bytes.",
    total_bytes_sec_max_length: "Seconds a total bytes burst may last.",
    read_bytes_sec_max_length: "Seconds a read bytes burst may last.",
    write_bytes_sec_max_length: "Seconds a write bytes burst may last.",
    total_iops_sec_max_length: "Seconds a total I/O operations burst may last.",
    read_iops_sec_max_length: "Seconds a reads burst may last.",
    write_iops_sec_max_length: "Seconds a writes burst may last.",
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_options_are_libvirts_limits_in_its_order() {
        let names: Vec<&str> = qvirt::model::IOTUNE_LIMITS
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(super::NAMES, names.as_slice());
    }
}
