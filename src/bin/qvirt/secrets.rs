//! The secret verbs, as virsh's: `secret-*` on definitions (`<secret>`)
//! and their values. A secret is named by its UUID or, failing that, by
//! its usage id (a Ceph client name, an iSCSI target, a volume path).
//! Values travel as base64 on the command line and in files unless
//! `--plain` says the bytes are raw.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use qvirt::driver::Secret;
use qvirt::model::{SecretDef, SecretUsageType, base64_decode, base64_encode};
use qvirt::{Error, ErrorCode, Result};
use uuid::Uuid;

use crate::query::table;
use crate::{Ctx, outln, read_input};

/// The most bytes read from a `--file`: far above what a secret value may
/// be (64 KiB, base64 or not), so the manager's limit is what refuses a
/// large value, yet a wrong file (an image) is never read whole.
const MAX_VALUE_FILE: u64 = 1 << 20;

/// The secret verbs.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Define (or redefine) a secret from an XML file.
    #[command(name = "secret-define")]
    Define {
        /// The `<secret>` XML file (`-` reads stdin).
        file: PathBuf,
    },
    /// Print a secret's XML (never its value).
    #[command(name = "secret-dumpxml")]
    DumpXml {
        /// The secret: its UUID or usage id.
        secret: String,
    },
    /// Set a secret's value, given as base64 (--base64, or a file of base64
    /// text) or as a file's raw bytes (--file with --plain).
    #[command(name = "secret-set-value")]
    SetValue {
        /// The secret: its UUID or usage id.
        secret: String,
        /// The value in base64 (others on this host may see a command
        /// line: prefer --file).
        #[arg(long, conflicts_with_all = ["file", "plain"])]
        base64: Option<String>,
        /// A file holding the value, in base64 unless --plain.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The file's bytes are the value as they are (not base64).
        #[arg(long, requires = "file")]
        plain: bool,
    },
    /// Print a secret's value in base64 (raw bytes with --plain).
    #[command(name = "secret-get-value")]
    GetValue {
        /// The secret: its UUID or usage id.
        secret: String,
        /// Write the value's bytes as they are.
        #[arg(long)]
        plain: bool,
    },
    /// Remove a secret and its value.
    #[command(name = "secret-undefine")]
    Undefine {
        /// The secret: its UUID or usage id.
        secret: String,
    },
    /// List secrets by UUID, with what each is for.
    #[command(name = "secret-list")]
    List {
        /// Ephemeral secrets only (kept in memory, never on disk).
        #[arg(long)]
        ephemeral: bool,
        /// Secrets kept on disk only.
        #[arg(long)]
        no_ephemeral: bool,
        /// Private secrets only (whose value is never given out).
        #[arg(long)]
        private: bool,
        /// Secrets whose value may be read only.
        #[arg(long)]
        no_private: bool,
    },
}

/// Finds a secret by its UUID, else by its usage id (of any usage type:
/// two secrets of different types with one id must be named by UUID).
fn secret(ctx: &mut Ctx, arg: &str) -> Result<Secret> {
    let d = ctx.driver()?;
    if let Ok(uuid) = Uuid::parse_str(arg) {
        match d.secret_lookup_by_uuid(uuid) {
            Err(e) if e.code == ErrorCode::NoSecret => {}
            found => return found,
        }
    }
    let mut matching: Vec<Secret> = d
        .list_secrets()?
        .into_iter()
        .filter(|s| s.usage != SecretUsageType::None && s.usage_id == arg)
        .collect();
    match matching.len() {
        0 => Err(Error::new(
            ErrorCode::NoSecret,
            format!("no secret with UUID or usage '{arg}' (see secret-list)"),
        )),
        1 => Ok(matching.remove(0)),
        _ => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "usage '{arg}' is that of {} secrets ({}): name one by its UUID",
                matching.len(),
                matching
                    .iter()
                    .map(|s| format!("{} {}", s.usage.as_str(), s.uuid))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// What a secret is for, as virsh's `secret-list` shows it.
fn usage_text(s: &Secret) -> String {
    match s.usage {
        SecretUsageType::None => "Unused".to_string(),
        usage => format!("{} {}", usage.as_str(), s.usage_id),
    }
}

/// Reads the value of `--file`: raw bytes with `plain`, else base64 text
/// (line breaks and spaces allowed, as base64 files wrap).
fn value_from_file(path: &Path, plain: bool) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let mut bytes = Vec::new();
    file.take(MAX_VALUE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    if bytes.len() as u64 > MAX_VALUE_FILE {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "{} is larger than {MAX_VALUE_FILE} bytes: no secret value is",
                path.display()
            ),
        ));
    }
    if plain {
        return Ok(bytes);
    }
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64_decode(&text).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} does not hold base64 text (A-Z, a-z, 0-9, + and /, padded with =): \
                 give --plain to set its bytes as they are",
                path.display()
            ),
        )
    })
}

/// The value of `--base64`.
fn value_from_base64(text: &str) -> Result<Vec<u8>> {
    base64_decode(text.trim()).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            "the --base64 value is not base64 (A-Z, a-z, 0-9, + and /, padded with =)",
        )
    })
}

/// Runs a secret verb.
pub fn run(ctx: &mut Ctx, command: SecretCommand) -> Result<()> {
    use SecretCommand as C;
    match command {
        C::Define { file } => {
            let s = ctx.driver()?.secret_define_xml(&read_input(&file)?)?;
            outln!("Secret {} created", s.uuid)
        }
        C::DumpXml { secret: arg } => {
            let s = secret(ctx, &arg)?;
            let xml = ctx.driver()?.secret_xml(&s)?;
            outln!("{}", xml.trim_end())
        }
        C::SetValue {
            secret: arg,
            base64,
            file,
            plain,
        } => {
            let value = match (base64, file) {
                (Some(text), _) => {
                    let value = value_from_base64(&text)?;
                    // As virsh warns (a failure still prints one error
                    // line only).
                    eprintln!(
                        "warning: a secret value on the command line can be seen by others on this host; prefer --file"
                    );
                    value
                }
                (None, Some(path)) => value_from_file(&path, plain)?,
                (None, None) => {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        "secret-set-value needs the value: --file FILE (base64, or raw bytes with --plain) or --base64 VALUE",
                    ));
                }
            };
            let s = secret(ctx, &arg)?;
            ctx.driver()?.secret_set_value(&s, &value)?;
            outln!("Secret value set")
        }
        C::GetValue { secret: arg, plain } => {
            let s = secret(ctx, &arg)?;
            let value = ctx.driver()?.secret_get_value(&s)?;
            if plain {
                crate::output::write_bytes(&value)
            } else {
                outln!("{}", base64_encode(&value))
            }
        }
        C::Undefine { secret: arg } => {
            let s = secret(ctx, &arg)?;
            ctx.driver()?.secret_undefine(&s)?;
            outln!("Secret {} deleted", s.uuid)
        }
        C::List {
            ephemeral,
            no_ephemeral,
            private,
            no_private,
        } => {
            let d = ctx.driver()?;
            let filtered = ephemeral != no_ephemeral || private != no_private;
            let mut rows = vec![["UUID".to_string(), "Usage".to_string()]];
            for s in d.list_secrets()? {
                if filtered {
                    let def = SecretDef::from_xml(&d.secret_xml(&s)?)?;
                    if (ephemeral != no_ephemeral && def.ephemeral != ephemeral)
                        || (private != no_private && def.private != private)
                    {
                        continue;
                    }
                }
                rows.push([s.uuid.to_string(), usage_text(&s)]);
            }
            crate::output::write(&table(&rows))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_values_are_checked() {
        assert_eq!(value_from_base64(" aGVsbG8= \n").unwrap(), b"hello");
        for bad in ["aGVsbG8", "not base64!", "aGVs bG8="] {
            let e = value_from_base64(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn list_rows_are_virshs() {
        let uuid = Uuid::parse_str("0a81f5b2-8403-4b23-88d6-21ccc2f80d6f").unwrap();
        let ceph = Secret {
            uuid,
            usage: SecretUsageType::Ceph,
            usage_id: "client.admin secret".into(),
        };
        let unused = Secret {
            usage: SecretUsageType::None,
            usage_id: String::new(),
            ..ceph.clone()
        };
        assert_eq!(usage_text(&ceph), "ceph client.admin secret");
        assert_eq!(usage_text(&unused), "Unused");
        let rows = [
            ["UUID".to_string(), "Usage".to_string()],
            [uuid.to_string(), usage_text(&ceph)],
        ];
        assert_eq!(
            table(&rows),
            format!(
                " UUID                                   Usage\n{}\n \
                 0a81f5b2-8403-4b23-88d6-21ccc2f80d6f   ceph client.admin secret\n",
                "-".repeat(66)
            )
        );
    }
}
