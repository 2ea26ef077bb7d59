//! Concurrent seats (`/sessions`): who holds them, from which app, since when,
//! and whether the app still renews them. Administrators force-release a seat;
//! members see (and sign out of) their own. The list refreshes itself every
//! 15 seconds, so seats whose app went quiet visibly lapse and disappear.
//! Filters live in the URL (`/sessions?product=…&organisation=…&q=…`).

use crate::api::{self, ApiError};
use crate::components::dialog::ConfirmDialog;
use crate::components::format::{clock, clock_seconds, count_label, datetime_full, duration_words, now, relative};
use crate::components::icons::{icon, Icon};
use crate::components::state::{focus_by_id, set_title, EmptyState, ErrorPanel, PageHeader, SkeletonRows};
use crate::components::toast::{use_toasts, Toasts};
use crate::components::usage::{tone, OverCapacityPill, UsageBar};
use crate::lookups::MAX_PER_PAGE;
use crate::pages::devices::can_manage_seats;
use crate::resource::{fetch_once, Fetch};
use chrono::{DateTime, Utc};
use gloo_timers::future::TimeoutFuture;
use leasehold_core::ids::{LeaseId, OrganisationId, ProductId, UserId};
use leasehold_core::seat::LeaseState;
use leasehold_core::values::{Role, SeatKind};
use leasehold_core::wire::{PoolQuery, PoolView, SessionQuery, SessionView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

/// How often the list reloads by itself.
const REFRESH_MS: u32 = 15_000;
/// A safety stop for the page-by-page loading (100 sessions a page).
const MAX_PAGES: u32 = 20;

/// The page's filters as the URL carries them.
#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    product: Option<ProductId>,
    organisation: Option<OrganisationId>,
    q: String,
}

impl Filters {
    fn from_map(map: &ParamsMap) -> Self {
        Self {
            product: map.get("product").and_then(|v| v.parse().ok()),
            organisation: map.get("organisation").and_then(|v| v.parse().ok()),
            q: map.get("q").unwrap_or_default(),
        }
    }

    fn narrowed(&self) -> bool {
        !self.q.trim().is_empty() || self.product.is_some() || self.organisation.is_some()
    }

    fn to_url(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if let Some(product) = self.product {
            parts.push(("product", product.to_string()));
        }
        if let Some(org) = self.organisation {
            parts.push(("organisation", org.to_string()));
        }
        if !self.q.trim().is_empty() {
            parts.push(("q", self.q.trim().to_string()));
        }
        let query: Vec<String> = parts
            .into_iter()
            .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(&v))))
            .collect();
        if query.is_empty() {
            "/sessions".into()
        } else {
            format!("/sessions?{}", query.join("&"))
        }
    }

    fn shows(&self, session: &SessionView) -> bool {
        let q = self.q.trim().to_lowercase();
        self.product.is_none_or(|p| session.product_id == p)
            && self.organisation.is_none_or(|o| session.organisation_id == o)
            && (q.is_empty()
                || session.user_name.to_lowercase().contains(&q)
                || session.user_email.to_lowercase().contains(&q)
                || session.client_id.to_lowercase().contains(&q))
    }

    fn shows_pool(&self, pool: &PoolView) -> bool {
        self.product.is_none_or(|p| pool.product_id == p) && self.organisation.is_none_or(|o| pool.organisation_id == o)
    }
}

/// Every session the caller may see (all pages), by product and then the
/// longest held first.
async fn load_sessions() -> Result<Vec<SessionView>, ApiError> {
    let mut items = Vec::new();
    for page in 1..=MAX_PAGES {
        let query = SessionQuery {
            page: Some(page),
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        let found = api::call(async |c| c.list_sessions(&query).await).await?;
        let last = found.items.is_empty() || u64::from(page) * u64::from(found.per_page.max(1)) >= found.total;
        items.extend(found.items);
        if last {
            break;
        }
    }
    items.sort_by_key(|s: &SessionView| (s.product_name.to_lowercase(), s.granted_at));
    Ok(items)
}

/// "Dr Samira Ahmed", or the e-mail address of a member without a name.
fn holder_name(session: &SessionView) -> String {
    if session.user_name.trim().is_empty() {
        session.user_email.clone()
    } else {
        session.user_name.clone()
    }
}

/// When the seat goes back to the pool unless something happens first.
fn reclaimed_at(session: &SessionView) -> DateTime<Utc> {
    match session.state {
        LeaseState::Lingering => session.linger_until.unwrap_or(session.expires_at),
        _ => session
            .idle_expires_at
            .map_or(session.expires_at, |idle| idle.min(session.expires_at)),
    }
}

fn state_key(state: LeaseState) -> &'static str {
    match state {
        LeaseState::Active => "active",
        LeaseState::Lapsing => "lapsing",
        LeaseState::Idle => "idle",
        LeaseState::Lingering => "lingering",
    }
}

fn state_label(state: LeaseState) -> &'static str {
    match state {
        LeaseState::Active => "Active",
        LeaseState::Lapsing => "Lapsing",
        LeaseState::Idle => "Idle",
        LeaseState::Lingering => "Lingering",
    }
}

/// What the state means for this seat, in one sentence (the pill's tooltip).
fn state_detail(session: &SessionView) -> String {
    let heartbeat = session.last_heartbeat_at;
    match session.state {
        LeaseState::Active => format!(
            "Renewed on time: the last heartbeat came {}. Reclaimed at {} if its app stops renewing it.",
            relative(heartbeat),
            clock(session.expires_at)
        ),
        LeaseState::Lapsing => format!(
            "No heartbeat since {} ({}); reclaimed at {} unless one arrives.",
            clock(heartbeat),
            relative(heartbeat),
            clock(session.expires_at)
        ),
        LeaseState::Idle => format!(
            "Heartbeats arrive, but nothing was done since {} ({}); reclaimed at {} unless the member does something.",
            clock(session.last_activity_at),
            relative(session.last_activity_at),
            clock(reclaimed_at(session))
        ),
        LeaseState::Lingering => format!(
            "Signed out; the seat is kept for {} until {} in case it comes back.",
            session.client_id,
            clock(reclaimed_at(session))
        ),
    }
}

/// Everything the rows and the dialog share; `Copy`, so handlers keep it across `await`s.
#[derive(Clone, Copy)]
struct Ctx {
    sessions: Fetch<Vec<SessionView>>,
    /// The concurrent pools (empty for members, who may not read pools).
    pools: Fetch<Vec<PoolView>>,
    /// The URL's filters with the search box as typed.
    filters: Memo<Filters>,
    /// The session being released; one at a time.
    working: RwSignal<Option<LeaseId>>,
    to_end: RwSignal<Option<SessionView>>,
    /// Moves on with every refresh, so relative times ("3 min ago") follow the clock.
    tick: RwSignal<u64>,
    toasts: Toasts,
    /// May force-release other members' seats.
    manage: bool,
    member: bool,
    vendor: bool,
    me: Option<UserId>,
}

impl Ctx {
    fn refresh(&self) {
        self.sessions.reload();
        self.pools.reload();
        self.tick.update(|t| *t += 1);
    }

    fn loading(&self) -> bool {
        self.sessions.loading.get() || self.pools.loading.get()
    }

    fn busy(&self) -> bool {
        self.working.with(Option::is_some)
    }

    fn is_own(&self, session: &SessionView) -> bool {
        self.me == Some(session.user_id)
    }

    /// Whether a row offers an action (and so the table an actions column).
    fn has_actions(&self) -> bool {
        self.manage || self.member
    }

    fn org_name(&self, id: OrganisationId) -> Option<String> {
        self.pools
            .with_ok(|pools| {
                pools
                    .iter()
                    .find(|p| p.organisation_id == id)
                    .map(|p| p.organisation_name.clone())
            })
            .flatten()
    }
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let role = api::current_role();
    let member = role == Role::Member;
    set_title(if member { "Your sessions" } else { "Sessions" });
    let manage = can_manage_seats(role);
    let vendor = role.is_vendor();
    let me = api::current_me().map(|me| me.id);
    let toasts = use_toasts();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let url_filters = Memo::new(move |_| Filters::from_map(&query_map.get()));

    let go = move |next: Filters, replace: bool| {
        navigate(
            &next.to_url(),
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        );
    };

    let updated = RwSignal::new(None::<DateTime<Utc>>);
    let sessions = fetch_once(move || async move {
        let result = load_sessions().await;
        if result.is_ok() {
            updated.try_set(Some(now()));
        }
        result
    });
    let pools = fetch_once(move || async move {
        if member {
            return Ok(Vec::new());
        }
        let query = PoolQuery {
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_pools(&query).await).await.map(|page| {
            page.items
                .into_iter()
                .filter(|pool| pool.seat_kind == SeatKind::Concurrent)
                .collect::<Vec<_>>()
        })
    });

    // The search box filters at once; the URL follows 400 ms after the last key.
    let search = RwSignal::new(url_filters.get_untracked().q);
    let typed = StoredValue::new(0u64);
    Effect::new(move |_| {
        let q = url_filters.get().q;
        if typed.get_value() == 0 && search.get_untracked().trim() != q.trim() {
            search.set(q);
        }
    });
    let filters = Memo::new(move |_| {
        let mut f = url_filters.get();
        f.q = search.get();
        f
    });

    let ctx = Ctx {
        sessions,
        pools,
        filters,
        working: RwSignal::new(None),
        to_end: RwSignal::new(None),
        tick: RwSignal::new(0),
        toasts,
        manage,
        member,
        vendor,
        me,
    };

    // Reload every 15 s while the page is open (and the browser tab visible).
    let alive = StoredValue::new(());
    spawn_local(async move {
        loop {
            TimeoutFuture::new(REFRESH_MS).await;
            if alive.try_get_value().is_none() {
                break;
            }
            let hidden = web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
            if !hidden && !ctx.sessions.loading.get_untracked() {
                ctx.refresh();
            }
        }
    });

    let on_search = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            search.set(event_target_value(&ev));
            let ticket = typed.get_value() + 1;
            typed.set_value(ticket);
            let go = go.clone();
            spawn_local(async move {
                TimeoutFuture::new(400).await;
                if typed.try_get_value() == Some(ticket) {
                    typed.set_value(0);
                    let mut next = url_filters.get_untracked();
                    next.q = search.get_untracked().trim().to_string();
                    if next != url_filters.get_untracked() {
                        go(next, true);
                    }
                }
            });
        }
    };
    let on_product = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let mut next = filters.get_untracked();
            next.product = event_target_value(&ev).parse().ok();
            go(next, false);
        }
    };
    let on_org = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let mut next = filters.get_untracked();
            next.organisation = event_target_value(&ev).parse().ok();
            go(next, false);
        }
    };
    let clear = {
        let go = go.clone();
        move || {
            typed.set_value(0);
            search.set(String::new());
            go(Filters::default(), false);
        }
    };

    // Products (and, for vendor staff, organisations) to filter by.
    let products = Memo::new(move |_| {
        let mut list: Vec<(ProductId, String)> = if member {
            sessions
                .with_ok(|l| l.iter().map(|s| (s.product_id, s.product_name.clone())).collect())
                .unwrap_or_default()
        } else {
            pools
                .with_ok(|l| l.iter().map(|p| (p.product_id, p.product_name.clone())).collect())
                .unwrap_or_default()
        };
        list.sort_by_key(|a| (a.1.to_lowercase(), a.0));
        list.dedup_by_key(|p| p.0);
        list
    });
    let organisations = Memo::new(move |_| {
        let mut list: Vec<(OrganisationId, String)> = pools
            .with_ok(|l| {
                l.iter()
                    .map(|p| (p.organisation_id, p.organisation_name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by_key(|a| (a.1.to_lowercase(), a.0));
        list.dedup_by_key(|p| p.0);
        list
    });

    let shown = Memo::new(move |_| {
        let f = filters.get();
        sessions
            .with_ok(|l| l.iter().filter(|s| f.shows(s)).cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    });

    let (title, subtitle) = if member {
        (
            "Your sessions",
            "The concurrent seats you hold: one for each app or browser you are signed in from.",
        )
    } else {
        (
            "Sessions",
            "Who holds the concurrent seats, from which app, and whether that app still renews its seat.",
        )
    };

    let count_line = move || {
        let n = shown.with(Vec::len) as u64;
        let all = sessions.with_ok(Vec::len).unwrap_or(0) as u64;
        let lapsing = shown.with(|l| l.iter().filter(|s| s.state == LeaseState::Lapsing).count()) as u64;
        let mut text = if filters.with(Filters::narrowed) && n != all {
            format!("{n} of {}", count_label(all, "session", "sessions"))
        } else {
            count_label(n, "session", "sessions")
        };
        if lapsing > 0 {
            text.push_str(&format!(" · {lapsing} lapsing"));
        }
        text
    };

    view! {
        <PageHeader title=title subtitle=subtitle>
            <RefreshControl ctx=ctx updated=updated />
        </PageHeader>
        {(!member).then(|| view! { <UsageSummary ctx=ctx /> })}
        <Explainer manage=manage member=member />
        <section class="card" id="sessions-list" tabindex="-1" aria-label=title data-testid="sessions-list">
            <div class="toolbar" role="search">
                <div class="search">
                    {icon(Icon::Search)}
                    <label for="session-search" class="visually-hidden">
                        {if member { "Search your sessions" } else { "Search sessions by holder or client" }}
                    </label>
                    <input
                        id="session-search"
                        class="input search-input"
                        type="search"
                        placeholder=if member { "Search client…" } else { "Search holder or client…" }
                        autocomplete="off"
                        data-testid="session-search"
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
                    <span class="toolbar-text muted" data-testid="session-count" aria-live="polite">
                        {move || sessions.with_ok(|_| ()).map(|_| count_line())}
                    </span>
                </div>
            </div>
            {sessions_table(ctx, shown, clear)}
        </section>
        {move || ctx.to_end.get().map(|session| view! { <EndDialog ctx=ctx session=session /> })}
    }
}

/// "Updated 14:05:09 · every 15 s" and a button to refresh now.
#[component]
fn RefreshControl(ctx: Ctx, updated: RwSignal<Option<DateTime<Utc>>>) -> impl IntoView {
    view! {
        <div class="refresh">
            <span class="refresh-status muted small" data-testid="sessions-updated">
                {move || {
                    updated
                        .get()
                        .map(|at| format!("Updated {} · refreshes every 15 s", clock_seconds(at)))
                        .unwrap_or_else(|| "Refreshes every 15 s".into())
                }}
            </span>
            <button
                type="button"
                id="sessions-refresh"
                class="btn btn-secondary"
                data-testid="sessions-refresh"
                aria-busy=move || ctx.loading().to_string()
                on:click=move |_| {
                    if !ctx.sessions.loading.get_untracked() {
                        ctx.refresh();
                    }
                }
            >
                <span class="refresh-icon" class:spinning=move || ctx.loading()>
                    {icon(Icon::Refresh)}
                </span>
                "Refresh"
            </button>
        </div>
    }
}

/// Where the explainer remembers that it was folded away.
const EXPLAINER_KEY: &str = "sessions-explainer";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// What a concurrent seat is and what its states mean, in plain words. Open
/// until the user folds it away (remembered in this browser).
#[component]
fn Explainer(manage: bool, member: bool) -> impl IntoView {
    let open = local_storage()
        .and_then(|s| s.get_item(EXPLAINER_KEY).ok().flatten())
        .is_none_or(|v| v != "closed");
    let on_toggle = move |ev: leptos::ev::Event| {
        let now_open = ev
            .target()
            .and_then(|t| js_sys::Reflect::get(&t, &wasm_bindgen::JsValue::from_str("open")).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if let Some(storage) = local_storage() {
            let _ = if now_open {
                storage.remove_item(EXPLAINER_KEY)
            } else {
                storage.set_item(EXPLAINER_KEY, "closed")
            };
        }
    };
    let intro = if member {
        "Each app or browser you sign in from holds one concurrent seat. It renews the seat with a heartbeat half-way through the lease; when it stops (you close it, or your laptop sleeps), the seat goes back automatically once the lease and its grace period have run out, and the next member waiting gets it."
    } else {
        "A concurrent seat is a lease. The app holding it renews it with a heartbeat half-way through the lease. When an app stops renewing (a closed browser, a laptop that went to sleep), its seat is reclaimed automatically once the lease and its grace period have run out, and goes to the next member waiting."
    };
    let states = [
        (LeaseState::Active, "Renewed on time."),
        (
            LeaseState::Lapsing,
            "The lease ran out and the grace period is running: the next heartbeat saves the seat, otherwise it is reclaimed.",
        ),
        (
            LeaseState::Idle,
            "Heartbeats arrive, but the member has done nothing for half the idle timeout.",
        ),
        (
            LeaseState::Lingering,
            "The member signed out; the seat is kept briefly for the same app to come back.",
        ),
    ];
    view! {
        <details class="card explainer" data-testid="sessions-explainer" open=open on:toggle=on_toggle>
            <summary class="explainer-summary">
                {icon(Icon::Info)}
                <span>"How concurrent seats work"</span>
            </summary>
            <div class="explainer-body">
                <p>{intro}</p>
                <dl class="state-legend">
                    {states
                        .into_iter()
                        .map(|(state, text)| {
                            view! {
                                <div>
                                    <dt>
                                        <span class=format!("pill pill-{}", state_key(state))>
                                            <span class="pill-dot" aria-hidden="true"></span>
                                            {state_label(state)}
                                        </span>
                                    </dt>
                                    <dd>{text}</dd>
                                </div>
                            }
                        })
                        .collect_view()}
                </dl>
                {manage
                    .then(|| {
                        view! {
                            <p class="muted">
                                "Force release frees a seat at once: the next member waiting gets it, and the app that held it finds out at its next heartbeat."
                            </p>
                        }
                    })}
            </div>
        </details>
    }
}

// ---------------------------------------------------------------- summary

/// One small card per concurrent pool: "4 of 10 seats in use" and a bar.
#[component]
fn UsageSummary(ctx: Ctx) -> impl IntoView {
    let shown = Memo::new(move |_| {
        let f = ctx.filters.get();
        ctx.pools
            .with_ok(|pools| pools.iter().filter(|p| f.shows_pool(p)).cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    });
    move || {
        ctx.pools.data.with(|data| match data {
            None => view! {
                <section class="usage-strip" aria-label="Seat usage" aria-busy="true">
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
            Some(Ok(pools)) if pools.is_empty() => view! {
                <div class="banner banner-info" data-testid="no-concurrent-pools">
                    {icon(Icon::Info)}
                    <div class="banner-body">
                        <p class="banner-title">"No concurrent licences here"</p>
                        <p class="banner-text">
                            "Members get concurrent seats from an organisation's active licences of a concurrent product. Once there is one, its usage shows here."
                        </p>
                    </div>
                </div>
            }
            .into_any(),
            Some(Ok(_)) => view! {
                <section class="usage-strip" aria-label="Seat usage">
                    {shown.get().into_iter().map(|pool| usage_card(pool, ctx.vendor)).collect_view()}
                </section>
            }
            .into_any(),
        })
    }
}

/// "4 of 10 seats in use", or "No active seats" for an empty pool.
fn in_use_line(pool: &PoolView) -> String {
    if pool.capacity == 0 && pool.held == 0 {
        "No active seats".into()
    } else {
        format!("{} of {} seats in use", pool.held, pool.capacity)
    }
}

fn usage_card(pool: PoolView, vendor: bool) -> impl IntoView {
    let free = if pool.over_capacity {
        format!("{} over", pool.held - pool.capacity)
    } else {
        format!("{} free", pool.available)
    };
    let waiting = count_label(pool.waiting, "waiting", "waiting");
    let has_waiting = pool.waiting > 0;
    let lease = format!(
        "Lease {} · grace {}",
        duration_words(pool.lease_seconds),
        duration_words(pool.grace_seconds)
    );
    view! {
        <div
            class=format!("card usage-card usage-{}", tone(&pool))
            data-testid="session-usage"
            data-product=pool.product_name.clone()
            data-organisation=pool.organisation_name.clone()
        >
            <div class="usage-head">
                <span class="usage-product">{pool.product_name.clone()}</span>
                {vendor.then(|| view! { <span class="muted small">{pool.organisation_name.clone()}</span> })}
                {pool.over_capacity.then(|| view! { <OverCapacityPill /> })}
            </div>
            <p class="usage-line" data-testid="usage-line">
                {in_use_line(&pool)}
            </p>
            <UsageBar pool=pool.clone() />
            <p class="usage-foot">
                <span class="usage-free">{free}</span>
                <span aria-hidden="true">" · "</span>
                <span class:usage-waiting=has_waiting>{waiting}</span>
                <span aria-hidden="true">" · "</span>
                <span title="Apps renew their seat half-way through the lease; a silent seat is reclaimed after the lease and its grace">
                    {lease}
                </span>
            </p>
        </div>
    }
}

// ---------------------------------------------------------------- table

fn full_row(columns: usize, content: AnyView) -> AnyView {
    view! {
        <tr>
            <td colspan=columns.to_string()>{content}</td>
        </tr>
    }
    .into_any()
}

fn sessions_table(
    ctx: Ctx,
    shown: Memo<Vec<SessionView>>,
    clear: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let mut headers: Vec<(&'static str, &'static str)> = Vec::new();
    if !ctx.member {
        headers.push(("Holder", "col-name"));
    }
    headers.extend([
        ("Product", ""),
        ("Client", ""),
        ("Signed in", ""),
        ("Last heartbeat", ""),
        ("Held until", ""),
        ("State", ""),
    ]);
    if ctx.has_actions() {
        headers.push(("", "col-actions"));
    }
    let columns = headers.len();
    let status = move || {
        let clear = clear.clone();
        ctx.sessions.data.with(|data| match data {
            None => view! { <SkeletonRows columns=columns rows=4 /> }.into_any(),
            Some(Err(error)) => full_row(
                columns,
                view! { <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| ctx.sessions.reload()) /> }
                    .into_any(),
            ),
            Some(Ok(all)) if shown.with(Vec::is_empty) => {
                let content = if !all.is_empty() {
                    view! {
                        <EmptyState
                            title="No sessions match these filters"
                            hint="Try another name, client or product, or clear the filters."
                        >
                            <button type="button" class="btn btn-secondary" on:click=move |_| clear()>
                                "Clear filters"
                            </button>
                        </EmptyState>
                    }
                    .into_any()
                } else if ctx.member {
                    view! {
                        <EmptyState
                            title="You hold no concurrent seat right now"
                            hint="When you sign in to an app that uses a concurrent licence, its seat shows here until you sign out or close the app."
                            symbol=Icon::Sessions
                        />
                    }
                    .into_any()
                } else {
                    view! {
                        <EmptyState
                            title="Nobody holds a concurrent seat right now"
                            hint="When a member signs in to an app that uses a concurrent licence, their seat shows here until they sign out or the app stops renewing it."
                            symbol=Icon::Sessions
                        />
                    }
                    .into_any()
                };
                full_row(columns, content)
            }
            Some(Ok(_)) => ().into_any(),
        })
    };
    view! {
        <div class="table-wrap" class:is-loading=move || ctx.sessions.loading.get()>
            <div class="progress" aria-hidden="true"></div>
            <table class="table" aria-busy=move || ctx.sessions.loading.get().to_string() data-testid="sessions-table">
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
                <tbody>
                    {status}
                    <For each=move || shown.get() key=|s| s.id children=move |s| session_row(ctx, s) />
                </tbody>
            </table>
        </div>
    }
}

/// A time cell: relative ("3 min ago"), the full time in the tooltip.
fn when_cell(ctx: Ctx, at: Signal<DateTime<Utc>>, testid: &'static str, note: Option<&'static str>) -> impl IntoView {
    let title = move || match note {
        Some(note) => format!("{note} {}", datetime_full(at.get())),
        None => datetime_full(at.get()),
    };
    view! {
        <td title=title data-testid=testid>
            <span class="nowrap">
                {move || {
                    ctx.tick.track();
                    relative(at.get())
                }}
            </span>
        </td>
    }
}

fn session_row(ctx: Ctx, session: SessionView) -> impl IntoView {
    let id = session.id;
    // Heartbeats and states change in place on every refresh (the row, and the
    // focus on its button, stay).
    let current = Memo::new(move |_| {
        ctx.sessions
            .with_ok(|list| list.iter().find(|s| s.id == id).cloned())
            .flatten()
    });
    let snapshot = session.clone();
    let live = Signal::derive(move || current.get().unwrap_or_else(|| snapshot.clone()));
    let granted = Signal::derive(move || live.with(|s| s.granted_at));
    let heartbeat = Signal::derive(move || live.with(|s| s.last_heartbeat_at));
    let until = Signal::derive(move || live.with(reclaimed_at));
    let org = ctx.vendor.then(|| ctx.org_name(session.organisation_id)).flatten();
    let name = holder_name(&session);
    let show_email = name != session.user_email;
    view! {
        <tr
            data-testid="session-row"
            data-email=session.user_email.clone()
            data-client=session.client_id.clone()
            data-state=move || state_key(live.with(|s| s.state))
        >
            {(!ctx.member)
                .then(|| {
                    view! {
                        <td class="col-name">
                            <div class="cell-stack">
                                <span class="strong" data-testid="session-holder">
                                    {name.clone()}
                                </span>
                                {show_email.then(|| view! { <span class="muted small">{session.user_email.clone()}</span> })}
                                {org.map(|o| view! { <span class="muted small">{o}</span> })}
                            </div>
                        </td>
                    }
                })}
            <td>
                <span class="pill pill-product">{session.product_name.clone()}</span>
            </td>
            <td>
                <code class="fingerprint" data-testid="session-client">
                    {session.client_id.clone()}
                </code>
            </td>
            {when_cell(ctx, granted, "session-granted", Some("Signed in"))}
            {when_cell(ctx, heartbeat, "session-heartbeat", Some("Last heartbeat"))}
            {when_cell(ctx, until, "session-until", Some("Reclaimed unless its app renews it by"))}
            <td>
                {move || {
                    ctx.tick.track();
                    live.with(state_pill)
                }}
            </td>
            {ctx.has_actions().then(|| view! { <td class="col-actions">{row_action(ctx, live)}</td> })}
        </tr>
    }
}

fn state_pill(session: &SessionView) -> impl IntoView {
    let key = state_key(session.state);
    let detail = state_detail(session);
    view! {
        <span
            class=format!("pill pill-{key}")
            data-testid="session-state"
            data-state=key
            title=detail.clone()
        >
            <span class="pill-dot" aria-hidden="true"></span>
            {state_label(session.state)}
            <span class="visually-hidden">{format!(": {detail}")}</span>
        </span>
    }
}

/// "Force release" (an administrator, someone else's seat) or "Sign out of this
/// seat" (the holder); nothing for a member's seat that is lingering already.
/// The button is only rebuilt when that choice changes (refreshes keep its focus).
fn row_action(ctx: Ctx, live: Signal<SessionView>) -> impl IntoView {
    let (id, holder, client, product) =
        live.with_untracked(|s| (s.id, holder_name(s), s.client_id.clone(), s.product_name.clone()));
    let own = live.with_untracked(|s| ctx.is_own(s));
    let lingering = Memo::new(move |_| live.with(|s| s.state == LeaseState::Lingering));
    move || {
        if own && lingering.get() {
            return view! { <span class="muted small">"Signed out"</span> }.into_any();
        }
        if !own && !ctx.manage {
            return ().into_any();
        }
        let (testid, label, working, aria, class) = if own {
            (
                "end-session",
                "Sign out of this seat",
                "Signing out…",
                format!("Sign out of your {product} seat on {client}"),
                "btn btn-secondary btn-sm",
            )
        } else {
            (
                "force-release",
                "Force release",
                "Releasing…",
                format!("Force release {holder}'s seat on {client}"),
                "btn btn-ghost btn-ghost-danger btn-sm",
            )
        };
        view! {
            <div class="row-actions">
                <button
                    type="button"
                    class=class
                    data-testid=testid
                    aria-label=aria
                    title=if own {
                        "Your app there loses the seat at its next heartbeat"
                    } else {
                        "Free the seat now; the next member waiting gets it"
                    }
                    disabled=move || ctx.busy()
                    on:click=move |_| ctx.to_end.set(Some(live.get_untracked()))
                >
                    {move || if ctx.working.get() == Some(id) { working } else { label }}
                </button>
            </div>
        }
        .into_any()
    }
}

// ---------------------------------------------------------------- dialog

/// Confirms a force release (an administrator) or a sign-out (the holder).
#[component]
fn EndDialog(ctx: Ctx, session: SessionView) -> impl IntoView {
    let own = ctx.is_own(&session);
    let holder = holder_name(&session);
    let client = session.client_id.clone();
    let product = session.product_name.clone();
    let (title, message, confirm_label, done) = if own {
        (
            "Sign out of this seat?".to_string(),
            format!(
                "Sign out of {product} on {client}? The app there loses its seat at its next heartbeat and has to sign in again."
            ),
            "Sign out of seat",
            format!("Signed out of {product} on {client}"),
        )
    } else {
        (
            "Force release this seat?".to_string(),
            format!(
                "Release {holder}'s seat on {client}? Their app loses the seat at its next heartbeat; the next member waiting gets it."
            ),
            "Force release",
            format!("Released {holder}'s seat on {client}"),
        )
    };
    let gone = format!("{holder}'s seat on {client} was released already");
    let failed = format!("Could not release {holder}'s seat on {client}");
    let id = session.id;
    let confirm = move |_| {
        if ctx.working.get_untracked().is_some() {
            return;
        }
        ctx.working.set(Some(id));
        let (done, gone, failed) = (done.clone(), gone.clone(), failed.clone());
        spawn_local(async move {
            let result = api::call(async |c| c.delete_session(id).await).await;
            ctx.working.try_set(None);
            match result {
                Ok(()) => ctx.toasts.success(done),
                Err(error) if error.is_status(404) => ctx.toasts.info(gone),
                Err(error) => ctx.toasts.error(format!("{failed}: {}", error.message())),
            }
            ctx.to_end.try_set(None);
            if ctx.tick.try_get_untracked().is_none() {
                return;
            }
            ctx.refresh();
            // The row (and the button that had the focus) may be gone once the
            // list has reloaded: keep keyboard users in the list.
            for _ in 0..100 {
                TimeoutFuture::new(50).await;
                if ctx.sessions.loading.try_get_untracked() != Some(true) {
                    break;
                }
            }
            let lost = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.active_element().is_none_or(|e| e.tag_name() == "BODY"));
            if lost {
                focus_by_id("sessions-list");
            }
        });
    };
    view! {
        <ConfirmDialog
            title=title
            message=message
            confirm_label=confirm_label
            busy=Signal::derive(move || ctx.working.get() == Some(id))
            danger=!own
            on_confirm=Callback::new(confirm)
            on_cancel=Callback::new(move |_| ctx.to_end.set(None))
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_narrow_the_list() {
        assert_eq!(Filters::default().to_url(), "/sessions");
        assert!(!Filters::default().narrowed());
        let f = Filters {
            q: " ahmed ".into(),
            ..Default::default()
        };
        assert!(f.narrowed());
    }
}
