//! Redirects followed by hand. Where a request carries a secret (`Authorization`), the runtime's
//! own redirect handling is not trusted to drop it on the way to another origin (the Fetch
//! standard does since 2023; older runtimes and custom `fetch` functions may not), so such
//! requests are sent with `redirect: "manual"` and each hop is decided here.

use crate::error::{Code, Error};
use crate::url::{resolve_location, HttpUrl};

/// Hops one request may take, as browsers (20) but tighter; an 11th is not requested.
pub const MAX_REDIRECTS: u8 = 10;

pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The next URL of a redirect from `current`. `who` names the server in messages; `bad` is the
/// code for a redirect that cannot be followed (no or unusable `Location`). https → http is
/// refused (INSECURE_REALM) before anything is sent there.
pub fn next(current: &str, status: u16, location: Option<&str>, hops: u8, who: &str, bad: Code) -> Result<HttpUrl, Error> {
    if hops >= MAX_REDIRECTS {
        return Err(Error::new(Code::Network, format!("{who} redirected more than {MAX_REDIRECTS} times; the next hop was not requested")));
    }
    let current = HttpUrl::parse(current).map_err(|why| Error::new(bad, format!("internal: the request URL is unusable: {why}")))?;
    let origin = crate::text::clip(&current.origin(), 200);
    let location =
        location.ok_or_else(|| Error::new(bad, format!("{who} at {origin} answered {status} without a Location")).with_status(status))?;
    let target = resolve_location(location, &current)
        .map_err(|why| Error::new(bad, format!("{who} at {origin} redirected to an unusable URL: {why}")).with_status(status))?;
    if current.is_https() && !target.is_https() {
        return Err(Error::new(
            Code::InsecureRealm,
            format!("{who} at {origin} redirected from https to plain http; nothing was sent there"),
        ));
    }
    Ok(target)
}
