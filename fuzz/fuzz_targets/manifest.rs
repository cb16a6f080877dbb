//! Manifest bodies with their headers: describe never panics, its digest validates and is the one
//! that decides, platforms are the runnable entries (as serde_json reads them), choose returns the
//! first entry that matches, messages stay bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_token_fuzz::manifest(data));
