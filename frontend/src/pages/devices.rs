//! Devices of the device-seat pools, in three tabs: the ones holding a seat,
//! the blocked ones and the ones waiting for a seat. Tab, filters and page live
//! in the URL (`/devices?tab=requests&product=…&q=…`).

use crate::api;
use crate::components::dialog::{ConfirmDialog, Modal};
use crate::components::format::{count_label, date, datetime_full, relative};
use crate::components::icons::{icon, Icon};
use crate::components::pagination::Pagination;
use crate::components::state::{
    focus_by_id, set_title, EmptyState, ErrorPanel, NoAccess, PageHeader, SkeletonRows, Spinner,
};
use crate::components::toast::{use_toasts, Toasts};
use crate::components::usage::{tone, used_line, OverCapacityPill, UsageBar};
use crate::lookups::MAX_PER_PAGE;
use crate::resource::{fetch, fetch_once, Fetch};
use gloo_timers::future::TimeoutFuture;
use leasehold_core::ids::{DeviceId, OrganisationId, PoolId, ProductId};
use leasehold_core::values::{Role, SeatKind};
use leasehold_core::wire::{DeviceQuery, DeviceView, Page, PoolQuery, PoolView, SeatRequestQuery, SeatRequestView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;
use std::future::Future;

const PER_PAGE: u32 = 25;

/// Administrators revoke, block, unblock and decide requests; viewers only read.
pub fn can_manage_seats(role: Role) -> bool {
    matches!(role, Role::VendorAdmin | Role::AccountManager | Role::OrgAdmin)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Tab {
    #[default]
    Licensed,
    Blocked,
    Requests,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::Licensed, Tab::Blocked, Tab::Requests];

    fn key(self) -> &'static str {
        match self {
            Tab::Licensed => "licensed",
            Tab::Blocked => "blocked",
            Tab::Requests => "requests",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Licensed => "Licensed",
            Tab::Blocked => "Blocked",
            Tab::Requests => "Requests",
        }
    }

    fn parse(text: &str) -> Self {
        Tab::ALL.into_iter().find(|t| t.key() == text).unwrap_or_default()
    }

    fn position(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The page's state as the URL carries it.
#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    tab: Tab,
    product: Option<ProductId>,
    organisation: Option<OrganisationId>,
    q: String,
    page: u32,
}

impl Filters {
    fn from_map(map: &ParamsMap) -> Self {
        Self {
            tab: Tab::parse(&map.get("tab").unwrap_or_default()),
            product: map.get("product").and_then(|v| v.parse().ok()),
            organisation: map.get("organisation").and_then(|v| v.parse().ok()),
            q: map.get("q").unwrap_or_default(),
            page: map
                .get("page")
                .and_then(|v| v.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
        }
    }

    fn narrowed(&self) -> bool {
        !self.q.trim().is_empty() || self.product.is_some() || self.organisation.is_some()
    }

    fn keyword(&self) -> Option<String> {
        Some(self.q.trim().to_string()).filter(|q| !q.is_empty())
    }

    /// The page of `tab` (other tabs show their first page).
    fn page_of(&self, tab: Tab) -> u32 {
        if self.tab == tab {
            self.page
        } else {
            1
        }
    }

    fn to_url(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if self.tab != Tab::Licensed {
            parts.push(("tab", self.tab.key().to_string()));
        }
        if let Some(product) = self.product {
            parts.push(("product", product.to_string()));
        }
        if let Some(org) = self.organisation {
            parts.push(("organisation", org.to_string()));
        }
        if !self.q.trim().is_empty() {
            parts.push(("q", self.q.trim().to_string()));
        }
        if self.page > 1 {
            parts.push(("page", self.page.to_string()));
        }
        let query: Vec<String> = parts
            .into_iter()
            .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(&v))))
            .collect();
        if query.is_empty() {
            "/devices".into()
        } else {
            format!("/devices?{}", query.join("&"))
        }
    }

    fn shows(&self, request: &SeatRequestView) -> bool {
        let q = self.q.trim().to_lowercase();
        self.organisation.is_none_or(|o| request.organisation_id == o)
            && self.product.is_none_or(|p| request.product_id == p)
            && (q.is_empty()
                || request.device_name.to_lowercase().contains(&q)
                || request.fingerprint.to_lowercase().contains(&q))
    }
}

/// What a list of devices is asked with: organisation, product, keyword, page.
type DeviceKey = (Option<OrganisationId>, Option<ProductId>, Option<String>, u32);

fn device_query(state: &str, (organisation, product, q, page): DeviceKey) -> DeviceQuery {
    DeviceQuery {
        state: Some(state.into()),
        organisation,
        product,
        q,
        page: Some(page),
        per_page: Some(PER_PAGE),
    }
}

/// Everything the rows and dialogs share; `Copy`, so handlers keep it across `await`s.
#[derive(Clone, Copy)]
struct Ctx {
    pools: Fetch<Page<PoolView>>,
    licensed: Fetch<Page<DeviceView>>,
    blocked: Fetch<Page<DeviceView>>,
    requests: Fetch<Page<SeatRequestView>>,
    filters: Memo<Filters>,
    /// The action in flight (`revoke:<device id>`…); one at a time.
    working: RwSignal<Option<String>>,
    to_block: RwSignal<Option<DeviceView>>,
    to_reject: RwSignal<Option<SeatRequestView>>,
    to_reallocate: RwSignal<Option<SeatRequestView>>,
    toasts: Toasts,
    manage: bool,
    vendor: bool,
}

impl Ctx {
    /// Loads the summary and all three tabs again.
    fn refresh(&self) {
        self.pools.reload();
        self.licensed.reload();
        self.blocked.reload();
        self.requests.reload();
    }

    fn busy(&self) -> bool {
        self.working.with(Option::is_some)
    }

    fn is_working(&self, key: &str) -> bool {
        self.working.with(|w| w.as_deref() == Some(key))
    }

    /// The requests waiting now, as last loaded (all of them, unfiltered).
    fn waiting_snapshot(&self) -> Vec<SeatRequestView> {
        self.requests.with_ok(|p| p.items.clone()).unwrap_or_default()
    }

    fn org_name(&self, id: OrganisationId) -> Option<String> {
        self.pools
            .with_ok(|p| {
                p.items
                    .iter()
                    .find(|pool| pool.organisation_id == id)
                    .map(|pool| pool.organisation_name.clone())
            })
            .flatten()
    }

    /// Runs one action: the buttons wait, the outcome is a toast, and the page
    /// reloads. `then` learns whether it succeeded.
    fn run<F>(self, key: String, work: F, then: impl FnOnce(bool) + 'static)
    where
        F: Future<Output = Result<String, String>> + 'static,
    {
        if self.working.with_untracked(Option::is_some) {
            return;
        }
        self.working.set(Some(key));
        spawn_local(async move {
            let result = work.await;
            self.working.try_set(None);
            let ok = result.is_ok();
            match result {
                Ok(text) => self.toasts.success(text),
                Err(text) => self.toasts.error(text),
            }
            self.refresh();
            then(ok);
            // Once the page has reloaded, the row (and its button) is re-rendered
            // or gone: keep keyboard users on the page, at the selected tab.
            for _ in 0..100 {
                TimeoutFuture::new(50).await;
                let loading = [
                    self.pools.loading,
                    self.licensed.loading,
                    self.blocked.loading,
                    self.requests.loading,
                ]
                .iter()
                .any(|l| l.try_get_untracked() == Some(true));
                if !loading {
                    break;
                }
            }
            let lost = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.active_element().is_none_or(|e| e.tag_name() == "BODY"));
            if lost {
                if let Some(tab) = self.filters.try_get_untracked().map(|f| f.tab) {
                    focus_by_id(&format!("tab-{}", tab.key()));
                }
            }
        });
    }
}

/// "A", "A and B", "A, B and C".
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Which of the requests waiting `before` were granted since, in `pools`
/// (asked of the server after a seat was freed).
async fn granted_since(before: Vec<SeatRequestView>, pools: Vec<PoolId>, except: DeviceId) -> Vec<String> {
    let query = SeatRequestQuery {
        per_page: Some(MAX_PER_PAGE),
        ..Default::default()
    };
    let Ok(now) = api::call(async |c| c.list_seat_requests(&query).await).await else {
        return Vec::new();
    };
    before
        .into_iter()
        .filter(|r| pools.contains(&r.pool_id) && r.device_id != except)
        .filter(|r| !now.items.iter().any(|n| n.id == r.id))
        .map(|r| r.device_name)
        .collect()
}

/// "Revoked Theatre A — seat given to Locum laptop".
fn freed_message(done: &str, given: &[String]) -> String {
    match given.len() {
        0 => done.to_string(),
        1 => format!("{done} — seat given to {}", join_names(given)),
        _ => format!("{done} — seats given to {}", join_names(given)),
    }
}

#[component]
pub fn DevicesPage() -> impl IntoView {
    set_title("Devices");
    let role = api::current_role();
    if role == Role::Member {
        return view! { <NoAccess what="Devices" /> }.into_any();
    }
    let manage = can_manage_seats(role);
    let vendor = role.is_vendor();
    let toasts = use_toasts();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let filters = Memo::new(move |_| Filters::from_map(&query_map.get()));

    let go = move |next: Filters| {
        navigate(
            &next.to_url(),
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    };
    // Changes a filter and goes back to the first page.
    let change = {
        let go = go.clone();
        move |edit: &dyn Fn(&mut Filters)| {
            let mut next = filters.get_untracked();
            edit(&mut next);
            next.page = 1;
            go(next);
        }
    };

    let pools = fetch_once(|| async {
        let query = PoolQuery {
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_pools(&query).await).await
    });
    let licensed_key =
        Memo::new(move |_| filters.with(|f| (f.organisation, f.product, f.keyword(), f.page_of(Tab::Licensed))));
    let licensed = fetch(
        move || licensed_key.get(),
        |key| async move {
            let query = device_query("licensed", key);
            api::call(async |c| c.list_devices(&query).await).await
        },
    );
    // Blocked devices hold no seats: the product filter does not apply.
    let blocked_key =
        Memo::new(move |_| filters.with(|f| (f.organisation, None, f.keyword(), f.page_of(Tab::Blocked))));
    let blocked = fetch(
        move || blocked_key.get(),
        |key| async move {
            let query = device_query("blocked", key);
            api::call(async |c| c.list_devices(&query).await).await
        },
    );
    let requests = fetch_once(|| async {
        let query = SeatRequestQuery {
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_seat_requests(&query).await).await
    });
    let waiting = Memo::new(move |_| {
        let f = filters.get();
        requests.with_ok(|p| p.items.iter().filter(|r| f.shows(r)).cloned().collect::<Vec<_>>())
    });

    let ctx = Ctx {
        pools,
        licensed,
        blocked,
        requests,
        filters,
        working: RwSignal::new(None),
        to_block: RwSignal::new(None),
        to_reject: RwSignal::new(None),
        to_reallocate: RwSignal::new(None),
        toasts,
        manage,
        vendor,
    };

    let device_pools = Memo::new(move |_| {
        pools
            .with_ok(|p| {
                p.items
                    .iter()
                    .filter(|pool| pool.seat_kind == SeatKind::Device)
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    // Products and organisations that have device pools, for the filters.
    let products = Memo::new(move |_| {
        let mut list: Vec<(ProductId, String)> = device_pools
            .get()
            .into_iter()
            .map(|p| (p.product_id, p.product_name))
            .collect();
        list.sort_by_key(|a| (a.1.to_lowercase(), a.0));
        list.dedup_by_key(|p| p.0);
        list
    });
    let organisations = Memo::new(move |_| {
        let mut list: Vec<(OrganisationId, String)> = device_pools
            .get()
            .into_iter()
            .map(|p| (p.organisation_id, p.organisation_name))
            .collect();
        list.sort_by_key(|a| (a.1.to_lowercase(), a.0));
        list.dedup_by_key(|p| p.0);
        list
    });

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
            search.set(event_target_value(&ev));
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
    let on_product = {
        let change = change.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            change(&|f: &mut Filters| f.product = value.parse().ok());
        }
    };
    let on_org = {
        let change = change.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            change(&|f: &mut Filters| f.organisation = value.parse().ok());
        }
    };
    let clear = {
        let go = go.clone();
        move || {
            search.set(String::new());
            go(Filters {
                tab: filters.get_untracked().tab,
                page: 1,
                ..Default::default()
            });
        }
    };
    let select_tab = {
        let change = change.clone();
        move |tab: Tab| change(&|f: &mut Filters| f.tab = tab)
    };
    let on_page = {
        let go = go.clone();
        Callback::new(move |page: u32| {
            let mut next = filters.get_untracked();
            next.page = page;
            go(next);
        })
    };

    let count_of = move |tab: Tab| -> Option<u64> {
        match tab {
            Tab::Licensed => licensed.with_ok(|p| p.total),
            Tab::Blocked => blocked.with_ok(|p| p.total),
            Tab::Requests => waiting.with(|w| w.as_ref().map(|w| w.len() as u64)),
        }
    };

    let tab_button = {
        let select_tab = select_tab.clone();
        move |tab: Tab| {
            let select_tab = select_tab.clone();
            let select_key = select_tab.clone();
            let selected = move || filters.with(|f| f.tab == tab);
            let alert = move || tab == Tab::Requests && count_of(tab).is_some_and(|n| n > 0);
            view! {
                <button
                    type="button"
                    role="tab"
                    id=format!("tab-{}", tab.key())
                    class="tab"
                    aria-selected=move || selected().to_string()
                    aria-controls="devices-panel"
                    tabindex=move || if selected() { "0" } else { "-1" }
                    data-testid=format!("tab-{}", tab.key())
                    data-count=move || count_of(tab).map(|n| n.to_string()).unwrap_or_default()
                    on:click=move |_| select_tab(tab)
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        let at = tab.position();
                        let next = match ev.key().as_str() {
                            "ArrowRight" => Some(Tab::ALL[(at + 1) % Tab::ALL.len()]),
                            "ArrowLeft" => Some(Tab::ALL[(at + Tab::ALL.len() - 1) % Tab::ALL.len()]),
                            "Home" => Some(Tab::Licensed),
                            "End" => Some(Tab::Requests),
                            _ => None,
                        };
                        if let Some(next) = next {
                            ev.prevent_default();
                            select_key(next);
                            focus_by_id(&format!("tab-{}", next.key()));
                        }
                    }
                >
                    {tab.label()}
                    <span class="tab-count" class:tab-count-alert=move || alert()>
                        {move || count_of(tab).map(|n| n.to_string()).unwrap_or_else(|| "…".into())}
                    </span>
                </button>
            }
        }
    };

    let active = move || filters.with(|f| f.tab);
    let page_shown = Signal::derive(move || {
        if active() == Tab::Requests {
            1
        } else {
            filters.with(|f| f.page)
        }
    });
    let per_page_shown = Signal::derive(move || match active() {
        Tab::Licensed => licensed.with_ok(|p| p.per_page).unwrap_or(PER_PAGE),
        Tab::Blocked => blocked.with_ok(|p| p.per_page).unwrap_or(PER_PAGE),
        Tab::Requests => MAX_PER_PAGE,
    });
    let total_shown = Signal::derive(move || count_of(active()).unwrap_or(0));
    let busy_shown = Signal::derive(move || match active() {
        Tab::Licensed => licensed.loading.get(),
        Tab::Blocked => blocked.loading.get(),
        Tab::Requests => requests.loading.get(),
    });

    let subtitle = "Devices holding a seat, devices you blocked, and devices waiting for a seat.";

    view! {
        <PageHeader title="Devices" subtitle=subtitle />
        <UsageSummary ctx=ctx device_pools=device_pools />
        <section class="card" aria-label="Devices">
            <div class="tabs card-tabs" role="tablist" aria-label="Devices by state">
                {Tab::ALL.into_iter().map(tab_button).collect_view()}
            </div>
            <div class="toolbar" role="search">
                <div class="search">
                    {icon(Icon::Search)}
                    <label for="device-search" class="visually-hidden">
                        "Search devices"
                    </label>
                    <input
                        id="device-search"
                        class="input search-input"
                        type="search"
                        placeholder="Search name or fingerprint…"
                        autocomplete="off"
                        data-testid="device-search"
                        prop:value=search
                        on:input=on_search
                    />
                </div>
                <label class="visually-hidden" for="filter-product">
                    "Product"
                </label>
                <select id="filter-product" class="select" data-testid="filter-product" on:change=on_product>
                    <option value="" prop:selected=move || filters.with(|f| f.product.is_none())>
                        "All products"
                    </option>
                    {move || {
                        products
                            .get()
                            .into_iter()
                            .map(|(id, name)| {
                                view! {
                                    <option value=id.to_string() prop:selected=move || filters.with(|f| f.product == Some(id))>
                                        {name}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
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
                                on:change=on_org
                            >
                                <option value="" prop:selected=move || filters.with(|f| f.organisation.is_none())>
                                    "All organisations"
                                </option>
                                {move || {
                                    organisations
                                        .get()
                                        .into_iter()
                                        .map(|(id, name)| {
                                            view! {
                                                <option
                                                    value=id.to_string()
                                                    prop:selected=move || filters.with(|f| f.organisation == Some(id))
                                                >
                                                    {name}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </select>
                        }
                    })}
                <div class="toolbar-end">
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
            <div
                role="tabpanel"
                id="devices-panel"
                aria-labelledby=move || format!("tab-{}", filters.with(|f| f.tab.key()))
                data-testid=move || format!("panel-{}", filters.with(|f| f.tab.key()))
            >
                {
                    let clear = clear.clone();
                    move || {
                        let clear = clear.clone();
                        match filters.with(|f| f.tab) {
                            Tab::Licensed => licensed_table(ctx, clear).into_any(),
                            Tab::Blocked => blocked_table(ctx, clear).into_any(),
                            Tab::Requests => requests_table(ctx, waiting, clear).into_any(),
                        }
                    }
                }
                // The queue is shown whole (oldest first), without pages.
                <Show when=move || active() != Tab::Requests>
                    <Pagination
                        page=page_shown
                        per_page=per_page_shown
                        total=total_shown
                        busy=busy_shown
                        on_page=on_page
                    />
                </Show>
            </div>
        </section>
        {move || ctx.to_block.get().map(|device| view! { <BlockDialog ctx=ctx device=device /> })}
        {move || ctx.to_reject.get().map(|request| view! { <RejectDialog ctx=ctx request=request /> })}
        {move || {
            ctx.to_reallocate
                .get()
                .map(|request| view! { <ReallocateDialog ctx=ctx request=request /> })
        }}
    }
    .into_any()
}

// ---------------------------------------------------------------- summary

/// One small card per device pool: "14 of 14 licences used", a bar, what is
/// free and who waits.
#[component]
fn UsageSummary(ctx: Ctx, device_pools: Memo<Vec<PoolView>>) -> impl IntoView {
    let shown = Memo::new(move |_| {
        let (org, product) = ctx.filters.with(|f| (f.organisation, f.product));
        device_pools
            .get()
            .into_iter()
            .filter(|p| org.is_none_or(|o| p.organisation_id == o) && product.is_none_or(|id| p.product_id == id))
            .collect::<Vec<_>>()
    });
    move || {
        ctx.pools.data.with(|data| match data {
            None => view! {
                <section class="usage-strip" aria-label="Licence usage" aria-busy="true">
                    <div class="card usage-card">
                        <span class="skeleton"></span>
                        <span class="skeleton skeleton-bar"></span>
                    </div>
                </section>
            }
            .into_any(),
            Some(Err(error)) => view! {
                <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| ctx.pools.reload()) />
            }
            .into_any(),
            Some(Ok(_)) if shown.with(Vec::is_empty) => view! {
                <div class="banner banner-info" data-testid="no-device-pools">
                    {icon(Icon::Info)}
                    <div class="banner-body">
                        <p class="banner-title">"No device licences here"</p>
                        <p class="banner-text">
                            "Devices get seats from an organisation's active licences of a device product. Once there is one, its usage shows here."
                        </p>
                    </div>
                </div>
            }
            .into_any(),
            Some(Ok(_)) => view! {
                <section class="usage-strip" aria-label="Licence usage">
                    {shown.get().into_iter().map(|pool| usage_card(pool, ctx.vendor)).collect_view()}
                </section>
            }
            .into_any(),
        })
    }
}

fn usage_card(pool: PoolView, vendor: bool) -> impl IntoView {
    let free = if pool.over_capacity {
        format!("{} over", pool.held - pool.capacity)
    } else {
        format!("{} available", pool.available)
    };
    let waiting = count_label(pool.waiting, "waiting", "waiting");
    let has_waiting = pool.waiting > 0;
    view! {
        <div
            class=format!("card usage-card usage-{}", tone(&pool))
            data-testid="pool-usage"
            data-product=pool.product_name.clone()
        >
            <div class="usage-head">
                <span class="usage-product">{pool.product_name.clone()}</span>
                {vendor.then(|| view! { <span class="muted small">{pool.organisation_name.clone()}</span> })}
                {pool.over_capacity.then(|| view! { <OverCapacityPill /> })}
            </div>
            <p class="usage-line" data-testid="usage-line">
                {used_line(&pool, "licence")}
            </p>
            <UsageBar pool=pool.clone() />
            <p class="usage-foot">
                <span class="usage-free">{free}</span>
                <span aria-hidden="true">" · "</span>
                <span class:usage-waiting=has_waiting>{waiting}</span>
            </p>
        </div>
    }
}

// ---------------------------------------------------------------- tables

/// The table frame shared by the tabs: headers, skeleton, error and empty state.
fn table_frame(
    loading: Signal<bool>,
    headers: Vec<(&'static str, &'static str)>,
    body: impl IntoView + 'static,
) -> impl IntoView {
    view! {
        <div class="table-wrap" class:is-loading=move || loading.get()>
            <div class="progress" aria-hidden="true"></div>
            <table class="table" aria-busy=move || loading.get().to_string()>
                <thead>
                    <tr>
                        {headers
                            .into_iter()
                            .map(|(label, class)| {
                                if label.is_empty() {
                                    view! {
                                        <th scope="col" class=class>
                                            <span class="visually-hidden">"Actions"</span>
                                        </th>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <th scope="col" class=class>
                                            {label}
                                        </th>
                                    }
                                        .into_any()
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

fn full_row(columns: usize, content: AnyView) -> AnyView {
    view! {
        <tr>
            <td colspan=columns.to_string()>{content}</td>
        </tr>
    }
    .into_any()
}

fn no_match(clear: impl Fn() + Clone + Send + Sync + 'static) -> AnyView {
    view! {
        <EmptyState
            title="No devices match these filters"
            hint="Try another keyword or product, or clear the filters."
        >
            <button type="button" class="btn btn-secondary" on:click=move |_| clear()>
                "Clear filters"
            </button>
        </EmptyState>
    }
    .into_any()
}

fn device_cell(ctx: Ctx, device: &DeviceView) -> impl IntoView {
    let org = ctx.vendor.then(|| ctx.org_name(device.organisation_id)).flatten();
    view! {
        <td class="col-name">
            <div class="cell-stack">
                <span class="strong" data-testid="device-name">
                    {device.name.clone()}
                </span>
                {org.map(|o| view! { <span class="muted small">{o}</span> })}
            </div>
        </td>
        <td>
            <code class="fingerprint" title="Fingerprint">
                {device.fingerprint.clone()}
            </code>
        </td>
    }
}

fn when_cell(at: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    view! {
        <td title=datetime_full(at)>
            <div class="cell-stack">
                <span class="nowrap">{date(at)}</span>
                <span class="muted small">{relative(at)}</span>
            </div>
        </td>
    }
}

fn licensed_table(ctx: Ctx, clear: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let mut headers = vec![
        ("Device", "col-name"),
        ("Fingerprint", ""),
        ("Licences", ""),
        ("Licensed since", ""),
        ("Last seen", ""),
    ];
    if ctx.manage {
        headers.push(("", "col-actions"));
    }
    let columns = headers.len();
    let body = move || {
        let clear = clear.clone();
        ctx.licensed.data.with(|data| match data {
            None => view! { <SkeletonRows columns=columns /> }.into_any(),
            Some(Err(error)) => full_row(
                columns,
                view! { <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| ctx.licensed.reload()) /> }
                    .into_any(),
            ),
            Some(Ok(page)) if page.items.is_empty() => {
                let content = if ctx.filters.with_untracked(Filters::narrowed) {
                    no_match(clear)
                } else {
                    view! {
                        <EmptyState
                            title="No licensed devices"
                            hint="A device appears here once it registers with your organisation's API key and gets a seat."
                            symbol=Icon::Devices
                        />
                    }
                    .into_any()
                };
                full_row(columns, content)
            }
            Some(Ok(page)) => page
                .items
                .iter()
                .map(|device| licensed_row(ctx, device.clone()))
                .collect_view()
                .into_any(),
        })
    };
    table_frame(ctx.licensed.loading.into(), headers, body)
}

fn licensed_row(ctx: Ctx, device: DeviceView) -> impl IntoView {
    let product = ctx.filters.with_untracked(|f| f.product);
    let since = device
        .seats
        .iter()
        .filter(|s| product.is_none_or(|p| s.product_id == p))
        .map(|s| s.granted_at)
        .min()
        .or_else(|| device.seats.iter().map(|s| s.granted_at).min());
    let products: Vec<String> = device.seats.iter().map(|s| s.product_name.clone()).collect();
    view! {
        <tr data-testid="device-row" data-device-name=device.name.clone()>
            {device_cell(ctx, &device)}
            <td>
                <span class="pills">
                    {products.into_iter().map(|p| view! { <span class="pill pill-product">{p}</span> }).collect_view()}
                </span>
            </td>
            {since.map(when_cell)}
            {since.is_none().then(|| view! { <td class="muted">"—"</td> })}
            <td title=datetime_full(device.last_seen_at)>
                <span class="nowrap">{relative(device.last_seen_at)}</span>
            </td>
            {ctx
                .manage
                .then(|| {
                    view! {
                        <td class="col-actions">
                            <div class="row-actions">{licensed_actions(ctx, device.clone())}</div>
                        </td>
                    }
                })}
        </tr>
    }
}

fn licensed_actions(ctx: Ctx, device: DeviceView) -> impl IntoView {
    let revoke_key = format!("revoke:{}", device.id);
    let busy_key = revoke_key.clone();
    let name = device.name.clone();
    let for_block = device.clone();
    let revoke = move |_| {
        let device = device.clone();
        let product = ctx.filters.with_untracked(|f| f.product);
        let before = ctx.waiting_snapshot();
        let pools: Vec<PoolId> = device
            .seats
            .iter()
            .filter(|s| product.is_none_or(|p| s.product_id == p))
            .map(|s| s.pool_id)
            .collect();
        let work = async move {
            match api::call(async |c| c.revoke_device(device.id, product).await).await {
                Ok(released) if released.released == 0 => Ok(format!("{} held no seat any more", device.name)),
                Ok(_) => {
                    let given = granted_since(before, pools, device.id).await;
                    Ok(freed_message(&format!("Revoked {}", device.name), &given))
                }
                Err(error) => Err(format!("Could not revoke {}: {}", device.name, error.message())),
            }
        };
        ctx.run(revoke_key.clone(), work, |_| {});
    };
    view! {
        <button
            type="button"
            class="btn btn-secondary btn-sm"
            data-testid="revoke-device"
            aria-label=format!("Revoke the licence of {name}")
            title="Release its seat. It can register again later, if a seat is free."
            disabled=move || ctx.busy()
            on:click=revoke
        >
            {move || if ctx.is_working(&busy_key) { "Revoking…" } else { "Revoke" }}
        </button>
        <button
            type="button"
            class="btn btn-ghost btn-ghost-danger btn-sm"
            data-testid="block-device"
            aria-label=format!("Block {name}")
            title="Release its seat and stop it registering (lost or stolen devices)"
            disabled=move || ctx.busy()
            on:click=move |_| ctx.to_block.set(Some(for_block.clone()))
        >
            {icon(Icon::Block)}
            "Block"
        </button>
    }
}

fn blocked_table(ctx: Ctx, clear: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let mut headers = vec![
        ("Device", "col-name"),
        ("Fingerprint", ""),
        ("Blocked since", ""),
        ("Last seen", ""),
    ];
    if ctx.manage {
        headers.push(("", "col-actions"));
    }
    let columns = headers.len();
    let body = move || {
        let clear = clear.clone();
        ctx.blocked.data.with(|data| match data {
            None => view! { <SkeletonRows columns=columns /> }.into_any(),
            Some(Err(error)) => full_row(
                columns,
                view! { <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| ctx.blocked.reload()) /> }
                    .into_any(),
            ),
            Some(Ok(page)) if page.items.is_empty() => {
                let narrowed = ctx.filters.with_untracked(|f| !f.q.trim().is_empty() || f.organisation.is_some());
                let content = if narrowed {
                    no_match(clear)
                } else {
                    view! {
                        <EmptyState
                            title="No blocked devices"
                            hint="Block a lost or stolen device from the Licensed tab: its seat is released and it cannot register until you unblock it."
                            symbol=Icon::Block
                        />
                    }
                    .into_any()
                };
                full_row(columns, content)
            }
            Some(Ok(page)) => {
                // The most recently blocked first.
                let mut items = page.items.clone();
                items.sort_by_key(|d| std::cmp::Reverse(d.blocked_at));
                items
                    .into_iter()
                    .map(|device| blocked_row(ctx, device))
                    .collect_view()
                    .into_any()
            }
        })
    };
    view! {
        {move || {
            ctx.filters
                .with(|f| f.product.is_some())
                .then(|| {
                    view! {
                        <p class="panel-note">
                            {icon(Icon::Info)}
                            "Blocked devices hold no seats, so every blocked device is listed whatever the product."
                        </p>
                    }
                })
        }}
        {table_frame(ctx.blocked.loading.into(), headers, body)}
    }
}

fn blocked_row(ctx: Ctx, device: DeviceView) -> impl IntoView {
    let key = format!("unblock:{}", device.id);
    let busy_key = key.clone();
    let name = device.name.clone();
    let id = device.id;
    let unblock = move |_| {
        let name = name.clone();
        let work = async move {
            match api::call(async |c| c.unblock_device(id).await).await {
                Ok(_) => Ok(format!(
                    "Unblocked {name} — it gets a seat the next time it asks, if one is free"
                )),
                Err(error) => Err(format!("Could not unblock {name}: {}", error.message())),
            }
        };
        ctx.run(key.clone(), work, |_| {});
    };
    view! {
        <tr data-testid="device-row" data-device-name=device.name.clone()>
            {device_cell(ctx, &device)}
            {device.blocked_at.map(when_cell)}
            {device.blocked_at.is_none().then(|| view! { <td class="muted">"—"</td> })}
            <td title=datetime_full(device.last_seen_at)>
                <span class="nowrap">{relative(device.last_seen_at)}</span>
            </td>
            {ctx
                .manage
                .then(|| {
                    view! {
                        <td class="col-actions">
                            <div class="row-actions">
                                <button
                                    type="button"
                                    class="btn btn-secondary btn-sm"
                                    data-testid="unblock-device"
                                    aria-label=format!("Unblock {}", device.name)
                                    title="Let it register again; it gets a seat the next time it asks, if one is free"
                                    disabled=move || ctx.busy()
                                    on:click=unblock
                                >
                                    {move || if ctx.is_working(&busy_key) { "Unblocking…" } else { "Unblock" }}
                                </button>
                            </div>
                        </td>
                    }
                })}
        </tr>
    }
}

fn requests_table(
    ctx: Ctx,
    waiting: Memo<Option<Vec<SeatRequestView>>>,
    clear: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let mut headers = vec![
        ("Queue", "col-pos"),
        ("Device", "col-name"),
        ("Fingerprint", ""),
        ("Product", ""),
        ("Waiting since", ""),
    ];
    if ctx.manage {
        headers.push(("", "col-actions"));
    }
    let columns = headers.len();
    let body = move || {
        let clear = clear.clone();
        if let Some(Err(error)) = ctx.requests.data.get() {
            return full_row(
                columns,
                view! { <ErrorPanel error=error on_retry=Callback::new(move |_| ctx.requests.reload()) /> }.into_any(),
            );
        }
        match waiting.get() {
            None => view! { <SkeletonRows columns=columns /> }.into_any(),
            Some(list) if list.is_empty() => {
                let content = if ctx.filters.with_untracked(Filters::narrowed) && !ctx.waiting_snapshot().is_empty() {
                    no_match(clear)
                } else {
                    view! {
                        <EmptyState
                            title="Nobody is waiting for a seat"
                            hint="When a device asks for a seat and none is free, it waits here in the order it asked."
                            symbol=Icon::Check
                        />
                    }
                    .into_any()
                };
                full_row(columns, content)
            }
            Some(list) => list
                .into_iter()
                .map(|request| request_row(ctx, request))
                .collect_view()
                .into_any(),
        }
    };
    // When the pool of a waiting device is full, say what approving needs.
    let full_note = move || {
        let full: Vec<String> = ctx
            .pools
            .with_ok(|p| {
                let shown = waiting.get().unwrap_or_default();
                p.items
                    .iter()
                    .filter(|pool| pool.available <= 0 && shown.iter().any(|r| r.pool_id == pool.id))
                    .map(|pool| pool.product_name.clone())
                    .collect()
            })
            .unwrap_or_default();
        (ctx.manage && !full.is_empty()).then(|| {
            view! {
                <p class="panel-note" data-testid="requests-note">
                    {icon(Icon::Info)}
                    {format!(
                        "No {} seat is free, so approving has to wait. To let a device in now, revoke an idle device or use Reallocate… to move its seat in one step.",
                        join_names(&full),
                    )}
                </p>
            }
        })
    };
    view! {
        {full_note}
        {table_frame(ctx.requests.loading.into(), headers, body)}
    }
}

fn request_row(ctx: Ctx, request: SeatRequestView) -> impl IntoView {
    let approve_key = format!("approve:{}", request.id);
    let busy_key = approve_key.clone();
    let id = request.id;
    let name = request.device_name.clone();
    let product = request.product_name.clone();
    let approve = {
        let name = name.clone();
        move |_| {
            let name = name.clone();
            let product = product.clone();
            let work = async move {
                match api::call(async |c| c.approve_seat_request(id).await).await {
                    Ok(_) => Ok(format!("Approved — {name} now holds a {product} seat")),
                    Err(error) => Err(format!("Could not approve {name}: {}", error.message())),
                }
            };
            ctx.run(approve_key.clone(), work, |_| {});
        }
    };
    let for_reject = request.clone();
    let for_reallocate = request.clone();
    view! {
        <tr data-testid="request-row" data-device-name=request.device_name.clone()>
            <td class="col-pos">
                <span class="queue-pos" title=format!("Number {} in the queue", request.position)>
                    {format!("#{}", request.position)}
                </span>
            </td>
            <td class="col-name">
                <span class="strong" data-testid="device-name">
                    {request.device_name.clone()}
                </span>
            </td>
            <td>
                <code class="fingerprint">{request.fingerprint.clone()}</code>
            </td>
            <td>
                <span class="pill pill-product">{request.product_name.clone()}</span>
            </td>
            <td title=datetime_full(request.requested_at) data-testid="request-since">
                <span class="nowrap">{relative(request.requested_at)}</span>
            </td>
            {ctx
                .manage
                .then(|| {
                    view! {
                        <td class="col-actions">
                            <div class="row-actions">
                                <button
                                    type="button"
                                    class="btn btn-secondary btn-sm"
                                    data-testid="approve-request"
                                    aria-label=format!("Approve the request of {name}")
                                    title="Give it a free seat"
                                    disabled=move || ctx.busy()
                                    on:click=approve
                                >
                                    {icon(Icon::Check)}
                                    {move || if ctx.is_working(&busy_key) { "Approving…" } else { "Approve" }}
                                </button>
                                <button
                                    type="button"
                                    class="btn btn-secondary btn-sm"
                                    data-testid="reallocate-request"
                                    aria-label=format!("Reallocate a seat to {name}")
                                    title="Move the seat of a licensed device to this one"
                                    disabled=move || ctx.busy()
                                    on:click=move |_| ctx.to_reallocate.set(Some(for_reallocate.clone()))
                                >
                                    {icon(Icon::Swap)}
                                    "Reallocate…"
                                </button>
                                <button
                                    type="button"
                                    class="btn btn-ghost btn-ghost-danger btn-sm"
                                    data-testid="reject-request"
                                    aria-label=format!("Reject the request of {name}")
                                    title="Take it out of the queue"
                                    disabled=move || ctx.busy()
                                    on:click=move |_| ctx.to_reject.set(Some(for_reject.clone()))
                                >
                                    "Reject"
                                </button>
                            </div>
                        </td>
                    }
                })}
        </tr>
    }
}

// ---------------------------------------------------------------- dialogs

#[component]
fn BlockDialog(ctx: Ctx, device: DeviceView) -> impl IntoView {
    let key = format!("block:{}", device.id);
    let busy_key = key.clone();
    let title = format!("Block {}?", device.name);
    let message = format!(
        "Blocking releases its seat at once (the next device waiting gets it) and stops {} from registering again until you unblock it. Use it for a lost or stolen device.",
        device.name
    );
    let confirm = move |_| {
        let device = device.clone();
        let before = ctx.waiting_snapshot();
        let pools: Vec<PoolId> = device.seats.iter().map(|s| s.pool_id).collect();
        let work = async move {
            match api::call(async |c| c.block_device(device.id).await).await {
                Ok(_) => {
                    let given = granted_since(before, pools, device.id).await;
                    Ok(freed_message(&format!("Blocked {}", device.name), &given))
                }
                Err(error) => Err(format!("Could not block {}: {}", device.name, error.message())),
            }
        };
        ctx.run(key.clone(), work, move |_| {
            ctx.to_block.set(None);
        });
    };
    view! {
        <ConfirmDialog
            title=title
            message=message
            confirm_label="Block device"
            busy=Signal::derive(move || ctx.is_working(&busy_key))
            danger=true
            on_confirm=Callback::new(confirm)
            on_cancel=Callback::new(move |_| ctx.to_block.set(None))
        />
    }
}

#[component]
fn RejectDialog(ctx: Ctx, request: SeatRequestView) -> impl IntoView {
    let key = format!("reject:{}", request.id);
    let busy_key = key.clone();
    let title = format!("Reject the request of {}?", request.device_name);
    let message = format!(
        "{} leaves the queue for {} and gets no seat. It may ask again later, and then waits at the end of the queue.",
        request.device_name, request.product_name
    );
    let id = request.id;
    let name = request.device_name.clone();
    let confirm = move |_| {
        let name = name.clone();
        let work = async move {
            match api::call(async |c| c.reject_seat_request(id).await).await {
                Ok(_) => Ok(format!("Rejected the request of {name}")),
                Err(error) => Err(format!("Could not reject {name}: {}", error.message())),
            }
        };
        ctx.run(key.clone(), work, move |_| {
            ctx.to_reject.set(None);
        });
    };
    view! {
        <ConfirmDialog
            title=title
            message=message
            confirm_label="Reject request"
            busy=Signal::derive(move || ctx.is_working(&busy_key))
            danger=true
            on_confirm=Callback::new(confirm)
            on_cancel=Callback::new(move |_| ctx.to_reject.set(None))
        />
    }
}

/// Picks a licensed device of the same pool and moves its seat to the waiting
/// request in one step; the idlest devices come first.
#[component]
fn ReallocateDialog(ctx: Ctx, request: SeatRequestView) -> impl IntoView {
    let organisation = request.organisation_id;
    let product = request.product_id;
    let pool = request.pool_id;
    let holders = fetch_once(move || async move {
        let query = DeviceQuery {
            state: Some("licensed".into()),
            organisation: Some(organisation),
            product: Some(product),
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_devices(&query).await).await.map(|page| {
            let mut items: Vec<DeviceView> = page
                .items
                .into_iter()
                .filter(|d| d.seats.iter().any(|s| s.pool_id == pool))
                .collect();
            items.sort_by_key(|d| d.last_seen_at);
            items
        })
    });
    let selected = RwSignal::new(None::<DeviceId>);
    let key = format!("reallocate:{}", request.id);
    let busy_key = key.clone();
    let busy = Signal::derive(move || ctx.is_working(&busy_key));
    let close = Callback::new(move |_| ctx.to_reallocate.set(None));
    let to = request.device_name.clone();
    let product_name = request.product_name.clone();
    let explain = format!(
        "The seat moves in one step: the device you pick stops being licensed for {product_name}, and {to} gets its seat at once."
    );
    let id = request.id;
    let confirm = move |_| {
        let Some(from) = selected.get_untracked() else {
            return;
        };
        let from_name = holders
            .with_ok(|list| list.iter().find(|d| d.id == from).map(|d| d.name.clone()))
            .flatten()
            .unwrap_or_else(|| "the device".into());
        let to = to.clone();
        let work = async move {
            match api::call(async |c| c.reallocate_seat(id, from).await).await {
                Ok(_) => Ok(format!("Moved the seat of {from_name} to {to}")),
                Err(error) => Err(format!("Could not move the seat: {}", error.message())),
            }
        };
        ctx.run(key.clone(), work, move |ok| {
            if ok {
                ctx.to_reallocate.set(None);
            } else {
                selected.set(None);
                holders.reload();
            }
        });
    };
    view! {
        <Modal title=format!("Give {} a seat", request.device_name) on_close=close testid="reallocate-dialog">
            <div class="modal-body">
                <p>{explain}</p>
                {move || {
                    holders
                        .data
                        .with(|data| match data {
                            None => view! { <Spinner label="Loading the licensed devices…" /> }.into_any(),
                            Some(Err(error)) => {
                                view! {
                                    <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| holders.reload()) />
                                }
                                    .into_any()
                            }
                            Some(Ok(list)) if list.is_empty() => {
                                view! {
                                    <EmptyState
                                        title="No device holds a seat"
                                        hint="There is no seat to move. Approve the request once a seat is free."
                                        symbol=Icon::Devices
                                    />
                                }
                                    .into_any()
                            }
                            Some(Ok(list)) => {
                                view! {
                                    <fieldset class="fieldset">
                                        <legend class="field-label">
                                            "Take the seat from"
                                            <span class="field-optional">" (least recently seen first)"</span>
                                        </legend>
                                        <div class="choice-list">
                                            {list
                                                .iter()
                                                .enumerate()
                                                .map(|(index, device)| holder_option(device, index == 0, selected))
                                                .collect_view()}
                                        </div>
                                    </fieldset>
                                }
                                    .into_any()
                            }
                        })
                }}
            </div>
            <div class="modal-footer">
                <button type="button" class="btn btn-secondary" data-testid="dialog-cancel" on:click=move |_| close.run(())>
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="dialog-confirm"
                    disabled=move || busy.get() || selected.with(Option::is_none)
                    aria-busy=move || busy.get().to_string()
                    on:click=confirm
                >
                    {icon(Icon::Swap)}
                    {move || if busy.get() { "Moving seat…" } else { "Move seat" }}
                </button>
            </div>
        </Modal>
    }
}

fn holder_option(device: &DeviceView, idlest: bool, selected: RwSignal<Option<DeviceId>>) -> impl IntoView {
    let id = device.id;
    let since = device.seats.iter().map(|s| s.granted_at).min();
    let detail = match since {
        Some(at) => format!(
            "Last seen {} · licensed since {}",
            relative(device.last_seen_at),
            date(at)
        ),
        None => format!("Last seen {}", relative(device.last_seen_at)),
    };
    view! {
        <label class="radio choice" data-testid="reallocate-option" data-device-name=device.name.clone()>
            <input
                type="radio"
                name="reallocate-from"
                value=id.to_string()
                prop:checked=move || selected.get() == Some(id)
                on:change=move |_| selected.set(Some(id))
            />
            <span class="choice-body">
                <span class="choice-title">
                    <span class="strong">{device.name.clone()}</span>
                    <code class="fingerprint small">{device.fingerprint.clone()}</code>
                </span>
                <span class="muted small" title=datetime_full(device.last_seen_at)>
                    {detail}
                </span>
            </span>
            {idlest.then(|| view! { <span class="pill pill-product choice-badge">"Idle longest"</span> })}
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_joined_for_people() {
        assert_eq!(join_names(&[]), "");
        assert_eq!(join_names(&["A".into()]), "A");
        assert_eq!(join_names(&["A".into(), "B".into(), "C".into()]), "A, B and C");
        assert_eq!(
            freed_message("Revoked Theatre A", &["Locum laptop".into()]),
            "Revoked Theatre A — seat given to Locum laptop"
        );
        assert_eq!(freed_message("Revoked Theatre A", &[]), "Revoked Theatre A");
    }

    #[test]
    fn tabs_round_trip() {
        for tab in Tab::ALL {
            assert_eq!(Tab::parse(tab.key()), tab);
        }
        assert_eq!(Tab::parse("nonsense"), Tab::Licensed);
    }
}
