//! Memory-hard password hashing: `argon2Hash` / `argon2Verify` (PHC strings, compatible with the npm
//! `argon2` package) and `scrypt` (the same bytes as `crypto.scrypt`).
//!
//! Both run their memory-filling loops here (in `argon2` and `scrypt`), so they report progress and
//! stop when cancelled. Memory is bounded up front: argon2 by `MAX_ARGON2_MEMORY_KIB`, scrypt by
//! `maxmem` exactly as OpenSSL bounds it for Node.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::{encode, ENCODINGS};
use crate::engine::value::MAX_SAFE_INTEGER;
use crate::prelude::*;

mod argon2;
mod scrypt;

use self::argon2::{Inputs, Params, Variant, Version};

/// The most memory one argon2 hash may use: 4 GiB (`memoryCost` is in KiB).
const MAX_ARGON2_MEMORY_KIB: u32 = 4 * 1024 * 1024;

const ARGON2_TYPES: &[&str] = &["argon2id", "argon2i", "argon2d"];

#[derive(TaskArgs)]
pub struct Argon2HashArgs {
    /// the password; a string is taken as UTF-8
    #[arg(or_string)]
    pub password: Bytes,
    /// at least 8 bytes; default 16 random bytes
    pub salt: Option<Bytes>,
    /// an optional secret key (pepper), needed again to verify
    pub secret: Option<Bytes>,
    /// the variant; default 'argon2id'
    #[arg(name = "type", one_of = ARGON2_TYPES, default = "argon2id".into())]
    pub variant: String,
    /// passes over memory; default 3
    #[arg(min = 1, default = 3)]
    pub time_cost: u32,
    /// memory in KiB, at least 8 × parallelism; default 65536 (64 MiB)
    #[arg(min = 8, max = MAX_ARGON2_MEMORY_KIB, default = 65536)]
    pub memory_cost: u32,
    /// lanes (computed on one pool thread); default 4
    #[arg(min = 1, max = 255, default = 4)]
    pub parallelism: u32,
    /// bytes of hash output; default 32
    #[arg(min = 4, max = 1024, default = 32)]
    pub hash_length: usize,
}

/// An argon2 hash to compute: the arguments, checked on the caller's thread.
pub struct Argon2HashJob {
    params: Params,
    salt: Option<Bytes>,
    secret: Option<Bytes>,
    password: Bytes,
    len: usize,
}

fn check_argon2_hash(args: Argon2HashArgs) -> Result<Argon2HashJob, TaskError> {
    let variant = Variant::from_name(&args.variant).expect("the schema allows only known types");
    let (t, m, p) = (args.time_cost, args.memory_cost, args.parallelism);
    // The schema bounds the time cost and the lanes, so only the memory cost can be wrong here.
    let params = Params::new(variant, Version::V0x13, m, t, p).map_err(|e| TaskError::invalid_arg("memoryCost", e))?;
    if let Some(salt) = &args.salt {
        if salt.len() < MIN_SALT_LEN {
            return Err(TaskError::invalid_arg("salt", "must be at least 8 bytes"));
        }
    }
    Ok(Argon2HashJob { params, salt: args.salt, secret: args.secret, password: args.password, len: args.hash_length })
}

/// Argon2 (RFC 9106) password hash as a PHC string, the format of the npm argon2 package; argon2id by default; progress and cancellation
#[task(name = "argon2Hash", prepare = check_argon2_hash)]
pub fn argon2_hash(job: Argon2HashJob, ctx: &TaskContext) -> Result<String, TaskError> {
    ctx.check()?;
    let salt = match job.salt {
        Some(s) => s,
        None => random_bytes(16)?.into(),
    };
    let params = &job.params;
    let hash = argon2_raw(ctx, params, job.secret.as_deref(), &job.password, &salt, job.len)?;
    Ok(format!(
        "${}$v=19$m={},t={},p={}${}${}",
        params.variant.name(),
        params.m_cost,
        params.t_cost,
        params.lanes,
        STANDARD_NO_PAD.encode(&*salt),
        STANDARD_NO_PAD.encode(hash)
    ))
}

#[derive(TaskArgs)]
pub struct Argon2VerifyArgs {
    /// the password to check; a string is taken as UTF-8
    #[arg(or_string)]
    pub password: Bytes,
    /// a PHC string such as '$argon2id$v=19$m=65536,t=3,p=4$…$…'
    pub hash: String,
    /// the secret key the hash was made with, if any
    pub secret: Option<Bytes>,
}

/// A password to check against a parsed PHC string.
pub struct Argon2VerifyJob {
    phc: Phc,
    secret: Option<Bytes>,
    password: Bytes,
}

fn check_argon2_verify(args: Argon2VerifyArgs) -> Result<Argon2VerifyJob, TaskError> {
    let phc = parse_phc(&args.hash).map_err(|m| TaskError::invalid_arg("hash", m))?;
    Ok(Argon2VerifyJob { phc, secret: args.secret, password: args.password })
}

/// Checks a password against an argon2 PHC string (from argon2Hash or the npm argon2 package), in constant time; progress and cancellation
#[task(name = "argon2Verify", prepare = check_argon2_verify)]
pub fn argon2_verify(job: Argon2VerifyJob, ctx: &TaskContext) -> Result<bool, TaskError> {
    ctx.check()?;
    let phc = &job.phc;
    let computed = argon2_raw(ctx, &phc.params, job.secret.as_deref(), &job.password, &phc.salt, phc.hash.len())?;
    Ok(computed.ct_eq(&phc.hash).into())
}

/// The shortest salt argon2 takes (the reference implementation's bound; RFC 9106 recommends 16).
const MIN_SALT_LEN: usize = 8;

/// One argon2 hash of `len` bytes with progress messages, stopping when the task is cancelled.
fn argon2_raw(
    ctx: &TaskContext<'_>,
    params: &Params,
    secret: Option<&[u8]>,
    password: &[u8],
    salt: &[u8],
    len: usize,
) -> Result<Vec<u8>, TaskError> {
    let inputs = Inputs { password, salt, secret: secret.unwrap_or_default(), data: &[] };
    let mut out = vec![0u8; len];
    let mut progress = ctx.progress(params.blocks_to_compute());
    argon2::hash(params, &inputs, &mut out, |done| {
        progress.update(done);
        ctx.check()
    })?;
    Ok(out)
}

/// An argon2 PHC string, parsed.
#[derive(Debug)]
struct Phc {
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Parses `$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>` (the version may be missing: 0x10) with
/// salt and hash in unpadded standard base64, as the reference implementation and npm argon2 write.
fn parse_phc(s: &str) -> Result<Phc, String> {
    let parts: Vec<&str> = s.split('$').collect();
    if parts.len() < 5 || !parts[0].is_empty() {
        return Err("not a PHC string ('$argon2id$v=19$m=…,t=…,p=…$salt$hash')".into());
    }
    let Some(variant) = Variant::from_name(parts[1]) else {
        return Err(format!("unsupported algorithm '{}'", parts[1]));
    };
    let mut rest = &parts[2..];
    let version = match rest[0].strip_prefix("v=") {
        Some(v) => {
            rest = &rest[1..];
            match v {
                "19" => Version::V0x13,
                "16" => Version::V0x10,
                _ => return Err(format!("unsupported version '{v}'")),
            }
        }
        None => Version::V0x10,
    };
    let [params, salt, hash] = rest else {
        return Err("expected parameters, salt and hash after the version".into());
    };
    let (mut m, mut t, mut p) = (None, None, None);
    for pair in params.split(',') {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("malformed parameter '{pair}'"))?;
        let value: u32 = value
            .parse()
            .ok()
            .filter(|_| !value.starts_with('+'))
            .ok_or_else(|| format!("parameter '{key}' is not a number"))?;
        let slot = match key {
            "m" => &mut m,
            "t" => &mut t,
            "p" => &mut p,
            _ => return Err(format!("unsupported parameter '{key}'")),
        };
        if slot.replace(value).is_some() {
            return Err(format!("parameter '{key}' appears twice"));
        }
    }
    let (Some(m), Some(t), Some(p)) = (m, t, p) else {
        return Err("the parameters m, t and p are all required".into());
    };
    if m > MAX_ARGON2_MEMORY_KIB {
        return Err(format!("memory cost {m} KiB is above the {MAX_ARGON2_MEMORY_KIB} KiB this pool allows"));
    }
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| "the salt is not valid base64".to_string())?;
    let hash = STANDARD_NO_PAD.decode(hash).map_err(|_| "the hash is not valid base64".to_string())?;
    if salt.len() < MIN_SALT_LEN {
        return Err("the salt is shorter than 8 bytes".into());
    }
    if hash.len() < 4 {
        return Err("the hash is shorter than 4 bytes".into());
    }
    let params = Params::new(variant, version, m, t, p).map_err(|e| format!("invalid parameters: {e}"))?;
    Ok(Phc { params, salt, hash })
}

fn random_bytes(n: usize) -> Result<Vec<u8>, TaskError> {
    let mut salt = vec![0u8; n];
    getrandom::fill(&mut salt).map_err(|e| TaskError::failed(format!("no system randomness for a salt: {e}")))?;
    Ok(salt)
}

#[derive(TaskArgs)]
pub struct ScryptArgs {
    /// the password; a string is taken as UTF-8
    #[arg(or_string)]
    pub password: Bytes,
    /// the salt; a string is taken as UTF-8
    #[arg(or_string)]
    pub salt: Bytes,
    /// bytes of key to derive
    #[arg(max = i32::MAX)]
    pub keylen: u64,
    /// CPU/memory cost, a power of two > 1; default 16384 (0 means the default)
    #[arg(name = "N")]
    pub n: Option<u32>,
    /// alias of N
    pub cost: Option<u32>,
    /// block size; default 8
    pub r: Option<u32>,
    /// alias of r
    pub block_size: Option<u32>,
    /// parallelization; default 1
    pub p: Option<u32>,
    /// alias of p
    pub parallelization: Option<u32>,
    /// fail when 128 × r × (N + 2 + p) bytes exceed this; default 32 MiB (0 means the default)
    pub maxmem: Option<u64>,
    /// the result's form; default 'buffer'
    #[arg(one_of = ENCODINGS)]
    pub encoding: Option<String>,
}

/// A scrypt derivation whose parameters passed `crypto.scrypt`'s checks.
pub struct ScryptJob {
    password: Bytes,
    salt: Bytes,
    keylen: usize,
    n: usize,
    r: usize,
    p: usize,
    encoding: Option<String>,
}

fn check_scrypt(args: ScryptArgs) -> Result<ScryptJob, TaskError> {
    let n = aliased(args.n, args.cost, "N", "cost", 16384)?;
    let r = aliased(args.r, args.block_size, "r", "blockSize", 8)?;
    let p = aliased(args.p, args.parallelization, "p", "parallelization", 1)?;
    let maxmem = match args.maxmem {
        None | Some(0) => 32 << 20,
        Some(m) => m,
    };
    check_scrypt_params(n, r, p, maxmem)?;
    // Within `maxmem` (at most 2^53), so these fit in a usize and their products do not overflow.
    let (n, r, p) = (n as usize, r as usize, p as usize);
    Ok(ScryptJob { password: args.password, salt: args.salt, keylen: args.keylen as usize, n, r, p, encoding: args.encoding })
}

/// scrypt key derivation (RFC 7914), the same bytes and parameter rules as crypto.scrypt; progress and cancellation
#[task(name = "scrypt", prepare = check_scrypt, result = "Buffer | string", type_name = "Scrypt")]
pub fn scrypt_task(job: ScryptJob, ctx: &TaskContext) -> Result<Value, TaskError> {
    ctx.check()?;
    let mut out = vec![0u8; job.keylen];
    if job.keylen > 0 {
        let mut progress = ctx.progress(2 * (job.n * job.p) as u64);
        scrypt::scrypt(&job.password, &job.salt, job.n, job.r, job.p, &mut out, |done| {
            progress.update(done);
            ctx.check()
        })?;
    }
    Ok(encode(out, job.encoding.as_deref()))
}

/// An option that `crypto.scrypt` accepts under two names (`N` / `cost`…): giving both is an error,
/// and 0 means the default, as in Node.
fn aliased(value: Option<u32>, alias_value: Option<u32>, name: &str, alias: &str, default: u64) -> Result<u64, TaskError> {
    let value = match (value.map(u64::from), alias_value.map(u64::from)) {
        (Some(_), Some(_)) => {
            return Err(TaskError::invalid_arg(alias, format!("'{name}' and '{alias}' cannot both be given")));
        }
        (v, None) | (None, v) => v,
    };
    Ok(value.filter(|&v| v != 0).unwrap_or(default))
}

/// OpenSSL's `EVP_PBE_scrypt` parameter checks, which `crypto.scrypt` applies, in the same order.
fn check_scrypt_params(n: u64, r: u64, p: u64, maxmem: u64) -> Result<(), TaskError> {
    if n < 2 || !n.is_power_of_two() {
        return Err(TaskError::invalid_arg("N", format!("{n} is not a power of two greater than 1")));
    }
    if p > ((1 << 30) - 1) / r {
        return Err(TaskError::invalid_arg("p", "r × p must be below 2^30"));
    }
    // RFC 7914: N < 2^(128 × r / 8).
    if 16 * r <= 63 && n >= 1 << (16 * r) {
        return Err(TaskError::invalid_arg("N", format!("must be below 2^(16 × r) = {}", 1u64 << (16 * r))));
    }
    let b_len = p * 128 * r;
    if b_len > i32::MAX as u64 {
        return Err(TaskError::invalid_arg("p", "128 × r × p must fit in 31 bits"));
    }
    if n + 2 > (u64::MAX / 128) / r {
        return Err(TaskError::invalid_arg("N", "128 × r × N overflows"));
    }
    let v_len = 128 * r * (n + 2);
    let need = b_len.checked_add(v_len).filter(|&m| m <= MAX_SAFE_INTEGER);
    match need {
        Some(need) if need <= maxmem => Ok(()),
        _ => Err(TaskError::invalid_arg(
            "maxmem",
            format!("N = {n}, r = {r}, p = {p} need {} bytes, more than maxmem ({maxmem})", b_len.saturating_add(v_len)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{b, code_of, n, run, run_bytes, s, unhex};
    use super::STANDARD_NO_PAD;
    use crate::engine::value::Value;
    use base64::Engine as _;

    // A hash from the argon2 reference CLI: `echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4`.
    const REFERENCE: &str = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo";

    #[test]
    fn hash_with_fixed_salt_is_the_reference_cli_hash() {
        let args = Value::object([
            ("password", s("password")),
            ("salt", b(b"somesalt")),
            ("timeCost", n(2.0)),
            ("memoryCost", n(65536.0)),
            ("parallelism", n(4.0)),
        ]);
        assert_eq!(run("argon2Hash", args).unwrap(), s(REFERENCE));
    }

    #[test]
    fn verify_round_trips_and_reads_both_versions() {
        let verify = |pw: &str, hash: &str| run("argon2Verify", Value::object([("password", s(pw)), ("hash", s(hash))]));
        let made =
            run("argon2Hash", Value::object([("password", s("pw")), ("memoryCost", n(64.0)), ("parallelism", n(1.0))])).unwrap();
        let Value::String(made) = made else { panic!() };
        assert!(made.starts_with("$argon2id$v=19$m=64,t=3,p=1$"), "{made}");
        assert_eq!(verify("pw", &made).unwrap(), Value::Bool(true));
        assert_eq!(verify("pW", &made).unwrap(), Value::Bool(false));

        // Hashes made by the `argon2` crate; a PHC string without `v=` is version 0x10.
        for (version, field) in
            [(::argon2::Version::V0x10, ""), (::argon2::Version::V0x10, "v=16$"), (::argon2::Version::V0x13, "v=19$")]
        {
            let params = ::argon2::Params::new(64, 2, 1, Some(24)).unwrap();
            let mut raw = [0u8; 24];
            ::argon2::Argon2::new(::argon2::Algorithm::Argon2i, version, params)
                .hash_password_into(b"password", b"somesalt", &mut raw)
                .unwrap();
            let phc = format!("$argon2i${field}m=64,t=2,p=1$c29tZXNhbHQ${}", STANDARD_NO_PAD.encode(raw));
            assert_eq!(verify("password", &phc).unwrap(), Value::Bool(true), "{phc}");
            assert_eq!(verify("Password", &phc).unwrap(), Value::Bool(false), "{phc}");
        }
    }

    #[test]
    fn malformed_hashes_are_invalid_arg() {
        for bad in [
            "",
            "argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            "$argon2x$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=18$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=64,t=1$c29tZXNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=64,t=1,p=1,x=2$c29tZXNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=64,t=1,p=1$c29t!!!$aGFzaGhhc2g",
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$",
            "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        ] {
            let args = Value::object([("password", s("pw")), ("hash", s(bad))]);
            assert_eq!(code_of(run("argon2Verify", args)), "ERR_INVALID_ARG", "{bad}");
        }
    }

    fn scrypt(password: &str, salt: &str, n_: f64, r: f64, p: f64, keylen: f64) -> Vec<u8> {
        run_bytes(
            "scrypt",
            Value::object([
                ("password", s(password)),
                ("salt", s(salt)),
                ("N", n(n_)),
                ("r", n(r)),
                ("p", n(p)),
                ("keylen", n(keylen)),
                ("maxmem", n(64.0 * 1024.0 * 1024.0)),
            ]),
        )
    }

    // RFC 7914 section 12 (the 1 GiB fourth vector is left out).
    #[test]
    fn rfc_7914_vectors() {
        assert_eq!(
            scrypt("", "", 16.0, 1.0, 1.0, 64.0),
            unhex("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
        );
        assert_eq!(
            scrypt("password", "NaCl", 1024.0, 8.0, 16.0, 64.0),
            unhex("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
        );
        assert_eq!(
            scrypt("pleaseletmein", "SodiumChloride", 16384.0, 8.0, 1.0, 64.0),
            unhex("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887")
        );
    }

    #[test]
    fn scrypt_applies_node_parameter_rules() {
        let base = |extra: &[(&str, Value)]| {
            let mut f = vec![("password", s("pw")), ("salt", s("salt"))];
            f.extend(extra.iter().cloned());
            if !extra.iter().any(|(k, _)| *k == "keylen") {
                f.push(("keylen", n(16.0)));
            }
            run("scrypt", Value::object(f))
        };
        // Default N = 16384, r = 8 needs 16 MiB + a bit: under the 32 MiB default maxmem.
        assert!(base(&[]).is_ok());
        // N = 32768, r = 8 needs 32 MiB + 3 KiB: over it, as in Node.
        assert_eq!(code_of(base(&[("N", n(32768.0))])), "ERR_INVALID_ARG");
        assert!(base(&[("N", n(32768.0)), ("maxmem", n(64.0 * 1024.0 * 1024.0))]).is_ok());
        assert_eq!(code_of(base(&[("N", n(1000.0))])), "ERR_INVALID_ARG");
        assert_eq!(code_of(base(&[("N", n(1.0))])), "ERR_INVALID_ARG");
        assert_eq!(code_of(base(&[("N", n(16.0)), ("cost", n(16.0))])), "ERR_INVALID_ARG");
        assert_eq!(code_of(base(&[("r", n(1.0)), ("N", n(65536.0))])), "ERR_INVALID_ARG");
        assert_eq!(
            base(&[("cost", n(16.0)), ("blockSize", n(1.0)), ("parallelization", n(1.0))]),
            base(&[("N", n(16.0)), ("r", n(1.0)), ("p", n(1.0))])
        );
        assert_eq!(base(&[("keylen", n(0.0))]).unwrap(), b(&[]));
    }
}
