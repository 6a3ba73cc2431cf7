//! KPIs: what a `kpi` declaration measures, in words (for hovers and the manual) and as metadata (for the
//! runtime, which computes the values as instances run).

use crate::ast::{BinaryOp, KpiClause, KpiDecl, KpiTarget, LiteralKind, Measure, MeasurePoint};
use crate::literal;

/// The measure of a KPI, if it has one.
pub fn measure(decl: &KpiDecl) -> Option<&Measure> {
    decl.clauses.iter().find_map(|clause| match clause {
        KpiClause::Measure(measure, _) => Some(measure),
        _ => None,
    })
}

/// The target of a KPI, if it has one.
pub fn target(decl: &KpiDecl) -> Option<&KpiTarget> {
    decl.clauses.iter().find_map(|clause| match clause {
        KpiClause::Target(target) => Some(target),
        _ => None,
    })
}

/// What is measured, in words: "time from the start to the completion of `acknowledge`".
pub fn measure_words(measure: &Measure) -> String {
    match measure {
        Measure::Time { from, to, calendar } => {
            let time = match calendar {
                Some(calendar) => format!("working time (on `{}`)", calendar.name),
                None => "time".to_string(),
            };
            format!("{time} from {} to {}", point_words(from), point_words(to))
        }
        Measure::Count { what, step } => {
            let what = match what.name.as_str() {
                "breaches" => "missed deadlines",
                "escalations" => "escalations (tasks reassigned by their escalation ladder)",
                other => other,
            };
            match step {
                Some(step) => format!("number of {what} of step `{}`", step.name),
                None => format!("number of {what}"),
            }
        }
        Measure::Value(path) => {
            let path: Vec<&str> = path.iter().map(|p| p.name.as_str()).collect();
            format!("the value `{}`", path.join("."))
        }
    }
}

fn point_words(point: &MeasurePoint) -> String {
    match point {
        MeasurePoint::Start(_) => "the start".to_string(),
        MeasurePoint::End(_) => "the end".to_string(),
        MeasurePoint::FirstCompletion { role: None, .. } => "the first completed task".to_string(),
        MeasurePoint::FirstCompletion {
            role: Some(role), ..
        } => format!("the first task completed by {}", role.name),
        MeasurePoint::Step(step) => format!("the completion of `{}`", step.name),
    }
}

/// The target's value in the unit values are reported in: milliseconds for durations, the number otherwise.
pub fn target_value(target: &KpiTarget) -> Option<i64> {
    let value = match &target.value.kind {
        LiteralKind::Duration(text) => literal::duration_seconds(text).ok()?.checked_mul(1000)?,
        LiteralKind::Int(text) => literal::int_value(text).ok()?,
        _ => return None,
    };
    Some(if target.negative { -value } else { value })
}

/// Whether the KPI measures working time on a calendar (its target is then in working hours).
pub fn is_working_time(decl: &KpiDecl) -> bool {
    matches!(
        measure(decl),
        Some(Measure::Time {
            calendar: Some(_),
            ..
        })
    )
}

/// The target in words: "under 4 hours", "at most 40 business hours" (`working_time`), "at least 4".
pub fn target_words(target: &KpiTarget, working_time: bool) -> String {
    let describe = if working_time {
        literal::describe_business_duration
    } else {
        literal::describe_duration
    };
    let value = match &target.value.kind {
        LiteralKind::Duration(text) => literal::duration_seconds(text)
            .map(describe)
            .unwrap_or_else(|_| text.clone()),
        LiteralKind::Int(text) => {
            if target.negative {
                format!("-{text}")
            } else {
                text.clone()
            }
        }
        _ => "?".to_string(),
    };
    let op = match target.op {
        BinaryOp::Lt => "under",
        BinaryOp::LtEq => "at most",
        BinaryOp::Gt => "over",
        BinaryOp::GtEq => "at least",
        _ => "exactly",
    };
    format!("{op} {value}")
}

/// The whole KPI in one sentence: "time from the start to the completion of `acknowledge`; target: under 4 hours".
pub fn words(decl: &KpiDecl) -> Option<String> {
    let measure = measure_words(measure(decl)?);
    Some(match target(decl) {
        Some(target) => format!(
            "{measure}; target: {}",
            target_words(target, is_working_time(decl))
        ),
        None => measure,
    })
}
