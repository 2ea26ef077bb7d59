//! Pool reports computed exactly from usage events: held seats and capacity
//! are step functions of time, so utilisation is the ratio of their integrals
//! over a bucket (∫held dt ÷ ∫capacity dt), never a sample.
//!
//! The store hands over the pool's last event before the period (the state at
//! its start) and every event inside it, oldest first; these functions cut the
//! period into day, week (Monday) or month buckets in UTC and integrate.

use crate::ports::UsageEvent;
use chrono::{DateTime, Datelike, Duration, Months, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a device's denials count as one episode (retries of one attempt).
pub const DENIAL_EPISODE_MINUTES: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
    Month,
}

/// One bucket of a pool report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketReport {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seat-milliseconds held and offered in the bucket: integers, so a week
    /// summed from seven days equals the week integrated at once.
    pub held_ms: i64,
    pub capacity_ms: i64,
    pub peak_held: i64,
    /// Capacity and held seats at the bucket's end.
    pub capacity_at_end: i64,
    pub held_at_end: i64,
    /// Denial episodes that began in the bucket: a device's retries within
    /// [`DENIAL_EPISODE_MINUTES`] of each other, until it is granted, count once.
    pub denials: u64,
    /// Waits of requests granted in the bucket, in seconds.
    pub waits: Vec<i64>,
}

impl BucketReport {
    fn empty(start: DateTime<Utc>, end: DateTime<Utc>, state: &ReportState) -> Self {
        Self {
            start,
            end,
            held_ms: 0,
            capacity_ms: 0,
            peak_held: state.held,
            capacity_at_end: state.capacity,
            held_at_end: state.held,
            denials: 0,
            waits: Vec::new(),
        }
    }

    /// `∫held ÷ ∫capacity`; `None` without capacity. Above 1 when the pool
    /// was over capacity.
    pub fn utilisation(&self) -> Option<f64> {
        (self.capacity_ms > 0).then(|| self.held_ms as f64 / self.capacity_ms as f64)
    }

    fn span_ms(&self) -> i64 {
        (self.end - self.start).num_milliseconds()
    }

    /// The time-weighted average of held seats over the bucket.
    pub fn average_held(&self) -> f64 {
        average(self.held_ms, self.span_ms())
    }

    /// The time-weighted average capacity over the bucket.
    pub fn average_capacity(&self) -> f64 {
        average(self.capacity_ms, self.span_ms())
    }

    /// Free seats at the bucket's end; zero when over capacity.
    pub fn available_at_end(&self) -> i64 {
        (self.capacity_at_end - self.held_at_end).max(0)
    }

    /// The median wait, in seconds.
    pub fn median_wait(&self) -> Option<i64> {
        let mut waits = self.waits.clone();
        waits.sort_unstable();
        match waits.len() {
            0 => None,
            n if n % 2 == 1 => Some(waits[n / 2]),
            n => Some((waits[n / 2 - 1] + waits[n / 2]) / 2),
        }
    }

    pub fn longest_wait(&self) -> Option<i64> {
        self.waits.iter().copied().max()
    }

    /// Folds the next bucket (which starts where this one ends) into this one.
    fn absorb(&mut self, next: &BucketReport) {
        self.end = next.end;
        self.held_ms = self.held_ms.saturating_add(next.held_ms);
        self.capacity_ms = self.capacity_ms.saturating_add(next.capacity_ms);
        self.peak_held = self.peak_held.max(next.peak_held);
        self.capacity_at_end = next.capacity_at_end;
        self.held_at_end = next.held_at_end;
        self.denials += next.denials;
        self.waits.extend_from_slice(&next.waits);
    }
}

fn average(integral_ms: i64, span_ms: i64) -> f64 {
    if span_ms > 0 {
        integral_ms as f64 / span_ms as f64
    } else {
        0.0
    }
}

fn midnight(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&at.date_naive().and_time(NaiveTime::MIN))
}

/// The start of the bucket that holds `at`.
pub fn bucket_start(bucket: Bucket, at: DateTime<Utc>) -> DateTime<Utc> {
    let day = midnight(at);
    match bucket {
        Bucket::Day => day,
        Bucket::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Bucket::Month => day - Duration::days(i64::from(day.day0())),
    }
}

fn next_start(bucket: Bucket, start: DateTime<Utc>) -> DateTime<Utc> {
    match bucket {
        Bucket::Day => start + Duration::days(1),
        Bucket::Week => start + Duration::days(7),
        Bucket::Month => start
            .checked_add_months(Months::new(1))
            .unwrap_or(start + Duration::days(31)),
    }
}

/// The buckets of `[from, to)`, the first and last clipped to the period.
pub fn buckets(bucket: Bucket, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans = Vec::new();
    let mut start = bucket_start(bucket, from);
    while start < to {
        let end = next_start(bucket, start);
        spans.push((start.max(from), end.min(to)));
        start = end;
    }
    spans
}

/// What integration carries from one instant to the next: held seats and
/// capacity, who is waiting since when, and recent denials. Saved beside the
/// daily rollups so that rolling up resumes exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportState {
    pub held: i64,
    pub capacity: i64,
    #[serde(default)]
    queued: BTreeMap<uuid::Uuid, DateTime<Utc>>,
    #[serde(default)]
    last_denial: BTreeMap<uuid::Uuid, DateTime<Utc>>,
}

impl ReportState {
    /// The state right after `event` (none: an empty pool), knowing nothing
    /// of earlier queues or denials.
    pub fn after(event: Option<&UsageEvent>) -> Self {
        let (held, capacity) = event.map_or((0, 0), |e| (e.held, e.capacity));
        Self {
            held,
            capacity,
            ..Self::default()
        }
    }

    /// Forgets denials too old to join an episode at `at` (keeps saved state small).
    pub fn prune(&mut self, at: DateTime<Utc>) {
        let window = Duration::minutes(DENIAL_EPISODE_MINUTES);
        self.last_denial.retain(|_, last| at - *last <= window);
    }

    /// Applies one event; counts into `report` when there is one.
    fn apply(&mut self, event: &UsageEvent, mut report: Option<&mut BucketReport>) {
        self.held = event.held;
        self.capacity = event.capacity;
        if let Some(report) = report.as_deref_mut() {
            report.peak_held = report.peak_held.max(event.held);
        }
        match (event.kind.as_str(), event.subject_id) {
            ("request_queued", Some(subject)) => {
                self.queued.entry(subject).or_insert(event.at);
            }
            ("seat_granted", Some(subject)) => {
                if let (Some(since), Some(report)) = (self.queued.remove(&subject), report) {
                    report.waits.push((event.at - since).num_seconds());
                }
                self.last_denial.remove(&subject);
            }
            // Blocking a device rejects its waiting requests without a
            // `request_rejected` each: either way it no longer waits.
            ("request_rejected" | "device_blocked", Some(subject)) => {
                self.queued.remove(&subject);
            }
            ("request_denied", subject) => {
                let window = Duration::minutes(DENIAL_EPISODE_MINUTES);
                let same_episode = subject
                    .and_then(|s| self.last_denial.get(&s))
                    .is_some_and(|last| event.at - *last <= window);
                if let Some(subject) = subject {
                    self.last_denial.insert(subject, event.at);
                }
                if let (false, Some(report)) = (same_episode, report) {
                    report.denials += 1;
                }
            }
            _ => {}
        }
    }
}

/// Integrates `[from, to)` per bucket, starting from `state` and leaving it
/// at `to`. `events` are oldest first; those before `from` only move the
/// state (they are history), those from `to` on are ignored.
pub fn integrate(
    state: &mut ReportState,
    events: &[UsageEvent],
    bucket: Bucket,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<BucketReport> {
    let mut events = events.iter().filter(|e| e.at < to).peekable();
    while let Some(event) = events.next_if(|e| e.at < from) {
        state.apply(event, None);
    }
    let mut reports = Vec::new();
    for (start, end) in buckets(bucket, from, to) {
        let mut report = BucketReport::empty(start, end, state);
        let mut at = start;
        while let Some(event) = events.next_if(|e| e.at < end) {
            let span = (event.at - at).num_milliseconds();
            report.held_ms = report.held_ms.saturating_add(state.held.saturating_mul(span));
            report.capacity_ms = report.capacity_ms.saturating_add(state.capacity.saturating_mul(span));
            at = event.at;
            state.apply(event, Some(&mut report));
        }
        let span = (end - at).num_milliseconds();
        report.held_ms = report.held_ms.saturating_add(state.held.saturating_mul(span));
        report.capacity_ms = report.capacity_ms.saturating_add(state.capacity.saturating_mul(span));
        report.capacity_at_end = state.capacity;
        report.held_at_end = state.held;
        reports.push(report);
    }
    reports
}

/// The report of `[from, to)` per bucket. `before` is the pool's last event
/// before `from` (its state when the period starts; none: empty);
/// `events` are the events of the period, oldest first.
pub fn pool_report(
    before: Option<&UsageEvent>,
    events: &[UsageEvent],
    bucket: Bucket,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<BucketReport> {
    integrate(&mut ReportState::after(before), events, bucket, from, to)
}

/// Groups consecutive day reports (as the daily rollups keep them) into the
/// buckets of `[from, to)`: the same figures as integrating at once.
pub fn merge_days(days: &[BucketReport], bucket: Bucket, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<BucketReport> {
    let mut days = days.iter().filter(|d| d.start >= from && d.end <= to).peekable();
    let mut merged = Vec::new();
    for (start, end) in buckets(bucket, from, to) {
        let Some(first) = days.next_if(|d| d.start < end) else {
            continue;
        };
        let mut report = first.clone();
        report.start = start;
        while let Some(day) = days.next_if(|d| d.start < end) {
            report.absorb(day);
        }
        report.end = end;
        merged.push(report);
    }
    merged
}

/// One report for the whole of `reports` (a period's summary).
pub fn total(reports: &[BucketReport]) -> Option<BucketReport> {
    let (first, rest) = reports.split_first()?;
    let mut sum = first.clone();
    for report in rest {
        sum.absorb(report);
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PoolId;

    const HOUR_MS: i64 = 3_600_000;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn event(at: DateTime<Utc>, kind: &str, held: i64, capacity: i64, subject: Option<u128>) -> UsageEvent {
        UsageEvent {
            pool_id: PoolId::from_uuid(uuid::Uuid::nil()),
            at,
            kind: kind.into(),
            held,
            capacity,
            subject_id: subject.map(uuid::Uuid::from_u128),
            reason: None,
        }
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first_clipped_to_the_period() {
        // 2026-03-04 is a Wednesday.
        let weeks = buckets(Bucket::Week, at(4, 12), at(17, 0));
        assert_eq!(
            weeks,
            vec![(at(4, 12), at(9, 0)), (at(9, 0), at(16, 0)), (at(16, 0), at(17, 0))]
        );
        let months = buckets(Bucket::Month, at(20, 0), at(20, 0) + Duration::days(30));
        assert_eq!(months.len(), 2);
        assert_eq!(
            months[0].1,
            Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().unwrap_or_default()
        );
        assert_eq!(buckets(Bucket::Day, at(1, 0), at(4, 0)).len(), 3);
    }

    #[test]
    fn utilisation_is_the_exact_integral_with_capacity_changes_mid_bucket() {
        // Day 1: 10 seats, 5 held from 00:00, 10 held from 12:00; at 18:00 the
        // capacity grows to 20. ∫held = 5·12 + 10·12 = 180 seat-hours;
        // ∫capacity = 10·18 + 20·6 = 300 → 0.6.
        let before = event(at(1, 0) - Duration::hours(1), "seat_granted", 5, 10, Some(1));
        let events = [
            event(at(1, 12), "seat_granted", 10, 10, Some(2)),
            event(at(1, 18), "capacity_changed", 10, 20, None),
        ];
        let day = &pool_report(Some(&before), &events, Bucket::Day, at(1, 0), at(2, 0))[0];
        assert_eq!(day.held_ms, 180 * HOUR_MS);
        assert_eq!(day.capacity_ms, 300 * HOUR_MS);
        assert_eq!(day.utilisation(), Some(0.6));
        assert_eq!(
            (day.peak_held, day.capacity_at_end, day.available_at_end()),
            (10, 20, 10)
        );
        assert_eq!((day.average_held(), day.average_capacity()), (7.5, 12.5));
    }

    #[test]
    fn a_pool_over_capacity_reports_above_one_and_nothing_available() {
        // 8 held of 10; at 06:00 a licence expires and capacity falls to 4.
        let before = event(at(1, 0) - Duration::hours(1), "seat_granted", 8, 10, None);
        let events = [event(at(1, 6), "capacity_changed", 8, 4, None)];
        let day = &pool_report(Some(&before), &events, Bucket::Day, at(1, 0), at(2, 0))[0];
        // ∫held = 8·24 = 192; ∫capacity = 10·6 + 4·18 = 132.
        assert_eq!(day.utilisation(), Some(192.0 / 132.0));
        assert_eq!(day.available_at_end(), 0);
        // An empty history has no utilisation.
        assert_eq!(
            pool_report(None, &[], Bucket::Day, at(1, 0), at(2, 0))[0].utilisation(),
            None
        );
    }

    #[test]
    fn a_burst_of_retries_counts_once_and_waits_are_measured_from_the_queue() {
        let events = [
            // Device 1 retries three times in ten minutes, then is granted.
            event(at(1, 9), "request_denied", 2, 2, Some(1)),
            event(at(1, 9) + Duration::minutes(5), "request_denied", 2, 2, Some(1)),
            event(at(1, 9) + Duration::minutes(10), "request_denied", 2, 2, Some(1)),
            // Device 2 is denied twice, three hours apart: two episodes.
            event(at(1, 10), "request_denied", 2, 2, Some(2)),
            event(at(1, 13), "request_denied", 2, 2, Some(2)),
            // Device 3 queues at 11:00 and gets a seat at 11:30; device 4 waits 2 h.
            event(at(1, 11), "request_queued", 2, 2, Some(3)),
            event(at(1, 11), "request_queued", 2, 2, Some(4)),
            event(at(1, 11) + Duration::minutes(30), "seat_granted", 2, 2, Some(3)),
            event(at(1, 13), "seat_granted", 2, 2, Some(4)),
        ];
        let day = &pool_report(None, &events, Bucket::Day, at(1, 0), at(2, 0))[0];
        assert_eq!(day.denials, 3);
        assert_eq!(day.waits, vec![1800, 7200]);
        assert_eq!((day.median_wait(), day.longest_wait()), (Some(4500), Some(7200)));
    }

    #[test]
    fn a_wait_that_spans_buckets_counts_where_it_ends() {
        let events = [
            event(at(1, 23), "request_queued", 1, 1, Some(7)),
            event(at(2, 1), "seat_granted", 1, 1, Some(7)),
        ];
        let days = pool_report(None, &events, Bucket::Day, at(1, 0), at(3, 0));
        assert_eq!((days[0].waits.len(), days[1].waits.clone()), (0, vec![7200]));
    }

    #[test]
    fn a_blocked_device_stops_waiting_and_a_later_wait_counts_from_its_new_request() {
        let events = [
            event(at(1, 8), "request_queued", 1, 1, Some(5)),
            event(at(1, 9), "device_blocked", 1, 1, Some(5)),
            // Unblocked, it asks again at 12:00 and is granted at 12:10.
            event(at(1, 11), "device_unblocked", 1, 1, Some(5)),
            event(at(1, 12), "request_queued", 1, 1, Some(5)),
            event(at(1, 12) + Duration::minutes(10), "seat_granted", 1, 1, Some(5)),
        ];
        let day = &pool_report(None, &events, Bucket::Day, at(1, 0), at(2, 0))[0];
        assert_eq!(day.waits, vec![600]);
    }

    /// A month of varied traffic: grants, releases, capacity changes, queues
    /// that wait across midnight and denial bursts that straddle it.
    fn history() -> Vec<UsageEvent> {
        let mut events = Vec::new();
        let mut held = 0;
        let mut capacity = 3;
        let start = at(1, 0) - Duration::days(2);
        for step in 0..600_i64 {
            let t = start + Duration::minutes(step * 97);
            let subject = Some((step % 7) as u128);
            let kind = match step % 9 {
                0 | 3 => {
                    held += 1;
                    "seat_granted"
                }
                1 => {
                    capacity += if step % 2 == 0 { 2 } else { -1 };
                    "capacity_changed"
                }
                2 | 6 => "request_queued",
                4 | 7 => "request_denied",
                5 => {
                    held = (held - 1).max(0);
                    "seat_released"
                }
                _ => "request_rejected",
            };
            events.push(event(t, kind, held, capacity.max(0), subject));
        }
        events
    }

    #[test]
    fn rolling_up_day_by_day_through_saved_state_equals_integrating_at_once() {
        let events = history();
        let (from, to) = (at(1, 0), at(31, 0));
        let at_once = integrate(&mut ReportState::default(), &events, Bucket::Day, from, to);
        // Roll up in three sittings, the state saved as JSON between them.
        let mut days = Vec::new();
        let mut state = ReportState::default();
        integrate(&mut state, &events, Bucket::Day, from - Duration::days(3), from);
        for (a, b) in [(from, at(9, 0)), (at(9, 0), at(20, 0)), (at(20, 0), to)] {
            let saved = serde_json::to_string(&state).unwrap_or_default();
            state = serde_json::from_str(&saved).unwrap_or_default();
            let later: Vec<_> = events.iter().filter(|e| e.at >= a).cloned().collect();
            days.extend(integrate(&mut state, &later, Bucket::Day, a, b));
            state.prune(b);
        }
        assert_eq!(days, at_once);
        assert!(days.iter().any(|d| !d.waits.is_empty()) && days.iter().any(|d| d.denials > 0));
    }

    #[test]
    fn weeks_and_months_merged_from_days_equal_weeks_and_months_integrated() {
        let events = history();
        let (from, to) = (at(3, 0), at(31, 0));
        let days = integrate(&mut ReportState::default(), &events, Bucket::Day, from, to);
        for bucket in [Bucket::Week, Bucket::Month] {
            let direct = integrate(&mut ReportState::default(), &events, bucket, from, to);
            assert_eq!(merge_days(&days, bucket, from, to), direct);
        }
        let whole = total(&days).map(|t| (t.held_ms, t.capacity_ms, t.denials, t.waits.len()));
        let once = integrate(&mut ReportState::default(), &events, Bucket::Month, from, to);
        assert_eq!(
            whole,
            total(&once).map(|t| (t.held_ms, t.capacity_ms, t.denials, t.waits.len()))
        );
    }

    #[test]
    fn a_denial_burst_across_midnight_counts_once_on_the_day_it_began() {
        let events = [
            event(at(1, 23) + Duration::minutes(50), "request_denied", 1, 1, Some(9)),
            event(at(2, 0) + Duration::minutes(20), "request_denied", 1, 1, Some(9)),
        ];
        let days = pool_report(None, &events, Bucket::Day, at(1, 0), at(3, 0));
        assert_eq!((days[0].denials, days[1].denials), (1, 0));
    }
}
