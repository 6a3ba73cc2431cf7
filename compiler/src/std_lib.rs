//! The standard library's sources (`std/*.proc`), compiled into the compiler so every package can `use std.*`.

/// `(module path, file name, text)` of every standard-library module.
pub const STD_MODULES: &[(&str, &str, &str)] = &[
    (
        "std.calendar",
        "std/calendar.proc",
        include_str!("../../std/calendar.proc"),
    ),
    (
        "std.escalation",
        "std/escalation.proc",
        include_str!("../../std/escalation.proc"),
    ),
    (
        "std.survey",
        "std/survey.proc",
        include_str!("../../std/survey.proc"),
    ),
    (
        "std.support",
        "std/support.proc",
        include_str!("../../std/support.proc"),
    ),
    (
        "std.kpi",
        "std/kpi.proc",
        include_str!("../../std/kpi.proc"),
    ),
];
