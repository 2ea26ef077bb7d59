//! Credentials: argon2id password hashes, EdDSA access tokens, opaque refresh
//! tokens and API keys (both stored only as SHA-256 hashes), and the extractor
//! that turns an `Authorization: Bearer …` header into a [`Principal`].

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use futures::future::LocalBoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use leasehold_core::access::Principal;
use leasehold_core::ids::{AuthSessionId, OrganisationId, UserId};
use leasehold_core::ports::Store;
use leasehold_core::values::Role;
use leasehold_core::wire::{Jwk, Jwks, SeatClaims, SessionClaims};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// API keys start with this, so a leaked one is recognisable.
pub const API_KEY_PREFIX: &str = "lh_";
const ISSUER: &str = "leasehold";
const ACCESS_AUDIENCE: &str = "leasehold-console";
/// The audience of seat tokens; apps check it when they verify offline.
pub const SEAT_AUDIENCE: &str = "leasehold-seat";

/// The claims of a console access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccessClaims {
    sub: UserId,
    sid: AuthSessionId,
    role: Role,
    org: Option<OrganisationId>,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// The server's Ed25519 signing key (shared by every node through the database).
pub struct Tokens {
    issuer: &'static str,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_x: String,
    access_ttl_seconds: i64,
    verified_access: Verified<AccessClaims>,
    verified_seats: Verified<SeatClaims>,
    verified_sessions: Verified<SessionClaims>,
}

/// How many verified tokens of each kind a node remembers.
const VERIFIED_CAPACITY: usize = 65_536;

/// Tokens this node has verified already, by SHA-256 of the whole token: a
/// signature that verified once verifies again, so a token sent again (every
/// request of a console session, every online check of a seat) costs a hash
/// and a lookup instead of an Ed25519 verification. Only the signature is
/// remembered: a remembered token is accepted only while it has not expired
/// (a token near or past its expiry is verified in full, which tells why it
/// fails), and whatever the caller checks after the signature — a live
/// session, a held seat, a blocked device — is still checked every time.
struct Verified<C> {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], C>>,
    /// The claims' expiry (seconds since the epoch).
    expires: fn(&C) -> i64,
}

impl<C: Clone> Verified<C> {
    fn new(expires: fn(&C) -> i64) -> Self {
        Self {
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
            expires,
        }
    }

    /// `token`'s claims from memory, or from `verify` (remembered when it passes).
    fn get_or_verify(
        &self,
        token: &str,
        verify: impl FnOnce() -> Result<C, jsonwebtoken::errors::Error>,
    ) -> Result<C, jsonwebtoken::errors::Error> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let (now, expires) = (Utc::now().timestamp(), self.expires);
        if let Ok(entries) = self.entries.lock() {
            if let Some(claims) = entries.get(&digest).filter(|claims| expires(claims) > now) {
                return Ok(claims.clone());
            }
        }
        let claims = verify()?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= VERIFIED_CAPACITY {
                entries.retain(|_, claims| expires(claims) > now);
                if entries.len() >= VERIFIED_CAPACITY / 2 {
                    entries.clear();
                }
            }
            entries.insert(digest, claims.clone());
        }
        Ok(claims)
    }
}

impl Tokens {
    /// Loads the newest signing key, creating the first one if there is none.
    pub async fn load(store: &dyn Store, access_ttl_seconds: i64) -> Result<Self, ApiError> {
        let fresh = SigningKey::generate(&mut OsRng);
        let der = fresh.to_pkcs8_der().map_err(ApiError::internal)?;
        let kid = format!("k{}", Utc::now().format("%Y%m%d%H%M%S"));
        let (kid, pkcs8) = store.ensure_signing_key(&kid, der.as_bytes(), Utc::now()).await?;
        let key = SigningKey::from_pkcs8_der(&pkcs8).map_err(ApiError::internal)?;
        let public_x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        Ok(Self {
            issuer: ISSUER,
            kid,
            encoding: EncodingKey::from_ed_der(&pkcs8),
            decoding: DecodingKey::from_ed_components(&public_x).map_err(ApiError::internal)?,
            public_x,
            access_ttl_seconds,
            verified_access: Verified::new(|claims| claims.exp),
            verified_seats: Verified::new(|claims| claims.exp),
            verified_sessions: Verified::new(|claims| claims.exp),
        })
    }

    pub fn issuer(&self) -> &'static str {
        self.issuer
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key's `x` (base64url), for the JWKS.
    pub fn public_x(&self) -> &str {
        &self.public_x
    }

    pub fn access_ttl_seconds(&self) -> i64 {
        self.access_ttl_seconds
    }

    pub fn issue_access(
        &self,
        user: UserId,
        session: AuthSessionId,
        role: Role,
        org: Option<OrganisationId>,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let claims = AccessClaims {
            sub: user,
            sid: session,
            role,
            org,
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.access_ttl_seconds,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Signs a seat token.
    pub fn issue_seat(&self, claims: &SeatClaims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Signs a session's seat token.
    pub fn issue_session(&self, claims: &SessionClaims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Checks a session token's signature, issuer, audience and expiry.
    pub fn verify_session(&self, token: &str) -> Result<SessionClaims, jsonwebtoken::errors::Error> {
        self.verified_sessions
            .get_or_verify(token, || self.decode(token, SEAT_AUDIENCE, 0))
    }

    /// Checks a seat token's signature, issuer, audience and expiry.
    pub fn verify_seat(&self, token: &str) -> Result<SeatClaims, jsonwebtoken::errors::Error> {
        self.verified_seats
            .get_or_verify(token, || self.decode(token, SEAT_AUDIENCE, 0))
    }

    /// Checks a token's signature, issuer, audience and expiry (give or take `leeway` seconds).
    fn decode<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        leeway: u64,
    ) -> Result<C, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.leeway = leeway;
        jsonwebtoken::decode::<C>(token, &self.decoding, &validation).map(|data| data.claims)
    }

    /// The published keys (today one; rotation adds the next beside it).
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: self.public_x.clone(),
                kid: self.kid.clone(),
                alg: "EdDSA".into(),
                key_use: "sig".into(),
            }],
        }
    }

    fn verify_access(&self, token: &str) -> Result<AccessClaims, ApiError> {
        self.verified_access
            .get_or_verify(token, || self.decode(token, ACCESS_AUDIENCE, 5))
            .map_err(|_| ApiError::Unauthorized("the access token is invalid or expired"))
    }
}

/// The `kind` claim of a seat token (`device` or `session`), read without
/// verifying: only to pick the verification that follows.
pub fn token_kind(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Kind {
        kind: Option<String>,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Kind>(&bytes).ok()?.kind
}

/// 32 random bytes, base64url.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a high-entropy secret (refresh tokens, API keys): a slow hash is
/// not needed for 256 random bits and would cost every request.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Hashes a password with argon2id off the async threads.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    web::block(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// A hash no password matches, verified when the e-mail is unknown so that
/// sign-in takes as long whether or not the account exists.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg";

pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    web::block(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let matches = PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        known && matches
    })
    .await
    .map_err(ApiError::internal)
}

/// The caller, authenticated by an access token or an API key.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl Authenticated {
    async fn resolve(state: &AppState, token: &str) -> Result<Principal, ApiError> {
        let now = state.now();
        if token.starts_with(API_KEY_PREFIX) {
            let key = state
                .store
                .authenticate_api_key(&secret_hash(token), now)
                .await?
                .ok_or(ApiError::Unauthorized("the API key is unknown or revoked"))?;
            return Ok(Principal::ApiKey {
                id: key.id,
                organisation_id: key.organisation_id,
                scopes: key.scopes,
            });
        }
        let claims = state.tokens.verify_access(token)?;
        if !state.store.auth_session_live(claims.sid, now).await? {
            return Err(ApiError::Unauthorized("the session has ended; sign in again"));
        }
        Ok(Principal::User {
            id: claims.sub,
            role: claims.role,
            organisation_id: claims.org,
            session_id: claims.sid,
        })
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|token| token.trim().to_owned());
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or(ApiError::Unauthorized(
                "send an access token or API key as a Bearer token",
            ))?;
            let principal = Self::resolve(&state, &token).await?;
            if let Principal::ApiKey { id, .. } = &principal {
                // Told in the RateLimit-* headers of the response (see startup).
                let rate = state.limits.api_key(*id)?;
                req.extensions_mut().insert(rate);
            }
            Ok(Authenticated(principal))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn password_hash_verifies_and_rejects() {
        let hash = hash_password("correct horse battery".into()).await.unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone()))
            .await
            .unwrap_or(false));
        assert!(!verify_password("wrong horse battery".into(), Some(hash))
            .await
            .unwrap_or(true));
        assert!(!verify_password("anything".into(), None).await.unwrap_or(true));
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires() {
        let cache = Verified::<i64>::new(|exp| *exp);
        let verifications = std::cell::Cell::new(0);
        let verify = |exp: i64| {
            verifications.set(verifications.get() + 1);
            Ok(exp)
        };
        let live = Utc::now().timestamp() + 60;
        for _ in 0..3 {
            assert_eq!(cache.get_or_verify("live", || verify(live)).ok(), Some(live));
        }
        assert_eq!(verifications.get(), 1, "verified once, then remembered");
        // One that has expired is verified again every time (and fails there).
        let expired = Utc::now().timestamp() - 1;
        for _ in 0..2 {
            assert!(cache.get_or_verify("expired", || verify(expired)).is_ok());
        }
        assert_eq!(verifications.get(), 3);
        // A token that fails is not remembered.
        let bad = || Err(jsonwebtoken::errors::ErrorKind::InvalidSignature.into());
        assert!(cache.get_or_verify("forged", bad).is_err());
        assert!(cache.get_or_verify("forged", bad).is_err());
        assert_eq!(cache.get_or_verify("forged", || verify(live)).ok(), Some(live));
        assert_eq!(verifications.get(), 4);
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_eq!(secret_hash(&a), secret_hash(&a));
    }
}
