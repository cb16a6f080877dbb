//! The JavaScript globals the shell uses, bound structurally (by property name, not by class),
//! so they resolve on `globalThis` in pages, Web Workers, Node, Deno, Bun and workerd. (`fetch`
//! and the Response-likes it returns are `io.fly`'s, in pkg-template/common.js.)

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
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
