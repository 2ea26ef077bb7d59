use crate::error::ApiError;
use crate::service::{sessions, Caller};
use crate::state::AppState;
use crate::views;
use actix_web::{get, patch, web, HttpResponse};
use leasehold_core::ids::PoolId;
use leasehold_core::ports::{PageRequest, PoolFilter};
use leasehold_core::wire::{Page, PoolQuery, PoolView, Problem, UpdatePool};
use leasehold_core::DomainError;

/// Pools (one per organisation and product): capacity, held, available,
/// over-capacity, queue policy and waiting requests.
#[utoipa::path(tag = "pools", params(PoolQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<PoolView>),
    (status = 401, body = Problem),
))]
#[get("/pools")]
pub async fn list_pools(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PoolQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.may_read_licences()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = PoolFilter {
        organisation: query.organisation,
        product: query.product,
        page,
    };
    let found = state.store.pools(caller.principal.visibility(), &filter).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::pool)))
}

#[utoipa::path(tag = "pools", params(("id" = PoolId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = PoolView),
    (status = 404, body = Problem),
))]
#[get("/pools/{id}")]
pub async fn get_pool(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PoolId>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.may_read_licences()?;
    let pool = state
        .store
        .pool(caller.principal.visibility(), id.into_inner())
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("pool")))?;
    Ok(HttpResponse::Ok().json(views::pool(pool)))
}

/// Changes a pool's settings: the queue policy (`auto_grant`, `approval`,
/// `refuse`) and, for concurrent seats, the lease, grace, idle timeout and linger.
#[utoipa::path(tag = "pools", params(("id" = PoolId, Path)), request_body = UpdatePool, security(("bearer" = [])), responses(
    (status = 200, body = PoolView),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 422, body = Problem),
))]
#[patch("/pools/{id}")]
pub async fn update_pool(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PoolId>,
    body: web::Json<UpdatePool>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    sessions::update_pool(&state, &caller, id, &body).await?;
    let pool = state
        .store
        .pool(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("pool")))?;
    Ok(HttpResponse::Ok().json(views::pool(pool)))
}
