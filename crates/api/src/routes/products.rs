use crate::error::ApiError;
use crate::service::{products, Caller};
use crate::state::AppState;
use crate::views;
use actix_web::{get, patch, post, web, HttpResponse};
use leasehold_core::ids::ProductId;
use leasehold_core::ports::{ListFilter, PageRequest};
use leasehold_core::wire::{CreateProduct, ListQuery, Page, Problem, ProductView, UpdateProduct};

/// The vendor's products (visible to every signed-in caller).
#[utoipa::path(tag = "products", params(ListQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<ProductView>),
    (status = 401, body = Problem),
))]
#[get("/products")]
pub async fn list_products(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = ListFilter {
        q: query.q.clone(),
        organisation: None,
        page,
    };
    let found = state.store.products(&filter).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::product)))
}

/// Creates a product with its seat kind and prices per plan (vendor admin).
#[utoipa::path(tag = "products", request_body = CreateProduct, security(("bearer" = [])), responses(
    (status = 201, body = ProductView),
    (status = 403, body = Problem),
    (status = 422, body = Problem),
))]
#[post("/products")]
pub async fn create_product(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateProduct>,
) -> Result<HttpResponse, ApiError> {
    let product = products::create_product(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(views::product(product)))
}

#[utoipa::path(tag = "products", params(("id" = ProductId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = ProductView),
    (status = 404, body = Problem),
))]
#[get("/products/{id}")]
pub async fn get_product(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<ProductId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(views::product(products::get_product(&state, id.into_inner()).await?)))
}

/// Renames a product or changes its prices (vendor admin). Existing licences keep
/// the price they were sold at.
#[utoipa::path(tag = "products", params(("id" = ProductId, Path)), request_body = UpdateProduct,
    security(("bearer" = [])), responses(
    (status = 200, body = ProductView),
    (status = 404, body = Problem),
    (status = 422, body = Problem),
))]
#[patch("/products/{id}")]
pub async fn update_product(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    body: web::Json<UpdateProduct>,
) -> Result<HttpResponse, ApiError> {
    let product = products::update_product(&state, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::product(product)))
}
