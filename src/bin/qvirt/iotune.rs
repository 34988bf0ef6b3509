//! The options of `blkdeviotune` that change a disk's throttle, one per
//! limit libvirt names (virsh's `--total-bytes-sec` and the others) and
//! `--group-name`.

use clap::Args;
use qvirt::driver::BlockIoTuneChange;
use qvirt::{Error, ErrorCode, Result};

/// A limit as virsh reads it: a byte rate is a scaled integer (`10M`,
/// `1GiB`; bytes by default), every other limit a plain number.
fn limit(name: &str, text: &str) -> Result<u64> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("Unable to parse integer parameter '{name}' value '{text}'"),
        )
    };
    let scaled = name.contains("bytes_sec") && !name.ends_with("_length");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let per: u64 = match unit {
        "" => 1,
        _ if !scaled => return Err(bad()),
        "b" | "B" | "bytes" => 1,
        "k" | "K" | "KiB" => 1 << 10,
        "KB" | "kB" => 1000,
        "m" | "M" | "MiB" => 1 << 20,
        "MB" => 1_000_000,
        "g" | "G" | "GiB" => 1 << 30,
        "GB" => 1_000_000_000,
        "t" | "T" | "TiB" => 1 << 40,
        "TB" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    n.checked_mul(per).ok_or_else(bad)
}

/// Declares the limit options with libvirt's names, in its order.
macro_rules! limit_options {
    ($($field:ident: $doc:literal,)*) => {
        /// The limits to set (0: none); families not given keep theirs.
        #[derive(Debug, Args)]
        pub struct IoTuneArgs {
            $(
                #[doc = $doc]
                #[arg(long, value_name = "N")]
                pub $field: Option<String>,
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
            pub fn change(&self) -> Result<Option<BlockIoTuneChange>> {
                let mut limits = Vec::new();
                for (name, text) in [$((stringify!($field), &self.$field),)*] {
                    if let Some(text) = text {
                        limits.push((name.to_string(), limit(name, text)?));
                    }
                }
                if limits.is_empty() && self.group_name.is_none() {
                    return Ok(None);
                }
                Ok(Some(BlockIoTuneChange::new(limits, self.group_name.clone())))
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

    #[test]
    fn byte_rates_are_scaled_as_virsh_reads_them() {
        assert_eq!(super::limit("total_bytes_sec", "10M").unwrap(), 10 << 20);
        assert_eq!(super::limit("read_bytes_sec_max", "2KB").unwrap(), 2000);
        assert_eq!(super::limit("write_iops_sec", "30").unwrap(), 30);
        assert!(super::limit("write_iops_sec", "30K").is_err());
        assert!(super::limit("total_bytes_sec_max_length", "1M").is_err());
    }
}
