//! Who is told, and how: e-mail recipients, webhook endpoints and the log of
//! their deliveries (replayable).

use crate::auth::random_secret;
use crate::error::ApiError;
use crate::service::Caller;
use crate::state::AppState;
use crate::views;
use leasehold_core::error::Validator;
use leasehold_core::ids::{DeliveryId, OrganisationId, WebhookId};
use leasehold_core::notify::{parse_events, validate_recipients, validate_webhook_url, Recipient};
use leasehold_core::ports::{DeliveryFilter, ListFilter, NewWebhook, PageRequest, Webhook, WebhookChange};
use leasehold_core::values::EventKind;
use leasehold_core::wire::{
    CreateWebhook, DeliveryQuery, DeliveryView, Page, PutRecipients, RecipientList, RecipientView, UpdateWebhook,
    WebhookQuery, WebhookView,
};
use leasehold_core::{DomainError, FieldError};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Webhook secrets start with this, so they are recognisable in a secret scanner.
const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// Endpoints per organisation.
const MAX_WEBHOOKS: u64 = 20;

/// The organisation a request is about: a customer's own; vendor staff name it.
fn organisation_of(caller: &Caller, given: Option<OrganisationId>, field: &str) -> Result<OrganisationId, ApiError> {
    match (caller.principal.visibility().organisation(), given) {
        (Some(own), None) => Ok(own),
        (Some(own), Some(given)) if given == own => Ok(own),
        (Some(_), Some(_)) => Err(DomainError::NotFound("organisation").into()),
        (None, Some(given)) => Ok(given),
        (None, None) => Err(DomainError::field(field, "required", "name the organisation").into()),
    }
}

fn recipient_view(r: Recipient) -> RecipientView {
    RecipientView {
        email: r.email.as_str().to_owned(),
        events: r.events.into_iter().collect(),
        pool_id: r.pool_id,
    }
}

pub async fn recipients(
    state: &AppState,
    caller: &Caller,
    organisation: Option<OrganisationId>,
) -> Result<RecipientList, ApiError> {
    caller.principal.may_manage_notifications()?;
    let organisation = organisation_of(caller, organisation, "organisation")?;
    let found = state
        .store
        .recipients(caller.principal.visibility(), organisation)
        .await?;
    Ok(RecipientList {
        organisation_id: organisation,
        items: found.into_iter().map(recipient_view).collect(),
    })
}

pub async fn set_recipients(state: &AppState, caller: &Caller, body: PutRecipients) -> Result<RecipientList, ApiError> {
    caller.principal.may_manage_notifications()?;
    let organisation = organisation_of(caller, body.organisation_id, "organisation_id")?;
    let recipients = validate_recipients(&body.recipients).map_err(DomainError::Validation)?;
    let saved = state
        .store
        .set_recipients(
            &caller.write_context(),
            caller.principal.visibility(),
            organisation,
            &recipients,
        )
        .await?;
    Ok(RecipientList {
        organisation_id: organisation,
        items: saved.into_iter().map(recipient_view).collect(),
    })
}

/// A webhook's event filter: known kinds, and not an endpoint's own failures
/// (those are told by e-mail and in the app).
fn events(v: &mut Validator, names: &[String]) -> BTreeSet<EventKind> {
    let mut errors = Vec::new();
    let kinds = parse_events(names, "events", &mut errors);
    if kinds.contains(&EventKind::WebhookFailing) {
        errors.insert(
            0,
            FieldError::new(
                "events",
                "not_for_webhooks",
                "an endpoint's own failures are told by e-mail and in the app, not to endpoints",
            ),
        );
    }
    errors.into_iter().for_each(|e| v.push(e));
    kinds
}

fn new_secret() -> String {
    format!("{WEBHOOK_SECRET_PREFIX}{}", random_secret())
}

pub async fn create_webhook(state: &AppState, caller: &Caller, body: CreateWebhook) -> Result<WebhookView, ApiError> {
    caller.principal.may_manage_notifications()?;
    let organisation = organisation_of(caller, body.organisation_id, "organisation_id")?;
    let mut v = Validator::new();
    let url = v.check(validate_webhook_url(&body.url));
    let description = body.description.trim().chars().take(200).collect::<String>();
    let events = events(&mut v, &body.events);
    v.finish()?;
    let vis = caller.principal.visibility();
    let existing = ListFilter {
        organisation: Some(organisation),
        ..ListFilter::default()
    };
    if state.store.webhooks(vis, &existing).await?.total >= MAX_WEBHOOKS {
        return Err(DomainError::Conflict {
            code: "too_many_webhooks",
            message: format!("an organisation has at most {MAX_WEBHOOKS} webhook endpoints"),
        }
        .into());
    }
    let secret = new_secret();
    let webhook = Webhook {
        id: WebhookId::from_uuid(Uuid::now_v7()),
        organisation_id: organisation,
        url: url.unwrap_or_default(),
        description,
        events,
        enabled: true,
        consecutive_failures: 0,
        created_at: caller.now,
    };
    let new = NewWebhook {
        webhook,
        secret: secret.clone(),
    };
    let created = state.store.create_webhook(&caller.write_context(), vis, &new).await?;
    Ok(views::webhook(created, Some(secret)))
}

pub async fn webhooks(state: &AppState, caller: &Caller, query: &WebhookQuery) -> Result<Page<WebhookView>, ApiError> {
    caller.principal.may_manage_notifications()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = ListFilter {
        organisation: query.organisation,
        page,
        ..ListFilter::default()
    };
    let found = state.store.webhooks(caller.principal.visibility(), &filter).await?;
    Ok(Page {
        items: found.items.into_iter().map(|w| views::webhook(w, None)).collect(),
        total: found.total,
        page: page.page,
        per_page: page.per_page,
    })
}

pub async fn webhook(state: &AppState, caller: &Caller, id: WebhookId) -> Result<WebhookView, ApiError> {
    caller.principal.may_manage_notifications()?;
    let found = state.store.webhook(caller.principal.visibility(), id).await?;
    Ok(views::webhook(found.ok_or(DomainError::NotFound("webhook"))?, None))
}

pub async fn update_webhook(
    state: &AppState,
    caller: &Caller,
    id: WebhookId,
    body: UpdateWebhook,
) -> Result<WebhookView, ApiError> {
    caller.principal.may_manage_notifications()?;
    let mut v = Validator::new();
    let url = body.url.as_deref().and_then(|url| v.check(validate_webhook_url(url)));
    let description = body
        .description
        .as_deref()
        .map(|d| d.trim().chars().take(200).collect::<String>());
    let events = body.events.as_deref().map(|names| events(&mut v, names));
    v.finish()?;
    let secret = body.rotate_secret.then(new_secret);
    let change = WebhookChange {
        url,
        description,
        events,
        enabled: body.enabled,
        secret: secret.clone(),
    };
    let updated = state
        .store
        .update_webhook(&caller.write_context(), caller.principal.visibility(), id, &change)
        .await?;
    Ok(views::webhook(updated, secret))
}

pub async fn delete_webhook(state: &AppState, caller: &Caller, id: WebhookId) -> Result<(), ApiError> {
    caller.principal.may_manage_notifications()?;
    Ok(state
        .store
        .delete_webhook(&caller.write_context(), caller.principal.visibility(), id)
        .await?)
}

pub async fn deliveries(
    state: &AppState,
    caller: &Caller,
    query: &DeliveryQuery,
) -> Result<Page<DeliveryView>, ApiError> {
    caller.principal.may_manage_notifications()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = DeliveryFilter {
        organisation: query.organisation,
        webhook: query.webhook,
        channel: query.channel,
        status: query.status,
        page,
    };
    let found = state.store.deliveries(caller.principal.visibility(), &filter).await?;
    Ok(Page {
        items: found.items.into_iter().map(views::delivery).collect(),
        total: found.total,
        page: page.page,
        per_page: page.per_page,
    })
}

pub async fn replay_delivery(state: &AppState, caller: &Caller, id: DeliveryId) -> Result<DeliveryView, ApiError> {
    caller.principal.may_manage_notifications()?;
    let replayed = state
        .store
        .replay_delivery(&caller.write_context(), caller.principal.visibility(), id)
        .await?;
    Ok(views::delivery(replayed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_events_refuse_unknown_kinds_and_an_endpoints_own_failures() {
        let mut v = Validator::new();
        let kinds = events(&mut v, &["low_seats".into(), "low_seats".into(), "expired".into()]);
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            vec![EventKind::LowSeats, EventKind::Expired]
        );
        assert!(v.finish().is_ok());
        let mut v = Validator::new();
        events(&mut v, &["webhook_failing".into(), "lunch".into()]);
        let Err(DomainError::Validation(errors)) = v.finish() else {
            panic!("accepted")
        };
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, vec!["not_for_webhooks", "unknown_event"]);
    }

    #[test]
    fn webhook_secrets_are_prefixed_and_unique() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a.len() > 40);
        assert_ne!(a, b);
    }
}
