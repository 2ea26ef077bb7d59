use crate::error::ApiError;
use crate::service::{accounts, Caller};
use crate::state::AppState;
use crate::views;
use actix_web::{get, patch, post, web, HttpResponse};
use leasehold_core::ids::OrganisationId;
use leasehold_core::ports::{ListFilter, PageRequest};
use leasehold_core::wire::{CreateOrganisation, ListQuery, OrganisationView, Page, Problem, UpdateOrganisation};

/// Organisations the caller may see: all (vendor admin), those assigned to them
/// (account manager), or their own.
#[utoipa::path(tag = "organisations", params(ListQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<OrganisationView>),
    (status = 401, body = Problem),
))]
#[get("/organisations")]
pub async fn list_organisations(
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
    let found = state
        .store
        .organisations(caller.principal.visibility(), &filter)
        .await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::organisation)))
}

/// Creates a customer organisation (vendor admin).
#[utoipa::path(tag = "organisations", request_body = CreateOrganisation, security(("bearer" = [])), responses(
    (status = 201, body = OrganisationView),
    (status = 403, body = Problem),
    (status = 422, body = Problem),
))]
#[post("/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let organisation = accounts::create_organisation(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(views::organisation(organisation)))
}

#[utoipa::path(tag = "organisations", params(("id" = OrganisationId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = OrganisationView),
    (status = 404, body = Problem),
))]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrganisationId>,
) -> Result<HttpResponse, ApiError> {
    let organisation = accounts::get_organisation(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::organisation(organisation)))
}

/// Renames an organisation or assigns its account manager (vendor admin).
#[utoipa::path(tag = "organisations", params(("id" = OrganisationId, Path)), request_body = UpdateOrganisation,
    security(("bearer" = [])), responses(
    (status = 200, body = OrganisationView),
    (status = 404, body = Problem),
    (status = 422, body = Problem),
))]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrganisationId>,
    body: web::Json<UpdateOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let organisation = accounts::update_organisation(&state, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::organisation(organisation)))
}
