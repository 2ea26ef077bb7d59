//! The dashboard (`/pools`): one card per seat pool (an organisation's seats
//! of one product) with its usage, its queue and its queue policy.

use crate::api::{self, ApiError};
use crate::components::dialog::{FormFooter, Modal};
use crate::components::form::{clear_field, field_error, invalid, Field, FormError};
use crate::components::format::{count_label, duration_words, queue_policy_hint, queue_policy_label, seat_kind_label};
use crate::components::icons::{icon, Icon};
use crate::components::menu::{ActionMenu, MenuAction};
use crate::components::state::{set_title, EmptyState, ErrorPanel, NoAccess, PageHeader};
use crate::components::toast::{use_toasts, Toasts};
use crate::components::usage::{used_line, OverCapacityPill, UsageBar};
use crate::lookups::MAX_PER_PAGE;
use crate::pages::devices::can_manage_seats;
use crate::pages::pool_watch::{watch_section, BuyDialog, WatchDialog};
use crate::resource::{fetch_once, Fetch};
use leasehold_core::ids::PoolId;
use leasehold_core::values::{QueuePolicy, Role, SeatKind};
use leasehold_core::wire::{Page, PoolQuery, PoolView, UpdatePool};
use leasehold_core::FieldError;
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
    let page = if device { "devices" } else { "sessions" };
    let list_href = if vendor {
        format!(
            "/{page}?product={}&organisation={}",
            pool.product_id, pool.organisation_id
        )
    } else {
        format!("/{page}?product={}", pool.product_id)
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
    let now_for_lease = now.clone();
    let now_for_low = now.clone();
    let now_for_watch = now.clone();
    let now_for_dialog = now.clone();
    let dialog = RwSignal::new(None::<CardDialog>);
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
                <div class="pool-head-side">
                    <div class="pool-badges">
                        <span class="pill pill-product">{capitalised(seat_kind_label(pool.seat_kind))}</span>
                        {move || now_for_pill().over_capacity.then(|| view! { <OverCapacityPill /> })}
                        {move || now_for_low().low.then(low_pill)}
                    </div>
                    {manage.then(|| pool_menu(&pool, dialog))}
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
            {(!device).then(|| lease_settings(pool.clone(), pools, manage, toasts, now_for_lease))}
            {watch_section(pool.clone(), pools, manage, toasts, now_for_watch)}
            {move || {
                // The dialog keeps what is typed while the card's figures change.
                let p = untrack(&now_for_dialog);
                match dialog.get() {
                    None => ().into_any(),
                    Some(CardDialog::Watch) => {
                        view! {
                            <WatchDialog pool=p pools=pools toasts=toasts on_close=Callback::new(move |_| dialog.set(None)) />
                        }
                            .into_any()
                    }
                    Some(CardDialog::Buy) => {
                        view! {
                            <BuyDialog pool=p pools=pools toasts=toasts on_close=Callback::new(move |_| dialog.set(None)) />
                        }
                            .into_any()
                    }
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
                {if device {
                    view! {
                        <a class="btn btn-secondary btn-sm pool-link" href=list_href data-testid="pool-devices">
                            {icon(Icon::Devices)}
                            "View devices"
                            {icon(Icon::ChevronRight)}
                        </a>
                    }
                        .into_any()
                } else {
                    view! {
                        <a class="btn btn-secondary btn-sm pool-link" href=list_href data-testid="pool-sessions">
                            {icon(Icon::Sessions)}
                            "View sessions"
                            {icon(Icon::ChevronRight)}
                        </a>
                    }
                        .into_any()
                }}
            </footer>
        </article>
    }
}

/// The dialog a pool card's menu opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardDialog {
    Watch,
    Buy,
}

fn low_pill() -> impl IntoView {
    view! {
        <span
            class="pill pill-low"
            data-testid="pool-low"
            title="Fewer seats are free than the low-seat alert allows; it re-arms once more are free again."
        >
            <span class="pill-dot" aria-hidden="true"></span>
            "Low on seats"
        </span>
    }
}

/// The card's "⋯" menu: the alert and top-up settings, and buying seats.
fn pool_menu(pool: &PoolView, dialog: RwSignal<Option<CardDialog>>) -> impl IntoView {
    let actions = vec![
        MenuAction {
            label: "Alerts & top-up…".into(),
            testid: "open-watch-settings",
            run: Callback::new(move |_| dialog.set(Some(CardDialog::Watch))),
        },
        MenuAction {
            label: "Add seats…".into(),
            testid: "open-buy-seats",
            run: Callback::new(move |_| dialog.set(Some(CardDialog::Buy))),
        },
    ];
    view! {
        <ActionMenu
            label=format!("Actions for {} at {}", pool.product_name, pool.organisation_name)
            actions=actions
            testid="pool-menu"
        />
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

// ---------------------------------------------------------------- lease settings

/// "Off" for a setting that is switched off (0 or none), else its length.
fn optional_duration(seconds: Option<i64>) -> String {
    match seconds {
        Some(s) if s > 0 => duration_words(s),
        _ => "Off".into(),
    }
}

/// What the settings mean together, in one sentence.
fn lease_summary(lease: i64, grace: i64) -> String {
    format!(
        "Apps renew their seat every {}. A seat whose app stops renewing is reclaimed after {}.",
        duration_words(lease / 2),
        duration_words(lease + grace)
    )
}

/// A concurrent pool's lease, grace, idle timeout and linger, and (for
/// administrators) the button that changes them.
fn lease_settings(
    pool: PoolView,
    pools: Pools,
    manage: bool,
    toasts: Toasts,
    now: impl Fn() -> PoolView + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let heading_id = format!("lease-heading-{}", pool.id);
    let labelled_by = heading_id.clone();
    let now_for_values = now.clone();
    view! {
        <section class="lease-box" aria-labelledby=labelled_by data-testid="pool-lease-settings">
            <div class="lease-head">
                <h3 id=heading_id class="small-label">
                    "Seat leases"
                </h3>
                {manage
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                data-testid="edit-lease-settings"
                                aria-label=format!("Edit lease settings of {}", pool.product_name)
                                on:click=move |_| editing.set(true)
                            >
                                {icon(Icon::Edit)}
                                "Edit lease settings"
                            </button>
                        }
                    })}
            </div>
            {move || {
                let p = now_for_values();
                view! {
                    <dl class="lease-grid">
                        <div title="How long a seat lasts without a heartbeat">
                            <dt>"Lease"</dt>
                            <dd data-testid="pool-lease">{duration_words(p.lease_seconds)}</dd>
                        </div>
                        <div title="Extra time for a late heartbeat before the seat is reclaimed">
                            <dt>"Grace"</dt>
                            <dd data-testid="pool-grace">{duration_words(p.grace_seconds)}</dd>
                        </div>
                        <div title="Reclaim a seat whose member does nothing for this long">
                            <dt>"Idle timeout"</dt>
                            <dd data-testid="pool-idle">{optional_duration(p.idle_seconds)}</dd>
                        </div>
                        <div title="How long a signed-out seat waits for the same app">
                            <dt>"Linger"</dt>
                            <dd data-testid="pool-linger">{optional_duration(Some(p.linger_seconds))}</dd>
                        </div>
                    </dl>
                    <p class="muted small" data-testid="pool-lease-summary">
                        {lease_summary(p.lease_seconds, p.grace_seconds)}
                    </p>
                }
            }}
            {move || {
                let now = now.clone();
                editing
                    .get()
                    .then(|| {
                        view! {
                            <LeaseDialog
                                pool=now()
                                pools=pools
                                toasts=toasts
                                on_close=Callback::new(move |_| editing.set(false))
                            />
                        }
                    })
            }}
        </section>
    }
}

/// The units a length can be typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Minutes,
    Hours,
}

impl Unit {
    const ALL: [Unit; 3] = [Unit::Seconds, Unit::Minutes, Unit::Hours];

    fn seconds(self) -> i64 {
        match self {
            Unit::Seconds => 1,
            Unit::Minutes => 60,
            Unit::Hours => 3_600,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Minutes => "min",
            Unit::Hours => "h",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Minutes => "minutes",
            Unit::Hours => "hours",
        }
    }

    fn parse(text: &str) -> Self {
        Unit::ALL.into_iter().find(|u| u.key() == text).unwrap_or(Unit::Minutes)
    }

    /// The unit a stored length reads best in (whole minutes stay minutes up to a day).
    fn for_seconds(seconds: i64) -> Self {
        if seconds >= 7_200 && seconds % 3_600 == 0 {
            Unit::Hours
        } else if seconds % 60 == 0 {
            Unit::Minutes
        } else {
            Unit::Seconds
        }
    }
}

/// A length as typed: the number and its unit.
#[derive(Debug, Clone, Copy)]
struct Length {
    text: RwSignal<String>,
    unit: RwSignal<Unit>,
}

impl Length {
    /// `None` or 0 shows an empty box when `off_when_zero`.
    fn new(seconds: Option<i64>, off_when_zero: bool) -> Self {
        let seconds = seconds.filter(|s| !(off_when_zero && *s == 0));
        let unit = seconds.map_or(Unit::Minutes, Unit::for_seconds);
        let text = seconds.map(|s| (s / unit.seconds()).to_string()).unwrap_or_default();
        Self {
            text: RwSignal::new(text),
            unit: RwSignal::new(unit),
        }
    }

    /// Whole seconds; `Ok(None)` for an empty box.
    fn seconds(&self) -> Result<Option<i64>, &'static str> {
        let text = self.text.get_untracked();
        let text = text.trim().replace(',', ".");
        if text.is_empty() {
            return Ok(None);
        }
        let value: f64 = text.parse().map_err(|_| "Enter a number.")?;
        if !value.is_finite() {
            return Err("Enter a number.");
        }
        if value < 0.0 {
            return Err("Can't be negative.");
        }
        let seconds = value * self.unit.get_untracked().seconds() as f64;
        if seconds > 1e9 {
            return Err("That is too long.");
        }
        if (seconds - seconds.round()).abs() > 1e-6 {
            return Err("Use whole seconds.");
        }
        Ok(Some(seconds.round() as i64))
    }
}

/// The server's range errors in the units of the form.
fn explain_ranges(mut error: ApiError) -> ApiError {
    for field in &mut error.fields {
        if field.code != "out_of_range" {
            continue;
        }
        let text = match field.field.as_str() {
            "lease_seconds" => "Choose between 1 minute and 24 hours.",
            "grace_seconds" => "Can be 0, but not longer than the lease.",
            "idle_seconds" => "Choose between 1 minute and 7 days, or leave it empty for no idle timeout.",
            "linger_seconds" => "Choose between 0 and 1 hour.",
            _ => continue,
        };
        field.message = text.into();
    }
    error
}

/// The number and the unit of one length, inside its `Field`.
fn length_input(
    id: &'static str,
    name: &'static str,
    length: Length,
    error: Signal<Option<String>>,
    errors: RwSignal<Option<ApiError>>,
    placeholder: &'static str,
) -> impl IntoView {
    let field_names: &'static [&'static str] = match name {
        "lease_seconds" => &["lease_seconds"],
        "grace_seconds" => &["grace_seconds"],
        "idle_seconds" => &["idle_seconds"],
        _ => &["linger_seconds"],
    };
    view! {
        <div class="length-input">
            <input
                id=id
                class="input"
                type="number"
                inputmode="decimal"
                min="0"
                step="any"
                placeholder=placeholder
                data-testid=id
                aria-invalid=invalid(error)
                aria-describedby=format!("{id}-msg")
                prop:value=length.text
                on:input=move |ev| {
                    length.text.set(event_target_value(&ev));
                    clear_field(errors, field_names);
                }
            />
            <select
                class="select"
                aria-label="Unit"
                data-testid=format!("{id}-unit")
                on:change=move |ev| {
                    length.unit.set(Unit::parse(&event_target_value(&ev)));
                    clear_field(errors, field_names);
                }
            >
                {Unit::ALL
                    .into_iter()
                    .map(|unit| {
                        view! {
                            <option value=unit.key() prop:selected=move || length.unit.get() == unit>
                                {unit.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// Edits a concurrent pool's lease, grace, idle timeout and linger; the server
/// checks the ranges and its answers show next to the inputs.
#[component]
fn LeaseDialog(pool: PoolView, pools: Pools, toasts: Toasts, on_close: Callback<()>) -> impl IntoView {
    let id = pool.id;
    let lease = Length::new(Some(pool.lease_seconds), false);
    let grace = Length::new(Some(pool.grace_seconds), false);
    let idle = Length::new(pool.idle_seconds, true);
    let linger = Length::new(Some(pool.linger_seconds), false);
    let errors = RwSignal::new(None::<ApiError>);
    let pending = RwSignal::new(false);
    let where_ = format!("{} at {}", pool.product_name, pool.organisation_name);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = Vec::new();
        let mut read = |length: Length, field: &str, required: bool| match length.seconds() {
            Ok(Some(seconds)) => Some(seconds),
            Ok(None) if required => {
                problems.push(FieldError::new(field, "required", "Enter a length."));
                None
            }
            Ok(None) => Some(0),
            Err(message) => {
                problems.push(FieldError::new(field, "invalid", message));
                None
            }
        };
        let lease_s = read(lease, "lease_seconds", true);
        let grace_s = read(grace, "grace_seconds", true);
        let idle_s = read(idle, "idle_seconds", false);
        let linger_s = read(linger, "linger_seconds", false);
        if !problems.is_empty() {
            errors.set(Some(ApiError::invalid(problems)));
            return;
        }
        errors.set(None);
        pending.set(true);
        let body = UpdatePool {
            lease_seconds: lease_s,
            grace_seconds: grace_s,
            idle_seconds: idle_s,
            linger_seconds: linger_s,
            ..Default::default()
        };
        let where_ = where_.clone();
        spawn_local(async move {
            let result = api::call(async |c| c.update_pool(id, &body).await).await;
            pending.try_set(false);
            match result {
                Ok(updated) => {
                    pools.update_ok(|page| {
                        if let Some(slot) = page.items.iter_mut().find(|p| p.id == updated.id) {
                            *slot = updated.clone();
                        }
                    });
                    toasts.success(format!(
                        "{where_}: lease {}, grace {}, idle timeout {}, linger {}",
                        duration_words(updated.lease_seconds),
                        duration_words(updated.grace_seconds),
                        optional_duration(updated.idle_seconds).to_lowercase(),
                        optional_duration(Some(updated.linger_seconds)).to_lowercase(),
                    ));
                    on_close.run(());
                }
                Err(error) => {
                    errors.try_set(Some(explain_ranges(error)));
                }
            }
        });
    };

    let lease_error = field_error(errors, &["lease_seconds"]);
    let grace_error = field_error(errors, &["grace_seconds"]);
    let idle_error = field_error(errors, &["idle_seconds"]);
    let linger_error = field_error(errors, &["linger_seconds"]);
    // The sentence under the form follows what is typed (when it makes sense).
    let preview = move || {
        lease.text.track();
        lease.unit.track();
        grace.text.track();
        grace.unit.track();
        match (lease.seconds(), grace.seconds()) {
            (Ok(Some(l)), Ok(Some(g))) if l > 0 && g <= l => lease_summary(l, g),
            _ => String::new(),
        }
    };

    view! {
        <Modal title=format!("Lease settings · {}", pool.product_name) on_close=on_close testid="lease-dialog">
            <form class="form" on:submit=submit novalidate=true>
                <div class="modal-body">
                    <p>
                        {format!(
                            "How the concurrent seats of {} at {} are kept while members use them. Changes apply from each app's next heartbeat.",
                            pool.product_name,
                            pool.organisation_name,
                        )}
                    </p>
                    <FormError errors=errors claimed=&["lease_seconds", "grace_seconds", "idle_seconds", "linger_seconds"] />
                    <Field
                        label="Lease"
                        id="lease-length"
                        error=lease_error
                        hint="How long a seat lasts without a heartbeat; apps renew half-way. 1 minute to 24 hours."
                    >
                        {length_input("lease-length", "lease_seconds", lease, lease_error, errors, "")}
                    </Field>
                    <Field
                        label="Grace period"
                        id="lease-grace"
                        error=grace_error
                        hint="Extra time for a late heartbeat before the seat is reclaimed. 0 up to the lease."
                    >
                        {length_input("lease-grace", "grace_seconds", grace, grace_error, errors, "")}
                    </Field>
                    <Field
                        label="Idle timeout"
                        id="lease-idle"
                        error=idle_error
                        optional=true
                        hint="Reclaim a seat whose member does nothing for this long. Empty: off. Up to 7 days."
                    >
                        {length_input("lease-idle", "idle_seconds", idle, idle_error, errors, "Off")}
                    </Field>
                    <Field
                        label="Linger after sign-out"
                        id="lease-linger"
                        error=linger_error
                        hint="Keep a signed-out seat this long for the same app to come back. 0: off. Up to 1 hour."
                    >
                        {length_input("lease-linger", "linger_seconds", linger, linger_error, errors, "0")}
                    </Field>
                    <p class="muted small" aria-live="polite" data-testid="lease-preview">
                        {preview}
                    </p>
                </div>
                <FormFooter on_cancel=on_close pending=pending label="Save settings" busy_label="Saving…" />
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_best() {
        assert_eq!(Unit::for_seconds(900), Unit::Minutes);
        assert_eq!(Unit::for_seconds(45), Unit::Seconds);
        assert_eq!(Unit::for_seconds(7_200), Unit::Hours);
        assert_eq!(Unit::for_seconds(3_600), Unit::Minutes);
        assert_eq!(Unit::parse("h"), Unit::Hours);
    }

    #[test]
    fn summaries_are_plain() {
        assert_eq!(
            lease_summary(900, 120),
            "Apps renew their seat every 7 min 30 s. A seat whose app stops renewing is reclaimed after 17 min."
        );
        assert_eq!(optional_duration(None), "Off");
        assert_eq!(optional_duration(Some(0)), "Off");
    }
}
