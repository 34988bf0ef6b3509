//! The macros that write [`Handler`](super::procedures::Handler)
//! methods which hand their call to a function of another module (the
//! bodies of `dispatch.rs`'s one-line methods).

/// Methods that hand their call to the function of the same name in
/// [`storage`](super::storage) with the driver.
macro_rules! storage_calls {
    ($($method:ident($args:ty) -> $ret:ty;)*) => {
        $(
            fn $method(&mut self, a: $args) -> Result<$ret> {
                storage::$method(self.driver, a)
            }
        )*
    };
}
pub(super) use storage_calls;

/// Methods that hand their call to a function of `module` with the
/// driver.
macro_rules! calls_in {
    ($module:ident: $($method:ident($args:ty) -> $ret:ty = $function:ident;)*) => {
        $(
            fn $method(&mut self, a: $args) -> Result<$ret> {
                $module::$function(self.driver, a)
            }
        )*
    };
}
pub(super) use calls_in;

/// Methods that hand their call, and the slot for what the call leaves
/// tied to its connection, to a function in `$module`.
macro_rules! opening_calls_in {
    ($module:ident: $($method:ident($args:ty) -> $ret:ty = $function:ident;)*) => {
        $(
            fn $method(&mut self, a: $args) -> Result<$ret> {
                $module::$function(self.driver, a, &mut self.opened)
            }
        )*
    };
}
pub(super) use opening_calls_in;

/// Methods that hand their call to a function that needs no
/// driver (it reads the host, or answers for objects qvirt does not keep).
macro_rules! free_calls {
    ($($method:ident($args:ty) -> $ret:ty = $function:path;)*) => {
        $(
            fn $method(&mut self, a: $args) -> Result<$ret> {
                $function(a)
            }
        )*
    };
}
pub(super) use free_calls;

/// Functions that refuse a call which would change what qvirt only
/// shows, each naming libvirt's function: `name(Args) -> Ret = "virName";`
/// after `why: EXPR;`, the reason every refusal gives.
macro_rules! refusals {
    (why: $why:expr; $($name:ident($args:ty) -> $ret:ty = $api:literal;)*) => {
        $(
            #[doc = concat!("`", $api, "`: refused, ", stringify!($why), ".")]
            pub fn $name(_: $args) -> Result<$ret> {
                Err(Error::new(
                    ErrorCode::NoSupport,
                    format!(
                        "this function is not supported by the connection driver: {} ({})",
                        $api, $why
                    ),
                ))
            }
        )*
    };
}
pub(super) use refusals;
