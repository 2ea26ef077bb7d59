//! Money, dates and labels as people read them.

use chrono::{DateTime, Duration, FixedOffset, Offset, Utc};
use leasehold_core::access::ActorKind;
use leasehold_core::values::{
    ApiScope, BillingStatus, LicenceSource, LicenceStatus, Plan, QueuePolicy, Role, SeatKind,
};
use leasehold_core::wire::ProductView;

/// Minor units with the currency: `€45.00`, `$1,250.00`, `CHF 45.00`, `¥4,500`.
pub fn money(minor: i64, currency: &str) -> String {
    let code = currency.trim().to_ascii_uppercase();
    let decimals = leasehold_core::licence::currency_decimals(&code);
    let negative = minor < 0;
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(decimals);
    let whole = group_thousands(abs / scale);
    let number = if decimals == 0 {
        whole
    } else {
        format!("{whole}.{:0width$}", abs % scale, width = decimals as usize)
    };
    let sign = if negative { "-" } else { "" };
    match code.as_str() {
        "EUR" => format!("{sign}€{number}"),
        "USD" => format!("{sign}${number}"),
        "GBP" => format!("{sign}£{number}"),
        "JPY" => format!("{sign}¥{number}"),
        "" => format!("{sign}{number}"),
        other => format!("{sign}{other} {number}"),
    }
}

/// A seat's price on `plan` and, for a quantity, the total:
/// "€15.00 per seat (monthly) · €75.00 for 5 seats".
pub fn price_line(product: &ProductView, plan: Plan, quantity: i64) -> String {
    match product.prices.get(&plan) {
        Some(unit) => {
            let total = if quantity > 0 {
                format!(
                    " · {} for {}",
                    money(unit.saturating_mul(quantity), &product.currency),
                    count_label(quantity.unsigned_abs(), "seat", "seats")
                )
            } else {
                String::new()
            };
            format!(
                "{} per seat ({}){}",
                money(*unit, &product.currency),
                plan_label(plan).to_lowercase(),
                total
            )
        }
        None => format!("{} has no {} price", product.name, plan_label(plan).to_lowercase()),
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, ch) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The browser's clock (`std::time` has no clock on wasm32-unknown-unknown).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// `at` in the browser's time zone (including daylight saving on that date).
fn local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    let js = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
    // getTimezoneOffset is UTC − local, in minutes.
    let offset_minutes = -(js.get_timezone_offset() as i32);
    let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset)
}

/// `12 Mar 2025`
pub fn date(at: DateTime<Utc>) -> String {
    local(at).format("%-d %b %Y").to_string()
}

/// `12 Mar 2025, 14:05`
pub fn datetime(at: DateTime<Utc>) -> String {
    local(at).format("%-d %b %Y, %H:%M").to_string()
}

/// `14:05` (today's times in tooltips).
pub fn clock(at: DateTime<Utc>) -> String {
    local(at).format("%H:%M").to_string()
}

/// `14:05:09`
pub fn clock_seconds(at: DateTime<Utc>) -> String {
    local(at).format("%H:%M:%S").to_string()
}

/// A length of time in plain words: `15 min`, `7 min 30 s`, `1 h 30 min`, `45 s`.
pub fn duration_words(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (hours, minutes, secs) = (seconds / 3_600, seconds % 3_600 / 60, seconds % 60);
    let parts: Vec<String> = [(hours, "h"), (minutes, "min"), (secs, "s")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// The full timestamp, for `title` tooltips.
pub fn datetime_full(at: DateTime<Utc>) -> String {
    local(at).format("%Y-%m-%d %H:%M:%S (UTC%:z)").to_string()
}

pub fn opt_date(at: Option<DateTime<Utc>>) -> String {
    at.map(date).unwrap_or_else(|| "—".into())
}

pub fn opt_datetime(at: Option<DateTime<Utc>>) -> String {
    at.map(datetime).unwrap_or_else(|| "—".into())
}

/// `just now`, `5 min ago`, `in 3 days`, `2 months ago`.
pub fn relative(at: DateTime<Utc>) -> String {
    relative_to(at, now())
}

fn relative_to(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let delta = at - now;
    let future = delta > Duration::zero();
    let secs = delta.num_seconds().unsigned_abs();
    let text = if secs < 45 {
        return "just now".into();
    } else if secs < 3_600 {
        plural(secs.div_ceil(60).max(1), "min", "min")
    } else if secs < 86_400 {
        plural(secs / 3_600, "hour", "hours")
    } else if secs < 86_400 * 45 {
        plural(secs / 86_400, "day", "days")
    } else if secs < 86_400 * 365 {
        plural(secs / (86_400 * 30), "month", "months")
    } else {
        plural(secs / (86_400 * 365), "year", "years")
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Whole days from now until `at` (negative when past).
pub fn days_until(at: DateTime<Utc>) -> i64 {
    (at - now()).num_days()
}

/// The last 8 hex digits of a UUID, enough to tell objects apart on screen (the
/// first ones of a v7 UUID are a timestamp, shared by objects made together).
pub fn short_id(id: impl ToString) -> String {
    let text: Vec<char> = id.to_string().chars().filter(char::is_ascii_hexdigit).collect();
    let start = text.len().saturating_sub(8);
    text[start..].iter().collect()
}

pub fn plan_label(plan: Plan) -> &'static str {
    match plan {
        Plan::Monthly => "Monthly",
        Plan::Yearly => "Yearly",
        Plan::Perpetual => "Perpetual",
        Plan::Trial => "Trial",
    }
}

pub fn status_label(status: LicenceStatus) -> &'static str {
    match status {
        LicenceStatus::Unassigned => "Unassigned",
        LicenceStatus::Active => "Active",
        LicenceStatus::Paused => "Paused",
        LicenceStatus::Expired => "Expired",
    }
}

pub fn billing_label(status: BillingStatus) -> &'static str {
    match status {
        BillingStatus::Uninvoiced => "Uninvoiced",
        BillingStatus::Invoiced => "Invoiced",
        BillingStatus::Paid => "Paid",
    }
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::VendorAdmin => "Vendor admin",
        Role::AccountManager => "Account manager",
        Role::OrgAdmin => "Organisation admin",
        Role::OrgViewer => "Viewer",
        Role::Member => "Member",
    }
}

pub fn source_label(source: LicenceSource) -> &'static str {
    match source {
        LicenceSource::AccountManager => "Created by vendor staff",
        LicenceSource::Purchase => "Purchase",
        LicenceSource::AutoTopup => "Automatic top-up",
    }
}

pub fn seat_kind_label(kind: SeatKind) -> &'static str {
    match kind {
        SeatKind::Device => "device seats",
        SeatKind::Concurrent => "concurrent seats",
    }
}

/// The policy as a choice in a dropdown.
pub fn queue_policy_label(policy: QueuePolicy) -> &'static str {
    match policy {
        QueuePolicy::AutoGrant => "Queue, grant automatically",
        QueuePolicy::Approval => "Queue for approval",
        QueuePolicy::Refuse => "Refuse",
    }
}

/// What the policy does, in one sentence.
pub fn queue_policy_hint(policy: QueuePolicy) -> &'static str {
    match policy {
        QueuePolicy::AutoGrant => "Requests wait in line; the oldest gets the next seat that frees up.",
        QueuePolicy::Approval => "Requests wait until an administrator approves them.",
        QueuePolicy::Refuse => "Requests are turned away; nobody waits.",
    }
}

/// `1 device`, `3 devices`.
pub fn count_label(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub fn actor_label(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::User => "User",
        ActorKind::ApiKey => "API key",
        ActorKind::Device => "Device",
        ActorKind::System => "System",
    }
}

pub fn scope_label(scope: ApiScope) -> &'static str {
    match scope {
        ApiScope::DevicesRegister => "Register devices and take device seats",
        ApiScope::SessionsWrite => "Open and close concurrent sessions",
        ApiScope::LicencesRead => "Read licences",
        ApiScope::LicencesWrite => "Create and change licences",
        ApiScope::ReportsRead => "Read reports",
    }
}

/// `licence.paused` → `Licence paused`; `coupon.redeemed` → `Coupon redeemed`.
pub fn action_label(action: &str) -> String {
    let text = action.replace(['.', '_'], " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_minor_units() {
        assert_eq!(money(4500, "EUR"), "€45.00");
        assert_eq!(money(12_500_005, "usd"), "$125,000.05");
        assert_eq!(money(4500, "CHF"), "CHF 45.00");
        assert_eq!(money(4500, "JPY"), "¥4,500");
        assert_eq!(money(-5, "GBP"), "-£0.05");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert_eq!(relative_to(now, now), "just now");
        assert_eq!(relative_to(now - Duration::minutes(5), now), "5 min ago");
        assert_eq!(relative_to(now + Duration::days(3), now), "in 3 days");
        assert_eq!(relative_to(now - Duration::hours(1), now), "1 hour ago");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_words(900), "15 min");
        assert_eq!(duration_words(450), "7 min 30 s");
        assert_eq!(duration_words(5_400), "1 h 30 min");
        assert_eq!(duration_words(45), "45 s");
        assert_eq!(duration_words(0), "0 s");
        assert_eq!(duration_words(86_400), "24 h");
    }

    #[test]
    fn action_labels() {
        assert_eq!(action_label("licence.paused"), "Licence paused");
        assert_eq!(action_label("api_key.created"), "Api key created");
    }
}
