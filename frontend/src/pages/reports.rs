//! Reports (`/reports`): one pool's usage over a period, as figures and SVG
//! charts (held vs capacity, utilisation per bucket, seats added by source),
//! and the month-end additions of every visible organisation with a CSV
//! download for invoicing.

use crate::api;
use crate::components::format::{clock, count_label, duration_words, money};
use crate::components::icons::{icon, Icon};
use crate::components::state::{set_title, table_placeholder, EmptyState, ErrorPanel, NoAccess, PageHeader};
use crate::components::toast::use_toasts;
use crate::lookups::MAX_PER_PAGE;
use crate::resource::{fetch, fetch_once};
use chrono::{Datelike, Duration, NaiveDate};
use leasehold_core::ids::PoolId;
use leasehold_core::values::{AdditionSource, ReportBucket, Role};
use leasehold_core::wire::{AdditionsReport, PoolQuery, PoolReport, PoolReportQuery, ReportFigures};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// The periods people ask for, and a custom one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Last7Days,
    Last30Days,
    Last12Weeks,
    Last12Months,
    Custom,
}

impl Period {
    const ALL: [(Period, &'static str, &'static str); 5] = [
        (Period::Last7Days, "7d", "Last 7 days"),
        (Period::Last30Days, "30d", "Last 30 days"),
        (Period::Last12Weeks, "12w", "Last 12 weeks"),
        (Period::Last12Months, "12m", "Last 12 months"),
        (Period::Custom, "custom", "Custom range"),
    ];

    fn parse(text: &str) -> Period {
        Self::ALL
            .iter()
            .find(|(_, code, _)| *code == text)
            .map_or(Period::Last30Days, |(period, _, _)| *period)
    }

    /// First day, last day (both included) and bucket.
    fn span(self, today: NaiveDate) -> (NaiveDate, NaiveDate, ReportBucket) {
        match self {
            Period::Last7Days => (today - Duration::days(6), today, ReportBucket::Day),
            Period::Last30Days | Period::Custom => (today - Duration::days(29), today, ReportBucket::Day),
            Period::Last12Weeks => {
                // Whole weeks from Monday: this one and the eleven before.
                let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
                (monday - Duration::days(7 * 11), today, ReportBucket::Week)
            }
            Period::Last12Months => {
                let first = today.with_day(1).unwrap_or(today);
                let start = first.checked_sub_months(chrono::Months::new(11)).unwrap_or(first);
                (start, today, ReportBucket::Month)
            }
        }
    }
}

fn bucket_label(bucket: ReportBucket) -> &'static str {
    match bucket {
        ReportBucket::Day => "Day",
        ReportBucket::Week => "Week",
        ReportBucket::Month => "Month",
    }
}

pub fn addition_source_label(source: AdditionSource) -> &'static str {
    match source {
        AdditionSource::Automatic => "Automatic top-up",
        AdditionSource::Purchase => "Purchase",
        AdditionSource::Coupon => "Coupon",
        AdditionSource::AccountManager => "Account manager",
    }
}

/// How a figure line names a source: "3 bought · 2 automatic".
fn addition_source_short(source: AdditionSource) -> &'static str {
    match source {
        AdditionSource::Automatic => "automatic",
        AdditionSource::Purchase => "bought",
        AdditionSource::Coupon => "by coupon",
        AdditionSource::AccountManager => "from the account manager",
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{:.1}%", v * 100.0))
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    set_title("Reports");
    let role = api::current_role();
    if role == Role::Member {
        return view! { <NoAccess what="Reports" /> }.into_any();
    }
    let vendor = role.is_vendor();
    // Read when a report is asked for, not once: a screen left open overnight
    // moves on to the new day.
    let today = || crate::components::format::now().date_naive();
    let pools = fetch_once(|| async {
        let query = PoolQuery {
            per_page: Some(MAX_PER_PAGE),
            ..Default::default()
        };
        api::call(async |c| c.list_pools(&query).await).await
    });
    let chosen = RwSignal::new(None::<PoolId>);
    let pool = Signal::derive(move || {
        chosen
            .get()
            .or_else(|| pools.with_ok(|p| p.items.first().map(|pool| pool.id)).flatten())
    });
    let period = RwSignal::new(Period::Last30Days);
    let (default_from, default_to, _) = Period::Last30Days.span(today());
    let custom_from = RwSignal::new(default_from.to_string());
    let custom_to = RwSignal::new(default_to.to_string());
    let custom_bucket = RwSignal::new(ReportBucket::Day);
    let query = Memo::new(move |_| {
        let id = pool.get()?;
        let query = match period.get() {
            Period::Custom => PoolReportQuery {
                from: custom_from.get().parse().ok()?,
                to: custom_to.get().parse().ok()?,
                bucket: Some(custom_bucket.get()),
            },
            other => {
                let (from, to, bucket) = other.span(today());
                PoolReportQuery {
                    from,
                    to,
                    bucket: Some(bucket),
                }
            }
        };
        Some((id, query))
    });
    // A custom range being typed: say what is wrong instead of waiting for it.
    let custom_problem = Signal::derive(move || {
        if period.get() != Period::Custom {
            return None;
        }
        let from: Option<NaiveDate> = custom_from.get().parse().ok();
        let to: Option<NaiveDate> = custom_to.get().parse().ok();
        match (from, to) {
            (Some(from), Some(to)) if from > to => Some("The first day comes after the last one: swap them."),
            (Some(_), Some(_)) => None,
            _ => Some("Pick the first and the last day of the period."),
        }
    });
    let report = fetch(
        move || query.get(),
        |input| async move {
            match input {
                Some((id, query)) => api::call(async |c| c.pool_report(id, &query).await).await.map(Some),
                None => Ok(None),
            }
        },
    );

    view! {
        <PageHeader title="Reports" subtitle="Seat usage over time, and what was added for invoicing" />
        <section class="card" aria-label="Pool report">
            <div class="toolbar">
                <label class="toolbar-label" for="report-pool">
                    "Product"
                </label>
                <select
                    id="report-pool"
                    class="select"
                    data-testid="report-pool"
                    on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())
                >
                    {move || {
                        pools
                            .with_ok(|page| {
                                page.items
                                    .iter()
                                    .map(|p| {
                                        let id = p.id;
                                        let label = if vendor {
                                            format!("{} · {}", p.organisation_name, p.product_name)
                                        } else {
                                            p.product_name.clone()
                                        };
                                        view! {
                                            <option value=id.to_string() prop:selected=move || pool.get() == Some(id)>
                                                {label}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                </select>
                <label class="toolbar-label" for="report-period">
                    "Period"
                </label>
                <select
                    id="report-period"
                    class="select"
                    data-testid="report-period"
                    on:change=move |ev| period.set(Period::parse(&event_target_value(&ev)))
                >
                    {Period::ALL
                        .iter()
                        .map(|(p, code, label)| {
                            let p = *p;
                            view! {
                                <option value=*code prop:selected=move || period.get() == p>
                                    {*label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                {move || {
                    (period.get() == Period::Custom)
                        .then(|| {
                            view! {
                                <label class="toolbar-label" for="report-from">
                                    "From"
                                </label>
                                <input
                                    id="report-from"
                                    class="input input-date"
                                    type="date"
                                    data-testid="report-from"
                                    prop:value=custom_from
                                    on:change=move |ev| custom_from.set(event_target_value(&ev))
                                />
                                <label class="toolbar-label" for="report-to">
                                    "To"
                                </label>
                                <input
                                    id="report-to"
                                    class="input input-date"
                                    type="date"
                                    data-testid="report-to"
                                    prop:value=custom_to
                                    on:change=move |ev| custom_to.set(event_target_value(&ev))
                                />
                                <label class="toolbar-label" for="report-bucket">
                                    "By"
                                </label>
                                <select
                                    id="report-bucket"
                                    class="select"
                                    data-testid="report-bucket"
                                    on:change=move |ev| {
                                        custom_bucket.set(ReportBucket::parse(&event_target_value(&ev)).unwrap_or(ReportBucket::Day))
                                    }
                                >
                                    {ReportBucket::ALL
                                        .iter()
                                        .map(|b| {
                                            let b = *b;
                                            view! {
                                                <option value=b.as_str() prop:selected=move || custom_bucket.get() == b>
                                                    {bucket_label(b)}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            }
                        })
                }}
            </div>
            {move || {
                if pools.with_ok(|p| p.items.is_empty()).unwrap_or(false) {
                    return view! {
                        <EmptyState
                            title="Nothing to report yet"
                            hint="Reports appear once an organisation holds an active licence of a product."
                            symbol=Icon::Reports
                        />
                    }
                        .into_any();
                }
                if let Some(Err(error)) = pools.data.get() {
                    return view! { <ErrorPanel error=error on_retry=Callback::new(move |_| pools.reload()) /> }.into_any();
                }
                if let Some(problem) = custom_problem.get() {
                    return view! {
                        <div class="banner banner-warning report-range-problem" role="status" data-testid="report-range-problem">
                            {icon(Icon::Info)}
                            <div class="banner-body">
                                <p class="banner-title">"No report for this range yet"</p>
                                <p class="banner-text">{problem}</p>
                            </div>
                        </div>
                    }
                        .into_any();
                }
                report
                    .data
                    .with(|data| match data {
                        None | Some(Ok(None)) => {
                            view! {
                                <div class="report-loading" aria-busy="true">
                                    <span class="skeleton"></span>
                                    <span class="skeleton skeleton-bar"></span>
                                </div>
                            }
                                .into_any()
                        }
                        Some(Err(error)) => {
                            view! { <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| report.reload()) /> }
                                .into_any()
                        }
                        Some(Ok(Some(r))) => report_body(r).into_any(),
                    })
            }}
        </section>
        <Additions today=today() />
    }
    .into_any()
}

fn report_body(report: &PoolReport) -> impl IntoView {
    let s = &report.summary;
    let waits = if s.queue_waits.count == 0 {
        "No one waited".to_string()
    } else {
        format!(
            "median {} · longest {}",
            duration_words(s.queue_waits.median_seconds.unwrap_or(0)),
            duration_words(s.queue_waits.longest_seconds.unwrap_or(0))
        )
    };
    let added = s.seats_added;
    let denied = s.denials > 0;
    let added_line = [
        (AdditionSource::Automatic, added.automatic),
        (AdditionSource::Purchase, added.purchase),
        (AdditionSource::Coupon, added.coupon),
        (AdditionSource::AccountManager, added.account_manager),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(source, n)| format!("{n} {}", addition_source_short(*source)))
    .collect::<Vec<_>>()
    .join(" · ");
    let labels: Vec<String> = report.buckets.iter().map(|b| axis_label(b, report.bucket)).collect();
    // The period reaches today: its figures stop at now.
    let ongoing = report.until.date_naive() <= report.to;
    view! {
        <dl class="report-stats" data-testid="report-summary">
            <div class="report-stat">
                <dt>"Average utilisation"</dt>
                <dd class="stat-value" data-testid="report-utilisation">{percent(s.utilisation)}</dd>
                <dd class="report-stat-hint">"time-weighted held ÷ capacity"</dd>
            </div>
            <div class="report-stat">
                <dt>"Peak held"</dt>
                <dd class="stat-value" data-testid="report-peak">{s.peak_held}</dd>
                <dd class="report-stat-hint">{format!("of {} seats at the end", s.capacity_at_end)}</dd>
            </div>
            <div class="report-stat">
                <dt>{if ongoing { "Available now" } else { "Available at the end" }}</dt>
                <dd class="stat-value">{s.available_at_end}</dd>
                <dd class="report-stat-hint" data-testid="report-until">
                    {if ongoing {
                        format!("{} held · figures up to {}", s.held_at_end, clock(report.until))
                    } else {
                        format!("{} held", s.held_at_end)
                    }}
                </dd>
            </div>
            <div class="report-stat">
                <dt>"Denials"</dt>
                <dd class="stat-value" class:stat-warning=denied data-testid="report-denials">{s.denials}</dd>
                <dd class="report-stat-hint">"retry bursts count once"</dd>
            </div>
            <div class="report-stat">
                <dt>"Queue waits"</dt>
                <dd class="stat-value">{s.queue_waits.count}</dd>
                <dd class="report-stat-hint">{waits}</dd>
            </div>
            <div class="report-stat">
                <dt>"Seats added"</dt>
                <dd class="stat-value" data-testid="report-added">{added.total()}</dd>
                <dd class="report-stat-hint">
                    {if added_line.is_empty() { "none in this period".to_string() } else { added_line }}
                    {(s.topups > 0).then(|| format!(" · {}", count_label(s.topups, "top-up", "top-ups")))}
                </dd>
            </div>
        </dl>
        <div class="report-charts">
            <figure class="chart" data-testid="chart-held">
                <figcaption>"Held vs capacity (average per " {bucket_label(report.bucket).to_lowercase()} ")"</figcaption>
                {line_chart(
                    &labels,
                    &[
                        ("Capacity", "series-capacity", report.buckets.iter().map(|b| b.average_capacity).collect()),
                        ("Held (average)", "series-held", report.buckets.iter().map(|b| b.average_held).collect()),
                        ("Held (peak)", "series-peak", report.buckets.iter().map(|b| b.peak_held as f64).collect()),
                    ],
                )}
            </figure>
            <figure class="chart" data-testid="chart-utilisation">
                <figcaption>"Utilisation per " {bucket_label(report.bucket).to_lowercase()}</figcaption>
                {utilisation_chart(&labels, &report.buckets)}
            </figure>
            <figure class="chart chart-wide" data-testid="chart-additions">
                <figcaption>"Seats added by source"</figcaption>
                {additions_chart(&labels, &report.buckets)}
            </figure>
        </div>
    }
}

fn axis_label(bucket: &ReportFigures, kind: ReportBucket) -> String {
    match kind {
        ReportBucket::Month => bucket.start.format("%b %Y").to_string(),
        _ => bucket.start.format("%-d %b").to_string(),
    }
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// A round maximum for the y axis and its step (4 gridlines).
fn scale(max: f64) -> (f64, f64) {
    let max = max.max(1.0);
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(rough);
    (step * 4.0, step)
}

fn plot_x(i: usize, n: usize) -> f64 {
    let inner = WIDTH - LEFT - RIGHT;
    if n <= 1 {
        LEFT + inner / 2.0
    } else {
        LEFT + inner * i as f64 / (n - 1) as f64
    }
}

fn plot_y(value: f64, max: f64) -> f64 {
    TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (value / max).clamp(0.0, 1.5))
}

/// Gridlines with y values, and at most eight x labels.
fn axes(labels: &[String], max: f64, step: f64, unit: &'static str, x_at: impl Fn(usize) -> f64) -> impl IntoView {
    let every = labels.len().div_ceil(8).max(1);
    let grid = (0..=4)
        .map(|k| {
            let value = step * k as f64;
            let y = plot_y(value, max);
            let text = if step < 1.0 {
                format!("{value:.1}{unit}")
            } else {
                format!("{value:.0}{unit}")
            };
            view! {
                <line class="chart-grid" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y />
                <text class="chart-axis" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">
                    {text}
                </text>
            }
        })
        .collect_view();
    let xs = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, label)| {
            view! {
                <text class="chart-axis" x=x_at(i) y=HEIGHT - 8.0 text-anchor="middle">
                    {label.clone()}
                </text>
            }
        })
        .collect_view();
    view! {
        {grid}
        {xs}
    }
}

fn legend(items: &[(&'static str, &'static str)]) -> impl IntoView {
    view! {
        <ul class="chart-legend">
            {items
                .iter()
                .map(|(label, class)| {
                    view! {
                        <li>
                            <span class=format!("chart-swatch {class}") aria-hidden="true"></span>
                            {*label}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

fn line_chart(labels: &[String], series: &[(&'static str, &'static str, Vec<f64>)]) -> impl IntoView {
    let n = labels.len();
    let top = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(0.0, f64::max);
    let (max, step) = scale(top);
    let lines = series
        .iter()
        .map(|(name, class, values)| {
            let points = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", plot_x(i, n), plot_y(*v, max)))
                .collect::<Vec<_>>()
                .join(" ");
            let dots = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let tip = format!("{}: {name} {v:.1}", labels[i]);
                    view! {
                        <circle class=format!("chart-dot {class}") cx=plot_x(i, n) cy=plot_y(*v, max) r="3">
                            <title>{tip}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <polyline class=format!("chart-line {class}") points=points fill="none" />
                {dots}
            }
        })
        .collect_view();
    let keys: Vec<(&'static str, &'static str)> = series.iter().map(|(name, class, _)| (*name, *class)).collect();
    view! {
        <svg class="chart-svg" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="Held seats and capacity over time">
            {axes(labels, max, step, "", move |i| plot_x(i, n))}
            {lines}
        </svg>
        {legend(&keys)}
    }
}

/// Bar geometry: the centre of bar `i` of `n` and the bar width.
fn bar_x(i: usize, n: usize) -> (f64, f64) {
    let inner = WIDTH - LEFT - RIGHT;
    let slot = inner / n.max(1) as f64;
    (LEFT + slot * (i as f64 + 0.5), (slot * 0.7).min(48.0))
}

fn utilisation_chart(labels: &[String], buckets: &[ReportFigures]) -> impl IntoView {
    let n = buckets.len();
    let top = buckets.iter().filter_map(|b| b.utilisation).fold(1.0, f64::max) * 100.0;
    let (max, step) = scale(top);
    let show_values = n <= 16;
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (x, w) = bar_x(i, n);
            let value = b.utilisation.unwrap_or(0.0) * 100.0;
            let y = plot_y(value, max);
            let over = value > 100.0;
            let tip = format!("{}: {}", labels[i], percent(b.utilisation));
            view! {
                <rect
                    class="chart-bar series-held"
                    class:chart-bar-over=over
                    x=x - w / 2.0
                    y=y
                    width=w
                    height=(plot_y(0.0, max) - y).max(0.0)
                    rx="2"
                >
                    <title>{tip}</title>
                </rect>
                {(show_values && b.utilisation.is_some())
                    .then(|| {
                        view! {
                            <text class="chart-value" x=x y=y - 4.0 text-anchor="middle">
                                {format!("{value:.0}%")}
                            </text>
                        }
                    })}
            }
        })
        .collect_view();
    view! {
        <svg class="chart-svg" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="Utilisation per bucket">
            {axes(labels, max, step, "%", move |i| bar_x(i, n).0)}
            {bars}
        </svg>
    }
}

const SOURCES: [(AdditionSource, &str); 4] = [
    (AdditionSource::AccountManager, "series-manager"),
    (AdditionSource::Coupon, "series-coupon"),
    (AdditionSource::Purchase, "series-purchase"),
    (AdditionSource::Automatic, "series-automatic"),
];

fn seats_of(b: &ReportFigures, source: AdditionSource) -> i64 {
    match source {
        AdditionSource::Automatic => b.seats_added.automatic,
        AdditionSource::Purchase => b.seats_added.purchase,
        AdditionSource::Coupon => b.seats_added.coupon,
        AdditionSource::AccountManager => b.seats_added.account_manager,
    }
}

fn additions_chart(labels: &[String], buckets: &[ReportFigures]) -> impl IntoView {
    let n = buckets.len();
    let top = buckets.iter().map(|b| b.seats_added.total()).max().unwrap_or(0) as f64;
    let (max, step) = scale(top);
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (x, w) = bar_x(i, n);
            let mut base = 0.0;
            let stack = SOURCES
                .iter()
                .filter(|(source, _)| seats_of(b, *source) > 0)
                .map(|(source, class)| {
                    let seats = seats_of(b, *source) as f64;
                    let (y0, y1) = (plot_y(base, max), plot_y(base + seats, max));
                    base += seats;
                    let tip = format!(
                        "{}: {seats:.0} seats, {}",
                        labels[i],
                        addition_source_label(*source).to_lowercase()
                    );
                    view! {
                        <rect class=format!("chart-bar {class}") x=x - w / 2.0 y=y1 width=w height=(y0 - y1).max(0.0)>
                            <title>{tip}</title>
                        </rect>
                    }
                })
                .collect_view();
            let total = b.seats_added.total();
            view! {
                {stack}
                {(total > 0)
                    .then(|| {
                        view! {
                            <text class="chart-value" x=x y=plot_y(total as f64, max) - 4.0 text-anchor="middle">
                                {total}
                            </text>
                        }
                    })}
            }
        })
        .collect_view();
    let keys: Vec<(&'static str, &'static str)> = SOURCES
        .iter()
        .map(|(source, class)| (addition_source_label(*source), *class))
        .collect();
    view! {
        <svg class="chart-svg chart-svg-wide" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="Seats added by source">
            {axes(labels, max, step, "", move |i| bar_x(i, n).0)}
            {bars}
        </svg>
        {legend(&keys)}
    }
}

/// The month-end additions per organisation, product and source, with the CSV download.
#[component]
fn Additions(today: NaiveDate) -> impl IntoView {
    let toasts = use_toasts();
    let month = RwSignal::new(format!("{:04}-{:02}", today.year(), today.month()));
    let additions = fetch(
        move || month.get(),
        |month: String| async move { api::call(async |c| c.additions(&month).await).await },
    );
    let downloading = RwSignal::new(false);
    let download = move |_| {
        if downloading.get_untracked() {
            return;
        }
        downloading.set(true);
        let month = month.get_untracked();
        spawn_local(async move {
            match api::call(async |c| c.additions_csv(&month).await).await {
                Ok(csv) => save_file(&format!("leasehold-additions-{month}.csv"), "text/csv", &csv),
                Err(error) => toasts.error(error.summary()),
            }
            downloading.try_set(false);
        });
    };
    view! {
        <section class="card" aria-label="Month-end additions">
            <div class="card-head">
                <div>
                    <h2 class="card-title">"Month-end additions"</h2>
                    <p class="card-subtitle">"Licences added per organisation, product and source, for invoicing"</p>
                </div>
                <div class="toolbar toolbar-flush">
                    <label class="toolbar-label" for="additions-month">
                        "Month"
                    </label>
                    <input
                        id="additions-month"
                        class="input input-date"
                        type="month"
                        data-testid="additions-month"
                        prop:value=month
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            if !value.is_empty() {
                                month.set(value);
                            }
                        }
                    />
                    <button
                        type="button"
                        class="btn btn-secondary"
                        data-testid="additions-download"
                        disabled=move || downloading.get()
                        on:click=download
                    >
                        {icon(Icon::Download)}
                        {move || if downloading.get() { "Preparing…" } else { "Download CSV" }}
                    </button>
                </div>
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="additions-table">
                    <thead>
                        <tr>
                            <th>"Organisation"</th>
                            <th>"Product"</th>
                            <th>"Source"</th>
                            <th class="num">"Licences"</th>
                            <th class="num">"Seats"</th>
                            <th class="num">"Amount"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            table_placeholder(
                                additions,
                                6,
                                3,
                                |r: &AdditionsReport| r.lines.is_empty(),
                                || {
                                    view! {
                                        <EmptyState
                                            title="No licences added this month"
                                            hint="Licences appear here in the month they start."
                                            symbol=Icon::Reports
                                        />
                                    }
                                        .into_any()
                                },
                            )
                                .unwrap_or_else(|| {
                                    additions
                                        .with_ok(|r| {
                                            let rows = r
                                                .lines
                                                .iter()
                                                .map(|l| {
                                                    view! {
                                                        <tr>
                                                            <td>{l.organisation_name.clone()}</td>
                                                            <td>{l.product_name.clone()}</td>
                                                            <td>{addition_source_label(l.source)}</td>
                                                            <td class="num">{l.licences}</td>
                                                            <td class="num">{l.seats}</td>
                                                            <td class="num">{money(l.amount, &l.currency)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view();
                                            let totals = r
                                                .totals
                                                .iter()
                                                .map(|t| {
                                                    view! {
                                                        <tr class="table-total" data-testid="additions-total">
                                                            <td colspan="4">{format!("Total ({})", t.currency)}</td>
                                                            <td class="num">{t.seats}</td>
                                                            <td class="num">{money(t.amount, &t.currency)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view();
                                            view! {
                                                {rows}
                                                {totals}
                                            }
                                                .into_any()
                                        })
                                        .unwrap_or_else(|| ().into_any())
                                })
                        }}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Offers `content` as a file download.
fn save_file(name: &str, mime: &str, content: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(link) = document.create_element("a") else { return };
    let href = format!(
        "data:{mime};charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(content))
    );
    let _ = link.set_attribute("href", &href);
    let _ = link.set_attribute("download", name);
    if let Ok(link) = link.dyn_into::<web_sys::HtmlElement>() {
        if let Some(body) = document.body() {
            let _ = body.append_child(&link);
            link.click();
            let _ = body.remove_child(&link);
        }
    }
}
