//! The dashboard (`/pools`): one card per seat pool (an organisation's seats
//! of one product) with its usage, its queue and its queue policy.

use crate::api;
use crate::components::format::{count_label, queue_policy_hint, queue_policy_label, seat_kind_label};
use crate::components::icons::{icon, Icon};
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, PageHeader};
use crate::components::toast::{use_toasts, Toasts};
use crate::components::usage::{used_line, OverCapacityPill, UsageBar};
use crate::lookups::MAX_PER_PAGE;
use crate::pages::devices::can_manage_seats;
use crate::resource::{fetch_once, Fetch};
use leasehold_core::ids::PoolId;
use leasehold_core::values::{QueuePolicy, Role, SeatKind};
use leasehold_core::wire::{Page, PoolQuery, PoolView, UpdatePool};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

type Pools = Fetch<Page<PoolView>>;

#[component]
pub fn DashboardPage() -> impl IntoView {
    set_title("Dashboard");
    let role = api::current_role();
    if role == Role::Member {
        return view! { <NoAccess what="The dashboard" /> }.into_any();
    }
    let manage = can_manage_seats(role);
    let vendor = role.is_vendor();
    let toasts = use_toasts();
    let pools = fetch_once(|| async {
        let query = PoolQuery {
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_pools(&query).await).await
    });

    let subtitle = Signal::derive(move || {
        pools
            .with_ok(|p| {
                let waiting: u64 = p.items.iter().map(|pool| pool.waiting).sum();
                let over = p.items.iter().filter(|pool| pool.over_capacity).count();
                let mut parts = vec![count_label(p.total, "seat pool", "seat pools")];
                parts.push(if waiting == 0 {
                    "nobody waiting".to_string()
                } else {
                    count_label(waiting, "device waiting", "devices waiting")
                });
                if over > 0 {
                    parts.push(count_label(over as u64, "pool over capacity", "pools over capacity"));
                }
                parts.join(" · ")
            })
            .unwrap_or_else(|| "Seats by organisation and product".into())
    });

    view! {
        <PageHeader title="Dashboard" subtitle=subtitle>
            <a class="btn btn-secondary" href="/devices" data-testid="dashboard-devices">
                {icon(Icon::Devices)}
                "Devices"
            </a>
        </PageHeader>
        {move || {
            pools
                .data
                .with(|data| match data {
                    None => {
                        view! {
                            <div class="pool-grid" aria-busy="true">
                                {(0..3)
                                    .map(|_| {
                                        view! {
                                            <div class="card pool-card" aria-hidden="true">
                                                <span class="skeleton"></span>
                                                <span class="skeleton skeleton-bar"></span>
                                                <span class="skeleton"></span>
                                            </div>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        }
                            .into_any()
                    }
                    Some(Err(error)) => {
                        view! {
                            <div class="card">
                                <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| pools.reload()) />
                            </div>
                        }
                            .into_any()
                    }
                    Some(Ok(page)) if page.items.is_empty() => {
                        let hint = if vendor {
                            "A pool appears when an organisation holds an active licence of a product."
                        } else {
                            "Your organisation's seats appear here once it holds an active licence."
                        };
                        view! {
                            <div class="card">
                                <EmptyState title="No seat pools yet" hint=hint symbol=Icon::Dashboard />
                            </div>
                        }
                            .into_any()
                    }
                    Some(Ok(_)) => ().into_any(),
                })
        }}
        <div class="pool-grid">
            <For
                each=move || pools.with_ok(|p| p.items.clone()).unwrap_or_default()
                key=|pool| pool.id
                children=move |pool| pool_card(pool, pools, manage, vendor, toasts)
            />
        </div>
    }
    .into_any()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What a change of policy means, for the toast.
fn policy_done(policy: QueuePolicy) -> &'static str {
    match policy {
        QueuePolicy::AutoGrant => "waiting devices now get free seats automatically",
        QueuePolicy::Approval => "waiting devices now need an administrator's approval",
        QueuePolicy::Refuse => "devices are now turned away when no seat is free",
    }
}

fn pool_card(pool: PoolView, pools: Pools, manage: bool, vendor: bool, toasts: Toasts) -> impl IntoView {
    let id = pool.id;
    // Usage and policy change in place (the policy select keeps its focus).
    let current = Memo::new(move |_| {
        pools
            .with_ok(|p| p.items.iter().find(|x| x.id == id).cloned())
            .flatten()
    });
    let snapshot = pool.clone();
    let now = move || current.get().unwrap_or_else(|| snapshot.clone());
    let device = pool.seat_kind == SeatKind::Device;
    let devices_href = if vendor {
        format!(
            "/devices?product={}&organisation={}",
            pool.product_id, pool.organisation_id
        )
    } else {
        format!("/devices?product={}", pool.product_id)
    };
    let select_id = format!("policy-{id}");
    let hint_id = format!("policy-hint-{id}");
    let noun = if device { "licence" } else { "seat" };
    let now_for_usage = now.clone();
    let now_for_stats = now.clone();
    let now_for_pill = now.clone();
    let now_for_policy = now.clone();
    let now_for_hint = now.clone();
    let now_for_tone = now.clone();
    view! {
        <article
            class=move || format!("card pool-card pool-{}", crate::components::usage::tone(&now_for_tone()))
            data-testid="pool-card"
            data-product=pool.product_name.clone()
            data-organisation=pool.organisation_name.clone()
            aria-label=format!("{} at {}", pool.product_name, pool.organisation_name)
        >
            <header class="pool-head">
                <div>
                    <h2 class="pool-title">{pool.product_name.clone()}</h2>
                    <p class="pool-org">
                        {icon(Icon::Building)}
                        {pool.organisation_name.clone()}
                    </p>
                </div>
                <div class="pool-badges">
                    <span class="pill pill-product">{capitalised(seat_kind_label(pool.seat_kind))}</span>
                    {move || now_for_pill().over_capacity.then(|| view! { <OverCapacityPill /> })}
                </div>
            </header>
            {move || {
                let p = now_for_usage();
                view! {
                    <div class="pool-usage">
                        <p class="pool-used" data-testid="pool-used">
                            {used_line(&p, noun)}
                        </p>
                        <UsageBar pool=p.clone() large=true />
                    </div>
                }
            }}
            {move || {
                let p = now_for_stats();
                let waiting = p.waiting > 0;
                let free = if p.over_capacity {
                    view! {
                        <dd class="stat-value stat-danger" data-testid="pool-available">
                            {format!("{} over", p.held - p.capacity)}
                        </dd>
                    }
                        .into_any()
                } else {
                    view! {
                        <dd class="stat-value" data-testid="pool-available">
                            {p.available}
                        </dd>
                    }
                        .into_any()
                };
                view! {
                    <dl class="pool-stats">
                        <div>
                            <dt>"Capacity"</dt>
                            <dd class="stat-value">{p.capacity}</dd>
                        </div>
                        <div>
                            <dt>"In use"</dt>
                            <dd class="stat-value">{p.held}</dd>
                        </div>
                        <div>
                            <dt>"Available"</dt>
                            {free}
                        </div>
                        <div>
                            <dt>"Waiting"</dt>
                            <dd class="stat-value" class:stat-warning=waiting data-testid="pool-waiting">
                                {p.waiting}
                            </dd>
                        </div>
                    </dl>
                }
            }}
            <footer class="pool-foot">
                {if manage {
                    policy_select(id, select_id.clone(), hint_id.clone(), pool.clone(), pools, toasts, now_for_policy)
                        .into_any()
                } else {
                    view! {
                        <p class="pool-policy-label">
                            <span class="muted">"When no seat is free: "</span>
                            <span class="strong" data-testid="pool-policy">
                                {move || queue_policy_label(now_for_policy().queue_policy)}
                            </span>
                        </p>
                    }
                        .into_any()
                }}
                <p id=hint_id class="muted small">
                    {move || queue_policy_hint(now_for_hint().queue_policy)}
                </p>
                {device
                    .then(|| {
                        view! {
                            <a class="btn btn-secondary btn-sm pool-link" href=devices_href data-testid="pool-devices">
                                {icon(Icon::Devices)}
                                "View devices"
                                {icon(Icon::ChevronRight)}
                            </a>
                        }
                    })}
            </footer>
        </article>
    }
}

fn policy_select(
    id: PoolId,
    select_id: String,
    hint_id: String,
    pool: PoolView,
    pools: Pools,
    toasts: Toasts,
    now: impl Fn() -> PoolView + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let node = NodeRef::<html::Select>::new();
    let busy = RwSignal::new(false);
    let where_ = format!("{} at {}", pool.product_name, pool.organisation_name);
    let now_for_change = now.clone();
    let on_change = move |ev: leptos::ev::Event| {
        let Some(policy) = QueuePolicy::parse(&event_target_value(&ev)) else {
            return;
        };
        let before = now_for_change().queue_policy;
        if policy == before || busy.get_untracked() {
            return;
        }
        busy.set(true);
        let where_ = where_.clone();
        spawn_local(async move {
            let body = UpdatePool {
                queue_policy: Some(policy),
                ..Default::default()
            };
            let result = api::call(async |c| c.update_pool(id, &body).await).await;
            busy.try_set(false);
            match result {
                Ok(updated) => {
                    pools.update_ok(|page| {
                        if let Some(slot) = page.items.iter_mut().find(|p| p.id == updated.id) {
                            *slot = updated.clone();
                        }
                    });
                    toasts.success(format!("{where_}: {}", policy_done(policy)));
                }
                Err(error) => {
                    // Show the policy that still holds.
                    if let Some(select) = node.get_untracked() {
                        select.set_value(before.as_str());
                    }
                    toasts.error(format!("Could not change the queue policy: {}", error.message()));
                }
            }
        });
    };
    view! {
        <label class="field-label small-label" for=select_id.clone()>
            "When no seat is free"
        </label>
        <select
            id=select_id
            node_ref=node
            class="select"
            data-testid="pool-policy-select"
            aria-describedby=hint_id
            disabled=move || busy.get()
            on:change=on_change
        >
            {QueuePolicy::ALL
                .iter()
                .map(|policy| {
                    let policy = *policy;
                    let now = now.clone();
                    view! {
                        <option value=policy.as_str() prop:selected=move || now().queue_policy == policy>
                            {queue_policy_label(policy)}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}
