//! `<audio>` on the running QEMU: a file backend writes its WAV file
//! with the format of its `<output><settings>`, and its mixing timer
//! runs at the `timerPeriod` written, as QEMU's own trace of the timer
//! says once a PC speaker plays through it.

use std::time::Duration;

use serde_json::json;

use crate::support::{State, firmware_vm, poll};

#[test]
fn a_file_backend_writes_its_format_and_mixes_at_its_timer_period() {
    let st = State::new("audiotimer");
    let wav = st.root().join("speaker.wav");
    st.start(&firmware_vm(
        "beep",
        "",
        &format!(
            "<sound model='pcspk'><audio id='1'/></sound>\
             <audio id='1' type='file' path='{}' timerPeriod='30000'>\
             <output><settings frequency='8000' channels='1' format='u8'/></output></audio>",
            wav.display()
        ),
    ));
    // The timer runs only while a voice plays, and the speaker plays
    // while its PIT channel is a square wave: program channel 2 at about
    // 1 kHz and open the speaker's gate (port 0x61), as a beep does;
    // again until samples come, as the firmware may use the channel
    // while it starts. The header, written as the speaker opened its
    // voice, reaches the file with the first samples.
    let mut qmp = st.qmp("beep");
    qmp.exec(
        "trace-event-set-state",
        json!({"name": "audio_timer_start", "enable": true}),
    );
    let header = poll("samples in the WAV file", Duration::from_secs(30), || {
        if let Ok(h) = std::fs::read(&wav)
            && h.len() > 44
        {
            return Some(h);
        }
        for out in ["0x43 0xb6", "0x42 0xa9", "0x42 0x04", "0x61 3"] {
            qmp.exec(
                "human-monitor-command",
                json!({"command-line": format!("o /b {out}")}),
            );
        }
        None
    });
    drop(qmp);
    assert_eq!(&header[..4], b"RIFF");
    let le16 = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
    let le32 = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap());
    assert_eq!(le16(22), 1, "channels");
    assert_eq!(le32(24), 8000, "frequency");
    assert_eq!(le16(34), 8, "bits per sample");

    let log = st.root().join("log/qemu/beep.log");
    let line = poll("the audio timer's trace", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).ok()?;
        text.lines()
            .find(|l| l.contains("audio_timer_start"))
            .map(str::to_string)
    });
    assert!(line.ends_with("interval 30 ms"), "{line}");
    st.stop("beep");
}
