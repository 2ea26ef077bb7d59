//! Pools that look after themselves: a low-seat alert and an automatic top-up,
//! each firing once per downward crossing of its threshold.
//!
//! A trigger is *armed* until it fires. It fires when the pool's available
//! seats fall **below** its threshold and re-arms only when they rise strictly
//! **above** it again, so a pool that hovers at the edge (one seat taken and
//! given back, again and again) alerts once, not every time. The store applies
//! each firing as a conditional update of the armed flag in the transaction
//! that moved the pool, so concurrent grants fire a trigger exactly once.

use crate::values::Plan;
use crate::FieldError;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

/// When a pool counts as low on seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "value")]
pub enum Threshold {
    /// Fewer than this many seats available.
    Seats(i64),
    /// Fewer available than this percentage of capacity.
    Percent(i64),
}

impl Threshold {
    pub fn is_below(self, available: i64, capacity: i64) -> bool {
        match self {
            Threshold::Seats(k) => available < k,
            Threshold::Percent(p) => available * 100 < p * capacity,
        }
    }

    pub fn is_above(self, available: i64, capacity: i64) -> bool {
        match self {
            Threshold::Seats(k) => available > k,
            Threshold::Percent(p) => available * 100 > p * capacity,
        }
    }
}

/// "When fewer than `below` seats are available, add `add` seats on `plan`;
/// at most `max_per_month` times a calendar month; ask an admin first when
/// `ask_first`."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopUpRule {
    pub below: i64,
    pub add: i64,
    pub max_per_month: i64,
    pub ask_first: bool,
    pub plan: Plan,
}

/// A pool's alert and top-up settings with the state of their triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolWatch {
    pub alert: Option<Threshold>,
    pub alert_armed: bool,
    pub topup: Option<TopUpRule>,
    pub topup_armed: bool,
    /// The calendar month (`year * 100 + month`) `topups_in_month` counts.
    pub topup_month: i32,
    pub topups_in_month: i64,
    /// A top-up waits for an administrator since then.
    pub topup_pending_since: Option<DateTime<Utc>>,
}

impl Default for PoolWatch {
    fn default() -> Self {
        Self {
            alert: None,
            alert_armed: true,
            topup: None,
            topup_armed: true,
            topup_month: 0,
            topups_in_month: 0,
            topup_pending_since: None,
        }
    }
}

/// What a trigger does after a change of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The pool crossed below the threshold while armed.
    Fire,
    /// The pool rose above the threshold while disarmed.
    Rearm,
}

/// What a fired top-up comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopUp {
    /// Add the seats now.
    Add { quantity: i64, plan: Plan },
    /// Wait for an administrator's approval.
    AskFirst,
    /// An earlier top-up still waits for approval: nothing more.
    AlreadyPending,
    /// This month's top-ups are used up.
    LimitReached { max_per_month: i64 },
}

/// The calendar month of `at` as `year * 100 + month`.
pub fn month_of(at: DateTime<Utc>) -> i32 {
    at.year() * 100 + at.month() as i32
}

fn step(armed: bool, below: bool, above: bool) -> Option<Trigger> {
    match (armed, below, above) {
        (true, true, _) => Some(Trigger::Fire),
        (false, _, true) => Some(Trigger::Rearm),
        _ => None,
    }
}

impl PoolWatch {
    /// The alert trigger's move for a pool now at `available` of `capacity`.
    pub fn alert_step(&self, available: i64, capacity: i64) -> Option<Trigger> {
        let t = self.alert?;
        step(
            self.alert_armed,
            t.is_below(available, capacity),
            t.is_above(available, capacity),
        )
    }

    /// The top-up trigger's move for a pool now at `available` seats.
    pub fn topup_step(&self, available: i64) -> Option<Trigger> {
        let rule = self.topup?;
        step(self.topup_armed, available < rule.below, available > rule.below)
    }

    /// Top-ups done in the month of `now` (the count starts again each month).
    pub fn topups_this_month(&self, now: DateTime<Utc>) -> i64 {
        if self.topup_month == month_of(now) {
            self.topups_in_month
        } else {
            0
        }
    }

    /// What a top-up that fired at `now` does.
    pub fn topup_decision(&self, now: DateTime<Utc>) -> Option<TopUp> {
        let rule = self.topup?;
        Some(if self.topup_pending_since.is_some() {
            TopUp::AlreadyPending
        } else if self.topups_this_month(now) >= rule.max_per_month {
            TopUp::LimitReached {
                max_per_month: rule.max_per_month,
            }
        } else if rule.ask_first {
            TopUp::AskFirst
        } else {
            TopUp::Add {
                quantity: rule.add,
                plan: rule.plan,
            }
        })
    }
}

/// Largest top-up, in seats.
pub const MAX_TOPUP_SEATS: i64 = 10_000;
/// Most top-ups a month may allow.
pub const MAX_TOPUPS_PER_MONTH: i64 = 100;

/// Checks an alert threshold against the pool's capacity.
pub fn check_alert(threshold: Threshold, capacity: i64) -> Result<Threshold, FieldError> {
    match threshold {
        Threshold::Seats(k) if k < 1 => Err(FieldError::new("alert_below", "out_of_range", "must be at least 1")),
        Threshold::Seats(k) if k >= capacity => Err(FieldError::new(
            "alert_below",
            "not_below_capacity",
            &format!("must be less than the pool's capacity ({capacity})"),
        )),
        Threshold::Percent(p) if !(1..=99).contains(&p) => Err(FieldError::new(
            "alert_below_percent",
            "out_of_range",
            "must be between 1 and 99",
        )),
        t => Ok(t),
    }
}

/// Checks a top-up rule against the pool's capacity: k ≥ 1 and k < capacity,
/// n between 1 and [`MAX_TOPUP_SEATS`], m between 1 and [`MAX_TOPUPS_PER_MONTH`].
pub fn check_topup(rule: TopUpRule, capacity: i64) -> Result<TopUpRule, Vec<FieldError>> {
    let mut errors = Vec::new();
    if rule.below < 1 {
        errors.push(FieldError::new("topup_below", "out_of_range", "must be at least 1"));
    } else if rule.below >= capacity {
        errors.push(FieldError::new(
            "topup_below",
            "not_below_capacity",
            &format!("must be less than the pool's capacity ({capacity})"),
        ));
    }
    if !(1..=MAX_TOPUP_SEATS).contains(&rule.add) {
        errors.push(FieldError::new(
            "topup_add",
            "out_of_range",
            &format!("must be between 1 and {MAX_TOPUP_SEATS}"),
        ));
    }
    if !(1..=MAX_TOPUPS_PER_MONTH).contains(&rule.max_per_month) {
        errors.push(FieldError::new(
            "topup_max_per_month",
            "out_of_range",
            &format!("must be between 1 and {MAX_TOPUPS_PER_MONTH}"),
        ));
    }
    if rule.plan == Plan::Trial {
        errors.push(FieldError::new(
            "topup_plan",
            "not_for_topup",
            "a top-up is bought: monthly, yearly or perpetual",
        ));
    }
    if errors.is_empty() {
        Ok(rule)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(below: i64, max_per_month: i64, ask_first: bool) -> TopUpRule {
        TopUpRule {
            below,
            add: 5,
            max_per_month,
            ask_first,
            plan: Plan::Monthly,
        }
    }

    /// Drives the alert over a series of availabilities, applying each move,
    /// and returns the indices at which it fired.
    fn fires(watch: &mut PoolWatch, capacity: i64, series: &[i64]) -> Vec<usize> {
        let mut fired = Vec::new();
        for (i, available) in series.iter().enumerate() {
            match watch.alert_step(*available, capacity) {
                Some(Trigger::Fire) => {
                    watch.alert_armed = false;
                    fired.push(i);
                }
                Some(Trigger::Rearm) => watch.alert_armed = true,
                None => {}
            }
        }
        fired
    }

    #[test]
    fn an_alert_fires_once_per_crossing_and_does_not_flap_at_the_edge() {
        let mut watch = PoolWatch {
            alert: Some(Threshold::Seats(3)),
            ..PoolWatch::default()
        };
        // 3 is the edge: hovering between 2 and 3 fires once; only 4 re-arms.
        let series = [5, 4, 3, 2, 3, 2, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2];
        assert_eq!(fires(&mut watch, 10, &series), vec![3, 15]);
    }

    #[test]
    fn a_percentage_alert_compares_exactly_with_the_capacity() {
        let t = Threshold::Percent(10);
        // 10 % of 25 is 2.5 seats: 2 is below, 3 is above.
        assert!(t.is_below(2, 25) && !t.is_above(2, 25));
        assert!(!t.is_below(3, 25) && t.is_above(3, 25));
        // 10 % of 20 is exactly 2: neither below nor above.
        assert!(!t.is_below(2, 20) && !t.is_above(2, 20));
        let mut watch = PoolWatch {
            alert: Some(t),
            ..PoolWatch::default()
        };
        assert_eq!(fires(&mut watch, 20, &[5, 2, 1, 2, 1, 3, 1]), vec![2, 6]);
    }

    #[test]
    fn nothing_moves_without_settings() {
        let watch = PoolWatch::default();
        assert_eq!(watch.alert_step(0, 10), None);
        assert_eq!(watch.topup_step(0), None);
        assert_eq!(watch.topup_decision(Utc::now()), None);
    }

    #[test]
    fn a_topup_fires_below_k_and_rearms_above_it() {
        let mut watch = PoolWatch {
            topup: Some(rule(2, 3, false)),
            ..PoolWatch::default()
        };
        assert_eq!(watch.topup_step(2), None);
        assert_eq!(watch.topup_step(1), Some(Trigger::Fire));
        watch.topup_armed = false;
        assert_eq!(watch.topup_step(0), None);
        assert_eq!(watch.topup_step(2), None);
        assert_eq!(watch.topup_step(3), Some(Trigger::Rearm));
    }

    #[test]
    fn the_monthly_limit_counts_the_calendar_month_only() {
        let november: DateTime<Utc> = "2026-11-30T23:00:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let december: DateTime<Utc> = "2026-12-01T00:00:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let watch = PoolWatch {
            topup: Some(rule(2, 2, false)),
            topup_month: month_of(november),
            topups_in_month: 2,
            ..PoolWatch::default()
        };
        assert_eq!(month_of(december), 202_612);
        assert_eq!(
            watch.topup_decision(november),
            Some(TopUp::LimitReached { max_per_month: 2 })
        );
        assert_eq!(watch.topups_this_month(december), 0);
        assert_eq!(
            watch.topup_decision(december),
            Some(TopUp::Add {
                quantity: 5,
                plan: Plan::Monthly
            })
        );
    }

    #[test]
    fn ask_first_waits_and_a_pending_topup_is_not_asked_twice() {
        let now = Utc::now();
        let mut watch = PoolWatch {
            topup: Some(rule(2, 2, true)),
            ..PoolWatch::default()
        };
        assert_eq!(watch.topup_decision(now), Some(TopUp::AskFirst));
        watch.topup_pending_since = Some(now);
        assert_eq!(watch.topup_decision(now), Some(TopUp::AlreadyPending));
    }

    fn code<T: std::fmt::Debug>(result: Result<T, FieldError>) -> String {
        match result {
            Err(error) => error.code,
            Ok(value) => panic!("accepted {value:?}"),
        }
    }

    #[test]
    fn settings_are_checked_against_the_capacity() {
        assert!(check_alert(Threshold::Seats(2), 10).is_ok());
        assert_eq!(code(check_alert(Threshold::Seats(10), 10)), "not_below_capacity");
        assert_eq!(code(check_alert(Threshold::Seats(0), 10)), "out_of_range");
        assert_eq!(code(check_alert(Threshold::Percent(100), 10)), "out_of_range");
        assert!(check_topup(rule(2, 1, false), 10).is_ok());
        let bad = TopUpRule {
            below: 10,
            add: 0,
            max_per_month: 0,
            ask_first: false,
            plan: Plan::Trial,
        };
        let Err(errors) = check_topup(bad, 10) else {
            panic!("accepted {bad:?}")
        };
        let fields: Vec<_> = errors.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["topup_below", "topup_add", "topup_max_per_month", "topup_plan"]
        );
    }
}
