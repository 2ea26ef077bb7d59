use crate::error::ApiError;
use crate::service::{accounts, Caller};
use crate::state::AppState;
use crate::views;
use actix_web::{delete, get, post, web, HttpResponse};
use leasehold_core::ids::ApiKeyId;
use leasehold_core::ports::{ListFilter, PageRequest};
use leasehold_core::wire::{ApiKeyView, CreateApiKey, CreatedApiKey, ListQuery, Page, Problem};

/// API keys the caller may see (never their secrets).
#[utoipa::path(tag = "api-keys", params(ListQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<ApiKeyView>),
    (status = 401, body = Problem),
))]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = ListFilter {
        q: query.q.clone(),
        organisation: query.organisation,
        page,
    };
    let found = state.store.api_keys(caller.principal.visibility(), &filter).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::api_key)))
}

/// Creates an API key with scopes. The key is in this response only; Leasehold
/// keeps just its hash. Send it as `Authorization: Bearer <key>`.
#[utoipa::path(tag = "api-keys", request_body = CreateApiKey, security(("bearer" = [])), responses(
    (status = 201, body = CreatedApiKey),
    (status = 403, body = Problem),
    (status = 422, body = Problem),
))]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let (key, secret) = accounts::create_api_key(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(CreatedApiKey {
        id: key.id,
        key: secret,
        api_key: views::api_key(key),
    }))
}

/// Revokes an API key at once.
#[utoipa::path(tag = "api-keys", params(("id" = ApiKeyId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = ApiKeyView),
    (status = 404, body = Problem),
))]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let key = accounts::revoke_api_key(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::api_key(key)))
}
