//! Shell quoting, for showing a command line to people (the CLI's
//! `domxml-to-native`, the header of a domain log). Never used to run
//! anything: QEMU is always spawned from an argument vector.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Joins `args` into one line that a POSIX shell splits back into exactly
/// the same arguments.
pub fn shell_join<S: AsRef<OsStr>>(args: &[S]) -> String {
    let mut line = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        line.push_str(&shell_quote(arg.as_ref()));
    }
    line
}

/// Quotes one argument: as is when it holds only characters no shell
/// treats specially, else in single quotes (a `'` written as `'\''`).
pub fn shell_quote(arg: &OsStr) -> String {
    let text = String::from_utf8_lossy(arg.as_bytes());
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        let args = ["qemu", "-name", "guest=a b", "it's", "", "x,,y=z"];
        assert_eq!(
            shell_join(&args),
            "qemu -name 'guest=a b' 'it'\\''s' '' x,,y=z"
        );
    }

    #[test]
    fn round_trips_through_a_real_shell() {
        let args = ["a b", "$HOME", "`x`", "it's", "\\n", "*", "~", "!x", "é"];
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\n' {}", shell_join(&args)))
            .output()
            .expect("sh runs");
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(got, args);
    }
}
