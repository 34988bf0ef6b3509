//! Any bytes as a stub driver's answers and a stream of frames: each call
//! goes through the daemon's dispatch, and what a client would see of the
//! outcome survives the wire (see `qvirt::transport::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qvirt::transport::fuzzing::fuzz_dispatch(data));
