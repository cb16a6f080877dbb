//! One error type for the whole crate. The `code` is the API (it becomes `error.code` in
//! JavaScript, Node's convention); the message is for people and may change.

use std::fmt;

/// What went wrong, as a stable code. Each variant maps 1:1 to the string in [`Code::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// The image reference, or an option that shapes the request (registryUrl, actions,
    /// timeoutMs), is not valid.
    InvalidReference,
    /// A `WWW-Authenticate` value does not follow RFC 7235, or a Bearer challenge has no realm.
    InvalidChallenge,
    /// The request never got an HTTP answer (DNS, refused connection, TLS, CORS in a browser).
    Network,
    /// The registry answered `/v2/` with something other than 200 or a usable 401 challenge.
    NoChallenge,
    /// The registry only offers a scheme `getToken` cannot turn into a bearer token.
    UnsupportedChallenge,
    /// Credentials were missing or refused (401/403 from the token server).
    Unauthorized,
    /// The token server answered with another non-2xx status.
    TokenEndpoint,
    /// The token server answered 2xx but the body is not a usable token response.
    BadTokenResponse,
    /// Credentials would be sent in clear, or the realm is not an http(s) URL.
    InsecureRealm,
    /// `timeoutMs` elapsed.
    Timeout,
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// 404 from the registry: unknown repository, tag, manifest or blob, or no entry of an index
    /// for the platform asked for.
    NotFound,
    /// 429 from the registry; `retry_after` holds its `Retry-After`. Never retried by itself.
    RateLimited,
    /// Bytes that do not hash to the digest asked for or announced.
    DigestMismatch,
    /// The registry refuses the operation itself: 405, no catalog, deletion disabled.
    UnsupportedOperation,
    /// Any other non-2xx answer from the registry.
    RegistryError,
    /// Malformed tags, catalog or manifest JSON, a manifest over 4 MiB, a bad or looping `Link`.
    BadRegistryResponse,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidReference => "INVALID_REFERENCE",
            Code::InvalidChallenge => "INVALID_CHALLENGE",
            Code::Network => "NETWORK",
            Code::NoChallenge => "NO_CHALLENGE",
            Code::UnsupportedChallenge => "UNSUPPORTED_CHALLENGE",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::TokenEndpoint => "TOKEN_ENDPOINT",
            Code::BadTokenResponse => "BAD_TOKEN_RESPONSE",
            Code::InsecureRealm => "INSECURE_REALM",
            Code::Timeout => "TIMEOUT",
            Code::Aborted => "ABORTED",
            Code::NotFound => "NOT_FOUND",
            Code::RateLimited => "RATE_LIMITED",
            Code::DigestMismatch => "DIGEST_MISMATCH",
            Code::UnsupportedOperation => "UNSUPPORTED_OPERATION",
            Code::RegistryError => "REGISTRY_ERROR",
            Code::BadRegistryResponse => "BAD_REGISTRY_RESPONSE",
        }
    }
}

/// An error value: a code, a message without secrets, and the HTTP facts that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: Code,
    pub message: String,
    /// The HTTP status that caused the error, when one did.
    pub status: Option<u16>,
    /// The server's `Retry-After`, verbatim, when it sent one (429/503).
    pub retry_after: Option<String>,
    /// distribution's `{"errors":[{code, message, detail}]}` entries, when the answer had them.
    pub errors: Vec<ServerError>,
}

/// One entry of a distribution error body (`docs/spec/api.md` §Errors), as sent: `detail` is
/// kept as its JSON text, for the shell to hand over parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), status: None, retry_after: None, errors: Vec::new() }
    }

    pub fn with_status(mut self, status: u16) -> Error {
        self.status = Some(status);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        f.write_str(": ")?;
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
