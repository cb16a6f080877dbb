//! `Link` headers as pages answer them in turn: next_target against a strict RFC 8288 reading;
//! next_page stays on the page's origin, never returns to a page read, keeps the query verbatim,
//! and quotes little of the header in its messages.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_token_fuzz::link(data));
