//! `hmac`: an HMAC of bytes or a string under a key, byte-identical to `crypto.createHmac`.
//! Large inputs are fed in 1 MiB chunks with progress and cancellation between chunks.

use hmac::digest::block_api::{BlockSizeUser, EagerHash};
use hmac::digest::{Digest, InvalidLength};
use hmac::{KeyInit, Mac};

use super::{encode, feed_chunks, ENCODINGS};
use crate::prelude::*;

/// The algorithms `hmac` accepts: every `hash` algorithm that `crypto.createHmac` takes, which is all
/// of them but the last, `blake3` (not an HMAC construction).
const ALGORITHMS: &[&str] = match super::hash::ALGORITHMS.split_last() {
    Some((_, all_but_blake3)) => all_but_blake3,
    None => &[],
};

#[derive(TaskArgs)]
pub struct HmacArgs {
    /// the digest algorithm, named as node:crypto names it
    #[arg(one_of = ALGORITHMS)]
    pub algorithm: String,
    /// the secret key, any length; a string is taken as UTF-8
    #[arg(or_string)]
    pub key: Bytes,
    /// what to authenticate; a string is taken as UTF-8
    #[arg(or_string)]
    pub data: Bytes,
    /// the result's form; default 'buffer'
    #[arg(one_of = ENCODINGS)]
    pub encoding: Option<String>,
}

/// HMAC with any hash algorithm, identical to crypto.createHmac; progress on large inputs
#[task(name = "hmac", result = "Buffer | string", type_name = "Hmac")]
pub fn hmac_task(args: HmacArgs, ctx: &TaskContext) -> Result<Value, TaskError> {
    let mac = hmac(&args.algorithm, &args.key, &args.data, ctx)?;
    Ok(encode(mac, args.encoding.as_deref()))
}

fn hmac(algorithm: &str, key: &[u8], data: &[u8], ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    match algorithm {
        "md5" => chunked::<md5::Md5>(key, data, ctx),
        "sha1" => chunked::<sha1::Sha1>(key, data, ctx),
        "sha224" => chunked::<sha2::Sha224>(key, data, ctx),
        "sha256" => chunked::<sha2::Sha256>(key, data, ctx),
        "sha384" => chunked::<sha2::Sha384>(key, data, ctx),
        "sha512" => chunked::<sha2::Sha512>(key, data, ctx),
        "sha512-224" => chunked::<sha2::Sha512_224>(key, data, ctx),
        "sha512-256" => chunked::<sha2::Sha512_256>(key, data, ctx),
        "sha3-224" => chunked_simple::<sha3::Sha3_224>(key, data, ctx),
        "sha3-256" => chunked_simple::<sha3::Sha3_256>(key, data, ctx),
        "sha3-384" => chunked_simple::<sha3::Sha3_384>(key, data, ctx),
        "sha3-512" => chunked_simple::<sha3::Sha3_512>(key, data, ctx),
        "blake2b512" => chunked_simple::<blake2::Blake2b512>(key, data, ctx),
        "blake2s256" => chunked_simple::<blake2::Blake2s256>(key, data, ctx),
        other => Err(TaskError::invalid_arg("algorithm", format!("unknown algorithm '{other}'"))),
    }
}

/// HMAC over a hash with an eager block buffer (MD5, SHA-1, SHA-2): the fast path.
fn chunked<D: EagerHash>(key: &[u8], data: &[u8], ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    mac_chunked(hmac::Hmac::<D>::new_from_slice(key), data, ctx)
}

/// HMAC over any other block hash (SHA-3, BLAKE2), through the generic construction.
fn chunked_simple<D: Digest + BlockSizeUser>(key: &[u8], data: &[u8], ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    mac_chunked(hmac::SimpleHmac::<D>::new_from_slice(key), data, ctx)
}

fn mac_chunked<M: Mac>(mac: Result<M, InvalidLength>, data: &[u8], ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    // HMAC takes keys of any length (longer ones are hashed first), so this does not fail.
    let mut mac = mac.map_err(|_| TaskError::invalid_arg("key", "rejected by the HMAC implementation"))?;
    feed_chunks(data, ctx, |chunk| mac.update(chunk))?;
    Ok(mac.finalize().into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{b, code_of, run, run_bytes, s, unhex};
    use crate::engine::value::Value;

    fn hmac(algorithm: &str, key: &[u8], data: &[u8]) -> Vec<u8> {
        run_bytes("hmac", Value::object([("algorithm", s(algorithm)), ("key", b(key)), ("data", b(data))]))
    }

    // RFC 4231 test cases 1, 2 and 6 (a key longer than the block), RFC 2202 test case 2.
    #[test]
    fn rfc_4231_and_2202_vectors() {
        let k1 = [0x0b; 20];
        let d1 = b"Hi There";
        let k2 = b"Jefe";
        let d2 = b"what do ya want for nothing?";
        let k6 = [0xaa; 131];
        let d6 = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let cases: &[(&str, &[u8], &[u8], &str)] = &[
            ("sha224", &k1, d1, "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"),
            ("sha256", &k1, d1, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (
                "sha384",
                &k1,
                d1,
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
            ),
            (
                "sha512",
                &k1,
                d1,
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ),
            ("sha224", k2, d2, "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"),
            ("sha256", k2, d2, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (
                "sha384",
                k2,
                d2,
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
            ),
            (
                "sha512",
                k2,
                d2,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
            ("sha256", &k6, d6, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (
                "sha512",
                &k6,
                d6,
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ),
            ("md5", k2, d2, "750c783e6ab0b503eaa86e310a5db738"),
            ("sha1", k2, d2, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        ];
        for (algorithm, key, data, want) in cases {
            assert_eq!(hmac(algorithm, key, data), unhex(want), "HMAC-{algorithm}");
        }
    }

    #[test]
    fn every_hash_algorithm_but_blake3_is_an_hmac_algorithm() {
        assert_eq!(super::super::hash::ALGORITHMS.last(), Some(&"blake3"));
        assert_eq!(super::ALGORITHMS.len(), super::super::hash::ALGORITHMS.len() - 1);
        assert!(!super::ALGORITHMS.contains(&"blake3"));
    }

    #[test]
    fn blake3_and_missing_key_are_invalid_arg() {
        let no_blake3 = Value::object([("algorithm", s("blake3")), ("key", s("k")), ("data", s("x"))]);
        assert_eq!(code_of(run("hmac", no_blake3)), "ERR_INVALID_ARG");
        let no_key = Value::object([("algorithm", s("sha256")), ("data", s("x"))]);
        assert_eq!(code_of(run("hmac", no_key)), "ERR_INVALID_ARG");
    }
}
