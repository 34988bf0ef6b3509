//! The device kinds a start numbers in order (`rng0`, `rng1`, ...), and
//! the numbers of their QEMU ids once hot-plug has left gaps.
//!
//! A start gives the N-th device of such a kind the number N. A device
//! plugged in later takes a number QEMU has free, and an unplug in the
//! middle leaves the others their numbers: so a run keeps, per kind, the
//! number of each device in the order of the live definition, and the
//! status file keeps the lists that are not 0, 1, ... (under the keys
//! `nic_ids`, `rng_ids`, ..., readable by every earlier qvirt that wrote
//! them).

use std::collections::BTreeMap;
use std::ops::{Index, IndexMut};

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::DomainDef;

/// A device kind whose QEMU ids carry a number a start gives in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Numbered {
    /// `<interface>`: `netN`, `hostnetN`.
    Nic,
    /// `<rng>`: `rngN`, `objrngN`.
    Rng,
    /// `<input>`: `inputN`.
    Input,
    /// `<channel>`: `channelN`, `charchannelN`.
    Channel,
    /// `<filesystem>`: `fsN`, `chr-vu-fsN` and the virtiofsd socket.
    Fs,
    /// `<redirdev>`: `redirN`, `charredirN`.
    Redir,
    /// `<shmem>`: `shmemN`, `shmmem-shmemN`, `charshmemN`.
    Shmem,
    /// A virtio `<console>`: `consoleN`, `charconsoleN`, numbered among
    /// the virtio consoles.
    Console,
    /// `<serial>`: `serialN`, `charserialN`.
    Serial,
}

impl Numbered {
    /// Every kind, in the order [`Ids`] keeps them.
    pub(crate) const ALL: [Numbered; 9] = [
        Numbered::Nic,
        Numbered::Rng,
        Numbered::Input,
        Numbered::Channel,
        Numbered::Fs,
        Numbered::Redir,
        Numbered::Shmem,
        Numbered::Console,
        Numbered::Serial,
    ];

    /// The status file's key for the kind's list.
    fn key(self) -> &'static str {
        match self {
            Numbered::Nic => "nic_ids",
            Numbered::Rng => "rng_ids",
            Numbered::Input => "input_ids",
            Numbered::Channel => "channel_ids",
            Numbered::Fs => "fs_ids",
            Numbered::Redir => "redir_ids",
            Numbered::Shmem => "shmem_ids",
            Numbered::Console => "console_ids",
            Numbered::Serial => "serial_ids",
        }
    }

    fn from_key(key: &str) -> Option<Numbered> {
        Numbered::ALL.into_iter().find(|k| k.key() == key)
    }

    /// How many devices of the kind `def` has.
    pub(crate) fn count(self, def: &DomainDef) -> usize {
        let d = &def.devices;
        match self {
            Numbered::Nic => d.interfaces.len(),
            Numbered::Rng => d.rngs.len(),
            Numbered::Input => d.inputs.len(),
            Numbered::Channel => d.channels.len(),
            Numbered::Fs => d.filesystems.len(),
            Numbered::Redir => d.redirdevs.len(),
            Numbered::Shmem => d.shmems.len(),
            Numbered::Serial => d.serials.len(),
            Numbered::Console => d
                .consoles
                .iter()
                .filter(|c| c.target_type.as_deref() == Some("virtio"))
                .count(),
        }
    }
}

/// The number of each device's QEMU ids, per kind, in the order of the
/// live definition's devices of that kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ids([Vec<u32>; Numbered::ALL.len()]);

impl Ids {
    /// The numbers a start gives `def`'s devices, except for the kinds
    /// `kept` has a list of the right length for.
    pub(crate) fn of(def: &DomainDef, kept: Option<&Kept>) -> Ids {
        let mut ids = Ids::default();
        for kind in Numbered::ALL {
            let n = kind.count(def);
            ids[kind] = match kept.and_then(|k| k.0.get(&kind)) {
                Some(given) if given.len() == n => given.clone(),
                _ => (0..n as u32).collect(),
            };
        }
        ids
    }

    /// The number of the `i`-th device of `kind`; a start's when the
    /// list has none.
    pub(crate) fn nth(&self, kind: Numbered, i: usize) -> u32 {
        self[kind].get(i).copied().unwrap_or(i as u32)
    }

    /// The lists worth keeping in a status file.
    pub(crate) fn kept(&self) -> Kept {
        let plain = |ids: &[u32]| ids.iter().enumerate().all(|(i, n)| *n as usize == i);
        Kept(
            Numbered::ALL
                .into_iter()
                .filter(|k| !plain(&self[*k]))
                .map(|k| (k, self[k].clone()))
                .collect(),
        )
    }
}

impl Index<Numbered> for Ids {
    type Output = Vec<u32>;
    fn index(&self, kind: Numbered) -> &Vec<u32> {
        &self.0[kind as usize]
    }
}

impl IndexMut<Numbered> for Ids {
    fn index_mut(&mut self, kind: Numbered) -> &mut Vec<u32> {
        &mut self.0[kind as usize]
    }
}

/// The lists of a status file: only those that are not 0, 1, ... in
/// order. Written flattened into the status, one key per kind; keys
/// that name no kind are left for whoever wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept(BTreeMap<Numbered, Vec<u32>>);

impl Kept {
    /// Whether every list is a start's.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Kept {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (kind, ids) in &self.0 {
            map.serialize_entry(kind.key(), ids)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Kept {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kept, D::Error> {
        struct Lists;
        impl<'de> Visitor<'de> for Lists {
            type Value = Kept;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("lists of device id numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kept, A::Error> {
                let mut kept = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    match Numbered::from_key(&key) {
                        Some(kind) => {
                            if let Some(ids) = map.next_value::<Option<Vec<u32>>>()? {
                                kept.insert(kind, ids);
                            }
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Kept(kept))
            }
        }
        d.deserialize_map(Lists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Holder {
        version: u32,
        #[serde(flatten)]
        ids: Kept,
        other: Option<i32>,
    }

    #[test]
    fn only_lists_with_gaps_are_written_under_their_old_keys() {
        let def = DomainDef::from_xml(
            "<domain type='qemu'><name>n</name><memory>65536</memory>\
             <os><type>hvm</type></os><devices><rng model='virtio'>\
             <backend model='random'>/dev/urandom</backend></rng>\
             <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>\
             <input type='tablet' bus='usb'/></devices></domain>",
        )
        .unwrap();
        let mut ids = Ids::of(&def, None);
        assert_eq!(ids[Numbered::Rng], vec![0, 1]);
        assert_eq!(ids[Numbered::Input], vec![0]);
        ids[Numbered::Rng][0] = 3;
        let holder = Holder {
            version: 1,
            ids: ids.kept(),
            other: Some(7),
        };
        let json = serde_json::to_string(&holder).unwrap();
        assert_eq!(json, r#"{"version":1,"rng_ids":[3,1],"other":7}"#);
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back, holder);
        assert_eq!(Ids::of(&def, Some(&back.ids)), ids);
    }

    #[test]
    fn a_list_of_the_wrong_length_or_null_is_a_starts() {
        let def = DomainDef::from_xml(
            "<domain type='qemu'><name>n</name><memory>65536</memory>\
             <os><type>hvm</type></os><devices><input type='tablet' bus='usb'/>\
             </devices></domain>",
        )
        .unwrap();
        let back: Holder = serde_json::from_str(
            r#"{"version":1,"input_ids":[4,5],"nic_ids":null,"future":{"a":1},"other":null}"#,
        )
        .unwrap();
        let ids = Ids::of(&def, Some(&back.ids));
        assert_eq!(ids[Numbered::Input], vec![0]);
        assert_eq!(ids.nth(Numbered::Nic, 2), 2);
        assert!(Ids::of(&def, None).kept().is_empty());
    }
}
