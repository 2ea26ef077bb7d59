//! The audit log: who did what, when; each entry opens to show what changed.

use crate::api;
use crate::components::format::{action_label, actor_label, count_label, datetime, datetime_full, relative, short_id};
use crate::components::icons::{icon, Icon};
use crate::components::pagination::Pagination;
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, PageHeader, SkeletonRows};
use crate::lookups::{self, OrganisationOptions};
use crate::resource::{fetch, Fetch};
use chrono::{DateTime, NaiveDate, Utc};
use leasehold_core::access::ActorKind;
use leasehold_core::ids::{AuditEntryId, LicenceId, OrganisationId, ProductId};
use leasehold_core::values::Role;
use leasehold_core::wire::{AuditEntryView, AuditQuery, AuditVerification, OrganisationView, UserView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

const PER_PAGE: u32 = 25;

/// One field that differs between an object's before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub before: String,
    pub after: String,
}

fn show(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(text)) if text.is_empty() => "\"\"".into(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The fields that differ (all fields on creation or deletion), in key order.
pub fn changed_fields(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let empty = serde_json::Map::new();
    match (before, after) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Vec::new(),
        (b, a) if b.is_none_or(Value::is_object) && a.is_none_or(Value::is_object) => {
            let before = b.and_then(Value::as_object).unwrap_or(&empty);
            let after = a.and_then(Value::as_object).unwrap_or(&empty);
            let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| before.get(*k) != after.get(*k))
                .map(|k| Change {
                    key: k.clone(),
                    before: show(before.get(k)),
                    after: show(after.get(k)),
                })
                .collect()
        }
        (b, a) if b != a => vec![Change {
            key: "value".into(),
            before: show(b),
            after: show(a),
        }],
        _ => Vec::new(),
    }
}

fn pretty(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "null".into(),
        Some(value) => serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()),
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    set_title("Audit log");
    let role = api::current_role();
    if role == Role::Member {
        return view! { <NoAccess what="The audit log" /> }.into_any();
    }
    let vendor = role.is_vendor();
    let page = RwSignal::new(1u32);
    let organisation = RwSignal::new(None::<OrganisationId>);
    let product = RwSignal::new(None::<ProductId>);
    // A licence's details page links here with `?licence=<id>`.
    let query = use_query_map();
    let licence = RwSignal::new(query.with_untracked(|q| q.get("licence").and_then(|v| v.parse::<LicenceId>().ok())));
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let entries = fetch(
        move || {
            (
                page.get(),
                organisation.get(),
                product.get(),
                licence.get(),
                day_start(&from.get()),
                day_start(&to.get()).map(|d| d + chrono::Duration::days(1)),
            )
        },
        |(page, organisation, product, licence, from, to)| async move {
            let query = AuditQuery {
                page: Some(page),
                per_page: Some(PER_PAGE),
                organisation,
                product,
                licence,
                from,
                to,
                ..Default::default()
            };
            api::call(async |c| c.list_audit(&query).await).await
        },
    );
    let orgs = lookups::organisations();
    let products = lookups::products();
    // Names for actors (a role that may not list users sees ids).
    let users = lookups::users(|| None);
    let expanded = RwSignal::new(Vec::<AuditEntryId>::new());
    let verification = RwSignal::new(None::<Result<AuditVerification, api::ApiError>>);
    let verifying = RwSignal::new(false);
    let verify = move |_| {
        if verifying.get_untracked() {
            return;
        }
        verifying.set(true);
        spawn_local(async move {
            let result = api::call(async |c| c.verify_audit().await).await;
            verifying.try_set(false);
            verification.try_set(Some(result));
        });
    };
    let filtered = move || {
        organisation.get().is_some()
            || product.get().is_some()
            || licence.get().is_some()
            || !from.get().is_empty()
            || !to.get().is_empty()
    };
    let clear = move |_| {
        organisation.set(None);
        product.set(None);
        licence.set(None);
        from.set(String::new());
        to.set(String::new());
        page.set(1);
    };

    view! {
        <PageHeader title="Audit log" subtitle="Every change, who made it and when. Entries are hash-chained: editing or removing one breaks the chain.">
            <button
                type="button"
                class="btn btn-secondary"
                data-testid="verify-audit"
                disabled=move || verifying.get()
                aria-busy=move || verifying.get().to_string()
                on:click=verify
            >
                {icon(Icon::Shield)}
                {move || if verifying.get() { "Verifying…" } else { "Verify integrity" }}
            </button>
        </PageHeader>
        {move || verification.get().map(|result| verification_banner(result, orgs, vendor))}
        <section class="card" aria-label="Audit entries">
            <div class="toolbar">
                {vendor
                    .then(|| {
                        view! {
                            <label class="toolbar-label" for="audit-organisation">
                                "Organisation"
                            </label>
                            <select
                                id="audit-organisation"
                                class="select"
                                data-testid="audit-organisation"
                                on:change=move |ev| {
                                    organisation.set(event_target_value(&ev).parse().ok());
                                    page.set(1);
                                }
                            >
                                <OrganisationOptions orgs=orgs selected=organisation />
                            </select>
                        }
                    })}
                <label class="toolbar-label" for="audit-product">
                    "Product"
                </label>
                <select
                    id="audit-product"
                    class="select"
                    data-testid="audit-product"
                    on:change=move |ev| {
                        product.set(event_target_value(&ev).parse().ok());
                        page.set(1);
                    }
                >
                    <option value="" prop:selected=move || product.get().is_none()>
                        "All products"
                    </option>
                    {move || {
                        products
                            .with_ok(|list| {
                                list.iter()
                                    .map(|p| {
                                        let id = p.id;
                                        view! {
                                            <option value=p.id.to_string() prop:selected=move || product.get() == Some(id)>
                                                {p.name.clone()}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                </select>
                <label class="toolbar-label" for="audit-from">
                    "From"
                </label>
                <input
                    id="audit-from"
                    class="input input-date"
                    type="date"
                    data-testid="audit-from"
                    prop:value=from
                    on:change=move |ev| {
                        from.set(event_target_value(&ev));
                        page.set(1);
                    }
                />
                <label class="toolbar-label" for="audit-to">
                    "To"
                </label>
                <input
                    id="audit-to"
                    class="input input-date"
                    type="date"
                    data-testid="audit-to"
                    prop:value=to
                    on:change=move |ev| {
                        to.set(event_target_value(&ev));
                        page.set(1);
                    }
                />
                {move || {
                    licence
                        .get()
                        .map(|id| {
                            view! {
                                <span class="chip chip-filter" data-testid="audit-licence-filter">
                                    {format!("Licence …{}", short_id(id))}
                                    <button
                                        type="button"
                                        class="chip-remove"
                                        aria-label="Show every licence"
                                        on:click=move |_| {
                                            licence.set(None);
                                            page.set(1);
                                        }
                                    >
                                        {icon(Icon::Close)}
                                    </button>
                                </span>
                            }
                        })
                }}
                <Show when=filtered>
                    <button type="button" class="btn btn-ghost btn-sm" data-testid="audit-clear" on:click=clear>
                        "Clear filters"
                    </button>
                </Show>
            </div>
            <div class="table-wrap" class:is-loading=move || entries.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table" aria-busy=move || entries.loading.get().to_string()>
                    <thead>
                        <tr>
                            <th scope="col" class="col-expand">
                                <span class="visually-hidden">"Details"</span>
                            </th>
                            <th scope="col">"When"</th>
                            <th scope="col">"Actor"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col">"Object"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            entries
                                .data
                                .with(|data| match data {
                                    None => view! { <SkeletonRows columns=5 /> }.into_any(),
                                    Some(Err(error)) => {
                                        view! {
                                            <tr>
                                                <td colspan="5">
                                                    <ErrorPanel
                                                        error=error.clone()
                                                        on_retry=Callback::new(move |_| entries.reload())
                                                    />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(p)) if p.items.is_empty() => {
                                        view! {
                                            <tr>
                                                <td colspan="5">
                                                    <EmptyState
                                                        title="No entries"
                                                        hint=if filtered() {
                                                            "No change matches these filters."
                                                        } else {
                                                            "Changes to licences, users and keys will be recorded here."
                                                        }
                                                        symbol=Icon::Logs
                                                    />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(_)) => ().into_any(),
                                })
                        }}
                        <For
                            each=move || entries.with_ok(|p| p.items.clone()).unwrap_or_default()
                            key=|entry| entry.id
                            children=move |entry| entry_rows(entry, users, expanded)
                        />
                    </tbody>
                </table>
            </div>
            <Pagination
                page=page
                per_page=Signal::derive(move || entries.with_ok(|p| p.per_page).unwrap_or(PER_PAGE))
                total=Signal::derive(move || entries.with_ok(|p| p.total).unwrap_or(0))
                busy=entries.loading
                on_page=Callback::new(move |p| page.set(p))
            />
        </section>
    }
    .into_any()
}

/// Midnight (UTC) of a `YYYY-MM-DD` date input's value.
fn day_start(value: &str) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// The verdict of "Verify integrity": every chain intact, or where one breaks.
fn verification_banner(
    result: Result<AuditVerification, api::ApiError>,
    orgs: Fetch<Vec<OrganisationView>>,
    vendor: bool,
) -> AnyView {
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            return view! {
                <div class="banner banner-error audit-verdict" role="alert" data-testid="audit-verdict">
                    {icon(Icon::Alert)}
                    <div class="banner-body">
                        <p class="banner-title">"The audit log could not be verified"</p>
                        <p class="banner-text">{error.summary()}</p>
                    </div>
                </div>
            }
            .into_any();
        }
    };
    let chain_name = move |id: Option<OrganisationId>| match id {
        None => "Vendor-wide entries".to_string(),
        Some(id) if vendor => lookups::org_name(&orgs, id).unwrap_or_else(|| format!("Organisation …{}", short_id(id))),
        Some(_) => "Your organisation".to_string(),
    };
    let entries: i64 = report.chains.iter().map(|c| c.verified_entries).sum();
    let pending: i64 = report.chains.iter().map(|c| c.pending_entries).sum();
    if report.verified {
        let heads = report
            .chains
            .iter()
            .filter_map(|c| c.head_hash.as_ref().map(|h| (chain_name(c.organisation_id), h.clone())))
            .collect::<Vec<_>>();
        let pending_text = if pending > 0 {
            format!(
                " {} newer are sealed within seconds.",
                count_label(pending.unsigned_abs(), "entry", "entries")
            )
        } else {
            String::new()
        };
        view! {
            <div class="banner banner-success audit-verdict" role="status" data-testid="audit-verdict" data-verified="true">
                {icon(Icon::Shield)}
                <div class="banner-body">
                    <p class="banner-title">"The audit log is intact"</p>
                    <p class="banner-text">
                        {format!(
                            "{} in {} checked at {}: none edited, removed or reordered.{pending_text}",
                            count_label(entries.unsigned_abs(), "entry", "entries"),
                            count_label(report.chains.len() as u64, "chain", "chains"),
                            datetime(report.checked_at),
                        )}
                    </p>
                    {(!heads.is_empty())
                        .then(|| {
                            view! {
                                <details class="audit-heads">
                                    <summary>"Chain heads (keep a copy to detect a rewritten log later)"</summary>
                                    <ul class="banner-list">
                                        {heads
                                            .into_iter()
                                            .map(|(name, hash)| {
                                                view! {
                                                    <li>
                                                        {format!("{name}: ")}
                                                        <code>{hash}</code>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                </details>
                            }
                        })}
                </div>
            </div>
        }
        .into_any()
    } else {
        let broken = report
            .chains
            .iter()
            .filter(|c| c.problem.is_some())
            .map(|c| {
                format!(
                    "{}: {}",
                    chain_name(c.organisation_id),
                    c.detail.clone().unwrap_or_else(|| "the chain breaks".into())
                )
            })
            .collect::<Vec<_>>();
        view! {
            <div class="banner banner-error audit-verdict" role="alert" data-testid="audit-verdict" data-verified="false">
                {icon(Icon::Alert)}
                <div class="banner-body">
                    <p class="banner-title">"The audit log has been tampered with"</p>
                    <ul class="banner-list">
                        {broken.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                    </ul>
                </div>
            </div>
        }
        .into_any()
    }
}

fn actor_name(kind: ActorKind, id: Option<uuid::Uuid>, users: Fetch<Vec<UserView>>) -> String {
    let label = actor_label(kind);
    match id {
        None => label.to_string(),
        Some(actor) if kind == ActorKind::User => users
            .with_ok(|list| list.iter().find(|u| u.id.as_uuid() == actor).map(|u| u.email.clone()))
            .flatten()
            .unwrap_or_else(|| format!("{label} …{}", short_id(actor))),
        Some(actor) => format!("{label} …{}", short_id(actor)),
    }
}

fn entry_rows(
    entry: AuditEntryView,
    users: Fetch<Vec<UserView>>,
    expanded: RwSignal<Vec<AuditEntryId>>,
) -> impl IntoView {
    let id = entry.id;
    let open = move || expanded.with(|list| list.contains(&id));
    let toggle = move |_| {
        expanded.update(|list| {
            if let Some(index) = list.iter().position(|e| *e == id) {
                list.remove(index);
            } else {
                list.push(id);
            }
        })
    };
    let panel_id = format!("audit-{id}");
    let (actor_kind, actor_id) = (entry.actor_kind, entry.actor_id);
    let object = if entry.object_kind == "licence" {
        view! {
            <a class="row-link" href=format!("/licences/{}", entry.object_id)>
                {format!("licence …{}", short_id(entry.object_id))}
            </a>
        }
        .into_any()
    } else {
        view! { <span>{format!("{} …{}", entry.object_kind.replace('_', " "), short_id(entry.object_id))}</span> }
            .into_any()
    };
    let changes = changed_fields(entry.before.as_ref(), entry.after.as_ref());
    let before_json = pretty(entry.before.as_ref());
    let after_json = pretty(entry.after.as_ref());
    let request = entry.request_id.clone();
    view! {
        <tr class="audit-row" class:is-open=open data-testid="audit-row">
            <td class="col-expand">
                <button
                    type="button"
                    class="icon-btn expand-btn"
                    aria-expanded=move || open().to_string()
                    aria-controls=panel_id.clone()
                    aria-label=format!("Show the changes of {}", entry.action)
                    title="Show changes"
                    on:click=toggle
                >
                    {icon(Icon::ChevronRight)}
                </button>
            </td>
            <td title=datetime_full(entry.at)>
                <div class="cell-stack">
                    <span>{datetime(entry.at)}</span>
                    <span class="muted small">{relative(entry.at)}</span>
                </div>
            </td>
            <td>{move || actor_name(actor_kind, actor_id, users)}</td>
            <td>
                <code class="action">{entry.action.clone()}</code>
                <span class="muted small block">{action_label(&entry.action)}</span>
            </td>
            <td>{object}</td>
        </tr>
        <tr class="expand-row" id=panel_id hidden=move || !open()>
            <td colspan="5">
                <div class="expand-body">
                    {if changes.is_empty() {
                        view! { <p class="muted">"No field changed."</p> }.into_any()
                    } else {
                        view! {
                            <table class="diff-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Field"</th>
                                        <th scope="col">"Before"</th>
                                        <th scope="col">"After"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {changes
                                        .into_iter()
                                        .map(|c| {
                                            view! {
                                                <tr>
                                                    <td>
                                                        <code>{c.key}</code>
                                                    </td>
                                                    <td class="diff-old">{c.before}</td>
                                                    <td class="diff-new">{c.after}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                            .into_any()
                    }}
                    <details class="raw-json">
                        <summary>"Raw JSON"</summary>
                        <div class="json-grid">
                            <div>
                                <p class="json-label">"Before"</p>
                                <pre class="json">{before_json}</pre>
                            </div>
                            <div>
                                <p class="json-label">"After"</p>
                                <pre class="json">{after_json}</pre>
                            </div>
                        </div>
                    </details>
                    {request.map(|r| view! { <p class="muted small">{format!("Request {r}")}</p> })}
                </div>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_list_only_differing_fields() {
        let before = json!({"status": "active", "name": "A", "quantity": 3});
        let after = json!({"status": "paused", "name": "A", "quantity": 3});
        let changes = changed_fields(Some(&before), Some(&after));
        assert_eq!(
            changes,
            vec![Change {
                key: "status".into(),
                before: "active".into(),
                after: "paused".into()
            }]
        );
    }

    #[test]
    fn date_filters_start_at_midnight() {
        assert_eq!(
            day_start("2026-12-06").map(|d| d.to_rfc3339()),
            Some("2026-12-06T00:00:00+00:00".to_string())
        );
        assert_eq!(day_start(""), None);
        assert_eq!(day_start("06/12/2026"), None);
    }

    #[test]
    fn creation_lists_every_field() {
        let after = json!({"name": "A", "quantity": 3});
        let changes = changed_fields(None, Some(&after));
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].before, "—");
    }
}
