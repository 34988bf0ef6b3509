//! Any bytes into the decoders of libvirt's protocol (message header,
//! every call and reply, errors, events): no panic, and a call or reply
//! that decodes re-encodes to the same value.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qvirt::transport::libvirt::fuzz_xdr_decode(data));
