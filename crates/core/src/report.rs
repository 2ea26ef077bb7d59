//! Pool reports computed exactly from usage events: held seats and capacity
//! are step functions of time, so utilisation is the ratio of their integrals
//! over a bucket (∫held dt ÷ ∫capacity dt), never a sample.
//!
//! The store hands over the pool's last event before the period (the state at
//! its start) and every event inside it, oldest first; these functions cut the
//! period into day, week (Monday) or month buckets in UTC and integrate.

use crate::ports::UsageEvent;
use chrono::{DateTime, Datelike, Duration, Months, NaiveTime, TimeZone, Utc};
use std::collections::HashMap;

/// How long a device's denials count as one episode (retries of one attempt).
pub const DENIAL_EPISODE_MINUTES: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
    Month,
}

/// One bucket of a pool report.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketReport {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seat-seconds held and offered in the bucket.
    pub held_seconds: f64,
    pub capacity_seconds: f64,
    /// `held_seconds / capacity_seconds`; `None` without capacity. Above 1 when
    /// the pool was over capacity.
    pub utilisation: Option<f64>,
    pub peak_held: i64,
    /// Capacity and available seats at the bucket's end.
    pub capacity_at_end: i64,
    pub available_at_end: i64,
    /// Denial episodes that began in the bucket: a device's retries within
    /// [`DENIAL_EPISODE_MINUTES`] of each other, until it is granted, count once.
    pub denials: u64,
    /// Waits of requests granted in the bucket, in seconds.
    pub waits: Vec<i64>,
}

impl BucketReport {
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
    let (mut held, mut capacity) = before.map_or((0, 0), |e| (e.held, e.capacity));
    let mut queued: HashMap<uuid::Uuid, DateTime<Utc>> = HashMap::new();
    let mut last_denial: HashMap<uuid::Uuid, DateTime<Utc>> = HashMap::new();
    let mut events = events.iter().filter(|e| e.at >= from && e.at < to).peekable();
    let mut reports = Vec::new();
    for (start, end) in buckets(bucket, from, to) {
        let mut report = BucketReport {
            start,
            end,
            held_seconds: 0.0,
            capacity_seconds: 0.0,
            utilisation: None,
            peak_held: held,
            capacity_at_end: capacity,
            available_at_end: 0,
            denials: 0,
            waits: Vec::new(),
        };
        let mut at = start;
        while let Some(event) = events.next_if(|e| e.at < end) {
            let span = (event.at - at).num_microseconds().unwrap_or(0) as f64 / 1e6;
            report.held_seconds += held as f64 * span;
            report.capacity_seconds += capacity as f64 * span;
            at = event.at;
            held = event.held;
            capacity = event.capacity;
            report.peak_held = report.peak_held.max(held);
            match (event.kind.as_str(), event.subject_id) {
                ("request_queued", Some(subject)) => {
                    queued.entry(subject).or_insert(event.at);
                }
                ("seat_granted", Some(subject)) => {
                    if let Some(since) = queued.remove(&subject) {
                        report.waits.push((event.at - since).num_seconds());
                    }
                    last_denial.remove(&subject);
                }
                ("request_rejected", Some(subject)) => {
                    queued.remove(&subject);
                }
                ("request_denied", Some(subject)) => {
                    let window = Duration::minutes(DENIAL_EPISODE_MINUTES);
                    let same_episode = last_denial.get(&subject).is_some_and(|last| event.at - *last <= window);
                    if !same_episode {
                        report.denials += 1;
                    }
                    last_denial.insert(subject, event.at);
                }
                ("request_denied", None) => report.denials += 1,
                _ => {}
            }
        }
        let span = (end - at).num_microseconds().unwrap_or(0) as f64 / 1e6;
        report.held_seconds += held as f64 * span;
        report.capacity_seconds += capacity as f64 * span;
        report.utilisation = (report.capacity_seconds > 0.0).then(|| report.held_seconds / report.capacity_seconds);
        report.capacity_at_end = capacity;
        report.available_at_end = (capacity - held).max(0);
        reports.push(report);
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PoolId;

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
        assert_eq!(day.held_seconds, 180.0 * 3600.0);
        assert_eq!(day.capacity_seconds, 300.0 * 3600.0);
        assert_eq!(day.utilisation, Some(0.6));
        assert_eq!((day.peak_held, day.capacity_at_end, day.available_at_end), (10, 20, 10));
    }

    #[test]
    fn a_pool_over_capacity_reports_above_one_and_nothing_available() {
        // 8 held of 10; at 06:00 a licence expires and capacity falls to 4.
        let before = event(at(1, 0) - Duration::hours(1), "seat_granted", 8, 10, None);
        let events = [event(at(1, 6), "capacity_changed", 8, 4, None)];
        let day = &pool_report(Some(&before), &events, Bucket::Day, at(1, 0), at(2, 0))[0];
        // ∫held = 8·24 = 192; ∫capacity = 10·6 + 4·18 = 132.
        assert_eq!(day.utilisation, Some(192.0 / 132.0));
        assert_eq!(day.available_at_end, 0);
        // An empty history has no utilisation.
        assert_eq!(
            pool_report(None, &[], Bucket::Day, at(1, 0), at(2, 0))[0].utilisation,
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
}
