//! "Showing 1–25 of 132" with previous / next.

use super::icons::{icon, Icon};
use leptos::prelude::*;

/// The range shown on `page` (1-based): `(first, last)`, both 0 when empty.
pub fn range(page: u32, per_page: u32, total: u64) -> (u64, u64) {
    if total == 0 || per_page == 0 {
        return (0, 0);
    }
    let first = u64::from(page.saturating_sub(1)) * u64::from(per_page) + 1;
    let last = (first + u64::from(per_page) - 1).min(total);
    (first.min(total), last)
}

pub fn page_count(per_page: u32, total: u64) -> u32 {
    if per_page == 0 {
        return 1;
    }
    u32::try_from(total.div_ceil(u64::from(per_page)))
        .unwrap_or(u32::MAX)
        .max(1)
}

#[component]
pub fn Pagination(
    #[prop(into)] page: Signal<u32>,
    #[prop(into)] per_page: Signal<u32>,
    #[prop(into)] total: Signal<u64>,
    on_page: Callback<u32>,
    #[prop(optional, into)] busy: Signal<bool>,
) -> impl IntoView {
    let pages = move || page_count(per_page.get(), total.get());
    view! {
        <nav class="pagination" aria-label="Pages" data-testid="pagination">
            <p class="pagination-summary" aria-live="polite">
                {move || {
                    let (first, last) = range(page.get(), per_page.get(), total.get());
                    if total.get() == 0 {
                        "No results".to_string()
                    } else {
                        format!("Showing {first}–{last} of {}", total.get())
                    }
                }}
            </p>
            <div class="pagination-buttons">
                <span class="pagination-page">{move || format!("Page {} of {}", page.get().max(1), pages())}</span>
                <button
                    type="button"
                    class="btn btn-secondary btn-sm"
                    data-testid="page-prev"
                    disabled=move || { page.get() <= 1 || busy.get() }
                    on:click=move |_| on_page.run(page.get_untracked().saturating_sub(1).max(1))
                >
                    {icon(Icon::ChevronLeft)}
                    "Previous"
                </button>
                <button
                    type="button"
                    class="btn btn-secondary btn-sm"
                    data-testid="page-next"
                    disabled=move || { page.get() >= pages() || busy.get() }
                    on:click=move |_| on_page.run(page.get_untracked() + 1)
                >
                    "Next"
                    {icon(Icon::ChevronRight)}
                </button>
            </div>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range(1, 25, 132), (1, 25));
        assert_eq!(range(6, 25, 132), (126, 132));
        assert_eq!(range(1, 25, 0), (0, 0));
        assert_eq!(page_count(25, 132), 6);
        assert_eq!(page_count(25, 0), 1);
    }
}
