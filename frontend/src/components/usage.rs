//! How full a seat pool is: "14 of 14 licences used" with a bar, and the
//! over-capacity warning.

use leasehold_core::wire::PoolView;
use leptos::prelude::*;

/// `ok`, `full` (nothing free) or `over` (more held than the licences allow).
pub fn tone(pool: &PoolView) -> &'static str {
    if pool.over_capacity {
        "over"
    } else if pool.available <= 0 && pool.capacity > 0 {
        "full"
    } else {
        "ok"
    }
}

/// The share of the capacity in use, 0–100 (a full bar when over capacity).
fn percent(held: i64, capacity: i64) -> f64 {
    if capacity <= 0 {
        return if held > 0 { 100.0 } else { 0.0 };
    }
    (held as f64 * 100.0 / capacity as f64).clamp(0.0, 100.0)
}

/// A thin bar of the seats used.
#[component]
pub fn UsageBar(pool: PoolView, #[prop(optional)] large: bool) -> impl IntoView {
    let width = format!("width: {:.1}%", percent(pool.held, pool.capacity));
    let class = format!("meter meter-{}{}", tone(&pool), if large { " meter-lg" } else { "" });
    view! {
        <div
            class=class
            role="progressbar"
            aria-label=format!("{} seats used", pool.product_name)
            aria-valuemin="0"
            aria-valuemax=pool.capacity.max(pool.held).to_string()
            aria-valuenow=pool.held.to_string()
            aria-valuetext=format!("{} of {} used", pool.held, pool.capacity)
        >
            <span class="meter-fill" style=width></span>
        </div>
    }
}

/// The warning shown while a pool holds more seats than its licences allow.
#[component]
pub fn OverCapacityPill() -> impl IntoView {
    view! {
        <span
            class="pill pill-expired"
            data-testid="over-capacity"
            title="More seats are held than the licences allow (a licence was paused, ended or deleted). Nothing is granted until enough seats are released."
        >
            <span class="pill-dot" aria-hidden="true"></span>
            "Over capacity"
        </span>
    }
}

/// "14 of 14 licences used", or "Nothing licensed" for an empty pool.
pub fn used_line(pool: &PoolView, noun: &str) -> String {
    if pool.capacity == 0 && pool.held == 0 {
        format!("No active {noun}s")
    } else {
        format!("{} of {} {noun}s used", pool.held, pool.capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percentages_stay_in_the_bar() {
        assert_eq!(percent(14, 14), 100.0);
        assert_eq!(percent(7, 14), 50.0);
        assert_eq!(percent(17, 14), 100.0);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(2, 0), 100.0);
    }
}
