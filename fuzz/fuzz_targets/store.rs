//! Values read back from a shared token store (Workers KV, the Cache API, Web Storage): whatever
//! is there decodes or is refused without a panic, only under its own key and outside the refresh
//! margin, and what the package writes always reads back unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| registry_token_fuzz::store(data));
