//! The cryptography of Web Push: the instance's VAPID key and its ES256
//! JWTs (RFC 8292), and message encryption for a subscriber (RFC 8291
//! `aes128gcm`, or the older `aesgcm` draft many clients still ask for)
//! through the `ece` crate on openssl. Pure functions: no I/O.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use openssl::{
    bn::{BigNum, BigNumContext},
    ec::{EcGroup, EcKey, EcPoint, PointConversionForm},
    ecdsa::EcdsaSig,
    nid::Nid,
    pkey::{Private, Public},
};

/// Length of an uncompressed P-256 point (`0x04 || x || y`).
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a subscription's auth secret (RFC 8291 §3.2).
pub const AUTH_LEN: usize = 16;

fn group() -> Result<EcGroup, openssl::error::ErrorStack> {
    EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
}

/// Decodes base64url or standard base64, with or without padding:
/// clients send all four.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let normal: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(normal).ok()
}

/// Whether `raw` is an uncompressed point on P-256 (a usable `p256dh`).
pub fn is_p256_point(raw: &[u8]) -> bool {
    if raw.len() != PUBLIC_KEY_LEN || raw.first() != Some(&0x04) {
        return false;
    }
    let (Ok(group), Ok(mut ctx)) = (group(), BigNumContext::new()) else {
        return false;
    };
    EcPoint::from_bytes(&group, raw, &mut ctx).is_ok()
}

/// The instance's VAPID key pair (P-256), which signs every push request
/// so push services can tell this server's pushes apart.
pub struct VapidKey {
    key: EcKey<Private>,
    public_raw: Vec<u8>,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    pub fn generate() -> Result<VapidKey, openssl::error::ErrorStack> {
        let group = group()?;
        Self::from_key(EcKey::generate(&group)?)
    }

    pub fn from_pem(pem: &str) -> Result<VapidKey, openssl::error::ErrorStack> {
        Self::from_key(EcKey::private_key_from_pem(pem.as_bytes())?)
    }

    fn from_key(key: EcKey<Private>) -> Result<VapidKey, openssl::error::ErrorStack> {
        let mut ctx = BigNumContext::new()?;
        let public_raw =
            key.public_key()
                .to_bytes(key.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)?;
        Ok(VapidKey { key, public_raw })
    }

    pub fn to_pem(&self) -> Result<String, openssl::error::ErrorStack> {
        let pem = self.key.private_key_to_pem()?;
        Ok(String::from_utf8_lossy(&pem).into_owned())
    }

    /// The public key as an uncompressed point.
    pub fn public_raw(&self) -> &[u8] {
        &self.public_raw
    }

    /// The public key as apps receive it (`configuration.vapid.public_key`,
    /// `server_key`): base64url without padding.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.public_raw)
    }

    /// An ES256 JWT for `aud` (the push endpoint's origin), expiring at
    /// `exp` (seconds since the epoch; push services refuse more than 24 h
    /// ahead), naming the sender `sub` (a `mailto:` or https URL).
    pub fn jwt(
        &self,
        aud: &str,
        exp: i64,
        sub: &str,
    ) -> Result<String, openssl::error::ErrorStack> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": aud, "exp": exp, "sub": sub });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let digest = openssl::sha::sha256(signing_input.as_bytes());
        let sig = EcdsaSig::sign(&digest, &self.key)?;
        // JWS wants the raw r || s, each 32 bytes, not DER.
        let mut raw = sig.r().to_vec_padded(32)?;
        raw.extend(sig.s().to_vec_padded(32)?);
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(raw)))
    }
}

/// Checks an ES256 JWT's signature against a raw P-256 public key; its
/// claims when valid. For tests and for checking what is sent.
pub fn verify_jwt(jwt: &str, public_raw: &[u8]) -> Option<serde_json::Value> {
    let (signing_input, sig) = jwt.rsplit_once('.')?;
    let (_, claims) = signing_input.split_once('.')?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    if sig.len() != 64 {
        return None;
    }
    let group = group().ok()?;
    let mut ctx = BigNumContext::new().ok()?;
    let point = EcPoint::from_bytes(&group, public_raw, &mut ctx).ok()?;
    let key: EcKey<Public> = EcKey::from_public_key(&group, &point).ok()?;
    let r = BigNum::from_slice(&sig[..32]).ok()?;
    let s = BigNum::from_slice(&sig[32..]).ok()?;
    let sig = EcdsaSig::from_private_components(r, s).ok()?;
    let digest = openssl::sha::sha256(signing_input.as_bytes());
    if !sig.verify(&digest, &key).ok()? {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

/// An encrypted push message: the body to POST and the headers that go
/// with it (besides `Authorization`, `TTL` and `Urgency`).
#[derive(Debug, Clone)]
pub struct Encrypted {
    pub body: Vec<u8>,
    pub content_encoding: &'static str,
    /// `Encryption` and `Crypto-Key` of the legacy scheme; none for
    /// `aes128gcm`, whose header is inside the body.
    pub headers: Vec<(&'static str, String)>,
}

/// Why a message could not be encrypted: the subscription's keys are
/// unusable (checked when it was stored, so only for old or odd rows).
#[derive(Debug, thiserror::Error)]
#[error("push encryption failed: {0}")]
pub struct EncryptError(String);

/// Encrypts `payload` for a subscriber's `p256dh` and `auth` (both
/// base64url), with `aes128gcm` when `standard`, else `aesgcm` with the
/// VAPID key in `Crypto-Key` as that draft's receivers expect.
pub fn encrypt(
    p256dh: &str,
    auth: &str,
    standard: bool,
    payload: &[u8],
    vapid: &VapidKey,
) -> Result<Encrypted, EncryptError> {
    let public = decode_base64(p256dh).ok_or_else(|| EncryptError("bad p256dh".into()))?;
    let auth = decode_base64(auth).ok_or_else(|| EncryptError("bad auth".into()))?;
    if standard {
        let body =
            ece::encrypt(&public, &auth, payload).map_err(|e| EncryptError(e.to_string()))?;
        return Ok(Encrypted {
            body,
            content_encoding: "aes128gcm",
            headers: Vec::new(),
        });
    }
    let block = ece::legacy::encrypt_aesgcm(&public, &auth, payload)
        .map_err(|e| EncryptError(e.to_string()))?;
    // `Encryption: salt=…` alone, as Mastodon sends it: some receivers
    // (Mastodon.py) read everything after `salt=` as the salt.
    let headers = block
        .headers(Some(vapid.public_raw()))
        .into_iter()
        .map(|(name, value)| match name {
            "Encryption" => (
                name,
                value.split(';').next().unwrap_or_default().to_string(),
            ),
            _ => (name, value),
        })
        .collect();
    // The body is the raw ciphertext; `ece` hands it out as base64url.
    let body = URL_SAFE_NO_PAD
        .decode(block.body())
        .map_err(|e| EncryptError(e.to_string()))?;
    Ok(Encrypted {
        body,
        content_encoding: "aesgcm",
        headers,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ece::{legacy::AesGcmEncryptedBlock, EcKeyComponents};

    fn subscriber() -> (EcKeyComponents, String, [u8; 16], String) {
        let (pair, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let components = pair.raw_components().unwrap();
        let public = URL_SAFE_NO_PAD.encode(components.public_key());
        let auth_b64 = URL_SAFE_NO_PAD.encode(auth);
        (components, public, auth, auth_b64)
    }

    #[test]
    fn aes128gcm_round_trip() {
        let vapid = VapidKey::generate().unwrap();
        let (keys, public, auth, auth_b64) = subscriber();
        let sealed = encrypt(&public, &auth_b64, true, b"{\"hello\":1}", &vapid).unwrap();
        assert_eq!(sealed.content_encoding, "aes128gcm");
        assert!(sealed.headers.is_empty());
        let plain = ece::decrypt(&keys, &auth, &sealed.body).unwrap();
        assert_eq!(plain, b"{\"hello\":1}");
    }

    #[test]
    fn legacy_aesgcm_round_trip() {
        let vapid = VapidKey::generate().unwrap();
        let (keys, public, auth, auth_b64) = subscriber();
        let sealed = encrypt(&public, &auth_b64, false, b"legacy", &vapid).unwrap();
        assert_eq!(sealed.content_encoding, "aesgcm");
        let header = |name: &str| {
            sealed
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let crypto_key = header("Crypto-Key");
        assert!(crypto_key.contains(&format!("p256ecdsa={}", vapid.public_key())));
        let dh = crypto_key
            .split(';')
            .find_map(|p| p.trim().strip_prefix("dh="))
            .unwrap();
        let encryption = header("Encryption");
        let salt = encryption
            .split(';')
            .find_map(|p| p.trim().strip_prefix("salt="))
            .unwrap();
        let block = AesGcmEncryptedBlock::new(
            &URL_SAFE_NO_PAD.decode(dh).unwrap(),
            &URL_SAFE_NO_PAD.decode(salt).unwrap(),
            4096,
            sealed.body.clone(),
        )
        .unwrap();
        let plain = ece::legacy::decrypt_aesgcm(&keys, &auth, &block).unwrap();
        assert_eq!(plain, b"legacy");
    }

    #[test]
    fn wrong_key_does_not_decrypt() {
        let vapid = VapidKey::generate().unwrap();
        let (_, public, auth, auth_b64) = subscriber();
        let (other, _, _, _) = subscriber();
        let sealed = encrypt(&public, &auth_b64, true, b"secret", &vapid).unwrap();
        assert!(ece::decrypt(&other, &auth, &sealed.body).is_err());
    }

    #[test]
    fn jwt_verifies_with_the_public_key_only() {
        let vapid = VapidKey::generate().unwrap();
        let jwt = vapid
            .jwt(
                "https://push.example",
                1_900_000_000,
                "mailto:admin@example.org",
            )
            .unwrap();
        let claims = verify_jwt(&jwt, vapid.public_raw()).unwrap();
        assert_eq!(claims["aud"], "https://push.example");
        assert_eq!(claims["exp"], 1_900_000_000);
        assert_eq!(claims["sub"], "mailto:admin@example.org");
        let other = VapidKey::generate().unwrap();
        assert!(verify_jwt(&jwt, other.public_raw()).is_none());
        // A changed claim breaks the signature.
        let mut parts: Vec<&str> = jwt.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"aud":"https://evil.example","exp":1,"sub":"x"}"#);
        parts[1] = &forged;
        assert!(verify_jwt(&parts.join("."), vapid.public_raw()).is_none());
    }

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let vapid = VapidKey::generate().unwrap();
        let again = VapidKey::from_pem(&vapid.to_pem().unwrap()).unwrap();
        assert_eq!(again.public_key(), vapid.public_key());
        assert_eq!(vapid.public_raw().len(), PUBLIC_KEY_LEN);
    }

    #[test]
    fn keys_decode_in_every_base64_form() {
        let raw = [0xfbu8, 0xff, 0x01, 0x02];
        for text in ["-_8BAg", "-_8BAg==", "+/8BAg", "+/8BAg=="] {
            assert_eq!(decode_base64(text).unwrap(), raw, "{text}");
        }
        assert!(decode_base64("not base64!").is_none());
        let vapid = VapidKey::generate().unwrap();
        assert!(is_p256_point(vapid.public_raw()));
        let mut off_curve = vapid.public_raw().to_vec();
        off_curve[64] ^= 1;
        assert!(!is_p256_point(&off_curve));
        assert!(!is_p256_point(&[4u8; 33]));
    }
}
