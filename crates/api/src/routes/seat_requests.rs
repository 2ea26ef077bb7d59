use crate::error::ApiError;
use crate::service::{seats, Caller};
use crate::state::AppState;
use crate::views;
use actix_web::{get, post, web, HttpResponse};
use leasehold_core::ids::SeatRequestId;
use leasehold_core::ports::PageRequest;
use leasehold_core::seat::Decision;
use leasehold_core::wire::{Page, Problem, ReallocateSeat, SeatRequestQuery, SeatRequestView};

/// The queue: waiting requests, oldest first, with their positions.
#[utoipa::path(tag = "devices", params(SeatRequestQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<SeatRequestView>),
    (status = 401, body = Problem),
))]
#[get("/seat-requests")]
pub async fn list_seat_requests(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SeatRequestQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.may_read_licences()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let found = state
        .store
        .seat_requests(caller.principal.visibility(), query.pool, page)
        .await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::seat_request)))
}

/// Grants a free seat to a waiting request; 409 `seat_unavailable` when none is free.
#[utoipa::path(tag = "devices", params(("id" = SeatRequestId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = SeatRequestView),
    (status = 404, body = Problem),
    (status = 409, description = "`seat_unavailable` or `request_not_waiting`", body = Problem),
))]
#[post("/seat-requests/{id}/approve")]
pub async fn approve_seat_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SeatRequestId>,
) -> Result<HttpResponse, ApiError> {
    let request = seats::decide(&state, &caller, id.into_inner(), Decision::Approve).await?;
    Ok(HttpResponse::Ok().json(views::seat_request(request)))
}

/// Turns a waiting request down.
#[utoipa::path(tag = "devices", params(("id" = SeatRequestId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = SeatRequestView),
    (status = 404, body = Problem),
    (status = 409, description = "`request_not_waiting`", body = Problem),
))]
#[post("/seat-requests/{id}/reject")]
pub async fn reject_seat_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SeatRequestId>,
) -> Result<HttpResponse, ApiError> {
    let request = seats::decide(&state, &caller, id.into_inner(), Decision::Reject).await?;
    Ok(HttpResponse::Ok().json(views::seat_request(request)))
}

/// Moves the seat of a licensed device to this waiting request, in one step.
#[utoipa::path(tag = "devices", params(("id" = SeatRequestId, Path)), request_body = ReallocateSeat, security(("bearer" = [])), responses(
    (status = 200, body = SeatRequestView),
    (status = 404, body = Problem),
    (status = 409, body = Problem),
))]
#[post("/seat-requests/{id}/reallocate")]
pub async fn reallocate_seat(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SeatRequestId>,
    body: web::Json<ReallocateSeat>,
) -> Result<HttpResponse, ApiError> {
    let request = seats::reallocate(&state, &caller, id.into_inner(), body.from_device_id).await?;
    Ok(HttpResponse::Ok().json(views::seat_request(request)))
}
