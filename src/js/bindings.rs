//! The JavaScript globals the shell uses, bound structurally (by property name, not by class),
//! so they resolve on `globalThis` in pages, Web Workers, Node, Deno, Bun and workerd, and so a
//! user's own `fetch` may return any Response-like object.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, never `window.fetch`: workers and workerd have no `window`.
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn global_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);

    pub type FetchResponse;
    #[wasm_bindgen(method, getter, structural)]
    pub fn status(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter, structural)]
    pub fn headers(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter, structural)]
    pub fn url(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter, structural)]
    pub fn body(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, catch, structural, js_name = arrayBuffer)]
    pub fn array_buffer(this: &FetchResponse) -> Result<Promise, JsValue>;

    /// The global `Headers`, to merge a caller's `HeadersInit` (object, array or Headers) with ours.
    #[wasm_bindgen(js_name = Headers)]
    pub type HeadersObject;
    #[wasm_bindgen(constructor, catch, js_class = "Headers")]
    pub fn new(init: &JsValue) -> Result<HeadersObject, JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    pub fn set(this: &HeadersObject, name: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    pub fn has(this: &HeadersObject, name: &str) -> Result<bool, JsValue>;
    #[wasm_bindgen(method, catch, structural, js_name = delete)]
    pub fn remove(this: &HeadersObject, name: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(js_name = TextDecoder)]
    pub type TextDecoder;
    #[wasm_bindgen(constructor, catch, js_class = "TextDecoder")]
    pub fn new() -> Result<TextDecoder, JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    pub fn decode(this: &TextDecoder, bytes: &js_sys::Uint8Array) -> Result<String, JsValue>;

    /// WebCrypto's digest, for sha384/sha512 digests (the core hashes sha256 itself). Absent
    /// where the runtime has no `crypto.subtle` (a browser page over plain http): then it throws.
    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = digest)]
    pub fn subtle_digest(algorithm: &str, data: &js_sys::Uint8Array) -> Result<Promise, JsValue>;

    pub type HeadersLike;
    #[wasm_bindgen(method, catch, structural)]
    pub fn get(this: &HeadersLike, name: &str) -> Result<JsValue, JsValue>;

    pub type BodyStream;
    #[wasm_bindgen(method, catch, structural, js_name = getReader)]
    pub fn get_reader(this: &BodyStream) -> Result<StreamReader, JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    pub fn cancel(this: &BodyStream) -> Result<Promise, JsValue>;

    pub type StreamReader;
    #[wasm_bindgen(method, catch, structural)]
    pub fn read(this: &StreamReader) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, structural)]
    pub fn cancel(this: &StreamReader) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = AbortController)]
    pub type AbortController;
    #[wasm_bindgen(constructor, catch, js_class = "AbortController")]
    pub fn new() -> Result<AbortController, JsValue>;
    #[wasm_bindgen(method, getter, structural)]
    pub fn signal(this: &AbortController) -> JsValue;
    #[wasm_bindgen(method, structural)]
    pub fn abort(this: &AbortController);

    pub type SignalLike;
    #[wasm_bindgen(method, getter, structural)]
    pub fn aborted(this: &SignalLike) -> JsValue;
    #[wasm_bindgen(method, getter, structural)]
    pub fn reason(this: &SignalLike) -> JsValue;
    #[wasm_bindgen(method, catch, structural, js_name = addEventListener)]
    pub fn add_event_listener(this: &SignalLike, kind: &str, listener: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, structural, js_name = removeEventListener)]
    pub fn remove_event_listener(this: &SignalLike, kind: &str, listener: &Function) -> Result<(), JsValue>;
}
