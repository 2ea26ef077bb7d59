//! Data loaded from the API into signals: the last answer stays on screen while
//! a newer one loads, and answers to superseded requests are dropped.

use crate::api::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

/// A value loaded from the API, reloaded whenever what `source` reads changes.
pub struct Fetch<T: Send + Sync + 'static> {
    /// `None` until the first answer arrives.
    pub data: RwSignal<Option<Result<T, ApiError>>>,
    /// A request is in flight.
    pub loading: RwSignal<bool>,
    version: RwSignal<u64>,
}

impl<T: Send + Sync + 'static> Clone for Fetch<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Fetch<T> {}

impl<T: Send + Sync + 'static> Fetch<T> {
    /// Loads again with the same inputs.
    pub fn reload(&self) {
        self.version.update(|version| *version += 1);
    }

    /// Changes the loaded value in place (e.g. one row after an action).
    pub fn update_ok(&self, change: impl FnOnce(&mut T)) {
        self.data.update(|data| {
            if let Some(Ok(value)) = data {
                change(value);
            }
        });
    }

    /// The loaded value's projection, or `None` (loading, or failed).
    pub fn with_ok<U>(&self, read: impl FnOnce(&T) -> U) -> Option<U> {
        self.data.with(|data| match data {
            Some(Ok(value)) => Some(read(value)),
            _ => None,
        })
    }
}

/// Loads `load(source())` now and again whenever the signals `source` reads change.
pub fn fetch<S, T, Fut>(source: impl Fn() -> S + 'static, load: impl Fn(S) -> Fut + 'static) -> Fetch<T>
where
    S: 'static,
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let data = RwSignal::new(None);
    let loading = RwSignal::new(true);
    let version = RwSignal::new(0u64);
    let latest = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        version.track();
        let input = source();
        let ticket = latest.get().wrapping_add(1);
        latest.set(ticket);
        loading.set(true);
        let future = load(input);
        let latest = Rc::clone(&latest);
        spawn_local(async move {
            let result = future.await;
            if latest.get() == ticket {
                data.try_set(Some(result));
                loading.try_set(false);
            }
        });
    });
    Fetch { data, loading, version }
}

/// Loads once (no reactive inputs).
pub fn fetch_once<T, Fut>(load: impl Fn() -> Fut + 'static) -> Fetch<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    fetch(|| (), move |()| load())
}
