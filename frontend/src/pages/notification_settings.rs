//! Notification settings (`/notifications/settings`): who is e-mailed about
//! what (per event, optionally per pool), the organisation's signed webhook
//! endpoints, and the log of every e-mail and webhook delivery with replay.

use crate::api::{self, ApiError};
use crate::components::dialog::{ConfirmDialog, FormFooter, Modal};
use crate::components::form::{clear_field, field_error, invalid, Field, FormError};
use crate::components::format::{count_label, datetime_full, relative};
use crate::components::icons::{icon, Icon};
use crate::components::menu::{ActionMenu, MenuAction};
use crate::components::pagination::Pagination;
use crate::components::secret::SecretDialog;
use crate::components::state::{set_title, table_placeholder, EmptyState, NoAccess, PageHeader};
use crate::components::toast::{use_toasts, Toasts};
use crate::lookups;
use crate::pages::notifications::{kind_label, NotificationTabs};
use crate::resource::{fetch, Fetch};
use leasehold_core::ids::{OrganisationId, PoolId, WebhookId};
use leasehold_core::values::{Channel, DeliveryStatus, Email, EventKind, Role};
use leasehold_core::wire::{
    CreateWebhook, DeliveryQuery, DeliveryView, Page, PoolQuery, PoolView, PutRecipients, RecipientInput,
    RecipientList, RecipientView, UpdateWebhook, WebhookQuery, WebhookView,
};
use leasehold_core::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;

const LOG_PER_PAGE: u32 = 20;

/// The events a recipient can be told about (all but an endpoint's failures,
/// which only e-mail and the app report, are for webhooks too).
const RECIPIENT_EVENTS: &[EventKind] = EventKind::ALL;

/// Who manages recipients and webhooks: administrators.
pub fn may_manage(role: Role) -> bool {
    matches!(role, Role::VendorAdmin | Role::AccountManager | Role::OrgAdmin)
}

/// The events of a recipient or endpoint, in a few words.
fn events_summary(events: &[EventKind], everything: &str) -> String {
    match events.len() {
        0 => everything.to_string(),
        n if n == EventKind::ALL.len() => everything.to_string(),
        1..=3 => events.iter().map(|e| e.label()).collect::<Vec<_>>().join(", "),
        n => format!("{n} kinds of event"),
    }
}

fn pool_name(pools: &Fetch<Page<PoolView>>, id: Option<PoolId>) -> String {
    match id {
        None => "All pools".into(),
        Some(id) => pools
            .with_ok(|p| {
                p.items
                    .iter()
                    .find(|pool| pool.id == id)
                    .map(|pool| pool.product_name.clone())
            })
            .flatten()
            .unwrap_or_else(|| "A pool".into()),
    }
}

#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    set_title("Notification settings");
    let role = api::current_role();
    if !may_manage(role) {
        return view! { <NoAccess what="Notification settings" /> }.into_any();
    }
    let vendor = role.is_vendor();
    let orgs = lookups::organisations();
    // Vendor staff choose an organisation (the first one to begin with).
    let organisation = RwSignal::new(None::<OrganisationId>);
    if vendor {
        Effect::new(move |_| {
            if organisation.get_untracked().is_none() {
                if let Some(first) = orgs.with_ok(|list| list.first().map(|o| o.id)).flatten() {
                    organisation.set(Some(first));
                }
            }
        });
    }
    let ready = move || !vendor || organisation.get().is_some();
    view! {
        <PageHeader title="Notifications" subtitle="Who is told what, by e-mail and by webhook" />
        <NotificationTabs current="settings" />
        {vendor
            .then(|| {
                view! {
                    <div class="toolbar toolbar-page">
                        <label class="toolbar-label" for="settings-organisation">
                            "Organisation"
                        </label>
                        <select
                            id="settings-organisation"
                            class="select"
                            data-testid="settings-organisation"
                            on:change=move |ev| organisation.set(event_target_value(&ev).parse().ok())
                        >
                            {move || {
                                orgs.with_ok(|list| {
                                    list.iter()
                                        .map(|o| {
                                            let id = o.id;
                                            view! {
                                                <option
                                                    value=o.id.to_string()
                                                    prop:selected=move || organisation.get() == Some(id)
                                                >
                                                    {o.name.clone()}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                })
                            }}
                        </select>
                    </div>
                }
            })}
        {move || {
            if !ready() {
                return view! {
                    <section class="card">
                        <EmptyState
                            title="No organisation yet"
                            hint="Notification settings belong to a customer organisation."
                            symbol=Icon::Building
                        />
                    </section>
                }
                    .into_any();
            }
            let org = organisation.get();
            view! { <Settings organisation=org /> }.into_any()
        }}
    }
    .into_any()
}

/// The three cards for one organisation (`None`: the caller's own).
#[component]
fn Settings(organisation: Option<OrganisationId>) -> impl IntoView {
    let pools = fetch(
        move || organisation,
        |organisation| async move {
            let query = PoolQuery {
                organisation,
                per_page: Some(100),
                ..PoolQuery::default()
            };
            api::call(async |c| c.list_pools(&query).await).await
        },
    );
    let recipients = fetch(
        move || organisation,
        |organisation| async move { api::call(async |c| c.recipients(organisation).await).await },
    );
    let webhooks = fetch(
        move || organisation,
        |organisation| async move {
            let query = WebhookQuery {
                organisation,
                per_page: Some(100),
                ..WebhookQuery::default()
            };
            api::call(async |c| c.list_webhooks(&query).await).await
        },
    );
    let log_webhook = RwSignal::new(None::<WebhookId>);
    view! {
        <RecipientsCard organisation=organisation recipients=recipients pools=pools />
        <WebhooksCard organisation=organisation webhooks=webhooks log_webhook=log_webhook />
        <DeliveryLog organisation=organisation webhooks=webhooks log_webhook=log_webhook />
    }
}

/// Sends the whole list; the server checks it as a whole.
/// Where a recipient list is saved and who hears how it went.
#[derive(Clone, Copy)]
struct RecipientSaver {
    organisation: Option<OrganisationId>,
    recipients: Fetch<RecipientList>,
    toasts: Toasts,
}

fn save_recipients(
    saver: RecipientSaver,
    list: Vec<RecipientView>,
    done: String,
    pending: RwSignal<bool>,
    errors: Option<RwSignal<Option<ApiError>>>,
    on_saved: Callback<()>,
) {
    pending.set(true);
    let RecipientSaver {
        organisation,
        recipients,
        toasts,
    } = saver;
    let body = PutRecipients {
        organisation_id: organisation,
        recipients: list
            .into_iter()
            .map(|r| RecipientInput {
                email: r.email,
                events: Some(r.events.iter().map(|e| e.as_str().to_string()).collect()),
                pool_id: r.pool_id,
            })
            .collect(),
    };
    spawn_local(async move {
        let result = api::call(async |c| c.put_recipients(&body).await).await;
        pending.try_set(false);
        match result {
            Ok(saved) => {
                recipients.data.set(Some(Ok(saved)));
                toasts.success(done);
                on_saved.run(());
            }
            Err(error) => match errors {
                Some(errors) => {
                    errors.try_set(Some(error));
                }
                None => toasts.error(format!("Could not save the recipients: {}", error.message())),
            },
        }
    });
}

/// A checkbox per event kind, ticking into `chosen` (and clearing the form's
/// `events` error).
fn event_checks(
    kinds: impl Iterator<Item = EventKind>,
    chosen: RwSignal<Vec<EventKind>>,
    errors: RwSignal<Option<ApiError>>,
    id_prefix: &'static str,
    testid_prefix: &'static str,
) -> impl IntoView {
    kinds
        .map(|kind| {
            let id = format!("{id_prefix}{}", kind.as_str());
            let label_for = id.clone();
            view! {
                <label class="checkbox" for=label_for>
                    <input
                        id=id
                        type="checkbox"
                        data-testid=format!("{testid_prefix}{}", kind.as_str())
                        prop:checked=move || chosen.with(|c| c.contains(&kind))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen
                                .update(|c| {
                                    c.retain(|k| *k != kind);
                                    if on {
                                        c.push(kind);
                                    }
                                });
                            clear_field(errors, &["events"]);
                        }
                    />
                    <span>{kind.label()}</span>
                </label>
            }
        })
        .collect_view()
}

#[derive(Clone, Copy, PartialEq)]
enum RecipientEdit {
    New,
    At(usize),
}

#[component]
fn RecipientsCard(
    organisation: Option<OrganisationId>,
    recipients: Fetch<RecipientList>,
    pools: Fetch<Page<PoolView>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let editing = RwSignal::new(None::<RecipientEdit>);
    let removing = RwSignal::new(None::<usize>);
    let busy = RwSignal::new(false);
    let remove = move |_| {
        let Some(index) = removing.get_untracked() else { return };
        let Some(mut list) = recipients.with_ok(|r| r.items.clone()) else {
            return;
        };
        if index >= list.len() {
            return;
        }
        let gone = list.remove(index);
        let saver = RecipientSaver {
            organisation,
            recipients,
            toasts,
        };
        save_recipients(
            saver,
            list,
            format!("{} is no longer told anything", gone.email),
            busy,
            None,
            Callback::new(move |_| {
                removing.try_set(None);
            }),
        );
    };
    view! {
        <section class="card" aria-labelledby="recipients-title" data-testid="recipients-card">
            <div class="card-bar">
                <div>
                    <h2 id="recipients-title" class="card-title">
                        "E-mail recipients"
                    </h2>
                    <p class="muted small">
                        "Each address gets the events ticked for it, about every pool or one."
                    </p>
                </div>
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="add-recipient"
                    disabled=move || recipients.with_ok(|_| ()).is_none()
                    on:click=move |_| editing.set(Some(RecipientEdit::New))
                >
                    {icon(Icon::Plus)}
                    "Add recipient"
                </button>
            </div>
            <div class="table-wrap" class:is-loading=move || recipients.loading.get()>
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"E-mail"</th>
                            <th scope="col">"Told about"</th>
                            <th scope="col">"Pool"</th>
                            <th scope="col" class="col-actions">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            table_placeholder(
                                recipients,
                                4,
                                2,
                                |list| list.items.is_empty(),
                                || view! { <EmptyState
                                                        title="Nobody is e-mailed yet"
                                                        hint="Add the people who should hear about low seats, top-ups and expiring licences."
                                                        symbol=Icon::Bell
                                                    /> }.into_any(),
                            )
                            .or_else(|| recipients.with_ok(|list| {
                                        list.items
                                            .iter()
                                            .cloned()
                                            .enumerate()
                                            .map(|(index, r)| {
                                                let actions = vec![
                                                    MenuAction {
                                                        label: "Edit".into(),
                                                        testid: "edit-recipient",
                                                        run: Callback::new(move |_| editing.set(Some(RecipientEdit::At(index)))),
                                                    },
                                                    MenuAction {
                                                        label: "Remove".into(),
                                                        testid: "remove-recipient",
                                                        run: Callback::new(move |_| removing.set(Some(index))),
                                                    },
                                                ];
                                                let events = r.events.clone();
                                                view! {
                                                    <tr data-testid="recipient-row" data-email=r.email.clone()>
                                                        <td class="cell-strong">{r.email.clone()}</td>
                                                        <td>
                                                            <div class="event-chips">
                                                                {events
                                                                    .iter()
                                                                    .map(|e| view! { <span class="event-chip">{e.label()}</span> })
                                                                    .collect_view()}
                                                            </div>
                                                        </td>
                                                        <td class="nowrap">{move || pool_name(&pools, r.pool_id)}</td>
                                                        <td class="col-actions">
                                                            <ActionMenu
                                                                label=format!("Actions for {}", r.email)
                                                                actions=actions
                                                                testid="recipient-menu"
                                                            />
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()
                                            .into_any()
                                    }))
                        }}
                    </tbody>
                </table>
            </div>
        </section>
        {move || {
            editing
                .get()
                .map(|edit| {
                    view! {
                        <RecipientDialog
                            organisation=organisation
                            edit=edit
                            recipients=recipients
                            pools=pools
                            on_close=Callback::new(move |_| editing.set(None))
                        />
                    }
                })
        }}
        {move || {
            removing
                .get()
                .and_then(|index| recipients.with_ok(|r| r.items.get(index).map(|r| r.email.clone())).flatten())
                .map(|email| {
                    view! {
                        <ConfirmDialog
                            title="Remove recipient?"
                            message=format!("{email} will no longer be e-mailed about anything.")
                            confirm_label="Remove"
                            danger=true
                            busy=busy
                            on_confirm=Callback::new(remove)
                            on_cancel=Callback::new(move |_| removing.set(None))
                        />
                    }
                })
        }}
    }
}

#[component]
fn RecipientDialog(
    organisation: Option<OrganisationId>,
    edit: RecipientEdit,
    recipients: Fetch<RecipientList>,
    pools: Fetch<Page<PoolView>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let current = match edit {
        RecipientEdit::At(index) => recipients.with_ok(|r| r.items.get(index).cloned()).flatten(),
        RecipientEdit::New => None,
    };
    let email = RwSignal::new(current.as_ref().map(|r| r.email.clone()).unwrap_or_default());
    let pool = RwSignal::new(current.as_ref().and_then(|r| r.pool_id));
    let chosen = RwSignal::new(current.as_ref().map(|r| r.events.clone()).unwrap_or_else(|| {
        vec![
            EventKind::LowSeats,
            EventKind::TopupAwaitingApproval,
            EventKind::ExpiringSoon,
            EventKind::Expired,
            EventKind::DeviceRequest,
        ]
    }));
    let errors = RwSignal::new(None::<ApiError>);
    let pending = RwSignal::new(false);
    let title = if current.is_some() {
        "Edit recipient"
    } else {
        "Add recipient"
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = Vec::new();
        let address = match Email::parse(&email.get_untracked()) {
            Ok(address) => Some(address.as_str().to_string()),
            Err(_) => {
                problems.push(FieldError::new(
                    "email",
                    "invalid_email",
                    "Enter an e-mail address such as ops@example.com.",
                ));
                None
            }
        };
        let events = chosen.get_untracked();
        if events.is_empty() {
            problems.push(FieldError::new(
                "events",
                "required",
                "Tick at least one event (or remove the recipient).",
            ));
        }
        let mut list = recipients.with_ok(|r| r.items.clone()).unwrap_or_default();
        if let Some(address) = &address {
            let clash = list
                .iter()
                .enumerate()
                .any(|(i, r)| &r.email == address && r.pool_id == pool.get_untracked() && edit != RecipientEdit::At(i));
            if clash {
                problems.push(FieldError::new(
                    "email",
                    "duplicate",
                    "This address is already a recipient for this pool.",
                ));
            }
        }
        let Some(address) = address.filter(|_| problems.is_empty()) else {
            errors.set(Some(ApiError::invalid(problems)));
            return;
        };
        let mut events = events;
        events.sort();
        let entry = RecipientView {
            email: address.clone(),
            events,
            pool_id: pool.get_untracked(),
        };
        match edit {
            RecipientEdit::At(index) if index < list.len() => list[index] = entry,
            _ => list.push(entry),
        }
        errors.set(None);
        let done = if current.is_some() {
            format!("Saved what {address} is told")
        } else {
            format!("{address} will be e-mailed")
        };
        let saver = RecipientSaver {
            organisation,
            recipients,
            toasts,
        };
        save_recipients(
            saver,
            list,
            done,
            pending,
            Some(errors),
            Callback::new(move |_| on_close.run(())),
        );
    };

    let email_error = field_error(errors, &["email"]);
    let events_error = field_error(errors, &["events"]);
    view! {
        <Modal title=title on_close=on_close testid="recipient-dialog" wide=true>
            <form class="form" on:submit=submit novalidate=true>
                <div class="modal-body">
                    <FormError errors=errors claimed=&["email", "events"] />
                    <div class="form-grid">
                        <Field label="E-mail" id="recipient-email" error=email_error>
                            <input
                                id="recipient-email"
                                class="input"
                                type="email"
                                autocomplete="email"
                                data-testid="recipient-email"
                                aria-invalid=invalid(email_error)
                                aria-describedby="recipient-email-msg"
                                prop:value=email
                                on:input=move |ev| {
                                    email.set(event_target_value(&ev));
                                    clear_field(errors, &["email"]);
                                }
                            />
                        </Field>
                        <Field label="About" id="recipient-pool" error=Signal::derive(|| None::<String>)>
                            <select
                                id="recipient-pool"
                                class="select"
                                data-testid="recipient-pool"
                                on:change=move |ev| pool.set(event_target_value(&ev).parse().ok())
                            >
                                <option value="" prop:selected=move || pool.get().is_none()>
                                    "All pools"
                                </option>
                                {move || {
                                    pools
                                        .with_ok(|p| {
                                            p.items
                                                .iter()
                                                .map(|p| {
                                                    let id = p.id;
                                                    view! {
                                                        <option
                                                            value=id.to_string()
                                                            prop:selected=move || pool.get() == Some(id)
                                                        >
                                                            {p.product_name.clone()}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()
                                        })
                                }}
                            </select>
                        </Field>
                    </div>
                    <fieldset class="fieldset" aria-describedby="recipient-events-msg">
                        <legend class="field-label">"Tell them about"</legend>
                        <div class="check-grid">
                            {event_checks(
                                RECIPIENT_EVENTS.iter().copied(),
                                chosen,
                                errors,
                                "recipient-event-",
                                "event-",
                            )}
                        </div>
                        <div id="recipient-events-msg" class="field-msg">
                            {move || {
                                events_error
                                    .get()
                                    .map(|message| {
                                        view! {
                                            <p class="field-error" data-testid="recipient-events-error">
                                                {icon(Icon::Alert)}
                                                {message}
                                            </p>
                                        }
                                    })
                            }}
                        </div>
                    </fieldset>
                </div>
                <FormFooter on_cancel=on_close pending=pending label="Save" busy_label="Saving…" />
            </form>
        </Modal>
    }
}

fn webhook_state(w: &WebhookView) -> (&'static str, String) {
    if !w.enabled {
        ("disabled", "Disabled".into())
    } else if w.consecutive_failures > 0 {
        ("failing", format!("Failing ({} in a row)", w.consecutive_failures))
    } else {
        ("active", "Active".into())
    }
}

#[derive(Clone)]
enum WebhookDialogState {
    Create,
    Edit(WebhookView),
    Delete(WebhookView),
    Secret { url: String, secret: String },
}

#[component]
fn WebhooksCard(
    organisation: Option<OrganisationId>,
    webhooks: Fetch<Page<WebhookView>>,
    log_webhook: RwSignal<Option<WebhookId>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let dialog = RwSignal::new(None::<WebhookDialogState>);
    let deleting = RwSignal::new(false);
    let change = move |w: WebhookView, body: UpdateWebhook, done: &'static str| {
        spawn_local(async move {
            match api::call(async |c| c.update_webhook(w.id, &body).await).await {
                Ok(updated) => {
                    if let Some(secret) = updated.secret.clone() {
                        dialog.set(Some(WebhookDialogState::Secret {
                            url: updated.url.clone(),
                            secret,
                        }));
                    }
                    toasts.success(format!("{done}: {}", updated.url));
                    webhooks.reload();
                }
                Err(error) => toasts.error(format!("Could not change the endpoint: {}", error.message())),
            }
        });
    };
    let delete = move |_| {
        let Some(WebhookDialogState::Delete(w)) = dialog.get_untracked() else {
            return;
        };
        deleting.set(true);
        spawn_local(async move {
            let result = api::call(async |c| c.delete_webhook(w.id).await).await;
            deleting.try_set(false);
            match result {
                Ok(()) => {
                    toasts.success(format!("Removed {}", w.url));
                    if log_webhook.get_untracked() == Some(w.id) {
                        log_webhook.set(None);
                    }
                    dialog.set(None);
                    webhooks.reload();
                }
                Err(error) => toasts.error(format!("Could not remove the endpoint: {}", error.message())),
            }
        });
    };
    let row = move |w: WebhookView| {
        let (state, state_label) = webhook_state(&w);
        let toggle = if w.enabled { "Disable" } else { "Enable" };
        let actions = {
            let (edit, on, rotate, remove) = (w.clone(), w.clone(), w.clone(), w.clone());
            let id = w.id;
            vec![
                MenuAction {
                    label: "Edit".into(),
                    testid: "edit-webhook",
                    run: Callback::new(move |_| dialog.set(Some(WebhookDialogState::Edit(edit.clone())))),
                },
                MenuAction {
                    label: "Show deliveries".into(),
                    testid: "webhook-deliveries",
                    run: Callback::new(move |_| {
                        log_webhook.set(Some(id));
                        crate::components::state::focus_by_id("delivery-log-title");
                    }),
                },
                MenuAction {
                    label: toggle.into(),
                    testid: "toggle-webhook",
                    run: Callback::new(move |_| {
                        let body = UpdateWebhook {
                            enabled: Some(!on.enabled),
                            ..UpdateWebhook::default()
                        };
                        change(on.clone(), body, if on.enabled { "Disabled" } else { "Enabled" });
                    }),
                },
                MenuAction {
                    label: "Rotate secret".into(),
                    testid: "rotate-webhook-secret",
                    run: Callback::new(move |_| {
                        let body = UpdateWebhook {
                            rotate_secret: true,
                            ..UpdateWebhook::default()
                        };
                        change(rotate.clone(), body, "New secret");
                    }),
                },
                MenuAction {
                    label: "Delete".into(),
                    testid: "delete-webhook",
                    run: Callback::new(move |_| dialog.set(Some(WebhookDialogState::Delete(remove.clone())))),
                },
            ]
        };
        let events = events_summary(&w.events, "All events");
        view! {
            <tr data-testid="webhook-row" data-state=state>
                <td>
                    <div class="cell-stack">
                        <span class="mono cell-strong">{w.url.clone()}</span>
                        {(!w.description.is_empty())
                            .then(|| view! { <span class="muted small">{w.description.clone()}</span> })}
                    </div>
                </td>
                <td>{events}</td>
                <td>
                    <span class=format!("pill pill-hook-{state}") data-testid="webhook-state">
                        <span class="pill-dot" aria-hidden="true"></span>
                        {state_label}
                    </span>
                </td>
                <td class="nowrap" title=datetime_full(w.created_at)>
                    {relative(w.created_at)}
                </td>
                <td class="col-actions">
                    <ActionMenu label=format!("Actions for {}", w.url) actions=actions testid="webhook-menu" />
                </td>
            </tr>
        }
    };
    view! {
        <section class="card" aria-labelledby="webhooks-title" data-testid="webhooks-card">
            <div class="card-bar">
                <div>
                    <h2 id="webhooks-title" class="card-title">
                        "Webhooks"
                    </h2>
                    <p class="muted small">
                        "Signed POSTs to your systems. Verify the Leasehold-Signature header with the endpoint's secret."
                    </p>
                </div>
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="add-webhook"
                    on:click=move |_| dialog.set(Some(WebhookDialogState::Create))
                >
                    {icon(Icon::Plus)}
                    "Add endpoint"
                </button>
            </div>
            <div class="table-wrap" class:is-loading=move || webhooks.loading.get()>
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Endpoint"</th>
                            <th scope="col">"Events"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Added"</th>
                            <th scope="col" class="col-actions">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            table_placeholder(
                                webhooks,
                                5,
                                2,
                                |p| p.items.is_empty(),
                                || view! { <EmptyState
                                                        title="No webhooks"
                                                        hint="Add an endpoint to push events to your ticketing, chat or billing system."
                                                        symbol=Icon::Swap
                                                    /> }.into_any(),
                            )
                            .or_else(|| webhooks.with_ok(|p| p.items.iter().cloned().map(row).collect_view().into_any()))
                        }}
                    </tbody>
                </table>
            </div>
        </section>
        {move || {
            dialog
                .get()
                .map(|state| match state {
                    WebhookDialogState::Create => {
                        view! {
                            <WebhookDialog
                                organisation=organisation
                                existing=None
                                webhooks=webhooks
                                on_created=Callback::new(move |(url, secret)| {
                                    dialog.set(Some(WebhookDialogState::Secret { url, secret }))
                                })
                                on_close=Callback::new(move |_| dialog.set(None))
                            />
                        }
                            .into_any()
                    }
                    WebhookDialogState::Edit(w) => {
                        view! {
                            <WebhookDialog
                                organisation=organisation
                                existing=Some(w)
                                webhooks=webhooks
                                on_created=Callback::new(|_| {})
                                on_close=Callback::new(move |_| dialog.set(None))
                            />
                        }
                            .into_any()
                    }
                    WebhookDialogState::Delete(w) => {
                        view! {
                            <ConfirmDialog
                                title="Delete endpoint?"
                                message=format!(
                                    "{} will receive nothing more, and its delivery log is deleted with it.",
                                    w.url,
                                )
                                confirm_label="Delete"
                                danger=true
                                busy=deleting
                                on_confirm=Callback::new(delete)
                                on_cancel=Callback::new(move |_| dialog.set(None))
                            />
                        }
                            .into_any()
                    }
                    WebhookDialogState::Secret { url, secret } => {
                        view! {
                            <SecretDialog
                                title="Signing secret"
                                label="Secret"
                                what="signing secret"
                                value=secret
                                testid="webhook"
                                on_close=Callback::new(move |_| dialog.set(None))
                            >
                                <p class="muted small secret-help">
                                    {format!(
                                        "Deliveries to {url} carry Leasehold-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"t.body\" under this secret>. Refuse requests whose signature does not match or is older than 5 minutes.",
                                    )}
                                </p>
                            </SecretDialog>
                        }
                            .into_any()
                    }
                })
        }}
    }
}

#[component]
fn WebhookDialog(
    organisation: Option<OrganisationId>,
    existing: Option<WebhookView>,
    webhooks: Fetch<Page<WebhookView>>,
    /// Receives `(url, secret)` of a new endpoint.
    on_created: Callback<(String, String)>,
    on_close: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let url = RwSignal::new(existing.as_ref().map(|w| w.url.clone()).unwrap_or_default());
    let description = RwSignal::new(existing.as_ref().map(|w| w.description.clone()).unwrap_or_default());
    let chosen = RwSignal::new(existing.as_ref().map(|w| w.events.clone()).unwrap_or_default());
    let errors = RwSignal::new(None::<ApiError>);
    let pending = RwSignal::new(false);
    let id = existing.as_ref().map(|w| w.id);
    let title = if existing.is_some() {
        "Edit endpoint"
    } else {
        "Add endpoint"
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        if url.get_untracked().trim().is_empty() {
            errors.set(Some(ApiError::invalid(vec![FieldError::new(
                "url",
                "required",
                "Enter the endpoint's https:// address.",
            )])));
            return;
        }
        errors.set(None);
        pending.set(true);
        let events: Vec<String> = chosen.get_untracked().iter().map(|e| e.as_str().to_string()).collect();
        spawn_local(async move {
            let result = match id {
                None => {
                    let body = CreateWebhook {
                        organisation_id: organisation,
                        url: url.get_untracked(),
                        description: description.get_untracked(),
                        events,
                    };
                    api::call(async |c| c.create_webhook(&body).await).await
                }
                Some(id) => {
                    let body = UpdateWebhook {
                        url: Some(url.get_untracked()),
                        description: Some(description.get_untracked()),
                        events: Some(events),
                        ..UpdateWebhook::default()
                    };
                    api::call(async |c| c.update_webhook(id, &body).await).await
                }
            };
            pending.try_set(false);
            match result {
                Ok(saved) => {
                    webhooks.reload();
                    match saved.secret {
                        Some(secret) => on_created.run((saved.url, secret)),
                        None => {
                            toasts.success(format!("Saved {}", saved.url));
                            on_close.run(());
                        }
                    }
                }
                Err(error) => {
                    errors.try_set(Some(error));
                }
            }
        });
    };
    let url_error = field_error(errors, &["url"]);
    let events_error = field_error(errors, &["events"]);
    view! {
        <Modal title=title on_close=on_close testid="webhook-dialog" wide=true>
            <form class="form" on:submit=submit novalidate=true>
                <div class="modal-body">
                    <FormError errors=errors claimed=&["url", "events"] />
                    <Field label="URL" id="webhook-url" error=url_error hint="Where Leasehold POSTs each event, e.g. https://hooks.example.com/leasehold.">
                        <input
                            id="webhook-url"
                            class="input mono"
                            type="url"
                            data-testid="webhook-url"
                            aria-invalid=invalid(url_error)
                            aria-describedby="webhook-url-msg"
                            prop:value=url
                            on:input=move |ev| {
                                url.set(event_target_value(&ev));
                                clear_field(errors, &["url"]);
                            }
                        />
                    </Field>
                    <Field label="Description" id="webhook-description" error=Signal::derive(|| None::<String>) optional=true>
                        <input
                            id="webhook-description"
                            class="input"
                            type="text"
                            maxlength="200"
                            data-testid="webhook-description"
                            prop:value=description
                            on:input=move |ev| description.set(event_target_value(&ev))
                        />
                    </Field>
                    <fieldset class="fieldset">
                        <legend class="field-label">"Events"</legend>
                        <p class="field-hint">"Tick none to receive every event."</p>
                        <div class="check-grid">
                            {event_checks(
                                EventKind::ALL.iter().copied().filter(|k| *k != EventKind::WebhookFailing),
                                chosen,
                                errors,
                                "webhook-event-",
                                "webhook-event-",
                            )}
                        </div>
                        <div class="field-msg">
                            {move || events_error.get().map(|m| view! { <p class="field-error">{icon(Icon::Alert)} {m}</p> })}
                        </div>
                    </fieldset>
                </div>
                <FormFooter
                    on_cancel=on_close
                    pending=pending
                    label=if id.is_some() { "Save" } else { "Add endpoint" }
                    busy_label="Saving…"
                />
            </form>
        </Modal>
    }
}

fn delivery_status(d: &DeliveryView) -> (&'static str, String) {
    match d.status {
        DeliveryStatus::Delivered => ("delivered", "Delivered".into()),
        DeliveryStatus::Failed => ("failed", "Failed".into()),
        DeliveryStatus::Pending if d.attempts == 0 => ("pending", "Queued".into()),
        DeliveryStatus::Pending => ("retrying", "Retrying".into()),
    }
}

#[component]
fn DeliveryLog(
    organisation: Option<OrganisationId>,
    webhooks: Fetch<Page<WebhookView>>,
    log_webhook: RwSignal<Option<WebhookId>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let page = RwSignal::new(1u32);
    let channel = RwSignal::new(None::<Channel>);
    let status = RwSignal::new(None::<DeliveryStatus>);
    let log = fetch(
        move || (page.get(), channel.get(), status.get(), log_webhook.get()),
        move |(page, channel, status, webhook)| async move {
            let query = DeliveryQuery {
                organisation,
                webhook,
                channel,
                status,
                page: Some(page),
                per_page: Some(LOG_PER_PAGE),
            };
            api::call(async |c| c.list_deliveries(&query).await).await
        },
    );
    let webhook_url = move |id: WebhookId| {
        webhooks
            .with_ok(|p| p.items.iter().find(|w| w.id == id).map(|w| w.url.clone()))
            .flatten()
            .unwrap_or_else(|| "A removed endpoint".into())
    };
    let replay = move |d: DeliveryView| {
        spawn_local(async move {
            match api::call(async |c| c.replay_delivery(d.id).await).await {
                Ok(_) => {
                    toasts.success(format!("{} will be sent again", kind_label(&d.kind)));
                    log.reload();
                }
                Err(error) => toasts.error(format!("Could not replay it: {}", error.message())),
            }
        });
    };
    let chip = move |label: &'static str, value: Option<Channel>, testid: &'static str| {
        view! {
            <button
                type="button"
                class="chip"
                class:chip-active=move || channel.get() == value
                aria-pressed=move || (channel.get() == value).to_string()
                data-testid=testid
                on:click=move |_| {
                    channel.set(value);
                    page.set(1);
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <section class="card" aria-labelledby="delivery-log-title" data-testid="delivery-log">
            <div class="card-bar">
                <div>
                    <h2 id="delivery-log-title" class="card-title" tabindex="-1">
                        "Delivery log"
                    </h2>
                    <p class="muted small">
                        "Every e-mail and webhook, with its attempts. Failed ones are retried with backoff for about 20 minutes; replay sends one again."
                    </p>
                </div>
                <button
                    type="button"
                    class="btn btn-secondary"
                    data-testid="refresh-log"
                    disabled=move || log.loading.get()
                    on:click=move |_| log.reload()
                >
                    {icon(Icon::Refresh)}
                    "Refresh"
                </button>
            </div>
            <div class="toolbar">
                <div class="chips" role="group" aria-label="Channel">
                    {chip("All", None, "log-all")}
                    {chip("E-mail", Some(Channel::Email), "log-email")}
                    {chip("Webhooks", Some(Channel::Webhook), "log-webhook")}
                </div>
                <label class="toolbar-label" for="log-status">
                    "Status"
                </label>
                <select
                    id="log-status"
                    class="select"
                    data-testid="log-status"
                    on:change=move |ev| {
                        status.set(DeliveryStatus::parse(&event_target_value(&ev)));
                        page.set(1);
                    }
                >
                    <option value="">"Any"</option>
                    <option value="pending">"Queued or retrying"</option>
                    <option value="delivered">"Delivered"</option>
                    <option value="failed">"Failed"</option>
                </select>
                {move || {
                    log_webhook
                        .get()
                        .map(|id| {
                            view! {
                                <span class="chip chip-filter" data-testid="log-webhook-filter">
                                    {format!("Endpoint: {}", webhook_url(id))}
                                    <button
                                        type="button"
                                        class="chip-remove"
                                        aria-label="Show every endpoint"
                                        on:click=move |_| {
                                            log_webhook.set(None);
                                            page.set(1);
                                        }
                                    >
                                        {icon(Icon::Close)}
                                    </button>
                                </span>
                            }
                        })
                }}
            </div>
            <div class="table-wrap" class:is-loading=move || log.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Event"</th>
                            <th scope="col">"To"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"When"</th>
                            <th scope="col" class="col-actions">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            table_placeholder(
                                log,
                                5,
                                3,
                                |p| p.items.is_empty(),
                                || {
                                    view! {
                                        <EmptyState
                                            title="Nothing sent yet"
                                            hint="E-mails and webhook calls appear here as notifications happen."
                                            symbol=Icon::Logs
                                        />
                                    }
                                        .into_any()
                                },
                            )
                            .or_else(|| log.with_ok(|p| {
                                        p.items
                                            .iter()
                                            .map(|d| {
                                                let (tone, label) = delivery_status(d);
                                                let to = match (d.channel, d.webhook_id) {
                                                    (Channel::Webhook, Some(id)) => webhook_url(id),
                                                    _ => d.recipient.clone().unwrap_or_default(),
                                                };
                                                let detail = match (&d.last_error, d.response_status, d.status) {
                                                    (Some(error), _, s) if s != DeliveryStatus::Delivered => Some(error.clone()),
                                                    (_, Some(code), DeliveryStatus::Delivered) => Some(format!("Answered {code}")),
                                                    _ => None,
                                                };
                                                let attempts = count_label(u64::from(d.attempts), "attempt", "attempts");
                                                let next = d.next_attempt_at.filter(|_| d.attempts > 0);
                                                let replayable = d.status != DeliveryStatus::Pending;
                                                let again = d.clone();
                                                view! {
                                                    <tr data-testid="delivery-row" data-status=tone data-channel=d.channel.as_str()>
                                                        <td>
                                                            <div class="cell-stack">
                                                                <span class="cell-strong">{kind_label(&d.kind)}</span>
                                                                {d.replay_of
                                                                    .map(|_| view! { <span class="muted small">"Replay"</span> })}
                                                            </div>
                                                        </td>
                                                        <td>
                                                            <span class="delivery-target">
                                                                {icon(if d.channel == Channel::Email { Icon::Bell } else { Icon::Swap })}
                                                                <span class="mono small">{to}</span>
                                                            </span>
                                                        </td>
                                                        <td>
                                                            <div class="cell-stack">
                                                                <span class=format!("pill pill-delivery-{tone}") data-testid="delivery-status">
                                                                    <span class="pill-dot" aria-hidden="true"></span>
                                                                    {label}
                                                                </span>
                                                                <span class="muted small">
                                                                    {attempts}
                                                                    {next.map(|at| format!(" · next try {}", datetime_full(at)))}
                                                                </span>
                                                                {detail.map(|text| view! { <span class="muted small delivery-detail">{text}</span> })}
                                                            </div>
                                                        </td>
                                                        <td class="nowrap" title=datetime_full(d.created_at)>
                                                            {relative(d.delivered_at.unwrap_or(d.created_at))}
                                                        </td>
                                                        <td class="col-actions">
                                                            {replayable
                                                                .then(|| {
                                                                    view! {
                                                                        <button
                                                                            type="button"
                                                                            class="btn btn-ghost btn-sm"
                                                                            data-testid="replay-delivery"
                                                                            on:click=move |_| replay(again.clone())
                                                                        >
                                                                            {icon(Icon::Refresh)}
                                                                            "Replay"
                                                                        </button>
                                                                    }
                                                                })}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()
                                            .into_any()
                                    }))
                        }}
                    </tbody>
                </table>
            </div>
            <Pagination
                page=page
                per_page=Signal::derive(move || log.with_ok(|p| p.per_page).unwrap_or(LOG_PER_PAGE))
                total=Signal::derive(move || log.with_ok(|p| p.total).unwrap_or(0))
                busy=log.loading
                on_page=Callback::new(move |p| page.set(p))
            />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_summaries_stay_short() {
        assert_eq!(events_summary(&[], "All events"), "All events");
        assert_eq!(events_summary(EventKind::ALL, "All events"), "All events");
        assert_eq!(events_summary(&[EventKind::LowSeats], "x"), "Low on seats");
        assert_eq!(
            events_summary(
                &[
                    EventKind::LowSeats,
                    EventKind::Expired,
                    EventKind::Renewed,
                    EventKind::TopupDone
                ],
                "x"
            ),
            "4 kinds of event"
        );
    }

    #[test]
    fn only_administrators_manage_notifications() {
        assert!(may_manage(Role::OrgAdmin) && may_manage(Role::VendorAdmin) && may_manage(Role::AccountManager));
        assert!(!may_manage(Role::OrgViewer) && !may_manage(Role::Member));
    }
}
