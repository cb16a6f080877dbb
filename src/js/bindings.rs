//! The JavaScript globals the shell uses, bound structurally (by property name, not by class),
//! so they resolve on `globalThis` in pages, Web Workers, Node, Deno, Bun and workerd, and so a
//! user's own `fetch` may return any Response-like object.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, never `window.fetch`: workers and workerd have no `window`.
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn global_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;

    pub type FetchResponse;
    #[wasm_bindgen(method, getter, structural)]
    pub fn status(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter, structural)]
    pub fn headers(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter, structural)]
    pub fn url(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter, structural)]
    pub fn body(this: &FetchResponse) -> JsValue;

    pub type HeadersLike;
    #[wasm_bindgen(method, catch, structural)]
    pub fn get(this: &HeadersLike, name: &str) -> Result<JsValue, JsValue>;

    pub type BodyStream;
    #[wasm_bindgen(method, catch, structural)]
    pub fn cancel(this: &BodyStream) -> Result<Promise, JsValue>;

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
}
