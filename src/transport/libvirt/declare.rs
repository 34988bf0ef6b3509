//! The macro that declares the procedure table of libvirt's main
//! program ([`super::procedures`]): from one line per procedure it makes
//! the numbers, the call and reply codecs, the read-only check, the
//! server's dispatch and the client's typed calls.

/// Declares the table; see [`super::procedures`]. Three groups:
/// `connection` (answered by the connection's own state, in the loop),
/// `driver` (answered by a `Driver`) and `host` (answered by the function
/// named on the line, which needs no driver: it reads the host, or answers
/// for objects qvirt does not keep). Each line:
/// `NUMBER Name method(Args) -> Reply, ACCESS[, CLASS][ = FUNCTION];`
/// where ACCESS is `ro` (allowed on a read-only connection), `rw` (not),
/// or `{ro_unless PREDICATE => "why"}`.
macro_rules! procedures {
    (
        connection { $(
            $(#[$cdoc:meta])*
            $cnum:literal $cname:ident $cmethod:ident ($cargs:ty) -> $cret:ty, $caccess:tt;
        )* }
        driver { $(
            $(#[$doc:meta])*
            $num:literal $name:ident $method:ident ($args:ty) -> $ret:ty, $access:tt, $class:ident;
        )* }
        host { $(
            $(#[$hdoc:meta])*
            $hnum:literal $hname:ident $hmethod:ident ($hargs:ty) -> $hret:ty, $haccess:tt, $hclass:ident = $hfunction:path;
        )* }
    ) => {
        /// A procedure of libvirt's main program that qvirt speaks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum Procedure {
            $($(#[$cdoc])* $cname = $cnum,)*
            $($(#[$doc])* $name = $num,)*
            $($(#[$hdoc])* $hname = $hnum,)*
        }

        impl Procedure {
            /// Every procedure, in table order.
            pub const ALL: &'static [Procedure] = &[
                $(Procedure::$cname,)* $(Procedure::$name,)* $(Procedure::$hname,)*
            ];

            /// Its number.
            pub fn number(self) -> i32 {
                self as i32
            }

            /// The procedure with number `n`.
            pub fn from_number(n: i32) -> Option<Procedure> {
                match n {
                    $($cnum => Some(Procedure::$cname),)*
                    $($num => Some(Procedure::$name),)*
                    $($hnum => Some(Procedure::$hname),)*
                    _ => None,
                }
            }

            /// libvirt's name for it (`DOMAIN_GET_INFO`).
            pub fn name(self) -> String {
                name_of(self.number())
            }

            /// How the server runs it.
            pub fn class(self) -> Class {
                match self {
                    $(Procedure::$cname => Class::Conn,)*
                    $(Procedure::$name => Class::$class,)*
                    $(Procedure::$hname => Class::$hclass,)*
                }
            }

            /// Whether a read-only connection may call it (with some
            /// arguments at least).
            pub fn read_only(self) -> bool {
                match self {
                    $(Procedure::$cname => procedures!(@ro_capable $caccess),)*
                    $(Procedure::$name => procedures!(@ro_capable $access),)*
                    $(Procedure::$hname => procedures!(@ro_capable $haccess),)*
                }
            }
        }

        /// A call: a procedure with its arguments.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Call {
            $($cname($cargs),)*
            $($name($args),)*
            $($hname($hargs),)*
        }

        impl Call {
            /// Its procedure.
            pub fn procedure(&self) -> Procedure {
                match self {
                    $(Call::$cname(_) => Procedure::$cname,)*
                    $(Call::$name(_) => Procedure::$name,)*
                    $(Call::$hname(_) => Procedure::$hname,)*
                }
            }

            /// The procedure number and the encoded arguments.
            pub fn encode(&self) -> (i32, Vec<u8>) {
                match self {
                    $(Call::$cname(a) => ($cnum, to_bytes(a)),)*
                    $(Call::$name(a) => ($num, to_bytes(a)),)*
                    $(Call::$hname(a) => ($hnum, to_bytes(a)),)*
                }
            }

            /// Decodes the call of procedure `n` from its arguments; a
            /// procedure not in the table is `NoSupport`, naming it.
            pub fn decode(n: i32, body: &[u8]) -> Result<Call> {
                match n {
                    $($cnum => Ok(Call::$cname(from_bytes(body, concat!("arguments of ", stringify!($cmethod)))?)),)*
                    $($num => Ok(Call::$name(from_bytes(body, concat!("arguments of ", stringify!($method)))?)),)*
                    $($hnum => Ok(Call::$hname(from_bytes(body, concat!("arguments of ", stringify!($hmethod)))?)),)*
                    n => Err(unsupported(n)),
                }
            }

            /// Why a read-only connection may not make this call; `None`
            /// when it may.
            pub fn read_only_refusal(&self) -> Option<String> {
                match self {
                    $(Call::$cname(a) => procedures!(@refuse $caccess, a, $cmethod),)*
                    $(Call::$name(a) => procedures!(@refuse $access, a, $method),)*
                    $(Call::$hname(a) => procedures!(@refuse $haccess, a, $hmethod),)*
                }
            }
        }

        /// A successful reply, one variant per procedure.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Reply {
            $($cname($cret),)*
            $($name($ret),)*
            $($hname($hret),)*
        }

        impl Reply {
            /// The procedure it answers.
            pub fn procedure(&self) -> Procedure {
                match self {
                    $(Reply::$cname(_) => Procedure::$cname,)*
                    $(Reply::$name(_) => Procedure::$name,)*
                    $(Reply::$hname(_) => Procedure::$hname,)*
                }
            }

            /// The encoded body.
            pub fn encode(&self) -> Vec<u8> {
                match self {
                    $(Reply::$cname(r) => to_bytes(r),)*
                    $(Reply::$name(r) => to_bytes(r),)*
                    $(Reply::$hname(r) => to_bytes(r),)*
                }
            }

            /// Decodes the successful reply to procedure `n`.
            pub fn decode(n: i32, body: &[u8]) -> Result<Reply> {
                match n {
                    $($cnum => Ok(Reply::$cname(from_bytes(body, concat!("reply to ", stringify!($cmethod)))?)),)*
                    $($num => Ok(Reply::$name(from_bytes(body, concat!("reply to ", stringify!($method)))?)),)*
                    $($hnum => Ok(Reply::$hname(from_bytes(body, concat!("reply to ", stringify!($hmethod)))?)),)*
                    n => Err(Error::new(ErrorCode::Protocol, format!("reply to unknown procedure {n}"))),
                }
            }
        }

        /// What the connection itself answers (the server's loop).
        pub trait Session {
            $(
                #[allow(missing_docs)]
                fn $cmethod(&mut self, args: $cargs) -> Result<$cret>;
            )*
        }

        /// What a driver answers.
        pub trait Handler {
            $(
                #[allow(missing_docs)]
                fn $method(&mut self, args: $args) -> Result<$ret>;
            )*
        }

        /// Runs `call`: through `session` when the connection answers it,
        /// else through `handler`.
        pub fn dispatch(
            session: Option<&mut dyn Session>,
            handler: &mut dyn Handler,
            call: Call,
        ) -> Result<Reply> {
            match call {
                $(Call::$cname(a) => match session {
                    Some(s) => s.$cmethod(a).map(Reply::$cname),
                    None => Err(Error::new(
                        ErrorCode::Internal,
                        concat!(stringify!($cmethod), " is answered by the connection"),
                    )),
                },)*
                $(Call::$name(a) => handler.$method(a).map(Reply::$name),)*
                $(Call::$hname(a) => $hfunction(a).map(Reply::$hname),)*
            }
        }

        /// The client's side: one typed method per procedure over a
        /// transport's [`Caller::call`].
        pub trait Caller {
            /// Sends `call` and waits for its reply.
            fn call(&self, call: Call) -> Result<Reply>;
            $(
                #[allow(missing_docs)]
                fn $cmethod(&self, args: $cargs) -> Result<$cret> {
                    match self.call(Call::$cname(args))? {
                        Reply::$cname(r) => Ok(r),
                        other => Err(mismatch(Procedure::$cname, other.procedure())),
                    }
                }
            )*
            $(
                #[allow(missing_docs)]
                fn $method(&self, args: $args) -> Result<$ret> {
                    match self.call(Call::$name(args))? {
                        Reply::$name(r) => Ok(r),
                        other => Err(mismatch(Procedure::$name, other.procedure())),
                    }
                }
            )*
            $(
                #[allow(missing_docs)]
                fn $hmethod(&self, args: $hargs) -> Result<$hret> {
                    match self.call(Call::$hname(args))? {
                        Reply::$hname(r) => Ok(r),
                        other => Err(mismatch(Procedure::$hname, other.procedure())),
                    }
                }
            )*
        }
    };
    (@ro_capable ro) => { true };
    (@ro_capable rw) => { false };
    (@ro_capable {ro_unless $pred:path => $why:literal}) => { true };
    (@refuse ro, $a:ident, $method:ident) => {{
        let _ = $a;
        None
    }};
    (@refuse rw, $a:ident, $method:ident) => {{
        let _ = $a;
        Some(format!(
            "operation forbidden: read only access prevents {}",
            stringify!($method)
        ))
    }};
    (@refuse {ro_unless $pred:path => $why:literal}, $a:ident, $method:ident) => {
        $pred($a).then(|| format!(
            "operation forbidden: read only access prevents {}: {}",
            stringify!($method),
            $why
        ))
    };
}
pub(super) use procedures;
