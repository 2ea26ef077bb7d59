use crate::error::ApiError;
use crate::service::sessions::{self, CheckedOut};
use crate::service::Caller;
use crate::state::AppState;
use crate::views;
use actix_web::{delete, get, post, web, HttpResponse};
use leasehold_core::ids::LeaseId;
use leasehold_core::ports::{LeaseFilter, PageRequest};
use leasehold_core::wire::{
    CreateSession, Page, Problem, SessionGrant, SessionHeartbeat, SessionQuery, SessionQueued, SessionView,
};

/// Checks out a concurrent seat for a member from one client: the seat it holds
/// from that client (200), a new one (201), a place in the queue (202), or 409
/// `seat_unavailable` when the pool refuses to queue. Renew it with heartbeats
/// before `next_heartbeat_at`; unrenewed, it lapses at `expires_at` and the
/// reaper gives it to the next in line.
#[utoipa::path(tag = "sessions", request_body = CreateSession, security(("bearer" = [])), responses(
    (status = 200, description = "The seat held already", body = SessionGrant),
    (status = 201, description = "A new seat", body = SessionGrant),
    (status = 202, description = "Queued", body = SessionQueued),
    (status = 403, body = Problem),
    (status = 409, description = "`seat_unavailable`", body = Problem),
    (status = 422, body = Problem),
))]
#[post("/sessions")]
pub async fn create_session(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateSession>,
) -> Result<HttpResponse, ApiError> {
    Ok(match sessions::check_out(&state, &caller, body.into_inner()).await? {
        CheckedOut::Granted { grant, new: true } => HttpResponse::Created().json(grant),
        CheckedOut::Granted { grant, new: false } => HttpResponse::Ok().json(grant),
        CheckedOut::Queued(queued) => HttpResponse::Accepted().json(queued),
    })
}

/// Renews a session's lease (and, with `activity`, its idle deadline); 409
/// `session_lapsed` when the seat was reclaimed.
#[utoipa::path(tag = "sessions", params(("id" = LeaseId, Path)), request_body = Option<SessionHeartbeat>, security(("bearer" = [])), responses(
    (status = 200, body = SessionGrant),
    (status = 409, description = "`session_lapsed`", body = Problem),
))]
#[post("/sessions/{id}/heartbeat")]
pub async fn heartbeat_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LeaseId>,
    body: crate::extract::OptionalJson<SessionHeartbeat>,
) -> Result<HttpResponse, ApiError> {
    let activity = body.into_inner().is_some_and(|b| b.activity);
    Ok(HttpResponse::Ok().json(sessions::heartbeat(&state, &caller, id.into_inner(), activity).await?))
}

/// Ends a session: the member (or its integration) logs out — the seat frees at
/// once, or lingers for the same client when the pool says so; an administrator
/// force-releases.
#[utoipa::path(tag = "sessions", params(("id" = LeaseId, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Released"),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
))]
#[delete("/sessions/{id}")]
pub async fn delete_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LeaseId>,
) -> Result<HttpResponse, ApiError> {
    sessions::end(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who holds the concurrent seats: holder, client, since, last heartbeat and
/// state (active, lapsing, idle, lingering). Members see their own.
#[utoipa::path(tag = "sessions", params(SessionQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<SessionView>),
    (status = 401, body = Problem),
))]
#[get("/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SessionQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let user = sessions::list_scope(&caller).or(query.user);
    let filter = LeaseFilter {
        organisation: query.organisation,
        product: query.product,
        user,
        page,
    };
    let found = state.store.leases(caller.principal.visibility(), &filter).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, |d| views::session(d, caller.now))))
}

#[utoipa::path(tag = "sessions", params(("id" = LeaseId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = SessionView),
    (status = 404, body = Problem),
))]
#[get("/sessions/{id}")]
pub async fn get_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LeaseId>,
) -> Result<HttpResponse, ApiError> {
    let lease = sessions::get(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::session(lease, caller.now)))
}
