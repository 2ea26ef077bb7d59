use super::idempotency_key;
use crate::error::ApiError;
use crate::service::seats::{self, Registered};
use crate::service::{Caller, Idempotency};
use crate::state::AppState;
use crate::views;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use leasehold_core::ids::DeviceId;
use leasehold_core::ports::{DeviceFilter, DeviceState, PageRequest};
use leasehold_core::wire::{
    DeviceQuery, DeviceSeatRef, DeviceView, Page, Problem, RegisterDevice, ReleaseSeats, ReleasedSeats, SeatGrant,
    SeatQueued,
};
use leasehold_core::{DomainError, FieldError};

/// A device app asks for a seat (an organisation's API key with
/// `devices:register`). A device that holds a seat gets it back (200); a free
/// seat is granted atomically (201); with none free the device waits in the
/// pool's queue (202) — its next call says when it was granted; a pool that
/// refuses to queue answers 409 `seat_unavailable`; a blocked device 403
/// `device_blocked`. Honours `Idempotency-Key`.
#[utoipa::path(tag = "devices", request_body = RegisterDevice, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
    (status = 200, description = "The seat the device holds", body = SeatGrant),
    (status = 201, description = "A new seat", body = SeatGrant),
    (status = 202, description = "Queued", body = SeatQueued),
    (status = 403, description = "`device_blocked`", body = Problem),
    (status = 409, description = "`seat_unavailable`", body = Problem),
    (status = 422, body = Problem),
))]
#[post("/devices/register")]
pub async fn register_device(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<RegisterDevice>,
) -> Result<HttpResponse, ApiError> {
    let idempotency = Idempotency::from_header(idempotency_key(&req), "POST /v1/devices/register", &*body)?;
    Ok(
        match seats::register_device(&state, &caller, body.into_inner(), idempotency).await? {
            Registered::Granted { grant, new: true } => HttpResponse::Created().json(grant),
            Registered::Granted { grant, new: false } => HttpResponse::Ok().json(grant),
            Registered::Queued(queued) => HttpResponse::Accepted().json(queued),
        },
    )
}

/// A device renews its seat token; 409 `seat_revoked` when its seat is gone.
#[utoipa::path(tag = "devices", params(("id" = DeviceId, Path)), request_body = DeviceSeatRef, security(("bearer" = [])), responses(
    (status = 200, body = SeatGrant),
    (status = 409, description = "`seat_revoked`", body = Problem),
))]
#[post("/devices/{id}/heartbeat")]
pub async fn heartbeat_device(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<DeviceId>,
    body: web::Json<DeviceSeatRef>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(seats::heartbeat(&state, &caller, id.into_inner(), body.product_id).await?))
}

/// A device gives its seat back (one product's, or all).
#[utoipa::path(tag = "devices", params(("id" = DeviceId, Path)), request_body = Option<ReleaseSeats>, security(("bearer" = [])), responses(
    (status = 200, body = ReleasedSeats),
    (status = 404, body = Problem),
))]
#[post("/devices/{id}/release")]
pub async fn release_device(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<DeviceId>,
    body: crate::extract::OptionalJson<ReleaseSeats>,
) -> Result<HttpResponse, ApiError> {
    let product = body.into_inner().and_then(|b| b.product_id);
    let released = seats::release(&state, &caller, id.into_inner(), product).await?;
    Ok(HttpResponse::Ok().json(ReleasedSeats { released }))
}

/// Devices: `licensed` (holding seats), `blocked`, or `requested` (waiting).
#[utoipa::path(tag = "devices", params(DeviceQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<DeviceView>),
    (status = 422, body = Problem),
))]
#[get("/devices")]
pub async fn list_devices(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.may_read_licences()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let device_state = match query.state.as_deref() {
        None | Some("") => None,
        Some("licensed") => Some(DeviceState::Licensed),
        Some("blocked") => Some(DeviceState::Blocked),
        Some("requested") => Some(DeviceState::Requested),
        Some(_) => return Err(FieldError::new("state", "invalid_value", "use licensed, blocked or requested").into()),
    };
    let filter = DeviceFilter {
        state: device_state,
        organisation: query.organisation,
        product: query.product,
        q: query.q.clone(),
        page,
    };
    let found = state.store.devices(caller.principal.visibility(), &filter).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::device)))
}

#[utoipa::path(tag = "devices", params(("id" = DeviceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = DeviceView),
    (status = 404, body = Problem),
))]
#[get("/devices/{id}")]
pub async fn get_device(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<DeviceId>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.may_read_licences()?;
    let device = state
        .store
        .device(caller.principal.visibility(), id.into_inner())
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("device")))?;
    Ok(HttpResponse::Ok().json(views::device(device)))
}

/// Revokes a device's seats (one product's, or all); the device may register again.
#[utoipa::path(tag = "devices", params(("id" = DeviceId, Path)), request_body = Option<ReleaseSeats>, security(("bearer" = [])), responses(
    (status = 200, body = ReleasedSeats),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
))]
#[post("/devices/{id}/revoke")]
pub async fn revoke_device(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<DeviceId>,
    body: crate::extract::OptionalJson<ReleaseSeats>,
) -> Result<HttpResponse, ApiError> {
    let product = body.into_inner().and_then(|b| b.product_id);
    let released = seats::revoke(&state, &caller, id.into_inner(), product).await?;
    Ok(HttpResponse::Ok().json(ReleasedSeats { released }))
}

/// Blocks a device: its seats are released and it cannot register until unblocked.
#[utoipa::path(tag = "devices", params(("id" = DeviceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = DeviceView),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
))]
#[post("/devices/{id}/block")]
pub async fn block_device(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<DeviceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    seats::block(&state, &caller, id).await?;
    let device = state
        .store
        .device(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("device")))?;
    Ok(HttpResponse::Ok().json(views::device(device)))
}

/// Unblocks a device. It gets a seat the next time it asks, if one is free.
#[utoipa::path(tag = "devices", params(("id" = DeviceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = DeviceView),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
))]
#[post("/devices/{id}/unblock")]
pub async fn unblock_device(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<DeviceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    seats::unblock(&state, &caller, id).await?;
    let device = state
        .store
        .device(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("device")))?;
    Ok(HttpResponse::Ok().json(views::device(device)))
}
