//! Pool reports (utilisation, peaks, denials, queue waits and additions per
//! bucket) and the month-end additions list, as JSON and CSV.

use super::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use leasehold_core::ids::PoolId;
use leasehold_core::licence::decimal_amount as decimal;
use leasehold_core::ports::{Addition, AdditionLine};
use leasehold_core::report::{merge_days, total, BucketReport};
use leasehold_core::values::{AdditionSource, ReportBucket};
use leasehold_core::wire::{
    AdditionLineView, AdditionsReport, CurrencyTotal, PoolReport, PoolReportQuery, QueueWaits, ReportFigures,
    SeatsBySource,
};
use leasehold_core::DomainError;

/// The longest period one report covers.
pub const MAX_REPORT_DAYS: i64 = 732;

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
}

fn figures(report: &BucketReport, additions: &[Addition]) -> ReportFigures {
    let mut seats_added = SeatsBySource::default();
    let mut topups = 0;
    for addition in additions.iter().filter(|a| a.at >= report.start && a.at < report.end) {
        seats_added.add(addition.source, addition.quantity);
        if addition.source == AdditionSource::Automatic {
            topups += 1;
        }
    }
    ReportFigures {
        start: report.start,
        end: report.end,
        utilisation: report.utilisation(),
        average_held: report.average_held(),
        average_capacity: report.average_capacity(),
        peak_held: report.peak_held,
        capacity_at_end: report.capacity_at_end,
        held_at_end: report.held_at_end,
        available_at_end: report.available_at_end(),
        denials: report.denials,
        queue_waits: QueueWaits {
            count: report.waits.len() as u64,
            median_seconds: report.median_wait(),
            longest_seconds: report.longest_wait(),
        },
        topups,
        seats_added,
    }
}

pub async fn pool_report(
    state: &AppState,
    caller: &Caller,
    id: PoolId,
    query: &PoolReportQuery,
) -> Result<PoolReport, ApiError> {
    caller.principal.may_read_reports()?;
    let days = (query.to - query.from).num_days() + 1;
    if days < 1 {
        return Err(DomainError::field("to", "invalid_range", "the last day must not come before the first").into());
    }
    if days > MAX_REPORT_DAYS {
        let message = format!("a report covers at most {MAX_REPORT_DAYS} days");
        return Err(DomainError::field("to", "range_too_long", &message).into());
    }
    let pool = state
        .store
        .pool(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("pool")))?;
    let (from, to) = (midnight(query.from), midnight(query.to) + chrono::Duration::days(1));
    // What has not happened yet is not reported: a period reaching past now
    // ends now (its last bucket clipped, averages over the time elapsed).
    let to = to.min(state.now());
    if to <= from {
        return Err(DomainError::field("from", "not_begun", "the period has not begun yet").into());
    }
    let bucket = query.bucket.unwrap_or(ReportBucket::Day);
    let day_reports = state.store.usage_days(id, from, to).await?;
    let additions = state.store.pool_additions(id, from, to).await?;
    let buckets = merge_days(&day_reports, bucket.bucket(), from, to);
    let summary = total(&buckets).ok_or_else(|| ApiError::internal("a report without buckets"))?;
    Ok(PoolReport {
        pool_id: id,
        organisation_id: pool.pool.organisation_id,
        organisation_name: pool.organisation_name,
        product_id: pool.pool.product_id,
        product_name: pool.product_name,
        from: query.from,
        to: query.to,
        bucket,
        until: to,
        summary: figures(&summary, &additions),
        buckets: buckets.iter().map(|b| figures(b, &additions)).collect(),
    })
}

/// `YYYY-MM` → the month's first midnight and the next month's.
fn month_span(month: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), DomainError> {
    let invalid = || DomainError::field("month", "invalid_month", "a month is written YYYY-MM");
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| invalid())?;
    if month.len() != 7 || first.year() < 2000 {
        return Err(invalid());
    }
    let next = first.checked_add_months(Months::new(1)).ok_or_else(invalid)?;
    Ok((midnight(first), midnight(next)))
}

pub async fn additions(state: &AppState, caller: &Caller, month: &str) -> Result<AdditionsReport, ApiError> {
    caller.principal.may_read_reports()?;
    let (from, to) = month_span(month)?;
    let lines = state.store.additions(caller.principal.visibility(), from, to).await?;
    let mut totals: Vec<CurrencyTotal> = Vec::new();
    for line in &lines {
        match totals.iter_mut().find(|t| t.currency == line.currency) {
            Some(t) => {
                t.seats += line.seats;
                t.amount += line.amount;
            }
            None => totals.push(CurrencyTotal {
                currency: line.currency.clone(),
                seats: line.seats,
                amount: line.amount,
            }),
        }
    }
    Ok(AdditionsReport {
        month: month.to_owned(),
        from,
        to,
        lines: lines.into_iter().map(line_view).collect(),
        totals,
    })
}

fn line_view(line: AdditionLine) -> AdditionLineView {
    AdditionLineView {
        organisation_id: line.organisation_id,
        organisation_name: line.organisation_name,
        product_id: line.product_id,
        product_code: line.product_code,
        product_name: line.product_name,
        source: line.source,
        licences: line.licences,
        seats: line.seats,
        amount: line.amount,
        currency: line.currency,
    }
}

/// One CSV field: quoted when it must be (RFC 4180), and text that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`) prefixed with `'`.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The additions as CSV: one line per organisation, product and source.
pub fn additions_csv(report: &AdditionsReport) -> String {
    let mut out = String::from(
        "month,organisation_id,organisation,product_code,product,source,licences,seats,amount,currency\r\n",
    );
    for line in &report.lines {
        let fields = [
            report.month.clone(),
            line.organisation_id.to_string(),
            csv_field(&line.organisation_name),
            csv_field(&line.product_code),
            csv_field(&line.product_name),
            line.source.to_string(),
            line.licences.to_string(),
            line.seats.to_string(),
            decimal(line.amount, &line.currency),
            csv_field(&line.currency),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Acme, Inc."), "\"Acme, Inc.\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(
            (decimal(1234, "EUR"), decimal(5, "usd"), decimal(-250, "EUR")),
            ("12.34".into(), "0.05".into(), "-2.50".into())
        );
        // The currency's own places: none for the yen, three for the dinar.
        assert_eq!(
            (decimal(4500, "JPY"), decimal(12345, "KWD")),
            ("4500".into(), "12.345".into())
        );
    }

    #[test]
    fn months_are_yyyy_mm() {
        let (from, to) = month_span("2026-12").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (from.to_rfc3339(), to.to_rfc3339()),
            ("2026-12-01T00:00:00+00:00".into(), "2027-01-01T00:00:00+00:00".into())
        );
        for bad in ["2026-13", "2026-1", "26-01", "2026-01-01", "december"] {
            assert!(month_span(bad).is_err(), "{bad}");
        }
    }
}
