//! In-wasm tests of the shell's own pieces that the packaged-library suites cannot reach
//! directly: the cached JS names, the error objects, and a call made without the entry's
//! JavaScript half (fetch, awaits and bodies are `io` in common.js; the package's suites test
//! them against Response-like objects). Run in Node and in headless Chromium by `npm test`.

use super::convert::{error_to_js, name, NAMES};
use crate::error::{Code, Error};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A `fetch` that counts its calls and never answers, leaking its closure (tests only).
fn fetch_counting(calls: std::rc::Rc<std::cell::Cell<u32>>) -> Function {
    let f = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(move |_url, _init| {
        calls.set(calls.get() + 1);
        Promise::new(&mut |_, _| {}).into()
    });
    f.into_js_value().unchecked_into()
}

#[wasm_bindgen_test]
fn names_are_sorted_so_the_cache_finds_them() {
    assert!(NAMES.windows(2).all(|w| w.first() < w.get(1)), "NAMES must stay in byte order");
    for n in NAMES {
        assert_eq!(name(n).as_string().as_deref(), Some(n));
    }
    assert_eq!(name("not-a-cached-name").as_string().as_deref(), Some("not-a-cached-name"));
}

#[wasm_bindgen_test]
fn errors_are_registry_auth_errors() {
    let mut e = Error::new(Code::TokenEndpoint, "the token server answered 429").with_status(429);
    e.retry_after = Some("30".into());
    let cause: JsValue = js_sys::TypeError::new("fetch failed").into();
    let v = error_to_js(&e, Some(&cause));
    assert!(v.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&v, "name").as_string().as_deref(), Some("RegistryAuthError"));
    assert_eq!(get(&v, "code").as_string().as_deref(), Some("TOKEN_ENDPOINT"));
    assert_eq!(get(&v, "status").as_f64(), Some(429.0));
    assert_eq!(get(&v, "retryAfter").as_string().as_deref(), Some("30"));
    assert!(get(&v, "cause").is_instance_of::<js_sys::TypeError>());
    assert_eq!(get(&v, "message").as_string().as_deref(), Some("the token server answered 429"));
}

/// Every await is the entry's JavaScript (`io` in common.js). Loaded without an entry, a call
/// that needs the network rejects and says why, sending nothing, instead of hanging or trapping.
#[wasm_bindgen_test]
async fn without_the_entrys_io_a_call_is_a_clear_error() {
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let options: JsValue = Object::new().into();
    let _ = Reflect::set(&options, &"fetch".into(), &fetch_counting(calls.clone()));
    let p = super::get_token(JsValue::from_str("127.0.0.1:9/app"), options);
    let Err(e) = JsFuture::from(p).await else { panic!("a token came without the entry's I/O") };
    let message = get(&e, "message").as_string().unwrap_or_default();
    assert!(message.contains("loaded without its entry"), "{message}");
    assert_eq!(calls.get(), 0, "nothing is sent without the entry's I/O");
}
