//! A per-caller promise that rejects with TIMEOUT or ABORTED. Each caller races it against the
//! shared in-flight work, so one caller giving up never cancels another's request; the work
//! itself is aborted only when its last caller has left. Dropping the guard clears the timer and
//! the abort listener, so a settled call leaves nothing that keeps Node's event loop alive.

use super::bindings::{clear_timeout, set_timeout, SignalLike};
use super::convert::error_to_js;
use crate::error::{Code, Error};
use js_sys::{Function, Promise};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

pub struct Cancel {
    pub promise: Promise,
    /// Set when this guard's own timer or signal fired (as opposed to the shared work failing).
    pub fired: Rc<Cell<bool>>,
    timer: Option<(JsValue, Closure<dyn FnMut()>)>,
    listener: Option<(SignalLike, Closure<dyn FnMut()>)>,
}

pub fn aborted_error(signal: &JsValue) -> JsValue {
    let s: &SignalLike = signal.unchecked_ref();
    let reason = s.reason();
    let cause = (!reason.is_undefined()).then_some(reason);
    error_to_js(&Error::new(Code::Aborted, "the call was aborted by its AbortSignal"), cause.as_ref())
}

impl Cancel {
    pub fn new(signal: Option<&JsValue>, timeout_ms: Option<f64>) -> Cancel {
        let mut reject: Option<Function> = None;
        let promise = Promise::new(&mut |_resolve, rej| reject = Some(rej));
        let fired = Rc::new(Cell::new(false));
        let mut guard = Cancel { promise, fired: fired.clone(), timer: None, listener: None };
        let Some(reject) = reject else { return guard };
        if let Some(ms) = timeout_ms {
            let (rej, f) = (reject.clone(), fired.clone());
            let cb = Closure::<dyn FnMut()>::new(move || {
                f.set(true);
                let e = error_to_js(&Error::new(Code::Timeout, format!("no answer within timeoutMs ({} ms)", ms as u64)), None);
                let _ = rej.call1(&JsValue::UNDEFINED, &e);
            });
            let id = set_timeout(cb.as_ref().unchecked_ref(), ms);
            guard.timer = Some((id, cb));
        }
        if let Some(signal) = signal {
            let (rej, f, sig) = (reject, fired, signal.clone());
            let cb = Closure::<dyn FnMut()>::new(move || {
                f.set(true);
                let _ = rej.call1(&JsValue::UNDEFINED, &aborted_error(&sig));
            });
            let s: SignalLike = signal.clone().unchecked_into();
            if s.add_event_listener("abort", cb.as_ref().unchecked_ref()).is_ok() {
                guard.listener = Some((s, cb));
            }
        }
        guard
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        if let Some((id, _cb)) = &self.timer {
            clear_timeout(id);
        }
        if let Some((signal, cb)) = &self.listener {
            let _ = signal.remove_event_listener("abort", cb.as_ref().unchecked_ref());
        }
    }
}
