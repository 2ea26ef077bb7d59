//! The audit log: who did what, when; each entry opens to show what changed.

use crate::api;
use crate::components::format::{action_label, actor_label, datetime, datetime_full, relative, short_id};
use crate::components::icons::{icon, Icon};
use crate::components::pagination::Pagination;
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, PageHeader, SkeletonRows};
use crate::lookups;
use crate::resource::{fetch, Fetch};
use leasehold_core::access::ActorKind;
use leasehold_core::ids::{AuditEntryId, OrganisationId};
use leasehold_core::values::Role;
use leasehold_core::wire::{AuditEntryView, AuditQuery, UserView};
use leptos::prelude::*;
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
    let entries = fetch(
        move || (page.get(), organisation.get()),
        |(page, organisation)| async move {
            let query = AuditQuery {
                page: Some(page),
                per_page: Some(PER_PAGE),
                organisation,
                ..Default::default()
            };
            api::call(async |c| c.list_audit(&query).await).await
        },
    );
    let orgs = lookups::organisations();
    // Names for actors (a role that may not list users sees ids).
    let users = lookups::users(|| None);
    let expanded = RwSignal::new(Vec::<AuditEntryId>::new());

    view! {
        <PageHeader title="Audit log" subtitle="Every change, who made it and when. Entries cannot be edited or removed." />
        <section class="card" aria-label="Audit entries">
            {vendor
                .then(|| {
                    view! {
                        <div class="toolbar">
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
                                <option value="">"All organisations"</option>
                                {move || {
                                    orgs.with_ok(|list| {
                                        list.iter()
                                            .map(|o| view! { <option value=o.id.to_string()>{o.name.clone()}</option> })
                                            .collect_view()
                                    })
                                }}
                            </select>
                        </div>
                    }
                })}
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
                                                        hint="Changes to licences, users and keys will be recorded here."
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
    fn creation_lists_every_field() {
        let after = json!({"name": "A", "quantity": 3});
        let changes = changed_fields(None, Some(&after));
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].before, "—");
    }
}
