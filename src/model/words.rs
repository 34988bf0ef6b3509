//! Enumerations whose values are libvirt's words (`cache='writeback'`,
//! `model='ich9'`): one declaration gives the enum, its word for each
//! value and the list of all values, so reading and writing use the same
//! table.

/// A value written as one of a fixed set of words.
pub trait Word: Copy + Sized + 'static {
    /// Every value, in libvirt's order.
    const ALL: &'static [Self];
    /// libvirt's word for the value.
    fn word(self) -> &'static str;
    /// The value libvirt writes as `w`.
    fn from_word(w: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.word() == w)
    }
}

/// Declares an enum of libvirt words:
///
/// ```ignore
/// words! {
///     /// `<driver cache=...>`.
///     pub enum CacheMode { None = "none", Writeback = "writeback" }
/// }
/// ```
macro_rules! words {
    ($(
        $(#[$m:meta])*
        pub enum $name:ident {
            $( $(#[$vm:meta])* $var:ident = $word:literal ),+ $(,)?
        }
    )+) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vm])* $var ),+
        }

        impl $name {
            /// Every value, in libvirt's order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// libvirt's word for the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$var => $word),+
                }
            }
        }

        impl $crate::model::words::Word for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn word(self) -> &'static str {
                self.as_str()
            }
        }
    )+};
}

pub(crate) use words;
