use crate::error::ApiError;
use crate::service::{pools, Caller};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use leasehold_core::ids::NotificationId;
use leasehold_core::wire::{NotificationPage, NotificationQuery, NotificationsMarked, Problem};

/// An organisation's in-app notifications, newest first: low seats, top-ups
/// done, top-ups awaiting approval, top-up limits reached.
#[utoipa::path(tag = "notifications", params(NotificationQuery), security(("bearer" = [])), responses(
    (status = 200, body = NotificationPage),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
))]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(pools::notifications(&state, &caller, &query).await?))
}

/// Marks one notification read.
#[utoipa::path(tag = "notifications", params(("id" = NotificationId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = NotificationsMarked),
    (status = 404, body = Problem),
))]
#[post("/notifications/{id}/read")]
pub async fn read_notification(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<NotificationId>,
) -> Result<HttpResponse, ApiError> {
    let marked = pools::mark_read(&state, &caller, Some(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(NotificationsMarked { marked }))
}

/// Marks every notification the caller sees read.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), responses(
    (status = 200, body = NotificationsMarked),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
))]
#[post("/notifications/read")]
pub async fn read_all_notifications(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let marked = pools::mark_read(&state, &caller, None).await?;
    Ok(HttpResponse::Ok().json(NotificationsMarked { marked }))
}
