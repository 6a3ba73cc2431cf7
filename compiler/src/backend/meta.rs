//! The module's metadata ([`proc_abi::Metadata`]): names for every id the encodings use, the types of inputs
//! and outputs (as type descriptors and as JSON Schema), calendars, schedules and KPIs.

use super::ir::{Program, Ty};
use super::lower::Ids;
use crate::analysis::Analysis;
use crate::ast::{
    CalendarEntry, ItemKind, LiteralKind, Measure, MeasurePoint, ScheduleClause, TextPart,
};
use crate::literal;
use crate::model::DefKind;
use proc_abi::meta::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Builds the metadata of a lowered package.
pub fn metadata(analysis: &Analysis, program: &Program, ids: &Ids, package: &str) -> Metadata {
    let docs = |def: crate::model::DefId| {
        analysis
            .defs
            .get(def.0 as usize)
            .and_then(|d| d.docs.clone())
    };
    let field = |name: &str, ty: &Ty, docs: Option<String>| FieldMeta {
        name: name.to_string(),
        ty: desc(ty),
        docs,
    };
    let mut meta = Metadata {
        abi_version: proc_abi::ABI_VERSION,
        compiler_version: env!("CARGO_PKG_VERSION").to_string(),
        source_hash: source_hash(analysis),
        package: package.to_string(),
        skills: program.skills.clone(),
        ..Metadata::default()
    };
    meta.roles = ids
        .roles
        .iter()
        .zip(&program.roles)
        .map(|(&def, name)| RoleMeta {
            name: name.clone(),
            docs: docs(def),
        })
        .collect();
    meta.records = program
        .records
        .iter()
        .zip(&ids.records)
        .map(|(record, &def)| {
            let field_docs: Vec<Option<String>> = analysis
                .members
                .get(&def)
                .map(|m| m.iter().map(|&f| docs(f)).collect())
                .unwrap_or_default();
            RecordMeta {
                name: record.name.clone(),
                fields: record
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, (n, t))| field(n, t, field_docs.get(i).cloned().flatten()))
                    .collect(),
            }
        })
        .collect();
    meta.enums = program
        .enums
        .iter()
        .map(|e| EnumMeta {
            name: e.name.clone(),
            variants: e.variants.clone(),
        })
        .collect();
    for (index, process) in program.processes.iter().enumerate() {
        let def = ids.processes.get(index).copied();
        let params: Vec<(String, Ty)> = def
            .and_then(|d| analysis.members.get(&d))
            .map(|members| {
                members
                    .iter()
                    .filter_map(|&m| analysis.defs.get(m.0 as usize))
                    .filter(|d| d.kind == DefKind::Param)
                    .map(|d| d.name.clone())
                    .zip(process.params.iter().cloned())
                    .collect()
            })
            .unwrap_or_default();
        let result = def
            .and_then(|d| analysis.results.get(&d))
            .map(|t| lower_ty(analysis, ids, t))
            .filter(|t| *t != Ty::Unit);
        let decl = def.and_then(|d| {
            let flow = analysis.defs.get(d.0 as usize)?;
            let parsed = analysis.parsed.get(flow.file.0 as usize)?;
            parsed.ast.items.iter().find_map(|item| match &item.kind {
                ItemKind::Process(decl) if item.span == flow.span => Some((flow.file, decl)),
                _ => None,
            })
        });
        let within_ms = decl
            .and_then(|(_, decl)| decl.within.as_ref())
            .and_then(crate::check::const_duration)
            .map(|s| s.saturating_mul(1000));
        // The calendar's name as the module's calendars give it (the source may name it through an import).
        let within_calendar = decl.and_then(|(file, decl)| {
            let named = decl.within_calendar.as_ref()?;
            let (_, calendar) = analysis
                .references
                .iter()
                .find(|(at, _)| at.file == file && at.span == named.span)?;
            Some(self::calendar(analysis, *calendar).name)
        });
        meta.processes.push(ProcessMeta {
            name: process.name.clone(),
            params: params.iter().map(|(n, t)| field(n, t, None)).collect(),
            input_schema: object_schema(program, &params),
            output_schema: result
                .as_ref()
                .map_or(Value::Null, |t| with_defs(program, schema(program, t), t)),
            result: result.as_ref().map(desc),
            within_ms,
            within_calendar,
            steps: ids.process_steps.get(index).cloned().unwrap_or_default(),
            docs: def.and_then(docs),
        });
    }
    meta.steps = program
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepMeta {
            name: s.name.clone(),
            flow: s.flow.clone(),
            outputs: s.outputs.iter().map(|(n, t)| field(n, t, None)).collect(),
            outputs_schema: object_schema(program, &s.outputs),
            skippable: s.skippable,
            docs: ids.steps.get(i).copied().and_then(docs),
        })
        .collect();
    meta.signals = program
        .signals
        .iter()
        .map(|&record| {
            let info = program.records.get(record as usize);
            let fields: Vec<(String, Ty)> = info.map(|r| r.fields.clone()).unwrap_or_default();
            SignalMeta {
                name: info.map(|r| r.name.clone()).unwrap_or_default(),
                fields: fields.iter().map(|(n, t)| field(n, t, None)).collect(),
                schema: object_schema(program, &fields),
            }
        })
        .collect();
    meta.actions = program
        .actions
        .iter()
        .zip(&ids.actions)
        .map(|(action, &def)| {
            let names: Vec<String> = analysis
                .members
                .get(&def)
                .map(|m| {
                    m.iter()
                        .filter_map(|&p| analysis.defs.get(p.0 as usize))
                        .filter(|d| d.kind == DefKind::Param)
                        .map(|d| d.name.clone())
                        .collect()
                })
                .unwrap_or_default();
            ActionMeta {
                name: action.name.clone(),
                params: names
                    .iter()
                    .zip(&action.params)
                    .map(|(n, t)| field(n, t, None))
                    .collect(),
                result: (action.result != Ty::Unit).then(|| desc(&action.result)),
            }
        })
        .collect();
    meta.calendars = ids
        .calendars
        .iter()
        .map(|&def| calendar(analysis, def))
        .collect();
    meta.schedules = schedules(analysis);
    let process_names: Vec<String> = meta.processes.iter().map(|p| p.name.clone()).collect();
    meta.kpis = kpis(analysis, &process_names);
    meta
}

fn lower_ty(analysis: &Analysis, ids: &Ids, ty: &crate::model::Ty) -> Ty {
    use crate::model::Ty as M;
    match ty {
        M::Text => Ty::Text,
        M::Int => Ty::Int,
        M::IntIn(min, max) => Ty::IntIn(*min, *max),
        M::Bool => Ty::Bool,
        M::Duration => Ty::Duration,
        M::Time => Ty::Time,
        M::Date => Ty::Date,
        M::Role => Ty::Role,
        M::Named(id) => match analysis.defs.get(id.0 as usize).map(|d| d.kind) {
            Some(DefKind::Enum) => Ty::Enum(ids.of(*id).unwrap_or(0)),
            _ => Ty::Record(ids.of(*id).unwrap_or(0)),
        },
        M::Optional(inner) => Ty::Optional(Box::new(lower_ty(analysis, ids, inner))),
        M::List(inner) => Ty::List(Box::new(lower_ty(analysis, ids, inner))),
        _ => Ty::Unit,
    }
}

/// The type descriptor of an IR type.
pub fn desc(ty: &Ty) -> TypeDesc {
    match ty {
        Ty::Int | Ty::Unit | Ty::Calendar | Ty::Step(_) => TypeDesc::Int,
        Ty::IntIn(min, max) => TypeDesc::IntIn {
            min: *min,
            max: *max,
        },
        Ty::Bool => TypeDesc::Bool,
        Ty::Text => TypeDesc::Text,
        Ty::Duration => TypeDesc::Duration,
        Ty::Time => TypeDesc::Time,
        Ty::Date => TypeDesc::Date,
        Ty::Role => TypeDesc::Role,
        Ty::Enum(id) => TypeDesc::Enum { id: *id },
        Ty::Record(id) => TypeDesc::Record { id: *id },
        Ty::Optional(inner) => TypeDesc::Optional {
            of: Box::new(desc(inner)),
        },
        Ty::List(inner) => TypeDesc::List {
            of: Box::new(desc(inner)),
        },
    }
}

fn schema(program: &Program, ty: &Ty) -> Value {
    match ty {
        Ty::Int | Ty::Unit | Ty::Calendar | Ty::Step(_) => json!({"type": "integer"}),
        Ty::IntIn(min, max) => json!({"type": "integer", "minimum": min, "maximum": max}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Text => json!({"type": "string"}),
        Ty::Duration => json!({
            "type": "string",
            "pattern": "^-?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$",
            "description": "a duration such as 4h, 1h30m or 2d"
        }),
        Ty::Time => json!({"type": "string", "format": "date-time"}),
        Ty::Date => json!({"type": "string", "format": "date"}),
        Ty::Role => json!({"enum": program.roles}),
        Ty::Enum(id) => json!({
            "enum": program.enums.get(*id as usize).map(|e| e.variants.clone()).unwrap_or_default()
        }),
        Ty::Record(id) => {
            let name = program
                .records
                .get(*id as usize)
                .map_or_else(String::new, |r| r.name.clone());
            json!({"$ref": format!("#/$defs/{name}")})
        }
        Ty::Optional(inner) => json!({"anyOf": [schema(program, inner), {"type": "null"}]}),
        Ty::List(inner) => json!({"type": "array", "items": schema(program, inner)}),
    }
}

fn object_body(program: &Program, fields: &[(String, Ty)]) -> Value {
    let properties: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(n, t)| (n.clone(), schema(program, t)))
        .collect();
    let required: Vec<&String> = fields
        .iter()
        .filter(|(_, t)| !matches!(t, Ty::Optional(_)))
        .map(|(n, _)| n)
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

fn records_in(ty: &Ty, out: &mut Vec<u32>) {
    match ty {
        Ty::Record(id) => out.push(*id),
        Ty::Optional(inner) | Ty::List(inner) => records_in(inner, out),
        _ => {}
    }
}

/// Adds `$defs` for every record the schema refers to, transitively.
fn with_defs(program: &Program, mut schema_value: Value, roots: &Ty) -> Value {
    let mut pending = Vec::new();
    records_in(roots, &mut pending);
    attach_defs(program, &mut schema_value, pending);
    schema_value
}

fn attach_defs(program: &Program, target: &mut Value, mut pending: Vec<u32>) {
    let mut defs = serde_json::Map::new();
    let mut seen: Vec<u32> = Vec::new();
    while let Some(id) = pending.pop() {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        if let Some(record) = program.records.get(id as usize) {
            for (_, t) in &record.fields {
                records_in(t, &mut pending);
            }
            defs.insert(record.name.clone(), object_body(program, &record.fields));
        }
    }
    if !defs.is_empty() {
        if let Value::Object(map) = target {
            map.insert("$defs".to_string(), Value::Object(defs));
        }
    }
}

fn object_schema(program: &Program, fields: &[(String, Ty)]) -> Value {
    let mut value = object_body(program, fields);
    let mut pending = Vec::new();
    for (_, t) in fields {
        records_in(t, &mut pending);
    }
    attach_defs(program, &mut value, pending);
    value
}

fn source_hash(analysis: &Analysis) -> String {
    let mut hasher = Sha256::new();
    for file in analysis.files.iter().take(analysis.package_files) {
        hasher.update(file.module.as_bytes());
        hasher.update([0]);
        hasher.update(file.text.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn weekday(name: &str) -> Option<u8> {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| *d == name)
        .and_then(|i| u8::try_from(i).ok())
}

fn calendar(analysis: &Analysis, def: crate::model::DefId) -> CalendarMeta {
    calendar_with_includes(analysis, def, 0)
}

/// A calendar with the hours and holidays of the calendars it includes (their zone too, unless it names its
/// own). The checker refuses include cycles; the depth limit only keeps a broken package from looping.
fn calendar_with_includes(
    analysis: &Analysis,
    def: crate::model::DefId,
    depth: u32,
) -> CalendarMeta {
    let mut meta = CalendarMeta {
        zone: "UTC".to_string(),
        ..CalendarMeta::default()
    };
    let mut own_zone = false;
    let mut included_zone: Option<String> = None;
    let Some(definition) = analysis.defs.get(def.0 as usize) else {
        return meta;
    };
    meta.name = definition.name.clone();
    let Some(parsed) = analysis.parsed.get(definition.file.0 as usize) else {
        return meta;
    };
    for item in &parsed.ast.items {
        let ItemKind::Calendar(decl) = &item.kind else {
            continue;
        };
        if item.span != definition.span {
            continue;
        }
        for entry in &decl.entries {
            match entry {
                CalendarEntry::Zone(lit) => {
                    if let LiteralKind::Text(parts) = &lit.kind {
                        own_zone = true;
                        meta.zone = parts
                            .iter()
                            .filter_map(|p| match p {
                                TextPart::Lit(t) => Some(t.as_str()),
                                TextPart::Interpolation(_) => None,
                            })
                            .collect();
                    }
                }
                CalendarEntry::Hours { days, from, to, .. } => {
                    let minutes = |lit: &crate::ast::Literal| match &lit.kind {
                        LiteralKind::Clock(text) => literal::clock_minutes(text).ok(),
                        _ => None,
                    };
                    let (Some(from), Some(to)) = (minutes(from), minutes(to)) else {
                        continue;
                    };
                    let mut list = Vec::new();
                    for (first, last) in days {
                        let Some(start) = weekday(&first.name) else {
                            continue;
                        };
                        let end = last
                            .as_ref()
                            .and_then(|l| weekday(&l.name))
                            .unwrap_or(start);
                        let mut day = start;
                        loop {
                            if !list.contains(&day) {
                                list.push(day);
                            }
                            if day == end {
                                break;
                            }
                            day = (day + 1) % 7;
                        }
                    }
                    list.sort_unstable();
                    meta.hours.push(Hours {
                        days: list,
                        from_minute: u32::try_from(from).unwrap_or(0),
                        to_minute: u32::try_from(to).unwrap_or(0),
                    });
                }
                CalendarEntry::Holiday(from, to) => {
                    let day = |lit: &crate::ast::Literal| match &lit.kind {
                        LiteralKind::Date(text) => literal::date_days(text).ok(),
                        _ => None,
                    };
                    // A range is every day of it (the checker keeps ranges short and in order).
                    if let Some(first) = day(from) {
                        let last = to.as_ref().and_then(day).unwrap_or(first);
                        let last = last.min(first + crate::check::MAX_HOLIDAY_RANGE_DAYS);
                        for days in first..=last {
                            let date = proc_abi::text::format_date(days);
                            if !meta.holidays.contains(&date) {
                                meta.holidays.push(date);
                            }
                        }
                    }
                }
                CalendarEntry::Include(name) => {
                    let included = analysis.reference_at(definition.file, name.span);
                    if let (Some(included), true) = (included, depth < 16) {
                        let other = calendar_with_includes(analysis, included, depth + 1);
                        included_zone.get_or_insert(other.zone);
                        meta.hours.extend(other.hours);
                        for day in other.holidays {
                            if !meta.holidays.contains(&day) {
                                meta.holidays.push(day);
                            }
                        }
                    }
                }
                CalendarEntry::Error(_) => {}
            }
        }
    }
    if let (false, Some(zone)) = (own_zone, included_zone) {
        meta.zone = zone;
    }
    meta
}

/// The KPIs that measure at least one process of the package (declared in it, or in `std` and imported).
fn kpis(analysis: &Analysis, processes: &[String]) -> Vec<KpiMeta> {
    let mut out = Vec::new();
    for (def, decl) in analysis.kpis() {
        let measured: Vec<String> = analysis
            .kpi_processes
            .get(&def)
            .into_iter()
            .flatten()
            .filter_map(|&p| analysis.defs.get(p.0 as usize))
            .map(|p| p.name.clone())
            .filter(|name| processes.contains(name))
            .collect();
        let Some(measure) = crate::kpi::measure(decl) else {
            continue;
        };
        if measured.is_empty() {
            continue;
        }
        let point = |p: &MeasurePoint| match p {
            MeasurePoint::Start(_) => PointMeta::Start,
            MeasurePoint::End(_) => PointMeta::End,
            MeasurePoint::FirstCompletion { role, .. } => PointMeta::FirstCompletion {
                role: role.as_ref().map(|r| r.name.clone()),
            },
            MeasurePoint::Step(step) => PointMeta::Step {
                step: step.name.clone(),
            },
        };
        let measure = match measure {
            Measure::Time { from, to, calendar } => MeasureMeta::Time {
                from: point(from),
                to: point(to),
                calendar: calendar.as_ref().map(|c| c.name.clone()),
            },
            Measure::Count { what, step } => MeasureMeta::Count {
                what: what.name.clone(),
                step: step.as_ref().map(|s| s.name.clone()),
            },
            Measure::Value(path) => {
                let Some((head, rest)) = path.split_first() else {
                    continue;
                };
                let file = analysis.def(def).map(|d| d.file);
                let is_signal = file
                    .and_then(|file| analysis.reference_at(file, head.span))
                    .and_then(|d| analysis.def(d))
                    .is_some_and(|d| d.kind == DefKind::Signal);
                MeasureMeta::Value {
                    source: if is_signal { "signal" } else { "step" }.to_string(),
                    name: head.name.clone(),
                    path: rest.iter().map(|p| p.name.clone()).collect(),
                }
            }
        };
        let target = crate::kpi::target(decl).and_then(|t| {
            Some(TargetMeta {
                op: t.op.symbol().to_string(),
                value: crate::kpi::target_value(t)?,
            })
        });
        let docs = analysis.def(def).and_then(|d| d.docs.clone());
        out.push(KpiMeta {
            name: decl.name.name.clone(),
            docs,
            description: crate::kpi::words(decl).unwrap_or_default(),
            processes: measured,
            measure,
            target,
        });
    }
    out
}

fn schedules(analysis: &Analysis) -> Vec<ScheduleMeta> {
    let mut out = Vec::new();
    for parsed in analysis.parsed.iter().take(analysis.package_files) {
        for item in &parsed.ast.items {
            let ItemKind::Schedule(decl) = &item.kind else {
                continue;
            };
            let mut meta = ScheduleMeta {
                name: decl.name.name.clone(),
                ..ScheduleMeta::default()
            };
            for clause in &decl.clauses {
                match clause {
                    ScheduleClause::Every { count, words, .. } => {
                        let mut text = vec!["every".to_string()];
                        meta.count = 1;
                        if let Some(LiteralKind::Int(n)) = count.as_ref().map(|c| &c.kind) {
                            text.push(n.clone());
                            meta.count = literal::int_value(n)
                                .ok()
                                .and_then(|n| u32::try_from(n).ok())
                                .unwrap_or(1)
                                .max(1);
                        }
                        text.extend(words.iter().map(|w| w.name.clone()));
                        meta.every = text.join(" ");
                        let words: Vec<&str> = words.iter().map(|w| w.name.as_str()).collect();
                        meta.unit = match words.as_slice() {
                            ["first", "business", "day", "of", "month"] => {
                                "first_business_day".to_string()
                            }
                            ["last", "business", "day", "of", "month"] => {
                                "last_business_day".to_string()
                            }
                            [unit] => unit.trim_end_matches('s').to_string(),
                            _ => String::new(),
                        };
                    }
                    ScheduleClause::At(lit) => {
                        if let LiteralKind::Clock(text) = &lit.kind {
                            meta.at = Some(text.clone());
                            meta.at_minute = literal::clock_minutes(text)
                                .ok()
                                .and_then(|m| u32::try_from(m).ok())
                                .unwrap_or(0);
                        }
                    }
                    ScheduleClause::On(calendar) => meta.calendar = Some(calendar.name.clone()),
                    ScheduleClause::Start(process) => meta.process = process.name.clone(),
                    ScheduleClause::Error(_) => {}
                }
            }
            out.push(meta);
        }
    }
    out
}
