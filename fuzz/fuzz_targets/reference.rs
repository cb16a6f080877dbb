//! Image references: parse never panics; valid ones round-trip through Display and familiar().
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_token_fuzz::reference(data));
