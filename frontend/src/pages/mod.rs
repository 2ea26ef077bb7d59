//! One module per screen.

pub mod audit;
pub mod dashboard;
pub mod devices;
pub mod invoices;
pub mod licence_detail;
pub mod licence_new;
pub mod licences;
pub mod login;
pub mod notification_settings;
pub mod notifications;
pub mod organisations;
pub mod pool_watch;
pub mod redeem;
pub mod reports;
pub mod sessions;
pub mod users;
