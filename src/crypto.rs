//! Keys, passwords and tokens. Nothing else in the crate touches openssl or
//! argon2 directly.

use crate::error::{Error, Result};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use openssl::{pkey::PKey, rsa::Rsa};

/// An actor's RSA key pair as PEM: PKCS#8 private key, SPKI public key (the
/// formats Mastodon publishes and the federation crate loads unchanged).
#[derive(Clone)]
pub struct KeyPair {
    pub private_key_pem: String,
    pub public_key_pem: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair").finish_non_exhaustive()
    }
}

/// Generates an RSA-2048 key pair with openssl (tens of milliseconds, against
/// ~200 ms for the pure-Rust `rsa` crate: research/stack.md §2).
pub fn generate_keypair() -> Result<KeyPair> {
    let rsa = Rsa::generate(2048)?;
    let pkey = PKey::from_rsa(rsa)?;
    Ok(KeyPair {
        private_key_pem: String::from_utf8(pkey.private_key_to_pem_pkcs8()?)
            .map_err(Error::internal)?,
        public_key_pem: String::from_utf8(pkey.public_key_to_pem()?).map_err(Error::internal)?,
    })
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// Whether `password` matches a PHC hash made by [`hash_password`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random URL-safe token of `bytes` random bytes (hex encoded).
pub fn random_token(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    openssl::rand::rand_bytes(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypair_is_rsa_2048_pem() {
        let kp = generate_keypair().unwrap();
        assert!(kp
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(kp.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let public = PKey::public_key_from_pem(kp.public_key_pem.as_bytes()).unwrap();
        assert_eq!(public.bits(), 2048);
    }

    #[test]
    fn password_round_trip() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random() {
        let a = random_token(16).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_token(16).unwrap());
    }
}
