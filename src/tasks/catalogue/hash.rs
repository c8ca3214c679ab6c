//! `hash`: a message digest of bytes or a string, byte-identical to `crypto.createHash(algorithm)`
//! (plus BLAKE3, which Node lacks). Large inputs are hashed in 1 MiB chunks with progress and
//! cancellation between chunks.

use sha2::Digest;

use super::{encode, feed_chunks, ENCODINGS};
use crate::prelude::*;

/// Every algorithm `hash` accepts: `node:crypto`'s names, then `blake3`.
pub(crate) const ALGORITHMS: &[&str] = &[
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512-224",
    "sha512-256",
    "sha3-224",
    "sha3-256",
    "sha3-384",
    "sha3-512",
    "blake2b512",
    "blake2s256",
    "blake3",
];

#[derive(TaskArgs)]
pub struct HashArgs {
    /// the digest algorithm, named as node:crypto names it
    #[arg(one_of = ALGORITHMS)]
    pub algorithm: String,
    /// what to hash; a string is hashed as its UTF-8 bytes
    #[arg(or_string)]
    pub data: Bytes,
    /// the result's form; default 'buffer'
    #[arg(one_of = ENCODINGS)]
    pub encoding: Option<String>,
}

/// Message digest (md5, sha1, sha2, sha3, blake2, blake3), identical to crypto.createHash; progress on large inputs
#[task(name = "hash", result = "Buffer | string")]
pub fn hash(args: HashArgs, ctx: &TaskContext) -> Result<Value, TaskError> {
    let digest = digest(&args.algorithm, &args.data, ctx)?;
    Ok(encode(digest, args.encoding.as_deref()))
}

/// The digest of `data` with `algorithm` (one of `ALGORITHMS`).
pub(crate) fn digest(algorithm: &str, data: &[u8], ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    match algorithm {
        "md5" => chunked::<md5::Md5>(data, ctx),
        "sha1" => chunked::<sha1::Sha1>(data, ctx),
        "sha224" => chunked::<sha2::Sha224>(data, ctx),
        "sha256" => chunked::<sha2::Sha256>(data, ctx),
        "sha384" => chunked::<sha2::Sha384>(data, ctx),
        "sha512" => chunked::<sha2::Sha512>(data, ctx),
        "sha512-224" => chunked::<sha2::Sha512_224>(data, ctx),
        "sha512-256" => chunked::<sha2::Sha512_256>(data, ctx),
        "sha3-224" => chunked::<sha3::Sha3_224>(data, ctx),
        "sha3-256" => chunked::<sha3::Sha3_256>(data, ctx),
        "sha3-384" => chunked::<sha3::Sha3_384>(data, ctx),
        "sha3-512" => chunked::<sha3::Sha3_512>(data, ctx),
        "blake2b512" => chunked::<blake2::Blake2b512>(data, ctx),
        "blake2s256" => chunked::<blake2::Blake2s256>(data, ctx),
        "blake3" => {
            let mut hasher = blake3::Hasher::new();
            feed_chunks(data, ctx, |chunk| {
                hasher.update(chunk);
            })?;
            Ok(hasher.finalize().as_bytes().to_vec())
        }
        other => Err(TaskError::invalid_arg("algorithm", format!("unknown algorithm '{other}'"))),
    }
}

fn chunked<D: Digest>(data: &[u8], ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    let mut hasher = D::new();
    feed_chunks(data, ctx, |chunk| hasher.update(chunk))?;
    Ok(hasher.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{b, code_of, run, run_bytes, s, unhex};
    use crate::engine::value::Value;

    fn hash(algorithm: &str, data: &[u8]) -> Vec<u8> {
        run_bytes("hash", Value::object([("algorithm", s(algorithm)), ("data", b(data))]))
    }

    // FIPS 180-4 / FIPS 202 example vectors ("abc", and the 448-bit two-block message), RFC 1321
    // for MD5, and the BLAKE3 and BLAKE2 reference test vectors for the empty input.
    #[test]
    fn published_vectors() {
        let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        let cases: &[(&str, &[u8], &str)] = &[
            ("md5", b"", "d41d8cd98f00b204e9800998ecf8427e"),
            ("md5", b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("sha1", b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("sha1", two_blocks, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
            ("sha224", b"abc", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"),
            ("sha256", b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("sha256", two_blocks, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("sha256", b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (
                "sha384",
                b"abc",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                "sha512",
                b"abc",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            ("sha512-224", b"abc", "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa"),
            ("sha512-256", b"abc", "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"),
            ("sha3-224", b"abc", "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"),
            ("sha3-256", b"abc", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
            ("sha3-256", b"", "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"),
            (
                "sha3-384",
                b"abc",
                "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25",
            ),
            (
                "sha3-512",
                b"abc",
                "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
            ),
            (
                "blake2b512",
                b"abc",
                "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
            ),
            ("blake2s256", b"abc", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"),
            ("blake3", b"", "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
        ];
        for (algorithm, data, want) in cases {
            assert_eq!(hash(algorithm, data), unhex(want), "{algorithm}({:?})", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn a_million_a_crosses_many_chunks() {
        // FIPS 180-4: one million repetitions of 'a'.
        let data = vec![b'a'; 1_000_000];
        assert_eq!(hash("sha1", &data), unhex("34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
        assert_eq!(
            hash("sha256", &data),
            unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        );
        let big = vec![b'a'; 3 * super::super::CHUNK + 17];
        let mut whole = <sha2::Sha256 as sha2::Digest>::new();
        sha2::Digest::update(&mut whole, &big);
        assert_eq!(hash("sha256", &big), sha2::Digest::finalize(whole).to_vec());
    }

    #[test]
    fn encodings_match_node_forms() {
        let args = |enc: &str| {
            Value::object([("algorithm", s("sha256")), ("data", s("abc")), ("encoding", s(enc))])
        };
        assert_eq!(
            run("hash", args("hex")).unwrap(),
            s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(run("hash", args("base64")).unwrap(), s("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="));
        assert_eq!(run("hash", args("base64url")).unwrap(), s("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"));
    }

    #[test]
    fn bad_arguments_are_invalid_arg() {
        let bad = [
            Value::object([("algorithm", s("sha257")), ("data", s("x"))]),
            Value::object([("algorithm", s("sha256"))]),
            Value::object([("algorithm", s("sha256")), ("data", Value::Number(1.0))]),
            Value::object([("algorithm", s("sha256")), ("data", s("x")), ("encoding", s("latin1"))]),
            Value::Null,
        ];
        for args in bad {
            assert_eq!(code_of(run("hash", args.clone())), "ERR_INVALID_ARG", "{args:?}");
        }
    }
}
