//! Invoices: sending up to 20 at once (one per licence and billing period,
//! e-mailed to each licence's owner through the outbox), listing, viewing and
//! marking paid.

use super::{Caller, Idempotency};
use crate::error::ApiError;
use crate::state::AppState;
use leasehold_core::ids::InvoiceId;
use leasehold_core::licence::{too_many_selected, MAX_INVOICE_BATCH};
use leasehold_core::ports::{InvoiceFilter, Page, PageRequest};
use leasehold_core::wire::{InvoiceBatch, InvoiceQuery, InvoiceView, SendInvoices};
use leasehold_core::DomainError;

pub async fn send(
    state: &AppState,
    caller: &Caller,
    body: &SendInvoices,
    idempotency: Option<Idempotency>,
) -> Result<InvoiceBatch, ApiError> {
    caller.principal.may_invoice()?;
    if body.licence_ids.is_empty() {
        return Err(DomainError::field("licence_ids", "required", "select at least one licence").into());
    }
    if body.licence_ids.len() > MAX_INVOICE_BATCH {
        return Err(too_many_selected(body.licence_ids.len()).into());
    }
    let claim = idempotency.map(|i| i.claim(&caller.principal, uuid::Uuid::now_v7()));
    let batch = state
        .store
        .send_invoices(
            &caller.write_context(),
            caller.principal.visibility(),
            &body.licence_ids,
            claim.as_ref(),
        )
        .await?;
    Ok(batch)
}

pub async fn list(state: &AppState, caller: &Caller, query: &InvoiceQuery) -> Result<Page<InvoiceView>, ApiError> {
    caller.principal.may_read_licences()?;
    let filter = InvoiceFilter {
        status: query.status,
        organisation: query.organisation,
        page: PageRequest::new(query.page, query.per_page)?,
    };
    Ok(state.store.invoices(caller.principal.visibility(), &filter).await?)
}

pub async fn get(state: &AppState, caller: &Caller, id: InvoiceId) -> Result<InvoiceView, ApiError> {
    caller.principal.may_read_licences()?;
    state
        .store
        .invoice(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("invoice")))
}

pub async fn mark_paid(state: &AppState, caller: &Caller, id: InvoiceId) -> Result<InvoiceView, ApiError> {
    caller.principal.may_invoice()?;
    Ok(state
        .store
        .mark_invoice_paid(&caller.write_context(), caller.principal.visibility(), id)
        .await?)
}
