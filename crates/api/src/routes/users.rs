use crate::error::ApiError;
use crate::service::{accounts, Caller};
use crate::state::AppState;
use crate::views;
use actix_web::{get, post, web, HttpResponse};
use leasehold_core::ids::UserId;
use leasehold_core::ports::{ListFilter, PageRequest};
use leasehold_core::wire::{CreateUser, ListQuery, Page, Problem, UserView};

/// Users the caller may see.
#[utoipa::path(tag = "users", params(ListQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<UserView>),
    (status = 401, body = Problem),
))]
#[get("/users")]
pub async fn list_users(
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
    let found = state.store.users(caller.principal.visibility(), &filter).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::user)))
}

/// Creates a user. Vendor admins create anyone; account managers create customer
/// users; customer admins create users of their own organisation.
#[utoipa::path(tag = "users", request_body = CreateUser, security(("bearer" = [])), responses(
    (status = 201, body = UserView),
    (status = 403, body = Problem),
    (status = 422, body = Problem),
))]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let user = accounts::create_user(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(views::user(user)))
}

#[utoipa::path(tag = "users", params(("id" = UserId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = UserView),
    (status = 404, body = Problem),
))]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let user = accounts::get_user(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::user(user)))
}
