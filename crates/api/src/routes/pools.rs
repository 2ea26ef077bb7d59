use crate::error::ApiError;
use crate::service::{pools, Caller};
use crate::state::AppState;
use crate::views;
use actix_web::{get, patch, post, web, HttpResponse};
use leasehold_core::ids::PoolId;
use leasehold_core::ports::{PageRequest, PoolFilter};
use leasehold_core::wire::{BuySeats, LicenceView, Page, PoolQuery, PoolView, Problem, UpdatePool};
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
    Ok(HttpResponse::Ok().json(views::page(found, page, |p| views::pool(p, caller.now))))
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
    Ok(HttpResponse::Ok().json(pool_view(&state, &caller, id.into_inner()).await?))
}

/// Changes a pool's settings: the queue policy (`auto_grant`, `approval`,
/// `refuse`), for concurrent seats the lease, grace, idle timeout and linger,
/// the low-seat alert (below a number or a percentage of seats) and the
/// automatic top-up (below k seats add n, at most m times a month, optionally
/// asking an admin first). Each fires once per crossing of its threshold and
/// re-arms only when the pool rises above it again.
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
    pools::update_pool(&state, &caller, id, &body).await?;
    Ok(HttpResponse::Ok().json(pool_view(&state, &caller, id).await?))
}

async fn pool_view(state: &AppState, caller: &Caller, id: PoolId) -> Result<PoolView, ApiError> {
    let pool = state
        .store
        .pool(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("pool")))?;
    Ok(views::pool(pool, caller.now))
}

/// Adds seats by hand: a purchase that creates an active licence of the
/// pool's organisation, priced from the product and uninvoiced (ready for the
/// next invoice). Waiting requests get the new seats at once.
#[utoipa::path(tag = "pools", params(("id" = PoolId, Path)), request_body = BuySeats, security(("bearer" = [])), responses(
    (status = 201, body = LicenceView),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 422, body = Problem),
))]
#[post("/pools/{id}/seats")]
pub async fn buy_seats(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PoolId>,
    body: web::Json<BuySeats>,
) -> Result<HttpResponse, ApiError> {
    let licence = pools::buy_seats(&state, &caller, id.into_inner(), &body).await?;
    let details = state
        .store
        .licence(caller.principal.visibility(), licence.id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("licence")))?;
    Ok(HttpResponse::Created().json(views::licence(details, caller.now)))
}

/// Approves the automatic top-up that waits for an admin: its seats are added now.
#[utoipa::path(tag = "pools", params(("id" = PoolId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = PoolView),
    (status = 404, body = Problem),
    (status = 409, body = Problem, description = "`no_pending_topup`"),
))]
#[post("/pools/{id}/topup/approve")]
pub async fn approve_topup(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PoolId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    pools::settle_topup(&state, &caller, id, true).await?;
    Ok(HttpResponse::Ok().json(pool_view(&state, &caller, id).await?))
}

/// Dismisses the automatic top-up that waits for an admin: nothing is added.
#[utoipa::path(tag = "pools", params(("id" = PoolId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = PoolView),
    (status = 404, body = Problem),
    (status = 409, body = Problem, description = "`no_pending_topup`"),
))]
#[post("/pools/{id}/topup/dismiss")]
pub async fn dismiss_topup(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PoolId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    pools::settle_topup(&state, &caller, id, false).await?;
    Ok(HttpResponse::Ok().json(pool_view(&state, &caller, id).await?))
}
