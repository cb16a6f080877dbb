//! In-wasm tests of the shell's own pieces that the packaged-library suites cannot reach
//! directly: the cached JS names, the error objects, and `send` against Response-like objects a
//! custom `fetch` may return (headers, statuses; bodies are read by the entry's JavaScript). Run in Node and in headless Chromium by `npm test`.

use super::convert::{error_to_js, name, NAMES};
use super::http::send;
use crate::error::{Code, Error};
use crate::flow::{Method, Purpose, Redirect, Request};
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn token_request() -> Request {
    Request {
        purpose: Purpose::Token,
        method: Method::Get,
        url: "http://127.0.0.1:9/token".into(),
        headers: Vec::new(),
        body: None,
        redirect: Redirect::Follow,
    }
}

/// A `fetch` that answers every request with `response`, leaking its closure (tests only).
fn fetch_answering(response: JsValue) -> Function {
    let f = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(move |_url, _init| Promise::resolve(&response).into());
    f.into_js_value().unchecked_into()
}

/// A Response-like object without a body stream, as old polyfills return.
fn response_like(status: u16, www_authenticate: Option<&str>, body: Vec<u8>) -> JsValue {
    let o: JsValue = Object::new().into();
    let _ = Reflect::set(&o, &"status".into(), &JsValue::from_f64(f64::from(status)));
    let header = www_authenticate.map(str::to_string);
    let get = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |n: JsValue| match (&header, n.as_string().as_deref()) {
        (Some(h), Some("www-authenticate")) => JsValue::from_str(h),
        _ => JsValue::NULL,
    });
    let headers: JsValue = Object::new().into();
    let _ = Reflect::set(&headers, &"get".into(), &get.into_js_value());
    let _ = Reflect::set(&o, &"headers".into(), &headers);
    let buffer = Uint8Array::from(body.as_slice()).buffer();
    let array_buffer = Closure::<dyn FnMut() -> JsValue>::new(move || Promise::resolve(&buffer).into());
    let _ = Reflect::set(&o, &"arrayBuffer".into(), &array_buffer.into_js_value());
    o
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

/// Body reading is the entry's JavaScript (`io.body` in common.js; its caps are tested through
/// the package in tests/js/errors.test.mjs). Loaded without an entry, a token body cannot be
/// read, and the call says why instead of hanging or trapping.
#[wasm_bindgen_test]
async fn without_the_entrys_io_a_token_body_is_a_clear_error() {
    let res = response_like(200, None, br#"{"token":"t"}"#.to_vec());
    let Err(e) = send(&token_request(), Some(&fetch_answering(res)), &JsValue::UNDEFINED).await else {
        panic!("a token body was read without the entry's I/O");
    };
    let message = get(&e, "message").as_string().unwrap_or_default();
    assert!(message.contains("loaded without its entry"), "{message}");
}

#[wasm_bindgen_test]
async fn headers_are_read_through_get() {
    let res = response_like(401, Some(r#"Bearer realm="/token""#), Vec::new());
    let mut ping = token_request();
    ping.purpose = Purpose::Challenge;
    let r = send(&ping, Some(&fetch_answering(res)), &JsValue::UNDEFINED).await.unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.www_authenticate.as_deref(), Some(r#"Bearer realm="/token""#));
    assert!(r.body.is_empty(), "a 401 challenge's body is not read");
}

#[wasm_bindgen_test]
async fn a_fetch_that_resolves_to_a_non_object_is_a_type_error() {
    let r = send(&token_request(), Some(&fetch_answering(JsValue::from_f64(42.0))), &JsValue::UNDEFINED).await;
    assert!(r.unwrap_err().is_instance_of::<js_sys::TypeError>());
}
