//! Concurrent seats: members check out a lease, keep it with heartbeats, and
//! give it back on logout; administrators see who holds what and force-release.

use super::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use leasehold_core::access::{Principal, Visibility};
use leasehold_core::ids::LeaseId;
use leasehold_core::ports::{LeaseDetails, StoreError};
use leasehold_core::seat::{parse_client_id, Checkout, CheckoutOutcome, Lease, Pool};
use leasehold_core::values::{ReleaseReason, SeatKind};
use leasehold_core::wire::{CreateSession, SeatValidity, SessionClaims, SessionGrant, SessionQueued};
use leasehold_core::{DomainError, FieldError};

pub enum CheckedOut {
    /// 201 for a new seat, 200 for the seat the member holds from this client.
    Granted { grant: SessionGrant, new: bool },
    /// 202.
    Queued(SessionQueued),
}

fn grant(state: &AppState, lease: &Lease, pool: &Pool) -> Result<SessionGrant, ApiError> {
    let claims = SessionClaims {
        kind: "session".into(),
        sub: lease.user_id,
        jti: lease.id,
        client: lease.client_id.clone(),
        licence: lease.licence_id,
        pool: pool.id,
        product: pool.product_id,
        organisation: pool.organisation_id,
        iss: state.tokens.issuer().to_owned(),
        aud: crate::auth::SEAT_AUDIENCE.to_owned(),
        iat: lease.last_heartbeat_at.timestamp(),
        exp: lease.expires_at.timestamp(),
    };
    Ok(SessionGrant {
        id: lease.id,
        pool_id: pool.id,
        product_id: pool.product_id,
        licence_id: lease.licence_id,
        user_id: lease.user_id,
        client_id: lease.client_id.clone(),
        seat_token: state.tokens.issue_session(&claims)?,
        expires_at: lease.expires_at,
        next_heartbeat_at: pool.lease.next_heartbeat_at(lease.last_heartbeat_at),
    })
}

pub async fn check_out(state: &AppState, caller: &Caller, body: CreateSession) -> Result<CheckedOut, ApiError> {
    let (organisation, own_user) = caller.principal.may_check_out()?;
    let client_id = parse_client_id(&body.client_id)?;
    let user_id = match (own_user, body.user_id) {
        (Some(own), None) => own,
        (Some(own), Some(named)) if named == own => own,
        (Some(_), Some(_)) => return Err(DomainError::Forbidden("members check out seats for themselves").into()),
        (None, Some(named)) => named,
        (None, None) => return Err(FieldError::new("user_id", "required", "name the member this seat is for").into()),
    };
    if state
        .store
        .user(Visibility::Organisation(organisation), user_id)
        .await?
        .is_none()
    {
        return Err(FieldError::new("user_id", "not_found", "no such member in this organisation").into());
    }
    match state.store.product(body.product_id).await? {
        Some(product) if product.seat_kind == SeatKind::Concurrent => {}
        Some(_) => {
            return Err(FieldError::new(
                "product_id",
                "not_concurrent",
                "this product's seats are held by devices",
            )
            .into())
        }
        None => return Err(FieldError::new("product_id", "not_found", "no such product").into()),
    }
    let checkout = Checkout {
        organisation_id: organisation,
        product_id: body.product_id,
        user_id,
        client_id,
    };
    let outcome = match state.store.checkout(&caller.write_context(), &checkout).await {
        Err(StoreError::Stale) => state.store.checkout(&caller.write_context(), &checkout).await?,
        other => other?,
    };
    match outcome {
        CheckoutOutcome::Granted { lease, pool, new } => Ok(CheckedOut::Granted {
            grant: grant(state, &lease, &pool)?,
            new,
        }),
        CheckoutOutcome::Queued { request_id, position } => Ok(CheckedOut::Queued(SessionQueued {
            request_id,
            queue_position: position,
        })),
        CheckoutOutcome::Refused { pool } => Err(DomainError::Conflict {
            code: "seat_unavailable",
            message: format!(
                "all {} seats are in use ({} held); try again later",
                pool.capacity, pool.held
            ),
        }
        .into()),
    }
}

/// Whose sessions the caller sees: a member only their own.
fn holder(principal: &Principal) -> Option<leasehold_core::ids::UserId> {
    match principal {
        Principal::User {
            id,
            role: leasehold_core::values::Role::Member,
            ..
        } => Some(*id),
        _ => None,
    }
}

pub async fn heartbeat(
    state: &AppState,
    caller: &Caller,
    id: LeaseId,
    activity: bool,
) -> Result<SessionGrant, ApiError> {
    let (organisation, own_user) = caller.principal.may_check_out()?;
    match state
        .store
        .renew_lease(&caller.write_context(), organisation, id, own_user, activity)
        .await?
    {
        Some((lease, pool)) => grant(state, &lease, &pool),
        None => Err(DomainError::Conflict {
            code: "session_lapsed",
            message: "the seat was reclaimed or released; check out again".into(),
        }
        .into()),
    }
}

/// The holder (or its integration) logs out; an administrator force-releases.
pub async fn end(state: &AppState, caller: &Caller, id: LeaseId) -> Result<(), ApiError> {
    let vis = caller.principal.visibility();
    let lease = state
        .store
        .lease(vis, id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("session")))?;
    let own = match &caller.principal {
        Principal::User { id, .. } => *id == lease.lease.user_id,
        Principal::ApiKey { .. } => caller.principal.may_check_out().is_ok(),
    };
    let reason = if own {
        ReleaseReason::Logout
    } else if holder(&caller.principal).is_some() {
        return Err(ApiError::Domain(DomainError::NotFound("session")));
    } else {
        caller.principal.may_manage_seats()?;
        ReleaseReason::Forced
    };
    Ok(state.store.end_lease(&caller.write_context(), vis, id, reason).await?)
}

pub async fn get(state: &AppState, caller: &Caller, id: LeaseId) -> Result<LeaseDetails, ApiError> {
    let found = state.store.lease(caller.principal.visibility(), id).await?;
    match (found, holder(&caller.principal)) {
        (Some(lease), Some(user)) if lease.lease.user_id != user => {
            Err(ApiError::Domain(DomainError::NotFound("session")))
        }
        (Some(lease), _) => Ok(lease),
        (None, _) => Err(ApiError::Domain(DomainError::NotFound("session"))),
    }
}

/// Members see their own sessions; administrators and viewers everyone's.
pub fn list_scope(caller: &Caller) -> Option<leasehold_core::ids::UserId> {
    holder(&caller.principal)
}

/// Online validation of a session token: signature, expiry, and the lease still held.
pub async fn validate(state: &AppState, token: &str) -> Result<SeatValidity, ApiError> {
    let claims = match state.tokens.verify_session(token) {
        Ok(claims) => claims,
        Err(error) if matches!(error.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
            return Ok(SeatValidity {
                valid: false,
                code: "expired".into(),
                seat_id: None,
                device_id: None,
                expires_at: None,
            })
        }
        Err(_) => {
            return Ok(SeatValidity {
                valid: false,
                code: "invalid_token".into(),
                seat_id: None,
                device_id: None,
                expires_at: None,
            })
        }
    };
    let lease = state
        .store
        .lease(Visibility::Organisation(claims.organisation), claims.jti)
        .await?;
    let code = match lease {
        Some(d) if d.lease.user_id == claims.sub => d.lease.validity_at(state.now()),
        _ => "seat_revoked",
    };
    let valid = code == "valid";
    Ok(SeatValidity {
        valid,
        code: code.into(),
        seat_id: None,
        device_id: None,
        expires_at: chrono::DateTime::from_timestamp(claims.exp, 0),
    })
}
