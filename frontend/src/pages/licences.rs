//! The licence list: search, filters, sort and pages live in the URL, so a
//! filtered list can be reloaded, shared and navigated back to.

use crate::api;
use crate::components::clipboard::copy_with_toast;
use crate::components::dialog::ConfirmDialog;
use crate::components::format::{count_label, date, days_until, money, plan_label, relative};
use crate::components::icons::{icon, Icon};
use crate::components::licence_actions::{can_manage, DeleteButton, DeleteLicenceDialog, PauseResumeButton};
use crate::components::pagination::Pagination;
use crate::components::pills::LicencePills;
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, PageHeader, SkeletonRows};
use crate::components::toast::use_toasts;
use crate::lookups::{self, OrganisationOptions};
use crate::resource::fetch;
use chrono::{DateTime, Utc};
use gloo_timers::future::TimeoutFuture;
use leasehold_core::ids::{LicenceId, OrganisationId, UserId};
use leasehold_core::licence::MAX_INVOICE_BATCH;
use leasehold_core::values::{InvoiceOutcome, LicenceStatus, Plan, Role};
use leasehold_core::wire::{LicenceQuery, LicenceView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

const PER_PAGE: u32 = 25;

const SORTS: &[(&str, &str)] = &[
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("ends_at", "Ending soonest"),
    ("-ends_at", "Ending last"),
    ("-quantity", "Most seats"),
    ("quantity", "Fewest seats"),
];

/// The list's state as the URL carries it.
#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    q: String,
    organisation: Option<OrganisationId>,
    user: Option<UserId>,
    status: Option<LicenceStatus>,
    expiring: Option<String>,
    sort: String,
    page: u32,
}

impl Filters {
    fn from_map(map: &ParamsMap) -> Self {
        let sort = map.get("sort").filter(|s| SORTS.iter().any(|(key, _)| key == s));
        Self {
            q: map.get("q").unwrap_or_default(),
            organisation: map.get("organisation").and_then(|v| v.parse().ok()),
            user: map.get("user").and_then(|v| v.parse().ok()),
            status: map.get("status").and_then(|v| LicenceStatus::parse(&v)),
            expiring: map.get("expiring").filter(|v| v == "soon" || v == "expired"),
            sort: sort.unwrap_or_else(|| "-created_at".into()),
            page: map
                .get("page")
                .and_then(|v| v.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
        }
    }

    fn to_query(&self) -> LicenceQuery {
        LicenceQuery {
            user: self.user,
            organisation: self.organisation,
            status: self.status,
            expiring: self.expiring.clone(),
            q: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
            sort: Some(self.sort.clone()),
            page: Some(self.page),
            per_page: Some(PER_PAGE),
            ..Default::default()
        }
    }

    /// Whether anything narrows the list (sort and page do not).
    fn narrowed(&self) -> bool {
        !self.q.trim().is_empty()
            || self.organisation.is_some()
            || self.user.is_some()
            || self.status.is_some()
            || self.expiring.is_some()
    }

    fn to_url(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if !self.q.trim().is_empty() {
            parts.push(("q", self.q.trim().to_string()));
        }
        if let Some(org) = self.organisation {
            parts.push(("organisation", org.to_string()));
        }
        if let Some(user) = self.user {
            parts.push(("user", user.to_string()));
        }
        if let Some(status) = self.status {
            parts.push(("status", status.as_str().to_string()));
        }
        if let Some(expiring) = &self.expiring {
            parts.push(("expiring", expiring.clone()));
        }
        if self.sort != "-created_at" {
            parts.push(("sort", self.sort.clone()));
        }
        if self.page > 1 {
            parts.push(("page", self.page.to_string()));
        }
        let query: Vec<String> = parts
            .into_iter()
            .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(&v))))
            .collect();
        if query.is_empty() {
            "/licences".into()
        } else {
            format!("/licences?{}", query.join("&"))
        }
    }
}

/// The parts of a row that do not change when the licence is paused or resumed
/// (a change to them re-renders the row).
type RowKey = (
    LicenceId,
    String,
    String,
    Plan,
    u32,
    i64,
    Option<OrganisationId>,
    Option<UserId>,
    String,
);

fn row_key(l: &LicenceView) -> RowKey {
    (
        l.id,
        l.name.clone(),
        l.product_name.clone(),
        l.plan,
        l.quantity,
        l.amount,
        l.owner_organisation_id,
        l.owner_user_id,
        l.coupon_code.clone(),
    )
}

/// A licence picked for invoicing; the selection outlives page changes.
#[derive(Debug, Clone, PartialEq)]
struct Picked {
    id: LicenceId,
    amount: i64,
    currency: String,
}

type Selection = RwSignal<Vec<Picked>>;

/// The selection's total per currency: "€450.00 + $90.00".
fn selection_total(picked: &[Picked]) -> String {
    let mut totals: Vec<(String, i64)> = Vec::new();
    for p in picked {
        match totals.iter_mut().find(|(c, _)| *c == p.currency) {
            Some((_, sum)) => *sum += p.amount,
            None => totals.push((p.currency.clone(), p.amount)),
        }
    }
    totals
        .iter()
        .map(|(currency, sum)| money(*sum, currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// What one send did, in a sentence.
fn send_summary(results: &[leasehold_core::wire::InvoiceResult]) -> String {
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    let mut parts = Vec::new();
    let sent = count(InvoiceOutcome::Invoiced);
    parts.push(match sent {
        0 => "No invoice sent".to_string(),
        n => count_label(n as u64, "invoice sent", "invoices sent"),
    });
    for (outcome, label) in [
        (InvoiceOutcome::AlreadyInvoiced, "already invoiced for this period"),
        (InvoiceOutcome::NoOwner, "without an owner"),
        (InvoiceOutcome::NotBillable, "free of charge"),
        (InvoiceOutcome::NotFound, "no longer found"),
    ] {
        let n = count(outcome);
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    parts.join(" · ")
}

#[component]
pub fn LicencesPage() -> impl IntoView {
    set_title("Licences");
    // Members may not read licences; their home is their sessions.
    if api::current_role() == Role::Member {
        return view! { <NoAccess what="Licences" /> }.into_any();
    }
    view! { <Licences /> }.into_any()
}

#[component]
fn Licences() -> impl IntoView {
    let role = api::current_role();
    let vendor = role.is_vendor();
    let manage = can_manage(role);
    let toasts = use_toasts();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let filters = Memo::new(move |_| Filters::from_map(&query_map.get()));

    let go = {
        let navigate = navigate.clone();
        move |next: Filters| {
            navigate(
                &next.to_url(),
                NavigateOptions {
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
    // Changes one filter and goes back to the first page.
    let change = {
        let go = go.clone();
        move |edit: &dyn Fn(&mut Filters)| {
            let mut next = filters.get_untracked();
            edit(&mut next);
            next.page = 1;
            go(next);
        }
    };

    let licences = fetch(
        move || filters.get().to_query(),
        |query| async move { api::call(async |c| c.list_licences(&query).await).await },
    );
    let orgs = lookups::organisations();
    // Only a change of organisation reloads the users (not every keystroke).
    let organisation_filter = Memo::new(move |_| filters.with(|f| f.organisation));
    let users = lookups::users(move || organisation_filter.get());

    // Search box: typed text is sent 300 ms after the last key press.
    let search = RwSignal::new(filters.get_untracked().q);
    let typed = StoredValue::new(0u64);
    Effect::new(move |_| {
        let q = filters.get().q;
        if typed.get_value() == 0 && search.get_untracked().trim() != q.trim() {
            search.set(q);
        }
    });
    let on_search = {
        let change = change.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            search.set(text);
            let ticket = typed.get_value() + 1;
            typed.set_value(ticket);
            let change = change.clone();
            spawn_local(async move {
                TimeoutFuture::new(300).await;
                if typed.try_get_value() == Some(ticket) {
                    typed.set_value(0);
                    let text = search.get_untracked();
                    if text.trim() != filters.get_untracked().q.trim() {
                        change(&|f: &mut Filters| f.q = text.clone());
                    }
                }
            });
        }
    };

    let to_delete = RwSignal::new(None::<(LicenceId, String)>);
    // Invoicing: vendor staff pick licences with an owner, up to 20, across pages.
    let selection: Option<Selection> = vendor.then(|| RwSignal::new(Vec::new()));
    let confirming = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let send_key = StoredValue::new(String::new());
    let open_send = move |_| {
        send_key.set_value(api::idempotency_key());
        confirming.set(true);
    };
    let send = move |_| {
        let Some(selection) = selection else { return };
        let ids: Vec<LicenceId> = selection.with_untracked(|s| s.iter().map(|p| p.id).collect());
        let key = send_key.get_value();
        sending.set(true);
        spawn_local(async move {
            match api::call(async |c| c.send_invoices(&ids, Some(&key)).await).await {
                Ok(batch) => {
                    let summary = send_summary(&batch.results);
                    if batch.results.iter().all(|r| r.outcome == InvoiceOutcome::Invoiced) {
                        toasts.success(summary);
                    } else {
                        toasts.info(summary);
                    }
                    selection.set(Vec::new());
                    confirming.set(false);
                    licences.reload();
                }
                Err(error) => toasts.error(error.summary()),
            }
            sending.try_set(false);
        });
    };

    let on_org = {
        let change = change.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            change(&|f: &mut Filters| {
                f.organisation = value.parse().ok();
                f.user = None;
            });
        }
    };
    let on_user = {
        let change = change.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            change(&|f: &mut Filters| f.user = value.parse().ok());
        }
    };
    let on_status = {
        let change = change.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            change(&|f: &mut Filters| f.status = LicenceStatus::parse(&value));
        }
    };
    let on_sort = {
        let change = change.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            change(&|f: &mut Filters| f.sort = value.clone());
        }
    };
    let toggle_expiring = {
        let change = change.clone();
        move |which: &'static str| {
            change(&|f: &mut Filters| {
                f.expiring = if f.expiring.as_deref() == Some(which) {
                    None
                } else {
                    Some(which.to_string())
                };
            });
        }
    };
    let clear = {
        let go = go.clone();
        move || {
            search.set(String::new());
            go(Filters {
                sort: filters.get_untracked().sort,
                page: 1,
                ..Default::default()
            });
        }
    };
    let sort_by = {
        let change = change.clone();
        move |column: &'static str| {
            change(&|f: &mut Filters| {
                f.sort = if f.sort == column {
                    format!("-{column}")
                } else if f.sort == format!("-{column}") {
                    column.to_string()
                } else if column == "quantity" {
                    "-quantity".into()
                } else {
                    column.to_string()
                };
            });
        }
    };
    let on_page = {
        let go = go.clone();
        Callback::new(move |page: u32| {
            let mut next = filters.get_untracked();
            next.page = page;
            go(next);
        })
    };

    let total = Signal::derive(move || licences.with_ok(|p| p.total).unwrap_or(0));
    let subtitle = Signal::derive(move || {
        licences
            .with_ok(|p| count_label(p.total, "licence", "licences"))
            .unwrap_or_else(|| "Seats granted to your customers".into())
    });

    let chip = {
        let toggle = toggle_expiring.clone();
        move |which: &'static str, label: &'static str, testid: &'static str| {
            let toggle = toggle.clone();
            let active = move || filters.with(|f| f.expiring.as_deref() == Some(which));
            view! {
                <button
                    type="button"
                    class="chip"
                    class:chip-active=active
                    aria-pressed=move || active().to_string()
                    data-testid=testid
                    title=move || if active() { "Click to remove this filter" } else { "Show only these licences" }
                    on:click=move |_| toggle(which)
                >
                    {label}
                    {move || active().then(|| icon(Icon::Close))}
                </button>
            }
        }
    };

    let header_cell = {
        let sort_by = sort_by.clone();
        move |column: &'static str, label: &'static str, class: &'static str| {
            let sort_by = sort_by.clone();
            let state = move || {
                filters.with(|f| {
                    if f.sort == column {
                        "ascending"
                    } else if f.sort.strip_prefix('-') == Some(column) {
                        "descending"
                    } else {
                        "none"
                    }
                })
            };
            view! {
                <th scope="col" class=class aria-sort=state>
                    <button
                        type="button"
                        class="sort-btn"
                        title=format!("Sort by {}", label.to_lowercase())
                        on:click=move |_| sort_by(column)
                    >
                        {label}
                        <span class="sort-mark" aria-hidden="true">
                            {move || match state() {
                                "ascending" => "▲",
                                "descending" => "▼",
                                _ => "↕",
                            }}
                        </span>
                    </button>
                </th>
            }
        }
    };

    let columns = 8 + usize::from(manage) + usize::from(selection.is_some());

    view! {
        <PageHeader title="Licences" subtitle=subtitle>
            {vendor
                .then(|| {
                    view! {
                        <a class="btn btn-primary" href="/licences/new" data-testid="add-licence">
                            {icon(Icon::Plus)}
                            "Add licence"
                        </a>
                    }
                })}
            {(role == Role::OrgAdmin)
                .then(|| {
                    view! {
                        <a class="btn btn-primary" href="/redeem" data-testid="redeem-link">
                            {icon(Icon::Ticket)}
                            "Redeem coupon"
                        </a>
                    }
                })}
        </PageHeader>

        <section class="card" aria-label="Licences">
            <div class="toolbar" role="search">
                <div class="search">
                    {icon(Icon::Search)}
                    <label for="licence-search" class="visually-hidden">
                        "Search licences"
                    </label>
                    <input
                        id="licence-search"
                        class="input search-input"
                        type="search"
                        placeholder="Search name, note, coupon, owner…"
                        autocomplete="off"
                        data-testid="licence-search"
                        prop:value=search
                        on:input=on_search
                    />
                </div>
                {vendor
                    .then(|| {
                        view! {
                            <label class="visually-hidden" for="filter-organisation">
                                "Organisation"
                            </label>
                            <select
                                id="filter-organisation"
                                class="select"
                                data-testid="filter-organisation"
                                on:change=on_org.clone()
                            >
                                <OrganisationOptions
                                    orgs=orgs
                                    selected=Signal::derive(move || filters.with(|f| f.organisation))
                                />
                            </select>
                        }
                    })}
                {move || {
                    let org = filters.with(|f| f.organisation);
                    let options = users.with_ok(|list| lookups::customer_users(list, org))?;
                    if options.is_empty() && filters.with(|f| f.user.is_none()) {
                        return None;
                    }
                    Some(
                        view! {
                            <label class="visually-hidden" for="filter-user">
                                "User"
                            </label>
                            <select id="filter-user" class="select" data-testid="filter-user" on:change=on_user.clone()>
                                <option value="" prop:selected=move || filters.with(|f| f.user.is_none())>
                                    "All users"
                                </option>
                                {options
                                    .into_iter()
                                    .map(|u| {
                                        let id = u.id;
                                        view! {
                                            <option
                                                value=id.to_string()
                                                prop:selected=move || filters.with(|f| f.user == Some(id))
                                            >
                                                {u.email}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        },
                    )
                }}
                <label class="visually-hidden" for="filter-status">
                    "Status"
                </label>
                <select id="filter-status" class="select" data-testid="filter-status" on:change=on_status>
                    <option value="" prop:selected=move || filters.with(|f| f.status.is_none())>
                        "All statuses"
                    </option>
                    {LicenceStatus::ALL
                        .iter()
                        .map(|s| {
                            let s = *s;
                            view! {
                                <option value=s.as_str() prop:selected=move || filters.with(|f| f.status == Some(s))>
                                    {crate::components::format::status_label(s)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <div class="chips" role="group" aria-label="End date">
                    {chip("soon", "Expiring soon", "filter-expiring-soon")}
                    {chip("expired", "Expired", "filter-expired")}
                </div>
                <div class="toolbar-end">
                    <label class="toolbar-label" for="licence-sort">
                        "Sort"
                    </label>
                    <select id="licence-sort" class="select" data-testid="licence-sort" on:change=on_sort>
                        {SORTS
                            .iter()
                            .map(|(key, label)| {
                                let key = *key;
                                view! {
                                    <option value=key prop:selected=move || filters.with(|f| f.sort == key)>
                                        {*label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    {
                        let clear = clear.clone();
                        move || {
                            let clear = clear.clone();
                            filters
                                .with(Filters::narrowed)
                                .then(|| {
                                    view! {
                                        <button
                                            type="button"
                                            class="btn btn-ghost btn-sm"
                                            data-testid="clear-filters"
                                            on:click=move |_| clear()
                                        >
                                            "Clear filters"
                                        </button>
                                    }
                                })
                        }
                    }
                </div>
            </div>

            {move || {
                selection
                    .filter(|s| s.with(|s| !s.is_empty()))
                    .map(|s| {
                        let picked = s.get();
                        view! {
                            <div class="selection-bar" data-testid="selection-bar" role="status">
                                <span class="selection-count" data-testid="selection-count">
                                    {format!("{} of {MAX_INVOICE_BATCH} selected", picked.len())}
                                </span>
                                <span class="selection-total" data-testid="selection-total">
                                    {format!("Total {}", selection_total(&picked))}
                                </span>
                                <div class="selection-actions">
                                    <button
                                        type="button"
                                        class="btn btn-ghost btn-sm"
                                        data-testid="selection-clear"
                                        on:click=move |_| s.set(Vec::new())
                                    >
                                        "Clear selection"
                                    </button>
                                    <button
                                        type="button"
                                        class="btn btn-primary btn-sm"
                                        data-testid="send-invoices"
                                        on:click=open_send
                                    >
                                        {icon(Icon::Invoices)}
                                        "Send invoices"
                                    </button>
                                </div>
                            </div>
                        }
                    })
            }}
            <div class="table-wrap" class:is-loading=move || licences.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table table-dense" aria-busy=move || licences.loading.get().to_string()>
                    <thead>
                        <tr>
                            {selection
                                .is_some()
                                .then(|| {
                                    view! {
                                        <th scope="col" class="col-select">
                                            <span class="visually-hidden">"Select for invoicing"</span>
                                        </th>
                                    }
                                })}
                            {header_cell("name", "Name", "col-name")}
                            <th scope="col">"Product · plan"</th>
                            {header_cell("quantity", "Seats", "num")}
                            <th scope="col" class="num">
                                "Amount"
                            </th>
                            <th scope="col">"Owner"</th>
                            <th scope="col">"Coupon"</th>
                            <th scope="col">"Status"</th>
                            {header_cell("ends_at", "Ends", "")}
                            {manage.then(|| view! { <th scope="col" class="col-actions"><span class="visually-hidden">"Actions"</span></th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            licences
                                .data
                                .with(|data| match data {
                                    None => view! { <SkeletonRows columns=columns /> }.into_any(),
                                    Some(Err(error)) => {
                                        view! {
                                            <tr>
                                                <td colspan=columns.to_string()>
                                                    <ErrorPanel
                                                        error=error.clone()
                                                        on_retry=Callback::new(move |_| licences.reload())
                                                    />
                                                </td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(page)) if page.items.is_empty() => {
                                        view! {
                                            <tr>
                                                <td colspan=columns.to_string()>{empty_state(filters, vendor, role, clear.clone())}</td>
                                            </tr>
                                        }
                                            .into_any()
                                    }
                                    Some(Ok(_)) => ().into_any(),
                                })
                        }}
                        <For
                            each=move || licences.with_ok(|p| p.items.clone()).unwrap_or_default()
                            key=row_key
                            children=move |licence| {
                                licence_row(licence, licences, manage, selection, to_delete, toasts)
                            }
                        />
                    </tbody>
                </table>
            </div>
            <Pagination
                page=Signal::derive(move || filters.with(|f| f.page))
                per_page=Signal::derive(move || licences.with_ok(|p| p.per_page).unwrap_or(PER_PAGE))
                total=total
                busy=licences.loading
                on_page=on_page
            />
        </section>

        {move || {
            let picked = selection.map(|s| s.get()).unwrap_or_default();
            confirming
                .get()
                .then(|| {
                    let n = picked.len();
                    view! {
                        <ConfirmDialog
                            title=if n == 1 { "Send 1 invoice?".to_string() } else { format!("Send {n} invoices?") }
                            message=format!(
                                "Each licence's owner receives an e-mail with an invoice for its current period ({} in all), and the licences are marked invoiced. A licence already invoiced for its period is skipped.",
                                selection_total(&picked),
                            )
                            confirm_label="Send invoices"
                            busy=sending
                            on_confirm=Callback::new(send)
                            on_cancel=Callback::new(move |_| confirming.set(false))
                        />
                    }
                })
        }}
        {move || {
            to_delete
                .get()
                .map(|(id, name)| {
                    view! {
                        <DeleteLicenceDialog
                            id=id
                            name=name
                            on_deleted=Callback::new(move |_| {
                                to_delete.set(None);
                                licences.reload();
                            })
                            on_cancel=Callback::new(move |_| to_delete.set(None))
                        />
                    }
                })
        }}
    }
}

fn empty_state(
    filters: Memo<Filters>,
    vendor: bool,
    role: Role,
    clear: impl Fn() + Clone + Send + Sync + 'static,
) -> AnyView {
    if filters.with_untracked(Filters::narrowed) {
        view! {
            <EmptyState
                title="No licences match these filters"
                hint="Try another keyword, or clear the filters to see every licence."
            >
                <button type="button" class="btn btn-secondary" on:click=move |_| clear()>
                    "Clear filters"
                </button>
            </EmptyState>
        }
        .into_any()
    } else if vendor {
        view! {
            <EmptyState
                title="No licences yet"
                hint="Add a licence, then hand its coupon code to a customer or assign it to an organisation."
                symbol=Icon::Licence
            >
                <a class="btn btn-primary" href="/licences/new">
                    {icon(Icon::Plus)}
                    "Add licence"
                </a>
            </EmptyState>
        }
        .into_any()
    } else if role == Role::OrgAdmin {
        view! {
            <EmptyState
                title="No licences yet"
                hint="Redeem the coupon code your account manager gave you to add its seats to your organisation."
                symbol=Icon::Ticket
            >
                <a class="btn btn-primary" href="/redeem">
                    "Redeem coupon"
                </a>
            </EmptyState>
        }
        .into_any()
    } else {
        view! {
            <EmptyState
                title="No licences yet"
                hint="Your organisation's licences will be listed here."
                symbol=Icon::Licence
            />
        }
        .into_any()
    }
}

fn licence_row(
    licence: LicenceView,
    licences: crate::resource::Fetch<leasehold_core::wire::Page<LicenceView>>,
    manage: bool,
    selection: Option<Selection>,
    to_delete: RwSignal<Option<(LicenceId, String)>>,
    toasts: crate::components::toast::Toasts,
) -> impl IntoView {
    let id = licence.id;
    // The parts that change in place (pause / resume) are read from the list.
    let current = Memo::new(move |_| {
        licences
            .with_ok(|p| {
                p.items
                    .iter()
                    .find(|l| l.id == id)
                    .map(|l| (l.status, l.billing_status, l.ends_at))
            })
            .flatten()
            .unwrap_or((licence.status, licence.billing_status, licence.ends_at))
    });
    let status = Signal::derive(move || current.get().0);
    let billing = Signal::derive(move || current.get().1);
    let href = format!("/licences/{id}");
    let code = licence.coupon_code.clone();
    let name = licence.name.clone();
    let owner = match (&licence.owner_organisation_name, &licence.owner_user_email) {
        (None, None) => view! { <span class="muted">"Unassigned"</span> }.into_any(),
        (org, user) => view! {
            <div class="cell-stack">
                <span>{org.clone().unwrap_or_else(|| "—".into())}</span>
                {user.clone().map(|u| view! { <span class="muted small">{u}</span> })}
            </div>
        }
        .into_any(),
    };
    let pick = Picked {
        id,
        amount: licence.amount,
        currency: licence.currency.clone(),
    };
    let owned = licence.owner_user_id.is_some();
    let select_cell = selection.map(|selection| {
        let checked = move || selection.with(|s| s.iter().any(|p| p.id == id));
        let label = format!("Select {} for invoicing", licence.name);
        let on_change = move |ev: leptos::ev::Event| {
            let want = event_target_checked(&ev);
            let refused = want && selection.with_untracked(|s| s.len() >= MAX_INVOICE_BATCH);
            if refused {
                let input: web_sys::HtmlInputElement = event_target(&ev);
                input.set_checked(false);
                toasts.error(format!("At most {MAX_INVOICE_BATCH} licences can be invoiced at once."));
                return;
            }
            selection.update(|s| {
                s.retain(|p| p.id != id);
                if want {
                    s.push(pick.clone());
                }
            });
        };
        view! {
            <td class="col-select">
                <input
                    type="checkbox"
                    class="row-check"
                    data-testid="licence-select"
                    aria-label=label
                    disabled=!owned
                    title=if owned { "Select for invoicing" } else { "Only licences with an owning user can be invoiced" }
                    prop:checked=checked
                    on:change=on_change
                />
            </td>
        }
    });
    view! {
        <tr data-testid="licence-row" data-licence-id=id.to_string() data-coupon=code.clone()>
            {select_cell}
            <td class="col-name">
                <a class="row-link" href=href data-testid="licence-link">
                    {licence.name.clone()}
                </a>
                {(!licence.note.trim().is_empty())
                    .then(|| view! { <span class="muted small truncate" title=licence.note.clone()>{licence.note.clone()}</span> })}
            </td>
            <td>
                <div class="cell-stack">
                    <span class="nowrap">{licence.product_name.clone()}</span>
                    <span class="muted small">{plan_label(licence.plan)}</span>
                </div>
            </td>
            <td class="num">{licence.quantity}</td>
            <td class="num" title=format!("{} × {}", licence.quantity, money(licence.unit_price, &licence.currency))>
                {money(licence.amount, &licence.currency)}
            </td>
            <td>{owner}</td>
            <td>
                <button
                    type="button"
                    class="coupon"
                    data-testid="coupon-copy"
                    data-code=code.clone()
                    title="Copy coupon code"
                    aria-label=format!("Copy coupon code {code}")
                    on:click={
                        let code = code.clone();
                        move |_| copy_with_toast(toasts, code.clone(), "coupon code")
                    }
                >
                    <code class="coupon-code">{code.clone()}</code>
                    {icon(Icon::Copy)}
                </button>
            </td>
            <td>
                <LicencePills status=status billing=billing />
            </td>
            <td>{move || ends_cell(current.get().2)}</td>
            {manage
                .then(|| {
                    let name_for_delete = name.clone();
                    view! {
                        <td class="col-actions">
                            <div class="row-actions">
                                <PauseResumeButton
                                    id=id
                                    name=name.clone()
                                    status=status
                                    on_changed=Callback::new(move |updated: LicenceView| {
                                        licences
                                            .update_ok(|page| {
                                                if let Some(row) = page.items.iter_mut().find(|l| l.id == updated.id) {
                                                    *row = updated.clone();
                                                }
                                            });
                                    })
                                />
                                <DeleteButton
                                    name=name.clone()
                                    on_click=Callback::new(move |_| {
                                        to_delete.set(Some((id, name_for_delete.clone())))
                                    })
                                />
                            </div>
                        </td>
                    }
                })}
        </tr>
    }
}

fn ends_cell(ends: Option<DateTime<Utc>>) -> AnyView {
    match ends {
        None => view! { <span class="muted" title="No end date">"—"</span> }.into_any(),
        Some(at) => {
            let days = days_until(at);
            let tone = if days < 0 {
                "ends ends-past"
            } else if days <= 30 {
                "ends ends-soon"
            } else {
                "ends"
            };
            view! {
                <div class="cell-stack">
                    <span class=format!("{tone} nowrap")>{date(at)}</span>
                    {(-60..=30).contains(&days).then(|| view! { <span class="muted small">{relative(at)}</span> })}
                </div>
            }
            .into_any()
        }
    }
}
