//! The shell's JavaScript half: `io` in pkg-template/common.js, handed to the module by each
//! entry at load. It holds what costs kilobytes of wasm as async Rust and a few lines as
//! JavaScript: every await. `settle` waits for one caller (its credentials promise, then its
//! flight, under its own timeout and signal), `fly` drives a flight's requests, and the token
//! store's I/O; the registry calls' driver there uses the same guard and body reader. Rust
//! decides, JavaScript awaits: no future is compiled into the module.

use super::{Job, Run};
use js_sys::Promise;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    pub type Io;
    /// The caller's promise: awaits the job's credentials promise and then its flight, each
    /// raced against the caller's timeout and signal, handing every outcome back to the job.
    #[wasm_bindgen(method, structural)]
    pub fn settle(this: &Io, job: Job) -> Promise;
    /// The flight's promise: sends the run's requests in turn (a shared store read first) and
    /// hands every answer back to the run.
    #[wasm_bindgen(method, structural)]
    pub fn fly(this: &Io, run: Run) -> Promise;
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

pub fn missing() -> JsValue {
    js_sys::Error::new("registry-token: the module was loaded without its entry (no JavaScript I/O helpers)").into()
}
