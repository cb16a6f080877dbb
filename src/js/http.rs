//! One HTTP exchange: a core [`Request`] out through `fetch`, a core [`Response`] back, with the
//! body read as a stream and cut at [`MAX_BODY`] so a hostile server cannot make us buffer 50 MB
//! (`io.body` in pkg-template/common.js, the reader the registry calls use too). The chunks stay
//! in JavaScript until the body is complete and are copied into wasm once, at their exact size,
//! just before the core reads them: wasm memory never shrinks, so a hundred bodies arriving at
//! once must not each hold a growing buffer there.

use super::bindings::{global_fetch, BodyStream, FetchResponse, HeadersLike};
use super::convert::{name, set};
use crate::flow::{Purpose, Redirect, Request, Response};
use crate::token::MAX_BODY;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub async fn send(req: &Request, fetch: Option<&Function>, signal: &JsValue) -> Result<Response, JsValue> {
    let init: JsValue = Object::new().into();
    set(&init, "method", &name(req.method.as_str()));
    if !req.headers.is_empty() {
        let headers: JsValue = Object::new().into();
        for (k, v) in &req.headers {
            set(&headers, k, &name(v));
        }
        set(&init, "headers", &headers);
    }
    if let Some(body) = &req.body {
        set(&init, "body", &JsValue::from_str(body));
    }
    let redirect = match req.redirect {
        Redirect::Follow => "follow",
        Redirect::Manual => "manual",
    };
    set(&init, "redirect", &name(redirect));
    // Never send cookies or HTTP auth the browser may hold for the registry.
    set(&init, "credentials", &name("omit"));
    set(&init, "signal", signal);
    let url = JsValue::from_str(&req.url);
    let pending = match fetch {
        Some(f) => f.call2(&JsValue::UNDEFINED, &url, &init)?,
        None => global_fetch(&req.url, &init)?,
    };
    let value = JsFuture::from(Promise::resolve(&pending)).await?;
    if !value.is_object() {
        return Err(js_sys::TypeError::new("fetch resolved to something that is not a Response").into());
    }
    let res: FetchResponse = value.unchecked_into();
    let status = status_of(&res);
    let headers: HeadersLike = res.headers().unchecked_into();
    let header = |name: &str| -> Option<String> { headers.get(name).ok().and_then(|v| v.as_string()) };
    // A redirect we asked to see (`redirect: "manual"`): the core follows it, the body is noise.
    let redirect = req.redirect == Redirect::Manual && (300..=399).contains(&status);
    let mut out = Response {
        status,
        www_authenticate: header("www-authenticate"),
        retry_after: header("retry-after"),
        url: res.url().as_string().filter(|u| !u.is_empty()),
        location: if redirect { header("location") } else { None },
        ..Response::default()
    };
    let wanted = !redirect && (req.purpose == Purpose::Token || !(status == 401 || (200..=299).contains(&status)));
    if wanted {
        read_body(&res, &mut out).await?;
    } else {
        discard_body(&res);
    }
    Ok(out)
}

/// The status as the core takes it: anything a Response-like reports outside 0–999 (or no
/// number at all) is 0, the value browsers give an opaque redirect.
pub fn status_code(s: f64) -> u16 {
    if (0.0..=999.0).contains(&s) {
        s as u16
    } else {
        0
    }
}

fn status_of(res: &FetchResponse) -> u16 {
    status_code(res.status().as_f64().unwrap_or(f64::NAN))
}

async fn read_body(res: &FetchResponse, out: &mut Response) -> Result<(), JsValue> {
    let (bytes, truncated) = super::io::body(res, MAX_BODY).await?;
    out.body = bytes;
    out.body_truncated = truncated;
    Ok(())
}

/// Frees the connection (undici keeps a socket busy until the body is consumed or cancelled).
pub fn discard_body(res: &FetchResponse) {
    let body = res.body();
    if body.is_object() && Reflect::get(&body, &name("cancel")).is_ok_and(|f| f.is_function()) {
        if let Ok(p) = body.unchecked_into::<BodyStream>().cancel() {
            ignore_rejection(&p);
        }
    }
}

/// Attaches a no-op handler so a promise we do not await can never become an unhandled
/// rejection in the user's process.
pub fn ignore_rejection(p: &Promise) {
    thread_local! {
        static NOOP: wasm_bindgen::closure::Closure<dyn FnMut(JsValue)> = wasm_bindgen::closure::Closure::new(|_: JsValue| {});
    }
    NOOP.with(|f| {
        let _ = p.catch(f);
    });
}
