//! Device seats: registration by device apps, seat tokens, and the
//! administrators' revoke, block, unblock, approve, reject and reallocate.

use super::{Caller, Idempotency};
use crate::error::ApiError;
use crate::state::AppState;
use chrono::Duration;
use leasehold_core::ids::{DeviceId, ProductId, SeatRequestId};
use leasehold_core::ports::RequestDetails;
use leasehold_core::ports::StoreError;
use leasehold_core::seat::{parse_fingerprint, Decision, Device, DeviceRegistration, Pool, Registration, Seat};
use leasehold_core::values::{optional_text, ReleaseReason};
use leasehold_core::wire::{RegisterDevice, SeatClaims, SeatGrant, SeatQueued, SeatValidity};
use leasehold_core::{error::Validator, DomainError};

/// What a registration answers.
pub enum Registered {
    /// 201 for a new seat, 200 for the seat the device held already.
    Granted { grant: SeatGrant, new: bool },
    /// 202.
    Queued(SeatQueued),
}

/// Signs the token of a device's seat.
pub fn seat_grant(
    state: &AppState,
    device: &Device,
    seat: &Seat,
    pool: &Pool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<SeatGrant, ApiError> {
    let expires_at = now + Duration::hours(state.settings.seat_token_hours);
    let claims = SeatClaims {
        kind: "device".into(),
        sub: device.id,
        jti: seat.id,
        licence: seat.licence_id,
        pool: pool.id,
        product: pool.product_id,
        organisation: pool.organisation_id,
        iss: state.tokens.issuer().to_owned(),
        aud: crate::auth::SEAT_AUDIENCE.to_owned(),
        iat: now.timestamp(),
        exp: expires_at.timestamp(),
    };
    Ok(SeatGrant {
        device_id: device.id,
        seat_id: seat.id,
        licence_id: seat.licence_id,
        pool_id: pool.id,
        product_id: pool.product_id,
        seat_token: state.tokens.issue_seat(&claims)?,
        expires_at,
    })
}

pub async fn register_device(
    state: &AppState,
    caller: &Caller,
    body: RegisterDevice,
    idempotency: Option<Idempotency>,
) -> Result<Registered, ApiError> {
    let organisation_id = caller.principal.may_register_devices()?;
    let mut v = Validator::new();
    let fingerprint = v.check(parse_fingerprint(&body.fingerprint));
    let name = v.check(optional_text("name", &body.name, 200));
    if state.store.product(body.product_id).await?.is_none() {
        v.push(leasehold_core::FieldError::new(
            "product_id",
            "not_found",
            "no such product",
        ));
    }
    v.finish()?;
    let (Some(fingerprint), Some(name)) = (fingerprint, name) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let registration = DeviceRegistration {
        organisation_id,
        product_id: body.product_id,
        name: if name.is_empty() { fingerprint.clone() } else { name },
        fingerprint,
    };
    let claim = idempotency.map(|i| i.claim(&caller.principal, uuid::Uuid::nil()));
    // A concurrent registration of the same device may win a unique-key race: once more.
    let outcome = match state
        .store
        .register_device(&caller.write_context(), &registration, claim.clone())
        .await
    {
        Err(StoreError::Stale) => {
            state
                .store
                .register_device(&caller.write_context(), &registration, claim)
                .await?
        }
        other => other?,
    };
    match outcome {
        Registration::Granted {
            device,
            seat,
            pool,
            new,
        } => Ok(Registered::Granted {
            grant: seat_grant(state, &device, &seat, &pool, caller.now)?,
            new,
        }),
        Registration::Queued {
            device,
            request,
            position,
        } => Ok(Registered::Queued(SeatQueued {
            device_id: device.id,
            request_id: request.id,
            queue_position: position,
        })),
        Registration::Refused { pool } => Err(DomainError::Conflict {
            code: "seat_unavailable",
            message: format!(
                "all {} seats are held ({} held) and this pool does not queue requests",
                pool.capacity, pool.held
            ),
        }
        .into()),
        Registration::Blocked => Err(ApiError::DeviceBlocked),
    }
}

/// A device renews its seat token; `seat_revoked` when the seat is gone.
pub async fn heartbeat(
    state: &AppState,
    caller: &Caller,
    device: DeviceId,
    product: ProductId,
) -> Result<SeatGrant, ApiError> {
    let organisation_id = caller.principal.may_register_devices()?;
    match state
        .store
        .device_heartbeat(organisation_id, device, product, caller.now)
        .await?
    {
        Some((device, seat)) => {
            let pool = state
                .store
                .pool(
                    leasehold_core::access::Visibility::Organisation(organisation_id),
                    seat.pool_id,
                )
                .await?
                .ok_or_else(|| ApiError::internal("a seat without its pool"))?
                .pool;
            seat_grant(state, &device, &seat, &pool, caller.now)
        }
        None => Err(DomainError::Conflict {
            code: "seat_revoked",
            message: "the device holds no seat of this product; register again".into(),
        }
        .into()),
    }
}

/// A device gives its seat back.
pub async fn release(
    state: &AppState,
    caller: &Caller,
    device: DeviceId,
    product: Option<ProductId>,
) -> Result<u64, ApiError> {
    let organisation_id = caller.principal.may_register_devices()?;
    let vis = leasehold_core::access::Visibility::Organisation(organisation_id);
    Ok(state
        .store
        .release_device_seats(&caller.write_context(), vis, device, product, ReleaseReason::Released)
        .await?)
}

pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    device: DeviceId,
    product: Option<ProductId>,
) -> Result<u64, ApiError> {
    caller.principal.may_manage_seats()?;
    let vis = caller.principal.visibility();
    Ok(state
        .store
        .release_device_seats(&caller.write_context(), vis, device, product, ReleaseReason::Revoked)
        .await?)
}

pub async fn block(state: &AppState, caller: &Caller, device: DeviceId) -> Result<Device, ApiError> {
    caller.principal.may_manage_seats()?;
    Ok(state
        .store
        .block_device(&caller.write_context(), caller.principal.visibility(), device)
        .await?)
}

pub async fn unblock(state: &AppState, caller: &Caller, device: DeviceId) -> Result<Device, ApiError> {
    caller.principal.may_manage_seats()?;
    Ok(state
        .store
        .unblock_device(&caller.write_context(), caller.principal.visibility(), device)
        .await?)
}

pub async fn decide(
    state: &AppState,
    caller: &Caller,
    request: SeatRequestId,
    decision: Decision,
) -> Result<RequestDetails, ApiError> {
    caller.principal.may_manage_seats()?;
    Ok(state
        .store
        .decide_request(
            &caller.write_context(),
            caller.principal.visibility(),
            request,
            decision,
        )
        .await?)
}

pub async fn reallocate(
    state: &AppState,
    caller: &Caller,
    request: SeatRequestId,
    from: DeviceId,
) -> Result<RequestDetails, ApiError> {
    caller.principal.may_manage_seats()?;
    Ok(state
        .store
        .reallocate_seat(&caller.write_context(), caller.principal.visibility(), request, from)
        .await?)
}

/// Online validation: the signature and expiry, then whether the seat still holds.
pub async fn validate(state: &AppState, token: &str) -> Result<SeatValidity, ApiError> {
    let invalid = |code: &str| SeatValidity {
        valid: false,
        code: code.into(),
        seat_id: None,
        device_id: None,
        expires_at: None,
    };
    if crate::auth::token_kind(token).as_deref() == Some("session") {
        return super::sessions::validate(state, token).await;
    }
    let claims = match state.tokens.verify_seat(token) {
        Ok(claims) => claims,
        Err(error) if matches!(error.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
            return Ok(invalid("expired"))
        }
        Err(_) => return Ok(invalid("invalid_token")),
    };
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0);
    let answer = |valid: bool, code: &str| SeatValidity {
        valid,
        code: code.into(),
        seat_id: Some(claims.jti),
        device_id: Some(claims.sub),
        expires_at,
    };
    Ok(match state.store.seat(claims.jti).await? {
        Some((_, device)) if device.blocked_at.is_some() => answer(false, "device_blocked"),
        Some((seat, _)) if seat.device_id == claims.sub => answer(true, "valid"),
        _ => match state
            .store
            .device(
                leasehold_core::access::Visibility::Organisation(claims.organisation),
                claims.sub,
            )
            .await?
        {
            Some(details) if details.device.blocked_at.is_some() => answer(false, "device_blocked"),
            _ => answer(false, "seat_revoked"),
        },
    })
}
