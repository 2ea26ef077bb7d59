//! Building blocks shared by the pages.

pub mod clipboard;
pub mod dialog;
pub mod form;
pub mod format;
pub mod icons;
pub mod licence_actions;
pub mod menu;
pub mod pagination;
pub mod pills;
pub mod secret;
pub mod state;
pub mod toast;
pub mod usage;
