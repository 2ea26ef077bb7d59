//! The Leasehold console: a Leptos single-page app that talks to the public API
//! through `leasehold_client` only.

mod api;
mod app;
mod components;
mod lookups;
mod pages;
mod resource;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
