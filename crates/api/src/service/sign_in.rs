//! Console sign-in: password → access token + refresh token; rotation with
//! reuse detection; sign-out.

use crate::auth::{hash_password, random_secret, secret_hash, verify_password};
use crate::error::ApiError;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use leasehold_core::access::{Principal, Visibility};
use leasehold_core::ids::AuthSessionId;
use leasehold_core::ports::{AuthSession, RefreshOutcome, User};
use leasehold_core::values::Email;
use leasehold_core::wire::{Me, TokenResponse};
use uuid::Uuid;

const WRONG_CREDENTIALS: &str = "the e-mail or password is wrong";

pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ApiError> {
    // Failures are counted per address tried, known or not: a lock tells
    // nothing about which addresses have accounts.
    let key = secret_hash(&format!("sign-in:{}", email.trim().to_lowercase()));
    if let Some(until) = state.store.sign_in_locked_until(&key, now).await? {
        tracing::info!("sign-in refused: the address is locked");
        return Err(locked(until, now));
    }
    let credentials = match Email::parse(email) {
        Ok(email) => state.store.credentials(&email).await?,
        Err(_) => None,
    };
    let (user, hash) = match credentials {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let verified = verify_password(password, hash).await?;
    let user = match (verified, user) {
        (true, Some(user)) => user,
        _ => {
            tracing::info!("sign-in refused");
            let window = Duration::minutes(state.settings.lockout_minutes.max(1));
            let threshold = state.settings.lockout_failures.max(1);
            if let Some(until) = state
                .store
                .record_sign_in_failure(&key, now, now - window, threshold, now + window)
                .await?
            {
                tracing::warn!(
                    failures = threshold,
                    "sign-in locked for an address after repeated failures"
                );
                return Err(locked(until, now));
            }
            return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
        }
    };
    state.store.clear_sign_in_failures(&key).await?;
    let refresh_token = random_secret();
    let session = AuthSession {
        id: AuthSessionId::from_uuid(Uuid::now_v7()),
        user_id: user.id,
        refresh_hash: secret_hash(&refresh_token),
        created_at: now,
        expires_at: now + Duration::days(state.settings.session_days),
    };
    state.store.start_auth_session(&session).await?;
    tracing::info!(user.id = %user.id, "signed in");
    tokens(state, user, session.id, refresh_token, now).await
}

/// Sign-in for an address is locked until `until`.
fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> ApiError {
    ApiError::AccountLocked {
        retry_after_seconds: (until - now).num_seconds().max(1).unsigned_abs(),
    }
}

pub async fn refresh(state: &AppState, refresh_token: &str, now: DateTime<Utc>) -> Result<TokenResponse, ApiError> {
    let next = random_secret();
    match state
        .store
        .rotate_refresh_token(&secret_hash(refresh_token), &secret_hash(&next), now)
        .await?
    {
        RefreshOutcome::Rotated { session_id, user } => tokens(state, user, session_id, next, now).await,
        RefreshOutcome::Reused => {
            tracing::warn!("a used refresh token was presented again; its session is revoked");
            Err(ApiError::Unauthorized(
                "this refresh token was already used; the session is revoked",
            ))
        }
        RefreshOutcome::Invalid => Err(ApiError::Unauthorized("the refresh token is invalid or expired")),
    }
}

pub async fn logout(
    state: &AppState,
    principal: &Principal,
    refresh_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let session = match principal {
        Principal::User { session_id, .. } => Some(*session_id),
        Principal::ApiKey { .. } => None,
    };
    let refresh_hash = refresh_token.map(secret_hash);
    state
        .store
        .end_auth_session(session, refresh_hash.as_deref(), now)
        .await?;
    Ok(())
}

pub async fn me(state: &AppState, principal: &Principal) -> Result<Me, ApiError> {
    let Principal::User { id, .. } = principal else {
        return Err(ApiError::Domain(leasehold_core::DomainError::Forbidden(
            "an API key is not a person",
        )));
    };
    let user = state
        .store
        .user(Visibility::Everything, *id)
        .await?
        .ok_or(ApiError::Unauthorized("the user no longer exists"))?;
    describe(state, user).await
}

async fn describe(state: &AppState, user: User) -> Result<Me, ApiError> {
    let organisation_name = match user.organisation_id {
        Some(org) => state
            .store
            .organisation(Visibility::Everything, org)
            .await?
            .map(|o| o.name),
        None => None,
    };
    Ok(Me {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        organisation_id: user.organisation_id,
        organisation_name,
    })
}

async fn tokens(
    state: &AppState,
    user: User,
    session: AuthSessionId,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ApiError> {
    let access_token = state
        .tokens
        .issue_access(user.id, session, user.role, user.organisation_id, now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.access_ttl_seconds(),
        refresh_token,
        user: describe(state, user).await?,
    })
}

/// Hashes a new password after checking the policy.
pub async fn new_password_hash(password: &str) -> Result<String, ApiError> {
    leasehold_core::values::check_password(password)?;
    hash_password(password.to_owned()).await
}
