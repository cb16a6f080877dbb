//! Token-server bodies: decode and the server-error quoting never panic and stay bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_token_fuzz::token_body(data));
