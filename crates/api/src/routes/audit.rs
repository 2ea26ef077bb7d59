use crate::error::ApiError;
use crate::service::Caller;
use crate::state::AppState;
use crate::views;
use actix_web::{get, web, HttpResponse};
use leasehold_core::ports::{AuditFilter, PageRequest};
use leasehold_core::wire::{AuditEntryView, AuditQuery, Page, Problem};

/// The audit log: who did what to which object, with before and after, newest first.
#[utoipa::path(tag = "audit", params(AuditQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<AuditEntryView>),
    (status = 403, body = Problem),
))]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.may_read_audit()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = AuditFilter {
        organisation: query.organisation,
        product: query.product,
        licence: query.licence,
        actor: query.actor,
        from: query.from,
        to: query.to,
        page,
    };
    let found = state.store.audit(caller.principal.visibility(), &filter).await?;
    Ok(HttpResponse::Ok().json(views::page(found, page, views::audit_entry)))
}
