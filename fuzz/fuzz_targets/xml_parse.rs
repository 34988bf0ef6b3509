//! Any bytes into the domain XML reader: no panic, and whatever it accepts
//! formats back to XML that reads as the same definition.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qvirt::model::fuzz_xml_parse(data));
