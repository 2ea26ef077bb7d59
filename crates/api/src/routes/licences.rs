use super::idempotency_key;
use crate::error::ApiError;
use crate::service::{licences, Caller, Idempotency};
use crate::state::AppState;
use crate::views;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use leasehold_core::ids::LicenceId;
use leasehold_core::wire::{CreateLicence, LicenceQuery, LicenceView, Page, Problem, UpdateLicence};

/// Licences the caller may see, filtered, searched, sorted and paginated.
#[utoipa::path(tag = "licences", params(LicenceQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<LicenceView>),
    (status = 401, body = Problem),
    (status = 422, body = Problem),
))]
#[get("/licences")]
pub async fn list_licences(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LicenceQuery>,
) -> Result<HttpResponse, ApiError> {
    let (found, page) = licences::list_licences(&state, &caller, &query).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, |d| views::licence(d, caller.now))))
}

/// Creates a licence (vendor staff). With an owner it is active at once; without
/// one it waits for its coupon to be redeemed. Honours `Idempotency-Key`.
#[utoipa::path(tag = "licences", request_body = CreateLicence, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the same licence")),
    responses(
    (status = 201, body = LicenceView),
    (status = 403, body = Problem),
    (status = 422, body = Problem),
))]
#[post("/licences")]
pub async fn create_licence(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<CreateLicence>,
) -> Result<HttpResponse, ApiError> {
    let idempotency = Idempotency::from_header(idempotency_key(&req), "POST /v1/licences", &*body)?;
    let licence = licences::create_licence(&state, &caller, body.into_inner(), idempotency).await?;
    Ok(HttpResponse::Created().json(views::licence(licence, caller.now)))
}

#[utoipa::path(tag = "licences", params(("id" = LicenceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = LicenceView),
    (status = 404, body = Problem),
))]
#[get("/licences/{id}")]
pub async fn get_licence(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LicenceId>,
) -> Result<HttpResponse, ApiError> {
    let licence = licences::get_licence(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::licence(licence, caller.now)))
}

/// Changes name, note, quantity, owner (assigns an unassigned licence) or end date.
#[utoipa::path(tag = "licences", params(("id" = LicenceId, Path)), request_body = UpdateLicence,
    security(("bearer" = [])), responses(
    (status = 200, body = LicenceView),
    (status = 404, body = Problem),
    (status = 409, body = Problem),
    (status = 422, body = Problem),
))]
#[patch("/licences/{id}")]
pub async fn update_licence(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LicenceId>,
    body: web::Json<UpdateLicence>,
) -> Result<HttpResponse, ApiError> {
    let licence = licences::update_licence(&state, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::licence(licence, caller.now)))
}

/// Deletes a licence; refused with `licence_in_use` once it was redeemed or while
/// any of its seats is held.
#[utoipa::path(tag = "licences", params(("id" = LicenceId, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = 404, body = Problem),
    (status = 409, description = "`licence_in_use`", body = Problem),
))]
#[delete("/licences/{id}")]
pub async fn delete_licence(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LicenceId>,
) -> Result<HttpResponse, ApiError> {
    licences::delete_licence(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Pauses an active licence: it stays, but its seats stop counting.
#[utoipa::path(tag = "licences", params(("id" = LicenceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = LicenceView),
    (status = 404, body = Problem),
    (status = 409, description = "`invalid_transition`", body = Problem),
))]
#[post("/licences/{id}/pause")]
pub async fn pause_licence(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LicenceId>,
) -> Result<HttpResponse, ApiError> {
    let licence = licences::pause_licence(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::licence(licence, caller.now)))
}

/// Resumes a paused licence.
#[utoipa::path(tag = "licences", params(("id" = LicenceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = LicenceView),
    (status = 404, body = Problem),
    (status = 409, description = "`invalid_transition`", body = Problem),
))]
#[post("/licences/{id}/resume")]
pub async fn resume_licence(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LicenceId>,
) -> Result<HttpResponse, ApiError> {
    let licence = licences::resume_licence(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::licence(licence, caller.now)))
}
