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
