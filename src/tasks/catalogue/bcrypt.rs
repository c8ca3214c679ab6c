//! `bcryptHash` / `bcryptVerify`: bcrypt in the modular-crypt format (`$2b$10$…`) that the npm
//! `bcrypt` and `bcryptjs` packages write and read.
//!
//! The EksBlowfish key schedule is driven here, on the `blowfish` crate's bcrypt primitives (the
//! same ones the `bcrypt` crate uses, which serves as the reference in the tests), so that the
//! 2^cost rounds can report progress and stop when cancelled: at cost 31 one hash takes days.

use base64::alphabet::BCRYPT;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use blowfish::Blowfish;
use subtle::ConstantTimeEq;

use crate::engine::schema::FieldType;
use crate::prelude::*;

/// bcrypt's own base64 alphabet, unpadded. Decoding ignores the unused low bits of the last
/// character, as OpenBSD's decoder does, so hashes from any implementation parse.
const B64: GeneralPurpose = GeneralPurpose::new(
    &BCRYPT,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

const VERSIONS: &[&str] = &["2a", "2b"];

#[derive(TaskArgs)]
pub struct BcryptHashArgs {
    /// the password; a string is taken as UTF-8; bytes past 72 are ignored
    #[arg(or_string)]
    pub password: Bytes,
    /// log2 of the rounds; default 10
    #[arg(min = 4, max = 31)]
    pub cost: Option<u32>,
    /// 16 bytes, or a salt string from bcrypt.genSalt ('$2b$10$' + 22 characters, which sets cost and version); default random
    #[arg(kind = FieldType::BytesOrString)]
    pub salt: Option<Value>,
    /// the prefix written; default '2b'
    #[arg(one_of = VERSIONS)]
    pub version: Option<String>,
}

/// A bcrypt hash to compute, its salt string (if any) already read.
pub struct BcryptHashJob {
    cost: u32,
    version: String,
    salt: Option<[u8; 16]>,
    password: Bytes,
}

fn check_bcrypt_hash(args: BcryptHashArgs) -> Result<BcryptHashJob, TaskError> {
    let (mut cost, mut version) = (args.cost, args.version);
    let salt: Option<[u8; 16]> = match args.salt {
        None => None,
        Some(Value::String(s)) => {
            if cost.is_some() || version.is_some() {
                return Err(TaskError::invalid_arg("salt", "a salt string sets cost and version: give neither with it"));
            }
            let (v, c, salt) = parse_salt(&s).map_err(|m| TaskError::invalid_arg("salt", m))?;
            (version, cost) = (Some(v.to_owned()), Some(c));
            Some(salt)
        }
        Some(Value::Bytes(b)) => {
            Some(<[u8; 16]>::try_from(&b[..]).map_err(|_| TaskError::invalid_arg("salt", format!("expected 16 bytes, got {}", b.len())))?)
        }
        Some(other) => return Err(TaskError::invalid_arg("salt", format!("expected a string or 16 bytes, got {}", other.type_name()))),
    };
    Ok(BcryptHashJob {
        cost: cost.unwrap_or(10),
        version: version.unwrap_or_else(|| "2b".into()),
        salt,
        password: args.password,
    })
}

/// bcrypt password hash ('$2b$10$…'), readable by the npm bcrypt and bcryptjs packages; progress and cancellation
#[task(name = "bcryptHash", prepare = check_bcrypt_hash)]
pub fn bcrypt_hash(job: BcryptHashJob, ctx: &TaskContext) -> Result<String, TaskError> {
    let salt = match job.salt {
        Some(s) => s,
        None => {
            let mut s = [0u8; 16];
            getrandom::fill(&mut s).map_err(|e| TaskError::failed(format!("no system randomness for a salt: {e}")))?;
            s
        }
    };
    let hash = bcrypt(job.cost, &salt, &job.password, ctx)?;
    Ok(format!("${}${:02}${}{}", job.version, job.cost, B64.encode(salt), B64.encode(&hash[..23])))
}

#[derive(TaskArgs)]
pub struct BcryptVerifyArgs {
    /// the password to check; a string is taken as UTF-8
    #[arg(or_string)]
    pub password: Bytes,
    /// a bcrypt hash: '$2a$', '$2b$' or '$2y$', cost, then 53 characters
    pub hash: String,
}

/// A password to check against a parsed bcrypt hash.
pub struct BcryptVerifyJob {
    cost: u32,
    salt: [u8; 16],
    expected: [u8; 23],
    password: Bytes,
}

fn check_bcrypt_verify(args: BcryptVerifyArgs) -> Result<BcryptVerifyJob, TaskError> {
    let hash = &args.hash;
    if hash.len() != 60 || !hash.is_ascii() {
        return Err(TaskError::invalid_arg("hash", "not a bcrypt hash (expected 60 ASCII characters)"));
    }
    let (_, cost, salt) = parse_salt(&hash[..29]).map_err(|m| TaskError::invalid_arg("hash", m))?;
    let expected = decode_exact::<23>(&hash[29..]).ok_or_else(|| TaskError::invalid_arg("hash", "the checksum is not bcrypt base64"))?;
    Ok(BcryptVerifyJob { cost, salt, expected, password: args.password })
}

/// Checks a password against a bcrypt hash (from bcryptHash, npm bcrypt or bcryptjs), in constant time
#[task(name = "bcryptVerify", prepare = check_bcrypt_verify)]
pub fn bcrypt_verify(job: BcryptVerifyJob, ctx: &TaskContext) -> Result<bool, TaskError> {
    let computed = bcrypt(job.cost, &job.salt, &job.password, ctx)?;
    Ok(computed[..23].ct_eq(&job.expected).into())
}

/// Parses `$2b$10$` + 22 salt characters: the version, the cost and the 16 salt bytes.
fn parse_salt(s: &str) -> Result<(&str, u32, [u8; 16]), String> {
    let malformed = || "not a bcrypt salt or hash ('$2b$10$' and 22 characters)".to_string();
    if s.len() != 29 || !s.is_ascii() {
        return Err(malformed());
    }
    let bytes = s.as_bytes();
    if bytes[0] != b'$' || bytes[3] != b'$' || bytes[6] != b'$' {
        return Err(malformed());
    }
    let version = &s[1..3];
    if !matches!(version, "2a" | "2b" | "2y") {
        return Err(format!("unsupported bcrypt version '${version}$'"));
    }
    let cost: u32 = s[4..6]
        .parse()
        .ok()
        .filter(|_| s[4..6].bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(malformed)?;
    if !(4..=31).contains(&cost) {
        return Err(format!("cost {cost} is outside 4..31"));
    }
    let salt = decode_exact::<16>(&s[7..]).ok_or_else(|| "the salt is not bcrypt base64".to_string())?;
    Ok((version, cost, salt))
}

fn decode_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    match B64.decode_slice(s, &mut out) {
        Ok(n) if n == N && s.len() == (N * 4).div_ceil(3) => Some(out),
        _ => None,
    }
}

/// Rounds of the expensive key schedule between two cancellation checks: well under a millisecond.
const ROUNDS_PER_CHECK: u64 = 8;

/// bcrypt of `password` (NUL-terminated, cut at 72 bytes, as OpenBSD and both npm packages do):
/// 24 bytes, of which the encoded hash keeps 23.
fn bcrypt(cost: u32, salt: &[u8; 16], password: &[u8], ctx: &TaskContext) -> Result<[u8; 24], TaskError> {
    let mut key = [0u8; 72];
    let len = password.len().min(72);
    key[..len].copy_from_slice(&password[..len]);
    let key = &key[..(len + 1).min(72)];

    ctx.check()?;
    let mut state = Blowfish::bc_init_state();
    state.salted_expand_key(salt, key);
    let rounds = 1u64 << cost;
    let mut progress = ctx.progress(rounds);
    let mut done = 0;
    while done < rounds {
        let end = rounds.min(done + ROUNDS_PER_CHECK);
        for _ in done..end {
            state.bc_expand_key(key);
            state.bc_expand_key(salt);
        }
        done = end;
        progress.update(done);
        ctx.check()?;
    }

    // "OrpheanBeholderScryDoubt", encrypted 64 times.
    let mut ctext: [u32; 6] = [0x4f727068, 0x65616e42, 0x65686f6c, 0x64657253, 0x63727944, 0x6f756274];
    let mut out = [0u8; 24];
    for i in (0..6).step_by(2) {
        for _ in 0..64 {
            [ctext[i], ctext[i + 1]] = state.bc_encrypt([ctext[i], ctext[i + 1]]);
        }
        out[i * 4..i * 4 + 4].copy_from_slice(&ctext[i].to_be_bytes());
        out[i * 4 + 4..i * 4 + 8].copy_from_slice(&ctext[i + 1].to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{b, code_of, n, run, s};
    use crate::engine::value::Value;

    fn verify(password: &[u8], hash: &str) -> bool {
        match run("bcryptVerify", Value::object([("password", b(password)), ("hash", s(hash))])) {
            Ok(Value::Bool(ok)) => ok,
            other => panic!("{other:?}"),
        }
    }

    // OpenBSD's regress vectors, as collected by jBCrypt (TestBCrypt.java).
    #[test]
    fn published_vectors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."),
            (b"", "$2a$08$HqWuK6/Ng6sg9gQzbLrgb.Tl.ZHfXLhvt/SgVyWhQqgqcZ7ZuUtye"),
            (b"a", "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe"),
            (b"abc", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"),
            (b"abcdefghijklmnopqrstuvwxyz", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC"),
            (b"~!@#$%^&*()      ~!@#$%^&*()PNBFRD", "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO"),
        ];
        for (password, hash) in cases {
            assert!(verify(password, hash), "{hash}");
            assert!(!verify(b"wrong", hash), "{hash} with a wrong password");
            let salt = &hash[..29];
            let made = run("bcryptHash", Value::object([("password", b(password)), ("salt", s(salt))])).unwrap();
            assert_eq!(made, s(hash));
        }
    }

    /// The `bcrypt` crate (a dev-dependency) as an independent reference for our key-schedule loop.
    #[test]
    fn matches_the_bcrypt_crate() {
        let salt = [7u8; 16];
        for (password, cost) in [(&b"hunter2"[..], 4), (&[0xffu8; 100][..], 5), (b"\xc3\xa9t\xc3\xa9", 4), (&[b'x'; 72][..], 4)] {
            let reference = ::bcrypt::hash_with_salt(password, cost, salt).unwrap().format_for_version(::bcrypt::Version::TwoB);
            let ours = run(
                "bcryptHash",
                Value::object([("password", b(password)), ("salt", b(&salt)), ("cost", n(cost as f64))]),
            )
            .unwrap();
            assert_eq!(ours, s(&reference));
        }
    }

    #[test]
    fn passwords_are_cut_at_72_bytes() {
        let long = [b'p'; 80];
        let hash = run("bcryptHash", Value::object([("password", b(&long)), ("cost", n(4.0))])).unwrap();
        let Value::String(hash) = hash else { panic!() };
        assert!(hash.starts_with("$2b$04$"));
        assert!(verify(&long[..72], &hash));
        assert!(!verify(&long[..71], &hash));
    }

    #[test]
    fn malformed_hashes_and_bad_options_are_invalid_arg() {
        let good = "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.";
        for bad in [
            "",
            &good[..59],
            &format!("{good}x"),
            &good.replace("$2a$", "$2c$"),
            &good.replace("$06$", "$03$"),
            &good.replace("$06$", "$32$"),
            &good.replace("$06$", "$6$$"),
            &good.replace("DCq7", "DC!7"),
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
        ] {
            let args = Value::object([("password", s("x")), ("hash", s(bad))]);
            assert_eq!(code_of(run("bcryptVerify", args)), "ERR_INVALID_ARG", "{bad:?}");
        }
        for args in [
            Value::object([("password", s("x")), ("cost", n(3.0))]),
            Value::object([("password", s("x")), ("cost", n(32.0))]),
            Value::object([("password", s("x")), ("salt", b(&[0; 15]))]),
            Value::object([("password", s("x")), ("salt", s("$2b$10$short"))]),
            Value::object([("password", s("x")), ("salt", s("$2b$10$DCq7YPn5Rq63x1Lad4cll.")), ("cost", n(5.0))]),
            Value::object([("password", s("x")), ("version", s("2y"))]),
        ] {
            assert_eq!(code_of(run("bcryptHash", args.clone())), "ERR_INVALID_ARG", "{args:?}");
        }
    }
}
