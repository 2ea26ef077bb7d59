//! Load shedding: a process works on at most `max_in_flight` API requests at
//! once. Past that, a request is answered `503 overloaded` with `Retry-After`
//! straight away: a client learns in microseconds to back off, instead of
//! waiting seconds in a queue (database pool, group commit) only to time out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A request counted in flight until it is dropped (the response sent, or
/// the client gone).
pub struct Admitted(Arc<AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts one more request in flight, unless `max` are already.
pub fn admit(counter: &Arc<AtomicUsize>, max: usize) -> Option<Admitted> {
    let before = counter.fetch_add(1, Ordering::AcqRel);
    let ticket = Admitted(counter.clone());
    (before < max).then_some(ticket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_limit_requests_are_refused_and_every_ticket_gives_its_place_back() {
        let counter = Arc::new(AtomicUsize::new(0));
        let first = admit(&counter, 2);
        let second = admit(&counter, 2);
        assert!(first.is_some() && second.is_some());
        assert!(admit(&counter, 2).is_none(), "the third waits for no one");
        assert_eq!(
            counter.load(Ordering::Acquire),
            2,
            "a refusal gives its place back at once"
        );
        drop(first);
        assert!(admit(&counter, 2).is_some());
        drop(second);
        assert_eq!(counter.load(Ordering::Acquire), 0);
    }
}
