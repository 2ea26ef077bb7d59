//! Use cases. Each checks the caller's permission, parses input into domain
//! values, builds one change set (changes + audit entries + idempotency claim)
//! and commits it; handlers only translate HTTP.

pub mod accounts;
pub mod audit;
pub mod invoices;
pub mod licences;
pub mod outbox;
pub mod pools;
pub mod products;
pub mod reports;
pub mod seats;
pub mod sessions;
pub mod sign_in;

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use leasehold_core::access::Principal;
use leasehold_core::ports::{IdempotencyClaim, WriteContext};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The caller of a use case and the request it came in.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: Option<String>,
    pub now: DateTime<Utc>,
}

impl Caller {
    pub fn write_context(&self) -> WriteContext {
        WriteContext {
            actor: self.principal.actor(),
            request_id: self.request_id.clone(),
            now: self.now,
        }
    }
}

/// An `Idempotency-Key` and a fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    /// `None` without a key; a key must be 1–255 visible characters.
    pub fn from_header(key: Option<&str>, route: &str, body: &impl Serialize) -> Result<Option<Self>, ApiError> {
        let Some(key) = key else { return Ok(None) };
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ApiError::BadRequest {
                code: "invalid_idempotency_key",
                detail: "An Idempotency-Key has 1 to 255 visible ASCII characters.".into(),
            });
        }
        let mut hasher = Sha256::new();
        hasher.update(route.as_bytes());
        hasher.update(serde_json::to_vec(body).map_err(ApiError::internal)?);
        Ok(Some(Self {
            key: key.to_owned(),
            request_hash: hex::encode(hasher.finalize()),
        }))
    }

    /// The claim stored with the change; keys are private to the principal.
    pub fn claim(&self, principal: &Principal, resource_id: uuid::Uuid) -> IdempotencyClaim {
        let actor = principal.actor();
        let scope = format!("{}:{}", actor.kind.as_str(), actor.id.unwrap_or_default());
        IdempotencyClaim {
            scope,
            key: self.key.clone(),
            request_hash: self.request_hash.clone(),
            resource_id,
        }
    }
}

/// The object an earlier request with this claim's key made, if there was one;
/// `idempotency_key_reused` when that request differed.
pub async fn replayed(
    state: &crate::state::AppState,
    claim: &IdempotencyClaim,
) -> Result<Option<uuid::Uuid>, ApiError> {
    match state.store.idempotency_record(&claim.scope, &claim.key).await? {
        Some((hash, resource_id)) if hash == claim.request_hash => Ok(Some(resource_id)),
        Some(_) => Err(leasehold_core::DomainError::IdempotencyKeyReused.into()),
        None => Ok(None),
    }
}

/// A snapshot of an object for the audit log.
pub fn snapshot(value: &impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}
