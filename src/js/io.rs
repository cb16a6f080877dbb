//! The shell's JavaScript half: `io` in pkg-template/common.js, handed to the module by each
//! entry at load. It holds what costs kilobytes of wasm as async Rust and a few lines as
//! JavaScript: the per-caller guard (a caller's timeout and signal raced against shared work),
//! capped body reads, and the token store's I/O. The same functions serve the registry calls'
//! driver there, so each exists once. None of them throws or rejects except as documented.

use super::bindings::FetchResponse;
use js_sys::{Array, Promise};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    pub type Io;
    /// Resolves `[settled, value, fired]`, never rejects: whether `p` fulfilled, its value or
    /// reason (or the TIMEOUT / ABORTED error when the guard won), and whether the caller's own
    /// timer or signal fired (as opposed to the shared work failing).
    #[wasm_bindgen(method, structural)]
    fn guard(this: &Io, p: &Promise, signal: &JsValue, timeout_ms: &JsValue) -> Promise;
    /// Resolves `[bytes, truncated]`: the body as one buffer of at most `cap` bytes (the rest is
    /// not read); rejects as reading the body does.
    #[wasm_bindgen(method, structural)]
    fn body(this: &Io, res: &FetchResponse, cap: f64) -> Promise;
    /// Resolves to the stored string, or undefined (counted as a miss or an error there).
    #[wasm_bindgen(method, structural, js_name = storeRead)]
    pub fn store_read(this: &Io, store: &JsValue, key: &str, wait_ms: f64, counts: &JsValue) -> Promise;
    #[wasm_bindgen(method, structural, js_name = storeWrite)]
    pub fn store_write(
        this: &Io,
        store: &JsValue,
        key: &str,
        value: &str,
        expires_at: f64,
        ttl_seconds: f64,
        wait_until: &JsValue,
        counts: &JsValue,
    );
    #[wasm_bindgen(method, structural, js_name = storeRemove)]
    pub fn store_remove(this: &Io, store: &JsValue, key: &str, wait_until: &JsValue, counts: &JsValue);
}

thread_local! {
    static IO: RefCell<Option<Io>> = const { RefCell::new(None) };
}

/// Called once by every entry at load, with `io` from common.js.
#[wasm_bindgen(js_name = __setIo)]
pub fn set_io(io: JsValue) {
    IO.with(|slot| *slot.borrow_mut() = Some(io.unchecked_into()));
}

/// The helpers, once an entry has handed them over (the in-wasm tests run without).
pub fn io() -> Option<Io> {
    IO.with(|slot| slot.borrow().clone())
}

fn missing() -> JsValue {
    js_sys::Error::new("registry-token: the module was loaded without its entry (no JavaScript I/O helpers)").into()
}

/// `p` under the caller's timeout and signal: `(outcome, gave_up)`, where `gave_up` says the
/// caller's own timer or signal ended the wait.
pub async fn guarded(p: &Promise, signal: Option<&JsValue>, timeout_ms: Option<f64>) -> (Result<JsValue, JsValue>, bool) {
    let Some(io) = io() else { return (Err(missing()), false) };
    let ms = timeout_ms.map_or(JsValue::UNDEFINED, JsValue::from_f64);
    let r: Array = match JsFuture::from(io.guard(p, signal.unwrap_or(&JsValue::UNDEFINED), &ms)).await {
        Ok(v) => v.unchecked_into(),
        Err(e) => return (Err(e), false),
    };
    let outcome = if r.get(0).is_truthy() { Ok(r.get(1)) } else { Err(r.get(1)) };
    (outcome, r.get(2).is_truthy())
}

/// The body of `res`, at most `cap` bytes, and whether the server sent more.
pub async fn body(res: &FetchResponse, cap: usize) -> Result<(Vec<u8>, bool), JsValue> {
    let io = io().ok_or_else(missing)?;
    let r: Array = JsFuture::from(io.body(res, cap as f64)).await?.unchecked_into();
    Ok((r.get(0).unchecked_into::<js_sys::Uint8Array>().to_vec(), r.get(1).is_truthy()))
}
