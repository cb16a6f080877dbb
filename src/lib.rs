//! registry-token: Docker / OCI registry bearer tokens wherever JavaScript has `fetch`.
//!
//! ```text
//!   JavaScript ──► shell (js/, wasm32 only) ──► flow::Flow ──► Request ──► fetch
//!                     ▲     fetch, timers,          │  ▲                    │
//!                     │     AbortSignal, errors     │  └──── Response ◄─────┘
//!                     └─────────── Grant / Error ◄──┘
//! ```
//!
//! Everything but `js/` is a sans-IO core: it parses references (`reference`) and
//! `WWW-Authenticate` headers (`challenge`), builds scopes (`scope`), decodes token responses
//! (`token`), keeps bounded caches with injected time (`cache`), and runs the token dance as a
//! state machine (`flow`). It never performs I/O or reads a clock, so `cargo test` drives it
//! natively with a fake clock. The core does not retry, sleep, or talk to the registry after
//! the token: the token is the product. It follows redirects itself only where a secret rides on
//! the request, so `Authorization` never reaches another origin.

#![forbid(unsafe_code)]

pub mod cache;
pub mod challenge;
pub mod credentials;
pub mod digest;
pub mod error;
pub mod flow;
pub mod json;
pub mod link;
pub mod manifest;
pub mod redirect;
pub mod reference;
pub mod resource;
pub mod scope;
pub mod server_error;
pub mod store;
pub mod text;
pub mod token;
pub mod url;

#[cfg(target_arch = "wasm32")]
mod js;

/// Talc instead of the default dlmalloc: about a third of the code size for the same job (we
/// allocate little and briefly), which matters under the package's 48 KB gzip budget.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub use error::{Code, Error};
