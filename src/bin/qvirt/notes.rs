//! `desc` and `metadata`: a domain's title, description and `<metadata>`
//! elements, shown, set, edited or removed as virsh does; and
//! `send-key`.

use qvirt::driver::{KeyCodeset, MetadataKind, ModifyFlags};
use qvirt::{Error, ErrorCode, Result};

use crate::args::WhereArgs;
use crate::{Ctx, outln, resources};

fn flags(at: &WhereArgs) -> Result<ModifyFlags> {
    resources::modify_flags(at.live, at.config, at.current)
}

/// Where a get reads: the definition with `--config`, else the running
/// domain when it runs.
fn inactive(at: &WhereArgs) -> bool {
    at.config
}

/// Lets the user change `text` in the editor; `None` when unchanged.
fn edited(text: &str, one_line: bool) -> Result<Option<String>> {
    let dir = std::env::temp_dir();
    let file = dir.join(format!("qvirt-notes-{}.txt", std::process::id()));
    std::fs::write(&file, text)
        .map_err(|e| Error::io(format!("cannot write {}", file.display()), e))?;
    let result = crate::edit::run_editor(&file).and_then(|()| {
        std::fs::read_to_string(&file)
            .map_err(|e| Error::io(format!("cannot read {}", file.display()), e))
    });
    let _ = std::fs::remove_file(&file);
    let mut new = result?;
    // Editors end a file with a newline: a title is one line.
    if one_line && new.ends_with('\n') {
        new.pop();
    }
    Ok((new != text).then_some(new))
}

/// `desc DOMAIN [--title] [--edit | --new-desc TEXT...]`.
pub fn desc(
    ctx: &mut Ctx,
    arg: &str,
    at: &WhereArgs,
    title: bool,
    edit: bool,
    new_desc: Option<Vec<String>>,
) -> Result<()> {
    let flags = flags(at)?;
    let dom = ctx.domain(arg)?;
    let d = ctx.driver()?;
    let kind = if title {
        MetadataKind::Title
    } else {
        MetadataKind::Description
    };
    let what = if title { "title" } else { "description" };
    let current =
        || -> Result<String> { Ok(d.metadata(&dom, &kind, inactive(at))?.unwrap_or_default()) };
    let new = match (edit, new_desc) {
        (true, _) => match edited(&current()?, title)? {
            Some(text) => text,
            None => {
                return outln!("Domain {what} not changed");
            }
        },
        (false, Some(words)) => words.join(" "),
        (false, None) => {
            let text = current()?;
            return if text.is_empty() {
                outln!("No {what} for domain: {}", dom.name)
            } else {
                outln!("{text}")
            };
        }
    };
    d.set_metadata(&dom, &kind, Some(&new), flags)?;
    outln!("Domain {what} updated successfully")
}

/// `metadata DOMAIN URI [--key KEY] [--set XML | --remove | --edit]`.
#[allow(clippy::too_many_arguments)]
pub fn metadata(
    ctx: &mut Ctx,
    arg: &str,
    at: &WhereArgs,
    uri: String,
    key: Option<String>,
    edit: bool,
    set: Option<String>,
    remove: bool,
) -> Result<()> {
    let flags = flags(at)?;
    let dom = ctx.domain(arg)?;
    let d = ctx.driver()?;
    let changing = edit || set.is_some() || remove;
    if changing && key.is_none() && !remove {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "namespace key is required when modifying metadata (--key)",
        ));
    }
    let kind = MetadataKind::Element { uri, key };
    if remove {
        d.set_metadata(&dom, &kind, None, flags)?;
        return outln!("Metadata removed");
    }
    if let Some(xml) = set {
        d.set_metadata(&dom, &kind, Some(&xml), flags)?;
        return outln!("Metadata modified");
    }
    if edit {
        let now = d.metadata(&dom, &kind, inactive(at))?.unwrap_or_default();
        return match edited(&now, false)? {
            None => outln!("Metadata not changed"),
            Some(text) if text.trim().is_empty() => {
                d.set_metadata(&dom, &kind, None, flags)?;
                outln!("Metadata removed")
            }
            Some(text) => {
                d.set_metadata(&dom, &kind, Some(&text), flags)?;
                outln!("Metadata modified")
            }
        };
    }
    match d.metadata(&dom, &kind, inactive(at))? {
        Some(text) => outln!("{text}"),
        None => Err(Error::new(
            ErrorCode::InvalidArgument,
            "metadata not found: Requested metadata element is not present",
        )),
    }
}

/// `inject-nmi DOMAIN`: silent on success, as virsh.
pub fn inject_nmi(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    ctx.driver()?.inject_nmi(&dom)
}

/// `send-key DOMAIN [--codeset SET] [--holdtime MS] KEYCODE...`: silent
/// on success, as virsh.
pub fn send_key(
    ctx: &mut Ctx,
    arg: &str,
    codeset: &str,
    hold_ms: u32,
    keys: &[String],
) -> Result<()> {
    let set = KeyCodeset::from_name(codeset).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("unknown code set '{codeset}': use linux or qnum"),
        )
    })?;
    let codes = keys
        .iter()
        .map(|k| {
            let code = match set {
                KeyCodeset::Linux => qvirt::qemu::keys::linux_code(k),
                _ => k
                    .strip_prefix("0x")
                    .map_or_else(|| k.parse().ok(), |h| u32::from_str_radix(h, 16).ok()),
            };
            code.ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("invalid keycode: '{k}'"),
                )
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    let dom = ctx.domain(arg)?;
    ctx.driver()?.send_key(&dom, set, hold_ms, &codes)
}
