//! Content digests (OCI image-spec `descriptor.md` §Digests; go-digest): `algorithm ":" hex`,
//! checked against the bytes a registry sent. A registry that serves bytes which do not hash to
//! the digest asked for, or to the `Docker-Content-Digest` it announces, is answering for some
//! other content: the caller must not get it.

use crate::error::{Code, Error};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// `sha256:<64 hex>` (and sha384, sha512) in lower-case hex, as go-digest validates them.
pub fn validate(digest: &str) -> Result<(), Error> {
    let bad = |why: &str| Error::new(Code::InvalidReference, format!("digest \"{}\" {why}", crate::text::clip(digest, 100)));
    let (algorithm, hex) = digest.split_once(':').ok_or_else(|| bad("is not algorithm:hex"))?;
    let len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(bad("uses an algorithm other than sha256, sha384 or sha512")),
    };
    if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(bad("does not have the algorithm's length of lower-case hex"));
    }
    Ok(())
}

/// The digest of `bytes` with the algorithm `like` names (sha256 when it names none we know).
/// Natively only (tests, fuzzing): the shell hashes sha384/sha512 with WebCrypto.
pub fn of(like: &str, bytes: &[u8]) -> String {
    match like.split(':').next() {
        Some("sha512") => named("sha512", &Sha512::digest(bytes)),
        Some("sha384") => named("sha384", &Sha384::digest(bytes)),
        _ => sha256(bytes),
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    named("sha256", &Sha256::digest(bytes))
}

/// `algorithm:hex` of a raw hash, e.g. one WebCrypto computed.
pub fn named(algorithm: &str, sum: &[u8]) -> String {
    let mut out = String::with_capacity(algorithm.len() + 1 + sum.len() * 2);
    out.push_str(algorithm);
    out.push(':');
    push_hex(&mut out, sum);
    out
}

/// Appends `bytes` in lower-case hex: digests, store keys and cache ids all print sums this way.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        for nibble in [b >> 4, b & 15] {
            out.push(char::from(b"0123456789abcdef".get(usize::from(nibble)).copied().unwrap_or(b'0')));
        }
    }
}

/// Checks `bytes` against `expected`; `what` names them in the message ("the manifest").
pub fn verify(expected: &str, bytes: &[u8], what: &str) -> Result<(), Error> {
    verify_with(expected, bytes, what, Some(&of(expected, bytes)))
}

/// [`verify`] for the shell, which hashes sha256 here and leaves sha384/sha512 to the runtime's
/// WebCrypto (`other`, computed there): SHA-512's code is 8 KB of wasm that every `getToken`
/// user would download for digests registries almost never use.
pub fn verify_with(expected: &str, bytes: &[u8], what: &str, other: Option<&str>) -> Result<(), Error> {
    validate(expected)
        .map_err(|e| Error::new(Code::DigestMismatch, format!("{what}: the registry announced an unusable {}", e.message)))?;
    let actual = if expected.starts_with("sha256:") {
        sha256(bytes)
    } else {
        other.map(str::to_string).ok_or_else(|| {
            let algorithm = expected.split(':').next().unwrap_or("");
            Error::new(
                Code::UnsupportedOperation,
                format!("{what} has a {algorithm} digest, and this runtime has no crypto.subtle to check it"),
            )
        })?
    };
    if actual == expected {
        Ok(())
    } else {
        Err(Error::new(Code::DigestMismatch, format!("{what} does not match its digest: expected {expected}, the bytes hash to {actual}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_and_verifies() {
        assert_eq!(of("sha256", b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(of("sha512:x", b"abc"), "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
        assert!(verify(&of("sha256", b"{}"), b"{}", "the manifest").is_ok());
        assert!(verify(&of("sha384", b"{}"), b"{}", "the manifest").is_ok());
        let e = verify(&of("sha256", b"{}"), b"{ }", "the manifest").unwrap_err();
        assert_eq!(e.code, Code::DigestMismatch);
        assert!(e.message.contains("expected sha256:"));
        assert_eq!(verify("md5:abc", b"", "x").unwrap_err().code, Code::DigestMismatch);
        let sha512 = of("sha512", b"{}");
        assert!(verify_with(&sha512, b"{}", "x", Some(&sha512)).is_ok());
        assert_eq!(verify_with(&sha512, b"{}", "x", None).unwrap_err().code, Code::UnsupportedOperation);
        assert_eq!(verify_with(&sha512, b"{}", "x", Some(&of("sha512", b"[]"))).unwrap_err().code, Code::DigestMismatch);
        for bad in ["sha256:ABC", "sha256:00", "nope", "sha1:0000000000000000000000000000000000000000"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
