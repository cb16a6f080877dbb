//! The `tokenStore` option: a caller's store (Workers KV, the Cache API, Web Storage, or any
//! object with `get` and `put`) read before the network and written after it. What a key and a
//! value hold, and whether a value read back may be used, is the core's ([`crate::store`]). The
//! store's I/O — awaiting it at most a second, handing writes to `waitUntil`, counting failures —
//! is JavaScript's (`storeIo` in pkg-template/common.js, given to the module at load): timers and
//! promise plumbing cost kilobytes of wasm and a few lines of JavaScript. A store can never fail
//! a call: whatever it throws, rejects or hangs on counts in `storeErrors`, and the call goes to
//! the network.

use super::convert::{invalid, name, OptionReader};
use js_sys::{Function, Object, Promise, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// A call waits this long at most for a store's `get` (half its own timeout when that is
/// shorter than two seconds, so a store that hangs still leaves the network time).
pub const WAIT_MS: f64 = 1_000.0;

#[wasm_bindgen]
extern "C" {
    /// pkg-template/common.js `storeIo`: never throws, never rejects.
    #[derive(Clone)]
    pub type StoreIo;
    /// Resolves to the stored string, or undefined (counted as a miss or an error there).
    #[wasm_bindgen(method, structural)]
    fn read(this: &StoreIo, store: &JsValue, key: &str, wait_ms: f64, counts: &JsValue) -> Promise;
    #[wasm_bindgen(method, structural)]
    fn write(
        this: &StoreIo,
        store: &JsValue,
        key: &str,
        value: &str,
        expires_at: f64,
        ttl_seconds: f64,
        wait_until: &JsValue,
        counts: &JsValue,
    );
    #[wasm_bindgen(method, structural)]
    fn remove(this: &StoreIo, store: &JsValue, key: &str, wait_until: &JsValue, counts: &JsValue);
}

thread_local! {
    static IO: RefCell<Option<StoreIo>> = const { RefCell::new(None) };
}

/// Called once by every entry at load, with `storeIo` from common.js.
#[wasm_bindgen(js_name = __setStoreIo)]
pub fn set_store_io(io: JsValue) {
    IO.with(|slot| *slot.borrow_mut() = Some(io.unchecked_into()));
}

fn io() -> Option<StoreIo> {
    IO.with(|slot| slot.borrow().clone())
}

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

/// The stored value under `key`, if the store answers with a string within `wait_ms`.
pub async fn read(store: &Store, counts: &JsValue, key: &str, wait_ms: f64) -> Option<String> {
    let io = io()?;
    wasm_bindgen_futures::JsFuture::from(io.read(&store.object, key, wait_ms, counts)).await.ok()?.as_string()
}

/// Writes without delaying the caller (through `waitUntil` when given).
pub fn write(store: &Store, counts: &JsValue, key: &str, value: &str, expires_at: u64, ttl_seconds: u64) {
    if let Some(io) = io() {
        io.write(&store.object, key, value, expires_at as f64, ttl_seconds as f64, &store.wait_until, counts);
    }
}

/// Drops a stored token the registry refused, when the store can delete.
pub fn remove(store: &Store, counts: &JsValue, key: &str) {
    if let Some(io) = io() {
        io.remove(&store.object, key, &store.wait_until, counts);
    }
}
