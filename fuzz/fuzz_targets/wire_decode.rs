//! Any bytes into the wire decoder (frame, call, reply, event, stream):
//! no panic, and a call it accepts re-encodes to the same call.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qvirt::transport::wire::fuzz_wire_decode(data));
