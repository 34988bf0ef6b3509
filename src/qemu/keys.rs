//! Key codes for `send-key`: Linux's input key codes (`KEY_*` of
//! `linux/input-event-codes.h`, libvirt's default code set) and QEMU's
//! `qnum` numbers (XT scan codes, `0x80 |` the code of an `E0`-prefixed
//! key) that QMP's `send-key` takes.

/// Linux's names and codes of the keys qvirt can send.
const LINUX: &[(&str, u32)] = &[
    ("KEY_ESC", 1),
    ("KEY_1", 2),
    ("KEY_2", 3),
    ("KEY_3", 4),
    ("KEY_4", 5),
    ("KEY_5", 6),
    ("KEY_6", 7),
    ("KEY_7", 8),
    ("KEY_8", 9),
    ("KEY_9", 10),
    ("KEY_0", 11),
    ("KEY_MINUS", 12),
    ("KEY_EQUAL", 13),
    ("KEY_BACKSPACE", 14),
    ("KEY_TAB", 15),
    ("KEY_Q", 16),
    ("KEY_W", 17),
    ("KEY_E", 18),
    ("KEY_R", 19),
    ("KEY_T", 20),
    ("KEY_Y", 21),
    ("KEY_U", 22),
    ("KEY_I", 23),
    ("KEY_O", 24),
    ("KEY_P", 25),
    ("KEY_LEFTBRACE", 26),
    ("KEY_RIGHTBRACE", 27),
    ("KEY_ENTER", 28),
    ("KEY_LEFTCTRL", 29),
    ("KEY_A", 30),
    ("KEY_S", 31),
    ("KEY_D", 32),
    ("KEY_F", 33),
    ("KEY_G", 34),
    ("KEY_H", 35),
    ("KEY_J", 36),
    ("KEY_K", 37),
    ("KEY_L", 38),
    ("KEY_SEMICOLON", 39),
    ("KEY_APOSTROPHE", 40),
    ("KEY_GRAVE", 41),
    ("KEY_LEFTSHIFT", 42),
    ("KEY_BACKSLASH", 43),
    ("KEY_Z", 44),
    ("KEY_X", 45),
    ("KEY_C", 46),
    ("KEY_V", 47),
    ("KEY_B", 48),
    ("KEY_N", 49),
    ("KEY_M", 50),
    ("KEY_COMMA", 51),
    ("KEY_DOT", 52),
    ("KEY_SLASH", 53),
    ("KEY_RIGHTSHIFT", 54),
    ("KEY_KPASTERISK", 55),
    ("KEY_LEFTALT", 56),
    ("KEY_SPACE", 57),
    ("KEY_CAPSLOCK", 58),
    ("KEY_F1", 59),
    ("KEY_F2", 60),
    ("KEY_F3", 61),
    ("KEY_F4", 62),
    ("KEY_F5", 63),
    ("KEY_F6", 64),
    ("KEY_F7", 65),
    ("KEY_F8", 66),
    ("KEY_F9", 67),
    ("KEY_F10", 68),
    ("KEY_NUMLOCK", 69),
    ("KEY_SCROLLLOCK", 70),
    ("KEY_KP7", 71),
    ("KEY_KP8", 72),
    ("KEY_KP9", 73),
    ("KEY_KPMINUS", 74),
    ("KEY_KP4", 75),
    ("KEY_KP5", 76),
    ("KEY_KP6", 77),
    ("KEY_KPPLUS", 78),
    ("KEY_KP1", 79),
    ("KEY_KP2", 80),
    ("KEY_KP3", 81),
    ("KEY_KP0", 82),
    ("KEY_KPDOT", 83),
    ("KEY_102ND", 86),
    ("KEY_F11", 87),
    ("KEY_F12", 88),
    ("KEY_KPENTER", 96),
    ("KEY_RIGHTCTRL", 97),
    ("KEY_KPSLASH", 98),
    ("KEY_SYSRQ", 99),
    ("KEY_RIGHTALT", 100),
    ("KEY_HOME", 102),
    ("KEY_UP", 103),
    ("KEY_PAGEUP", 104),
    ("KEY_LEFT", 105),
    ("KEY_RIGHT", 106),
    ("KEY_END", 107),
    ("KEY_DOWN", 108),
    ("KEY_PAGEDOWN", 109),
    ("KEY_INSERT", 110),
    ("KEY_DELETE", 111),
    ("KEY_POWER", 116),
    ("KEY_LEFTMETA", 125),
    ("KEY_RIGHTMETA", 126),
    ("KEY_COMPOSE", 127),
];

/// The most keys one `send-key` presses together (libvirt's
/// `VIR_DOMAIN_SEND_KEY_MAX_KEYS`).
pub const MAX_KEYS: usize = 16;

/// The Linux code of `name` (`KEY_A`, case as written by virsh's users:
/// any), or of a number (decimal or `0x` hex).
pub fn linux_code(name: &str) -> Option<u32> {
    if let Some(hex) = name.strip_prefix("0x") {
        return u32::from_str_radix(hex, 16).ok();
    }
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    LINUX
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
}

/// QEMU's `qnum` of Linux key code `code`, if qvirt knows the key.
pub fn qnum_of_linux(code: u32) -> Option<u32> {
    match code {
        // The main block and the keypad: the XT scan code is the code.
        1..=83 | 86..=88 => Some(code),
        96 => Some(0x9c),  // keypad Enter: E0 1C
        97 => Some(0x9d),  // right Ctrl: E0 1D
        98 => Some(0xb5),  // keypad /: E0 35
        99 => Some(0x54),  // SysRq (Alt+Print Screen)
        100 => Some(0xb8), // right Alt: E0 38
        102 => Some(0xc7), // Home
        103 => Some(0xc8), // Up
        104 => Some(0xc9), // Page Up
        105 => Some(0xcb), // Left
        106 => Some(0xcd), // Right
        107 => Some(0xcf), // End
        108 => Some(0xd0), // Down
        109 => Some(0xd1), // Page Down
        110 => Some(0xd2), // Insert
        111 => Some(0xd3), // Delete
        116 => Some(0xde), // Power
        125 => Some(0xdb), // left Meta
        126 => Some(0xdc), // right Meta
        127 => Some(0xdd), // Compose (menu)
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_qnums() {
        assert_eq!(linux_code("KEY_H"), Some(35));
        assert_eq!(linux_code("key_leftalt"), Some(56));
        assert_eq!(linux_code("99"), Some(99));
        assert_eq!(linux_code("0x1d"), Some(29));
        assert_eq!(linux_code("KEY_NOPE"), None);
        assert_eq!(qnum_of_linux(35), Some(35));
        assert_eq!(qnum_of_linux(99), Some(0x54));
        assert_eq!(qnum_of_linux(84), None);
        // Every named key has a qnum.
        for (name, code) in LINUX {
            assert!(qnum_of_linux(*code).is_some(), "{name}");
        }
    }
}
