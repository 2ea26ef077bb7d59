use crate::error::ApiError;
use crate::routes::idempotency_key;
use crate::service::{invoices, Caller, Idempotency};
use crate::state::AppState;
use crate::views;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use leasehold_core::ids::InvoiceId;
use leasehold_core::ports::PageRequest;
use leasehold_core::wire::{InvoiceBatch, InvoiceQuery, InvoiceView, Page, Problem, SendInvoices};

/// Sends invoices for up to 20 licences at once: one invoice per licence for
/// its current billing period (a subscription's term, or a perpetual
/// licence's whole life), amount = unit price × quantity, e-mailed to the
/// licence's owning user through the outbox, billing status `invoiced`.
/// Each licence gets a result: `invoiced`, `already_invoiced` (the period was
/// billed before: never twice), `no_owner`, `not_billable` or `not_found`.
/// `Idempotency-Key` replays the first request's results.
#[utoipa::path(tag = "invoices", request_body = SendInvoices, security(("bearer" = [])), responses(
    (status = 200, body = InvoiceBatch),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 422, body = Problem, description = "`too_many_selected` (more than 20), `validation_failed`"),
))]
#[post("/invoices")]
pub async fn send_invoices(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SendInvoices>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let idempotency = Idempotency::from_header(idempotency_key(&req), "POST /v1/invoices", &*body)?;
    let batch = invoices::send(&state, &caller, &body, idempotency).await?;
    Ok(HttpResponse::Ok().json(batch))
}

/// Invoices, newest first, filtered by status and organisation.
#[utoipa::path(tag = "invoices", params(InvoiceQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<InvoiceView>),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
))]
#[get("/invoices")]
pub async fn list_invoices(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InvoiceQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let found = invoices::list(&state, &caller, &query).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, |i| i)))
}

#[utoipa::path(tag = "invoices", params(("id" = InvoiceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = InvoiceView),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
))]
#[get("/invoices/{id}")]
pub async fn get_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(invoices::get(&state, &caller, id.into_inner()).await?))
}

/// Marks an invoice paid (and its licence's billing status `paid`), with an audit entry.
#[utoipa::path(tag = "invoices", params(("id" = InvoiceId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = InvoiceView),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 409, body = Problem, description = "`already_paid`"),
))]
#[post("/invoices/{id}/paid")]
pub async fn mark_invoice_paid(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(invoices::mark_paid(&state, &caller, id.into_inner()).await?))
}
