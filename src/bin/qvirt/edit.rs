//! `edit`: a domain's persistent definition in the user's editor, defined
//! again when it changed, as virsh's `edit` does.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use qvirt::driver::XmlFlags;
use qvirt::{Error, ErrorCode, Result};

use crate::{Ctx, outln};

/// A temporary copy of the XML that is removed however `edit` ends.
struct TempXml(PathBuf);

impl TempXml {
    /// Creates `$TMPDIR/qvirtXXXX.xml` (mode 0600, never an existing file
    /// or a link) holding `text`.
    fn new(text: &str) -> Result<TempXml> {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("qvirt{}.xml", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        Ok(TempXml(path))
    }
}

impl Drop for TempXml {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The editor virsh runs: `$VISUAL`, else `$EDITOR`, else `vi`.
fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// Runs the editor on `file` through the shell, as virsh does (so that
/// `EDITOR='code --wait'` works); its failure is an error.
pub fn run_editor(file: &Path) -> Result<()> {
    let editor = editor();
    let status = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file)
        .status()
        .map_err(|e| Error::io(format!("cannot run the editor '{editor}'"), e))?;
    if !status.success() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("the editor '{editor}' failed ({status}); nothing defined"),
        ));
    }
    Ok(())
}

/// What the user answers after a failed define.
enum Answer {
    Again,
    Retry,
    Discard,
}

/// virsh's question after a failed define: `y` edits again, `n` throws the
/// changes away, `f` tries the same XML again, `i` (turn validation off)
/// is not offered by qvirt, whose reader is always strict. Without a
/// terminal on stdin there is nobody to ask: the error stands.
fn ask() -> Result<Answer> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Ok(Answer::Discard);
    }
    loop {
        print!("Failed. Try again? [y,n,i,f,?]: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
            return Ok(Answer::Discard);
        }
        match line.trim() {
            "y" | "Y" => return Ok(Answer::Again),
            "n" | "N" => return Ok(Answer::Discard),
            "f" | "F" => return Ok(Answer::Retry),
            "i" | "I" => println!(
                "qvirt always validates a definition: its reader refuses what it does not apply"
            ),
            _ => println!(
                "y - yes, start editor again\n\
                 n - no, throw away my changes\n\
                 i - turn off validation and try to redefine again (not in qvirt)\n\
                 f - force, try to redefine again\n\
                 ? - print this help"
            ),
        }
    }
}

/// How an edit ended.
pub enum Edited {
    /// The user saved the text unchanged: nothing was defined.
    Unchanged,
    /// The edited text was defined.
    Defined,
}

/// virsh's edit cycle: the text `get` reads goes to the user's editor;
/// unchanged, nothing happens; else, unless `get` now reads another text
/// (someone else changed it meanwhile, which is asked about as a failed
/// define is), `define` takes the edited text. After a failure the user
/// may edit again, try again or give up (`what` is named then).
pub fn cycle(
    get: &dyn Fn() -> Result<String>,
    define: &mut dyn FnMut(&str) -> Result<()>,
    what: &str,
) -> Result<Edited> {
    let mut original = get()?;
    let temp = TempXml::new(&original)?;
    run_editor(&temp.0)?;
    let mut compare = true;
    loop {
        let edited = std::fs::read_to_string(&temp.0)
            .map_err(|e| Error::io(format!("cannot read {}", temp.0.display()), e))?;
        if compare && edited == original {
            return Ok(Edited::Unchanged);
        }
        let now = get()?;
        let failure = if now != original {
            original = now;
            Error::new(
                ErrorCode::OperationFailed,
                "The XML configuration was changed by another user.",
            )
        } else {
            match define(&edited) {
                Ok(()) => return Ok(Edited::Defined),
                Err(e) => e,
            }
        };
        eprintln!("error: {failure}");
        compare = match ask()? {
            Answer::Again => {
                run_editor(&temp.0)?;
                true
            }
            Answer::Retry => false,
            Answer::Discard => {
                return Err(Error::new(
                    failure.code,
                    format!("changes to {what} discarded"),
                ));
            }
        };
    }
}

/// `edit DOMAIN`.
pub fn run(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    // The definition with its secrets: what the user saves is what is
    // kept, so a VNC password must not be lost by an edit.
    let get = || driver.xml_desc(&dom, XmlFlags::INACTIVE | XmlFlags::SECURE);
    let mut name = dom.name.clone();
    let mut define = |xml: &str| {
        name = driver.define_xml(xml)?.name;
        Ok(())
    };
    match cycle(&get, &mut define, &format!("domain '{}'", dom.name))? {
        Edited::Unchanged => outln!("Domain '{}' XML configuration not changed.", dom.name),
        Edited::Defined => outln!("Domain '{name}' XML configuration edited."),
    }
}
