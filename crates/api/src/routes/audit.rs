use crate::error::ApiError;
use crate::service::Caller;
use crate::state::AppState;
use crate::views;
use actix_web::{get, web, HttpResponse};
use leasehold_core::ports::{AuditFilter, PageRequest};
use leasehold_core::wire::{AuditEntryView, AuditQuery, AuditVerification, Page, Problem};

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

/// Recomputes the hash chain of every organisation the caller may see (after
/// sealing what is pending) and says where any chain breaks: an edited entry,
/// a deleted one or a truncated tail. `verified` is false if any chain breaks.
#[utoipa::path(tag = "audit", security(("bearer" = [])), responses(
    (status = 200, body = AuditVerification),
    (status = 403, body = Problem),
))]
#[get("/audit/verify")]
pub async fn verify_audit(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.principal.may_read_audit()?;
    let verification =
        crate::service::audit::verify(state.store.as_ref(), caller.principal.visibility(), caller.now).await?;
    Ok(HttpResponse::Ok().json(verification))
}
