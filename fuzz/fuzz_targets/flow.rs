//! The whole flow fed arbitrary responses (see registry_token_fuzz::flow for the input format).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_token_fuzz::flow(data));
