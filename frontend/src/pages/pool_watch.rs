//! A pool's low-seat alert, automatic top-up and seat purchases, on its
//! dashboard card: the summary everyone sees, the pending top-up an
//! administrator approves or dismisses, and the two dialogs behind the card's
//! menu ("Alerts & top-up…", "Add seats…").

use crate::api::{self, ApiError};
use crate::components::dialog::{FormFooter, Modal};
use crate::components::form::{clear_field, field_error, invalid, Field, FormError};
use crate::components::format::{count_label, datetime_full, money, plan_label, price_line, relative};
use crate::components::icons::{icon, Icon};
use crate::components::toast::Toasts;
use crate::lookups;
use crate::resource::Fetch;
use leasehold_core::values::Plan;
use leasehold_core::wire::{BuySeats, Page, PoolView, UpdatePool};
use leasehold_core::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;

type Pools = Fetch<Page<PoolView>>;

/// The plans a purchase or a top-up can be on (a trial is not bought).
const PAID_PLANS: [Plan; 3] = [Plan::Monthly, Plan::Yearly, Plan::Perpetual];

/// "Fewer than 3 seats free", "Fewer than 10 % free" or "Off".
pub fn alert_summary(pool: &PoolView) -> String {
    match (pool.alert_below, pool.alert_below_percent) {
        (Some(seats), _) => format!("Fewer than {} free", count_label(seats.unsigned_abs(), "seat", "seats")),
        (None, Some(percent)) => format!("Fewer than {percent} % free"),
        (None, None) => "Off".into(),
    }
}

/// "Add 5 seats (monthly) when fewer than 2 are free" or "Off".
pub fn topup_summary(pool: &PoolView) -> String {
    if !pool.topup_enabled {
        return "Off".into();
    }
    let ask = if pool.topup_needs_approval {
        ", after an admin approves"
    } else {
        ""
    };
    format!(
        "Add {} ({}) when fewer than {} free{ask}",
        count_label(pool.topup_add.unsigned_abs(), "seat", "seats"),
        plan_label(pool.topup_plan).to_lowercase(),
        pool.topup_below,
    )
}

/// Puts the server's copy of a pool into the dashboard's list.
fn replace(pools: Pools, updated: PoolView) {
    pools.update_ok(|page| {
        if let Some(slot) = page.items.iter_mut().find(|p| p.id == updated.id) {
            *slot = updated;
        }
    });
}

/// The alert and top-up settings of a pool, and the pending top-up (with
/// Approve / Dismiss for administrators).
pub fn watch_section(
    pool: PoolView,
    pools: Pools,
    manage: bool,
    toasts: Toasts,
    now: impl Fn() -> PoolView + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let heading_id = format!("watch-heading-{}", pool.id);
    let labelled_by = heading_id.clone();
    let now_for_values = now.clone();
    view! {
        <section class="watch-box" aria-labelledby=labelled_by data-testid="pool-watch">
            <h3 id=heading_id class="small-label">
                "Alerts & top-ups"
            </h3>
            {move || {
                let p = now_for_values();
                let month = if p.topup_enabled {
                    format!("{} of {} this month", p.topups_this_month, p.topup_max_per_month)
                } else {
                    count_label(p.topups_this_month.unsigned_abs(), "top-up this month", "top-ups this month")
                };
                view! {
                    <dl class="watch-grid">
                        <div>
                            <dt>"Low-seat alert"</dt>
                            <dd data-testid="pool-alert">{alert_summary(&p)}</dd>
                        </div>
                        <div>
                            <dt>"Automatic top-up"</dt>
                            <dd data-testid="pool-topup">{topup_summary(&p)}</dd>
                        </div>
                        <div>
                            <dt>"Top-ups"</dt>
                            <dd data-testid="pool-topups-month">{month}</dd>
                        </div>
                    </dl>
                }
            }}
            {move || {
                let p = now();
                p.topup_pending_since.map(|since| pending_banner(p.clone(), since, pools, manage, toasts))
            }}
        </section>
    }
}

fn pending_banner(
    pool: PoolView,
    since: chrono::DateTime<chrono::Utc>,
    pools: Pools,
    manage: bool,
    toasts: Toasts,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let id = pool.id;
    let seats = count_label(pool.topup_add.unsigned_abs(), "seat", "seats");
    let settle = Callback::new(move |approve: bool| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let seats = count_label(pool.topup_add.unsigned_abs(), "seat", "seats");
        let product = pool.product_name.clone();
        spawn_local(async move {
            let result = if approve {
                api::call(async |c| c.approve_topup(id).await).await
            } else {
                api::call(async |c| c.dismiss_topup(id).await).await
            };
            busy.try_set(false);
            match result {
                Ok(updated) => {
                    replace(pools, updated);
                    toasts.success(if approve {
                        format!("{product}: top-up approved, {seats} added")
                    } else {
                        format!("{product}: top-up dismissed, no seats added")
                    });
                }
                Err(error) => {
                    toasts.error(format!("Could not settle the top-up: {}", error.message()));
                    pools.reload();
                }
            }
        });
    });
    view! {
        <div class="banner banner-warning watch-pending" role="status" data-testid="pool-topup-pending">
            {icon(Icon::Bell)}
            <div class="banner-body">
                <p class="banner-title">{format!("A top-up of {seats} is waiting for approval")}</p>
                <p class="banner-text small" title=datetime_full(since)>
                    {format!("Requested {} when the pool ran low.", relative(since))}
                </p>
                {manage
                    .then(|| {
                        view! {
                            <div class="banner-actions">
                                <button
                                    type="button"
                                    class="btn btn-primary btn-sm"
                                    data-testid="approve-topup"
                                    disabled=move || busy.get()
                                    on:click=move |_| settle.run(true)
                                >
                                    {icon(Icon::Check)}
                                    "Approve"
                                </button>
                                <button
                                    type="button"
                                    class="btn btn-secondary btn-sm"
                                    data-testid="dismiss-topup"
                                    disabled=move || busy.get()
                                    on:click=move |_| settle.run(false)
                                >
                                    "Dismiss"
                                </button>
                            </div>
                        }
                    })}
            </div>
        </div>
    }
}

// ---------------------------------------------------------------- settings dialog

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AlertMode {
    Off,
    Seats,
    Percent,
}

/// A whole number typed into `field`; `None` (with a message) otherwise.
/// A plan picker offering the plans one can buy (every plan but the trial).
fn paid_plan_select(
    id: &'static str,
    plan: RwSignal<Plan>,
    error: Signal<Option<String>>,
    errors: RwSignal<Option<ApiError>>,
    field: &'static [&'static str],
) -> impl IntoView {
    view! {
        <select
            id=id
            class="select"
            data-testid=id
            aria-invalid=invalid(error)
            aria-describedby=format!("{id}-msg")
            on:change=move |ev| {
                if let Some(p) = Plan::parse(&event_target_value(&ev)) {
                    plan.set(p);
                    clear_field(errors, field);
                }
            }
        >
            {PAID_PLANS
                .iter()
                .map(|p| {
                    let p = *p;
                    view! {
                        <option value=p.as_str() prop:selected=move || plan.get() == p>
                            {plan_label(p)}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// The alert's fields of a pool update: one threshold replaces the other, so
/// only the chosen one is sent (0 in seats turns the alert off).
fn alert_fields(
    mode: AlertMode,
    seats: &str,
    percent: &str,
    problems: &mut Vec<FieldError>,
) -> (Option<i64>, Option<i64>) {
    match mode {
        AlertMode::Off => (Some(0), None),
        AlertMode::Seats => (whole(seats, "alert_below", problems), None),
        AlertMode::Percent => (None, whole(percent, "alert_below_percent", problems)),
    }
}

fn whole(text: &str, field: &str, problems: &mut Vec<FieldError>) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        problems.push(FieldError::new(field, "required", "Enter a number."));
        return None;
    }
    match text.parse::<i64>() {
        Ok(value) => Some(value),
        Err(_) => {
            problems.push(FieldError::new(field, "invalid", "Enter a whole number."));
            None
        }
    }
}

/// Edits the low-seat alert and the automatic top-up of a pool; the server
/// checks them against its capacity and its answers show next to the inputs.
#[component]
pub fn WatchDialog(pool: PoolView, pools: Pools, toasts: Toasts, on_close: Callback<()>) -> impl IntoView {
    let id = pool.id;
    let mode = RwSignal::new(match (pool.alert_below, pool.alert_below_percent) {
        (Some(_), _) => AlertMode::Seats,
        (None, Some(_)) => AlertMode::Percent,
        (None, None) => AlertMode::Off,
    });
    let alert_seats = RwSignal::new(pool.alert_below.map(|v| v.to_string()).unwrap_or_default());
    let alert_percent = RwSignal::new(pool.alert_below_percent.map(|v| v.to_string()).unwrap_or_default());
    let topup = RwSignal::new(pool.topup_enabled);
    // A fresh rule starts from sensible figures: below 1 free, add 5, 3 a month.
    let fresh = !pool.topup_enabled && pool.topup_add == 0;
    let below = RwSignal::new(if fresh {
        "1".into()
    } else {
        pool.topup_below.to_string()
    });
    let add = RwSignal::new(if fresh { "5".into() } else { pool.topup_add.to_string() });
    let max = RwSignal::new(if fresh {
        "3".into()
    } else {
        pool.topup_max_per_month.to_string()
    });
    let ask_first = RwSignal::new(pool.topup_needs_approval);
    let plan = RwSignal::new(if pool.topup_plan == Plan::Trial {
        Plan::Monthly
    } else {
        pool.topup_plan
    });
    let errors = RwSignal::new(None::<ApiError>);
    let pending = RwSignal::new(false);
    let product = pool.product_name.clone();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = Vec::new();
        let mut body = UpdatePool::default();
        (body.alert_below, body.alert_below_percent) = alert_fields(
            mode.get_untracked(),
            &alert_seats.get_untracked(),
            &alert_percent.get_untracked(),
            &mut problems,
        );
        body.topup_enabled = Some(topup.get_untracked());
        if topup.get_untracked() {
            body.topup_below = whole(&below.get_untracked(), "topup_below", &mut problems);
            body.topup_add = whole(&add.get_untracked(), "topup_add", &mut problems);
            body.topup_max_per_month = whole(&max.get_untracked(), "topup_max_per_month", &mut problems);
            body.topup_needs_approval = Some(ask_first.get_untracked());
            body.topup_plan = Some(plan.get_untracked());
        }
        if !problems.is_empty() {
            errors.set(Some(ApiError::invalid(problems)));
            return;
        }
        errors.set(None);
        pending.set(true);
        let product = product.clone();
        spawn_local(async move {
            let result = api::call(async |c| c.update_pool(id, &body).await).await;
            pending.try_set(false);
            match result {
                Ok(updated) => {
                    toasts.success(format!(
                        "{product}: low-seat alert {}, automatic top-up {}",
                        alert_summary(&updated).to_lowercase(),
                        topup_summary(&updated).to_lowercase()
                    ));
                    replace(pools, updated);
                    on_close.run(());
                }
                Err(error) => {
                    errors.try_set(Some(error));
                }
            }
        });
    };

    let seats_error = field_error(errors, &["alert_below"]);
    let percent_error = field_error(errors, &["alert_below_percent"]);
    let below_error = field_error(errors, &["topup_below"]);
    let add_error = field_error(errors, &["topup_add"]);
    let max_error = field_error(errors, &["topup_max_per_month"]);
    let plan_error = field_error(errors, &["topup_plan"]);
    let capacity = pool.capacity;

    let number = move |id: &'static str,
                       value: RwSignal<String>,
                       error: Signal<Option<String>>,
                       names: &'static [&'static str],
                       min: &'static str| {
        view! {
            <input
                id=id
                class="input input-narrow"
                type="number"
                inputmode="numeric"
                min=min
                step="1"
                data-testid=id
                aria-invalid=invalid(error)
                aria-describedby=format!("{id}-msg")
                prop:value=value
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    clear_field(errors, names);
                }
            />
        }
    };

    let mode_radio = move |value: AlertMode, testid: &'static str, title: &'static str, hint: String| {
        view! {
            <label class="radio">
                <input
                    type="radio"
                    name="alert-mode"
                    data-testid=testid
                    prop:checked=move || mode.get() == value
                    on:change=move |_| {
                        mode.set(value);
                        clear_field(errors, &["alert_below", "alert_below_percent"]);
                    }
                />
                <span>
                    {title}
                    <span class="muted small block">{hint}</span>
                </span>
            </label>
        }
    };

    view! {
        <Modal title=format!("Alerts & top-up · {}", pool.product_name) on_close=on_close testid="watch-dialog">
            <form class="form" on:submit=submit novalidate=true>
                <div class="modal-body">
                    <p>
                        {format!(
                            "Be told before {} at {} runs out of seats, and add seats without anyone waiting. The pool has {} now.",
                            pool.product_name,
                            pool.organisation_name,
                            count_label(capacity.unsigned_abs(), "seat", "seats"),
                        )}
                    </p>
                    <FormError
                        errors=errors
                        claimed=&[
                            "alert_below",
                            "alert_below_percent",
                            "topup_below",
                            "topup_add",
                            "topup_max_per_month",
                            "topup_plan",
                        ]
                    />
                    <fieldset class="fieldset">
                        <legend class="field-label">"Low-seat alert"</legend>
                        {mode_radio(AlertMode::Off, "alert-off", "Off", "No alert when seats run low.".into())}
                        {mode_radio(
                            AlertMode::Seats,
                            "alert-seats",
                            "A number of seats",
                            "Alert when fewer than this many seats are free.".into(),
                        )}
                        <Show when=move || mode.get() == AlertMode::Seats>
                            <Field
                                label="Fewer than (seats free)"
                                id="alert-below-seats"
                                error=seats_error
                                hint="Below the pool's capacity."
                            >
                                {number("alert-below-seats", alert_seats, seats_error, &["alert_below"], "1")}
                            </Field>
                        </Show>
                        {mode_radio(
                            AlertMode::Percent,
                            "alert-percent",
                            "A share of the capacity",
                            "Alert when fewer than this percentage of the seats are free; follows the capacity.".into(),
                        )}
                        <Show when=move || mode.get() == AlertMode::Percent>
                            <Field
                                label="Fewer than (% free)"
                                id="alert-below-percent"
                                error=percent_error
                                hint="1 to 99 %."
                            >
                                {number("alert-below-percent", alert_percent, percent_error, &["alert_below_percent"], "1")}
                            </Field>
                        </Show>
                    </fieldset>
                    <fieldset class="fieldset">
                        <legend class="field-label">"Automatic top-up"</legend>
                        <label class="checkbox">
                            <input
                                type="checkbox"
                                data-testid="topup-enabled"
                                prop:checked=move || topup.get()
                                on:change=move |ev| topup.set(event_target_checked(&ev))
                            />
                            <span>
                                "Add seats automatically when the pool runs low"
                                <span class="muted small block">
                                    "Each top-up is a new licence, priced like a purchase and invoiced at month end."
                                </span>
                            </span>
                        </label>
                        <Show when=move || topup.get()>
                            <div class="form-grid form-grid-3">
                                <Field label="When fewer than" id="topup-below" error=below_error hint="seats are free">
                                    {number("topup-below", below, below_error, &["topup_below"], "1")}
                                </Field>
                                <Field label="Add" id="topup-add" error=add_error hint="seats each time">
                                    {number("topup-add", add, add_error, &["topup_add"], "1")}
                                </Field>
                                <Field label="At most" id="topup-max" error=max_error hint="top-ups a month">
                                    {number("topup-max", max, max_error, &["topup_max_per_month"], "1")}
                                </Field>
                            </div>
                            <Field label="Plan of the added seats" id="topup-plan" error=plan_error>
                                {paid_plan_select("topup-plan", plan, plan_error, errors, &["topup_plan"])}
                            </Field>
                            <label class="checkbox">
                                <input
                                    type="checkbox"
                                    data-testid="topup-ask-first"
                                    prop:checked=move || ask_first.get()
                                    on:change=move |ev| ask_first.set(event_target_checked(&ev))
                                />
                                <span>
                                    "Ask an administrator first"
                                    <span class="muted small block">
                                        "The top-up waits on the dashboard until someone approves or dismisses it."
                                    </span>
                                </span>
                            </label>
                        </Show>
                    </fieldset>
                </div>
                <FormFooter on_cancel=on_close pending=pending label="Save settings" busy_label="Saving…" />
            </form>
        </Modal>
    }
}

// ---------------------------------------------------------------- buying seats

/// Buys seats for a pool: a new licence on a paid plan, priced from the
/// product, that raises the capacity at once.
#[component]
pub fn BuyDialog(pool: PoolView, pools: Pools, toasts: Toasts, on_close: Callback<()>) -> impl IntoView {
    let id = pool.id;
    let products = lookups::products();
    let product_id = pool.product_id;
    let product = Memo::new(move |_| {
        products
            .with_ok(|list| list.iter().find(|p| p.id == product_id).cloned())
            .flatten()
    });
    let quantity = RwSignal::new("1".to_string());
    let plan = RwSignal::new(Plan::Monthly);
    let errors = RwSignal::new(None::<ApiError>);
    let pending = RwSignal::new(false);
    let name = pool.product_name.clone();

    let price = move || {
        let product = product.get()?;
        let quantity: i64 = quantity.get().trim().parse().unwrap_or(0);
        Some(price_line(&product, plan.get(), quantity))
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = Vec::new();
        let Some(quantity) = whole(&quantity.get_untracked(), "quantity", &mut problems) else {
            errors.set(Some(ApiError::invalid(problems)));
            return;
        };
        errors.set(None);
        pending.set(true);
        let body = BuySeats {
            quantity,
            plan: plan.get_untracked(),
        };
        let name = name.clone();
        spawn_local(async move {
            let result = api::call(async |c| c.buy_seats(id, &body).await).await;
            pending.try_set(false);
            match result {
                Ok(licence) => {
                    toasts.success(format!(
                        "{name}: {} added (licence {}, {})",
                        count_label(u64::from(licence.quantity), "seat", "seats"),
                        licence.name,
                        money(licence.amount, &licence.currency)
                    ));
                    pools.reload();
                    on_close.run(());
                }
                Err(error) => {
                    errors.try_set(Some(error));
                }
            }
        });
    };

    let quantity_error = field_error(errors, &["quantity"]);
    let plan_error = field_error(errors, &["plan"]);
    view! {
        <Modal title=format!("Add seats · {}", pool.product_name) on_close=on_close testid="buy-dialog">
            <form class="form" on:submit=submit novalidate=true>
                <div class="modal-body">
                    <p>
                        {format!(
                            "A purchase for {}: a new licence of {} that adds its seats to the pool at once, ready to invoice.",
                            pool.organisation_name,
                            pool.product_name,
                        )}
                    </p>
                    <FormError errors=errors claimed=&["quantity", "plan"] />
                    <div class="form-grid">
                        <Field label="Seats" id="buy-quantity" error=quantity_error hint="1 to 10,000.">
                            <input
                                id="buy-quantity"
                                class="input"
                                type="number"
                                inputmode="numeric"
                                min="1"
                                step="1"
                                data-testid="buy-quantity"
                                aria-invalid=invalid(quantity_error)
                                aria-describedby="buy-quantity-msg"
                                prop:value=quantity
                                on:input=move |ev| {
                                    quantity.set(event_target_value(&ev));
                                    clear_field(errors, &["quantity"]);
                                }
                            />
                        </Field>
                        <Field label="Plan" id="buy-plan" error=plan_error>
                            {paid_plan_select("buy-plan", plan, plan_error, errors, &["plan"])}
                        </Field>
                    </div>
                    <p class="price-line" data-testid="buy-price" aria-live="polite">
                        {price}
                    </p>
                </div>
                <FormFooter on_cancel=on_close pending=pending label="Buy seats" busy_label="Buying…" />
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_sends_one_threshold_only() {
        let mut problems = Vec::new();
        assert_eq!(
            alert_fields(AlertMode::Seats, "2", "50", &mut problems),
            (Some(2), None)
        );
        assert_eq!(
            alert_fields(AlertMode::Percent, "2", "50", &mut problems),
            (None, Some(50))
        );
        assert_eq!(alert_fields(AlertMode::Off, "2", "50", &mut problems), (Some(0), None));
        assert!(problems.is_empty());
    }

    #[test]
    fn whole_numbers_are_read_or_explained() {
        let mut problems = Vec::new();
        assert_eq!(whole(" 7 ", "topup_add", &mut problems), Some(7));
        assert_eq!(whole("", "topup_add", &mut problems), None);
        assert_eq!(whole("2.5", "topup_below", &mut problems), None);
        let codes: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.code.as_str())).collect();
        assert_eq!(codes, vec![("topup_add", "required"), ("topup_below", "invalid")]);
    }
}
