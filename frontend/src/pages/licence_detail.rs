//! One licence: its facts, its dates, its actions and its audit history.

use crate::api;
use crate::components::clipboard::copy_with_toast;
use crate::components::format::{
    action_label, actor_label, datetime, datetime_full, money, opt_datetime, plan_label, relative, source_label,
};
use crate::components::icons::{icon, Icon};
use crate::components::licence_actions::{can_manage, DeleteLicenceDialog, PauseResumeButton};
use crate::components::pills::LicencePills;
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, Spinner};
use crate::components::toast::use_toasts;
use crate::pages::audit::changed_fields;
use crate::resource::fetch;
use leasehold_core::ids::LicenceId;
use leasehold_core::licence::renewable;
use leasehold_core::values::{BillingStatus, LicenceStatus, Role};
use leasehold_core::wire::{AuditEntryView, AuditQuery, LicenceView};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn LicenceDetailPage() -> impl IntoView {
    if api::current_role() == Role::Member {
        set_title("Licence");
        return view! { <NoAccess what="Licences" /> }.into_any();
    }
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("id"))
            .and_then(|raw| raw.parse::<LicenceId>().ok())
    });
    (move || match id.get() {
        Some(id) => view! { <LicenceDetail id=id /> }.into_any(),
        None => not_found().into_any(),
    })
    .into_any()
}

fn not_found() -> impl IntoView {
    set_title("Licence not found");
    view! {
        <div class="card">
            <EmptyState
                title="Licence not found"
                hint="It may have been deleted, or it belongs to an organisation you cannot see."
                symbol=Icon::Alert
            >
                <a class="btn btn-secondary" href="/licences">
                    "Back to licences"
                </a>
            </EmptyState>
        </div>
    }
}

#[component]
fn LicenceDetail(id: LicenceId) -> impl IntoView {
    let manage = can_manage(api::current_role());
    let toasts = use_toasts();
    let navigate = use_navigate();
    let licence = fetch(
        move || id,
        |id| async move { api::call(async |c| c.get_licence(id).await).await },
    );
    let history = fetch(
        move || id,
        |id| async move {
            let query = AuditQuery {
                licence: Some(id),
                per_page: Some(100),
                ..Default::default()
            };
            api::call(async |c| c.list_audit(&query).await).await
        },
    );
    let confirm_delete = RwSignal::new(false);

    Effect::new(move |_| {
        if let Some(name) = licence.with_ok(|l| l.name.clone()) {
            set_title(&name);
        }
    });

    let status = Signal::derive(move || licence.with_ok(|l| l.status).unwrap_or(LicenceStatus::Unassigned));
    let billing = Signal::derive(move || {
        licence
            .with_ok(|l| l.billing_status)
            .unwrap_or(BillingStatus::Uninvoiced)
    });
    let on_changed = Callback::new(move |updated: LicenceView| {
        licence.data.set(Some(Ok(updated)));
        history.reload();
    });
    let on_deleted = {
        let navigate = navigate.clone();
        Callback::new(move |_| {
            confirm_delete.set(false);
            navigate("/licences", Default::default());
        })
    };

    view! {
        <a class="back-link" href="/licences">
            {icon(Icon::ArrowLeft)}
            "Licences"
        </a>
        {move || {
            licence
                .data
                .with(|data| match data {
                    None => view! { <div class="card"><Spinner label="Loading the licence…" /></div> }.into_any(),
                    Some(Err(error)) if error.is_status(404) => not_found().into_any(),
                    Some(Err(error)) => {
                        view! {
                            <div class="card">
                                <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| licence.reload()) />
                            </div>
                        }
                            .into_any()
                    }
                    Some(Ok(l)) => {
                        view! {
                            <header class="page-header">
                                <div>
                                    <h1 class="page-title" data-testid="licence-title">
                                        {l.name.clone()}
                                    </h1>
                                    <p class="page-subtitle">
                                        <LicencePills status=status billing=billing />
                                    </p>
                                </div>
                                {manage
                                    .then(|| {
                                        view! {
                                            <div class="page-actions">
                                                <PauseResumeButton
                                                    id=l.id
                                                    name=l.name.clone()
                                                    status=status
                                                    on_changed=on_changed
                                                    labelled=true
                                                />
                                                <button
                                                    type="button"
                                                    class="btn btn-danger"
                                                    data-testid="delete-licence"
                                                    on:click=move |_| confirm_delete.set(true)
                                                >
                                                    {icon(Icon::Trash)}
                                                    "Delete"
                                                </button>
                                            </div>
                                        }
                                    })}
                            </header>
                            {details(l, toasts)}
                        }
                            .into_any()
                    }
                })
        }}
        <section class="card" aria-labelledby="history-title">
            <div class="card-header">
                <h2 id="history-title" class="card-title">
                    "History"
                </h2>
                <p class="card-subtitle">
                    "Every change to this licence, newest first. "
                    <a class="row-link" href=format!("/logs?licence={id}") data-testid="licence-audit-link">
                        "Open in the audit log"
                    </a>
                </p>
            </div>
            {move || {
                history
                    .data
                    .with(|data| match data {
                        None => view! { <Spinner label="Loading the history…" /> }.into_any(),
                        Some(Err(error)) => {
                            view! { <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| history.reload()) /> }
                                .into_any()
                        }
                        Some(Ok(page)) if page.items.is_empty() => {
                            view! {
                                <EmptyState
                                    title="No history yet"
                                    hint="Changes to this licence will appear here."
                                    symbol=Icon::Logs
                                />
                            }
                                .into_any()
                        }
                        Some(Ok(page)) => {
                            let mut items = page.items.clone();
                            items.sort_by_key(|entry| std::cmp::Reverse(entry.at));
                            view! {
                                <ol class="timeline" data-testid="licence-history">
                                    {items.into_iter().map(timeline_item).collect_view()}
                                </ol>
                            }
                                .into_any()
                        }
                    })
            }}
        </section>
        {move || {
            let open = confirm_delete.get();
            let l = licence.with_ok(|l| (l.id, l.name.clone()));
            match (open, l) {
                (true, Some((id, name))) => {
                    Some(
                        view! {
                            <DeleteLicenceDialog
                                id=id
                                name=name
                                on_deleted=on_deleted
                                on_cancel=Callback::new(move |_| confirm_delete.set(false))
                            />
                        },
                    )
                }
                _ => None,
            }
        }}
    }
}

fn details(l: &LicenceView, toasts: crate::components::toast::Toasts) -> impl IntoView {
    let code = l.coupon_code.clone();
    let owner = match (&l.owner_organisation_name, &l.owner_user_email) {
        (None, None) => "Unassigned — hand over the coupon code".to_string(),
        (Some(org), Some(user)) => format!("{org} · {user}"),
        (Some(org), None) => org.clone(),
        (None, Some(user)) => user.clone(),
    };
    let unassigned = l.status == LicenceStatus::Unassigned;
    let ends = match l.ends_at {
        Some(at) => format!("{} ({})", datetime(at), relative(at)),
        // Its term starts when a customer redeems the coupon.
        None if unassigned => "Starts when redeemed".into(),
        None => "No end date".into(),
    };
    let activated = match l.activated_at {
        None if unassigned => "Not yet — when the coupon is redeemed".to_string(),
        other => opt_datetime(other),
    };
    view! {
        <div class="detail-grid">
            <section class="card" aria-labelledby="facts-title">
                <h2 id="facts-title" class="card-title">
                    "Licence"
                </h2>
                <dl class="facts">
                    <dt>"Product"</dt>
                    <dd>{l.product_name.clone()}</dd>
                    <dt>"Plan"</dt>
                    <dd>{plan_label(l.plan)}</dd>
                    <dt>"Seats"</dt>
                    <dd data-testid="licence-quantity">{l.quantity}</dd>
                    <dt>"Unit price"</dt>
                    <dd>{money(l.unit_price, &l.currency)}</dd>
                    <dt>"Amount"</dt>
                    <dd class="strong">{money(l.amount, &l.currency)}</dd>
                    <dt>"Owner"</dt>
                    <dd data-testid="licence-owner">{owner}</dd>
                    <dt>"Coupon code"</dt>
                    <dd>
                        <span class="coupon-line">
                            <code class="coupon-code big" data-testid="coupon-code">
                                {code.clone()}
                            </code>
                            <button
                                type="button"
                                class="btn btn-secondary btn-sm"
                                data-testid="coupon-copy"
                                data-code=code.clone()
                                aria-label=format!("Copy coupon code {code}")
                                on:click={
                                    let code = code.clone();
                                    move |_| copy_with_toast(toasts, code.clone(), "coupon code")
                                }
                            >
                                {icon(Icon::Copy)}
                                "Copy"
                            </button>
                        </span>
                    </dd>
                    <dt>"Source"</dt>
                    <dd>{source_label(l.source)}</dd>
                    <dt>"Note"</dt>
                    <dd class="pre">
                        {if l.note.trim().is_empty() { "—".to_string() } else { l.note.clone() }}
                    </dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="dates-title">
                <h2 id="dates-title" class="card-title">
                    "Dates"
                </h2>
                <dl class="facts">
                    <dt>"Created"</dt>
                    <dd title=datetime_full(l.created_at)>{datetime(l.created_at)}</dd>
                    <dt>"Activated"</dt>
                    <dd>{activated}</dd>
                    <dt>"Ends"</dt>
                    <dd data-testid="licence-ends">{ends}</dd>
                    <dt>"Renewal"</dt>
                    <dd data-testid="licence-renewal">
                        {if l.auto_renew {
                            "Renews automatically an hour before it ends"
                        } else if renewable(l.plan) {
                            "Ends unless renewed"
                        } else {
                            "—"
                        }}
                    </dd>
                    <dt>"Redeemed"</dt>
                    <dd>{opt_datetime(l.redeemed_at)}</dd>
                </dl>
            </section>
        </div>
    }
}

fn timeline_item(entry: AuditEntryView) -> impl IntoView {
    let changes = changed_fields(entry.before.as_ref(), entry.after.as_ref());
    let shown: Vec<_> = changes.into_iter().take(6).collect();
    view! {
        <li class="timeline-item" data-testid="history-entry" data-action=entry.action.clone()>
            <span class="timeline-dot" aria-hidden="true"></span>
            <div class="timeline-body">
                <p class="timeline-title">
                    <strong>{action_label(&entry.action)}</strong>
                    <span class="muted">{format!(" by {}", actor_label(entry.actor_kind).to_lowercase())}</span>
                </p>
                <p class="muted small" title=datetime_full(entry.at)>
                    {format!("{} · {}", datetime(entry.at), relative(entry.at))}
                </p>
                {(!shown.is_empty() && entry.before.is_some())
                    .then(|| {
                        view! {
                            <ul class="timeline-changes">
                                {shown
                                    .into_iter()
                                    .map(|c| {
                                        view! {
                                            <li>
                                                <code>{c.key}</code>
                                                ": "
                                                <span class="diff-old">{c.before}</span>
                                                " → "
                                                <span class="diff-new">{c.after}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })}
            </div>
        </li>
    }
}
