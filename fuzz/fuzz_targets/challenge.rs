//! WWW-Authenticate values: invariants, a quote-everything round trip, and agreement with the slow RFC 7235 parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_token_fuzz::challenge(data));
