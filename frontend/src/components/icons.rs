//! Line icons drawn inline (no icon font, no network). Decorative: the control
//! that holds an icon carries the accessible name.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Pause,
    Play,
    Trash,
    Copy,
    Plus,
    Search,
    Close,
    Check,
    ChevronLeft,
    ChevronRight,
    ArrowLeft,
    Key,
    Licence,
    Ticket,
    Building,
    Users,
    Logs,
    Dashboard,
    Devices,
    Sessions,
    Reports,
    Invoices,
    Bell,
    SignOut,
    Alert,
    Info,
    Block,
    Swap,
    Refresh,
    Edit,
    More,
    Shield,
    Download,
}

impl Icon {
    fn paths(self) -> &'static [&'static str] {
        match self {
            Icon::Pause => &["M7 5h3v14H7z", "M14 5h3v14h-3z"],
            Icon::Play => &["M7 4.5l12 7.5-12 7.5z"],
            Icon::Trash => &["M4 7h16", "M10 11v6", "M14 11v6", "M6 7l1 13h10l1-13", "M9 7V4h6v3"],
            Icon::Copy => &["M9 9h11v11H9z", "M5 15H4V4h11v1"],
            Icon::Plus => &["M12 5v14", "M5 12h14"],
            Icon::Search => &["M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14z", "M20 20l-4-4"],
            Icon::Close => &["M6 6l12 12", "M18 6L6 18"],
            Icon::Check => &["M5 12.5l4.5 4.5L19 7.5"],
            Icon::ChevronLeft => &["M15 18l-6-6 6-6"],
            Icon::ChevronRight => &["M9 18l6-6-6-6"],
            Icon::ArrowLeft => &["M19 12H5", "M12 19l-7-7 7-7"],
            Icon::Key => &[
                "M8 11a4 4 0 1 0 0 8a4 4 0 1 0 0-8z",
                "M10.8 12.2L20 3",
                "M16.5 6.5l3 3",
                "M14 9l2 2",
            ],
            Icon::Licence => &["M6 3h9l4 4v14H6z", "M14 3v5h5", "M9 12h7", "M9 16h5"],
            Icon::Ticket => &[
                "M3 7h18v3a2 2 0 0 0 0 4v3H3v-3a2 2 0 0 0 0-4z",
                "M14 7v2",
                "M14 11v2",
                "M14 15v2",
            ],
            Icon::Building => &[
                "M4 21V5l8-2v18",
                "M12 9h8v12",
                "M2 21h20",
                "M8 8v.01",
                "M8 12v.01",
                "M8 16v.01",
                "M16 13v.01",
                "M16 17v.01",
            ],
            Icon::Users => &[
                "M9 11a4 4 0 1 0 0-8a4 4 0 1 0 0 8z",
                "M2 21v-1a7 7 0 0 1 14 0v1",
                "M16 3.3a4 4 0 0 1 0 7.4",
                "M19 14.5a7 7 0 0 1 3 5.5v1",
            ],
            Icon::Logs => &["M9 6h12", "M9 12h12", "M9 18h12", "M4 6h.01", "M4 12h.01", "M4 18h.01"],
            Icon::Dashboard => &["M3 3h8v8H3z", "M13 3h8v5h-8z", "M13 10h8v11h-8z", "M3 13h8v8H3z"],
            Icon::Devices => &["M3 4h18v12H3z", "M8 20h8", "M12 16v4"],
            Icon::Sessions => &["M3 12h4l3-8 4 16 3-8h4"],
            Icon::Reports => &["M4 20V11", "M10 20V5", "M16 20v-6", "M22 20H2"],
            Icon::Invoices => &["M6 2h12v20l-3-2-3 2-3-2-3 2z", "M9 7h6", "M9 11h6", "M9 15h4"],
            Icon::Download => &["M12 3v12", "M7 10l5 5 5-5", "M5 21h14"],
            Icon::Bell => &["M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z", "M10 21h4"],
            Icon::SignOut => &["M9 21H5V3h4", "M16 17l5-5-5-5", "M21 12H9"],
            Icon::Alert => &["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M12 7.5v5.5", "M12 16.5v.01"],
            Icon::Info => &["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M12 11v6", "M12 7.5v.01"],
            Icon::Block => &["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M5.6 5.6l12.8 12.8"],
            Icon::Swap => &["M4 8h15", "M15 4l4 4-4 4", "M20 16H5", "M9 12l-4 4 4 4"],
            Icon::Refresh => &["M20 12a8 8 0 1 1-2.34-5.66", "M20 4v6h-6"],
            Icon::Edit => &["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4"],
            Icon::More => &["M5 12h.01", "M12 12h.01", "M19 12h.01"],
            Icon::Shield => &[
                "M12 3l8 3v6c0 4.5-3.4 8.2-8 9-4.6-.8-8-4.5-8-9V6z",
                "M8.5 12l2.5 2.5 4.5-5",
            ],
        }
    }
}

/// An inline SVG icon in the current text colour.
pub fn icon(icon: Icon) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="18"
            height="18"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            {icon.paths().iter().map(|d| view! { <path d=*d></path> }).collect_view()}
        </svg>
    }
}
