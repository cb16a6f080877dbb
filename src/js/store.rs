//! The `tokenStore` option: a caller's store (Workers KV, the Cache API, Web Storage, or any
//! object with `get` and `put`) read before the network and written after it. What a key and a
//! value hold, and whether a value read back may be used, is the core's ([`crate::store`]). The
//! store's I/O — awaiting it at most a second, handing writes to `waitUntil`, counting failures —
//! is JavaScript's (`io` in pkg-template/common.js, see [`super::io`]; the read is `fly`'s): timers and promise
//! plumbing cost kilobytes of wasm and a few lines of JavaScript. A store can never fail
//! a call: whatever it throws, rejects or hangs on counts in `storeErrors`, and the call goes to
//! the network.

use super::convert::{invalid, name, OptionReader};
use super::io::io;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

/// A call waits this long at most for a store's `get` (half its own timeout when that is
/// shorter than two seconds, so a store that hangs still leaves the network time).
pub const WAIT_MS: f64 = 1_000.0;

/// A caller's store, checked once per call.
#[derive(Clone)]
pub struct Store {
    object: JsValue,
    wait_until: JsValue,
}

impl Store {
    /// The store object itself: flights share work only between calls with the same store.
    pub fn object(&self) -> &JsValue {
        &self.object
    }
}

/// `{ storeHits, storeMisses, storeErrors }` of one client, kept as a JavaScript object that
/// the I/O helpers count into and `stats()` copies.
pub fn new_counts() -> JsValue {
    let counts: JsValue = Object::new().into();
    for key in ["storeHits", "storeMisses", "storeErrors"] {
        let _ = Reflect::set(&counts, &name(key), &JsValue::from_f64(0.0));
    }
    counts
}

/// Adds one to a count: `storeHits` when the core took a value, `storeMisses` when it refused one.
pub fn count(counts: &JsValue, key: &str) {
    let k = name(key);
    let n = Reflect::get(counts, &k).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    let _ = Reflect::set(counts, &k, &JsValue::from_f64(n + 1.0));
}

/// `tokenStore` and `waitUntil` from the options (the call's over the client's). None also
/// when the module was loaded without its entry (no I/O helpers), as in the in-wasm tests.
pub fn from_options(o: &OptionReader) -> Result<Option<Store>, JsValue> {
    let wait_until = o.function("waitUntil")?.map_or(JsValue::UNDEFINED, Into::into);
    let object = o.raw("tokenStore");
    if object.is_undefined() || object.is_null() {
        return Ok(None);
    }
    let has = |key: &str| object.is_object() && Reflect::get(&object, &name(key)).is_ok_and(|f| f.is_instance_of::<Function>());
    if !has("get") || !has("put") {
        return Err(invalid(
            "option tokenStore must be an object with get(key) and put(key, value, options) functions, such as kvStore(env.TOKENS)"
                .to_string(),
        ));
    }
    Ok(Some(Store { object, wait_until }))
}

/// Writes without delaying the caller (through `waitUntil` when given).
pub fn write(store: &Store, counts: &JsValue, key: &str, value: &str, expires_at: u64, ttl_seconds: u64) {
    if let Some(io) = io() {
        io.store_write(&store.object, key, value, expires_at as f64, ttl_seconds as f64, &store.wait_until, counts);
    }
}

/// Drops a stored token the registry refused, when the store can delete.
pub fn remove(store: &Store, counts: &JsValue, key: &str) {
    if let Some(io) = io() {
        io.store_remove(&store.object, key, &store.wait_until, counts);
    }
}
