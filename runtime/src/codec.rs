//! Values between JSON (what hosts send and receive) and the ABI's binary encoding (what modules read and
//! write), checked against the types in a module's metadata. A value of the wrong shape is refused here,
//! before the module sees it, with the path of the offending part.

use proc_abi::{FieldMeta, Metadata, TypeDesc};
use serde_json::{Map, Value};
use std::fmt;

/// A JSON value that does not fit its declared type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// Where, e.g. `c.customer` or `approvers[2]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}` {}", self.path, self.message)
        }
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a text".to_string(),
        Value::String(s) => format!("the text \"{s}\""),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// The type's name as people write it in `.proc` files.
pub fn type_name(meta: &Metadata, ty: &TypeDesc) -> String {
    match ty {
        TypeDesc::Int => "Int".into(),
        TypeDesc::IntIn { min, max } => format!("Int from {min} to {max}"),
        TypeDesc::Bool => "Bool".into(),
        TypeDesc::Text => "Text".into(),
        TypeDesc::Duration => "Duration".into(),
        TypeDesc::Time => "Time".into(),
        TypeDesc::Date => "Date".into(),
        TypeDesc::Role => "Role".into(),
        TypeDesc::Enum { id } => meta
            .enums
            .get(*id as usize)
            .map_or_else(|| "enum".into(), |e| e.name.clone()),
        TypeDesc::Record { id } => meta
            .records
            .get(*id as usize)
            .map_or_else(|| "record".into(), |r| r.name.clone()),
        TypeDesc::Optional { of } => format!("{}?", type_name(meta, of)),
        TypeDesc::List { of } => format!("[{}]", type_name(meta, of)),
    }
}

impl ValueError {
    /// The error of a part, seen from the whole: `prefix` is the part's path (built only when there is an
    /// error, so encoding a valid value allocates no paths).
    fn under(mut self, prefix: String) -> ValueError {
        self.path = if self.path.is_empty() {
            prefix
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Encodes a value of type `ty`.
pub fn encode(
    meta: &Metadata,
    ty: &TypeDesc,
    value: &Value,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ValueError> {
    let wrong = |expected: &str| ValueError {
        path: path.to_string(),
        message: format!("should be {expected}, but it is {}", describe(value)),
    };
    match ty {
        TypeDesc::Int => {
            let n = value.as_i64().ok_or_else(|| wrong("a whole number"))?;
            out.extend_from_slice(&n.to_le_bytes());
        }
        TypeDesc::IntIn { min, max } => {
            let range = format!("a whole number from {min} to {max}");
            let n = value.as_i64().ok_or_else(|| wrong(&range))?;
            if n < *min || n > *max {
                return Err(wrong(&range));
            }
            out.extend_from_slice(&n.to_le_bytes());
        }
        TypeDesc::Bool => {
            let b = value.as_bool().ok_or_else(|| wrong("`true` or `false`"))?;
            out.push(u8::from(b));
        }
        TypeDesc::Text => text(out, value.as_str().ok_or_else(|| wrong("a text"))?),
        TypeDesc::Duration => {
            let s = value
                .as_str()
                .ok_or_else(|| wrong("a duration such as \"4h\""))?;
            let ms = proc_abi::text::parse_duration(s).ok_or_else(|| ValueError {
                path: path.to_string(),
                message: format!("should be a duration such as \"4h\" or \"1h30m\", not \"{s}\""),
            })?;
            out.extend_from_slice(&ms.to_le_bytes());
        }
        TypeDesc::Time => {
            let s = value
                .as_str()
                .ok_or_else(|| wrong("a time such as \"2026-03-02T09:00:00Z\""))?;
            let ms = proc_abi::text::parse_time(s).ok_or_else(|| ValueError {
                path: path.to_string(),
                message: format!(
                    "should be a time such as \"2026-03-02T09:00:00Z\" (RFC 3339), not \"{s}\""
                ),
            })?;
            out.extend_from_slice(&ms.to_le_bytes());
        }
        TypeDesc::Date => {
            let s = value
                .as_str()
                .ok_or_else(|| wrong("a date such as \"2026-03-02\""))?;
            let days = proc_abi::text::parse_date(s).ok_or_else(|| ValueError {
                path: path.to_string(),
                message: format!("should be a date such as \"2026-03-02\", not \"{s}\""),
            })?;
            out.extend_from_slice(&days.to_le_bytes());
        }
        TypeDesc::Role => {
            let s = value.as_str().ok_or_else(|| wrong("a role's name"))?;
            let id = meta.role_id(s).ok_or_else(|| ValueError {
                path: path.to_string(),
                message: format!(
                    "names role `{s}`, which this package does not declare (it has {})",
                    list(meta.roles.iter().map(|r| r.name.as_str()))
                ),
            })?;
            out.extend_from_slice(&id.to_le_bytes());
        }
        TypeDesc::Enum { id } => {
            let info = meta.enums.get(*id as usize);
            let s = value.as_str().ok_or_else(|| {
                wrong(&format!(
                    "one of {}",
                    list(
                        info.iter()
                            .flat_map(|e| e.variants.iter().map(String::as_str))
                    )
                ))
            })?;
            let index = info
                .and_then(|e| e.variants.iter().position(|v| v == s))
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| ValueError {
                    path: path.to_string(),
                    message: format!(
                        "should be one of {}, not \"{s}\"",
                        list(
                            info.iter()
                                .flat_map(|e| e.variants.iter().map(String::as_str))
                        )
                    ),
                })?;
            out.extend_from_slice(&index.to_le_bytes());
        }
        TypeDesc::Record { id } => {
            let fields = meta
                .records
                .get(*id as usize)
                .map(|r| r.fields.as_slice())
                .unwrap_or_default();
            encode_fields(meta, fields, value, path, out)?;
        }
        TypeDesc::Optional { of } => {
            if value.is_null() {
                out.push(0);
            } else {
                out.push(1);
                encode(meta, of, value, path, out)?;
            }
        }
        TypeDesc::List { of } => {
            let items = value.as_array().ok_or_else(|| wrong("a list"))?;
            out.extend_from_slice(&u32::try_from(items.len()).unwrap_or(u32::MAX).to_le_bytes());
            for (i, item) in items.iter().enumerate() {
                encode(meta, of, item, "", out).map_err(|e| e.under(format!("{path}[{i}]")))?;
            }
        }
    }
    Ok(())
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Encodes a JSON object as the fields of a record, a parameter list, step outputs or a signal payload.
/// Optional fields may be left out; unknown fields are refused. `null` stands for an empty object.
pub fn encode_fields(
    meta: &Metadata,
    fields: &[FieldMeta],
    value: &Value,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ValueError> {
    let object: Option<&Map<String, Value>> = match value {
        Value::Object(map) => Some(map),
        Value::Null => None,
        other => {
            let expected = if fields.is_empty() {
                "should be an empty object `{}`".to_string()
            } else {
                format!(
                    "should be an object with {}",
                    list(fields.iter().map(|f| f.name.as_str()))
                )
            };
            return Err(ValueError {
                path: path.to_string(),
                message: format!("{expected}, but it is {}", describe(other)),
            });
        }
    };
    if let Some(unknown) = object
        .into_iter()
        .flat_map(|o| o.keys())
        .find(|k| !fields.iter().any(|f| &f.name == *k))
    {
        return Err(ValueError {
            path: join(path, unknown),
            message: if fields.is_empty() {
                "is not expected here: there are no fields".to_string()
            } else {
                format!(
                    "is not expected here; the fields are {}",
                    list(fields.iter().map(|f| f.name.as_str()))
                )
            },
        });
    }
    for field in fields {
        match object.and_then(|o| o.get(&field.name)) {
            Some(v) => {
                encode(meta, &field.ty, v, "", out).map_err(|e| e.under(join(path, &field.name)))?
            }
            None if matches!(field.ty, TypeDesc::Optional { .. }) => out.push(0),
            None => {
                return Err(ValueError {
                    path: join(path, &field.name),
                    message: format!("is missing (of type `{}`)", type_name(meta, &field.ty)),
                });
            }
        }
    }
    Ok(())
}

/// Reads the binary encodings of values and effects.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Bytes that end too early or hold an impossible value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed;

impl<'a> Reader<'a> {
    /// Reads from the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.pos.checked_add(n).ok_or(Malformed)?;
        let slice = self.bytes.get(self.pos..end).ok_or(Malformed)?;
        self.pos = end;
        Ok(slice)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        self.take(n)
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        self.take(1)?.first().copied().ok_or(Malformed)
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().map_err(|_| Malformed)?))
    }

    /// A little-endian `i64`.
    pub fn i64(&mut self) -> Result<i64, Malformed> {
        let b = self.take(8)?;
        Ok(i64::from_le_bytes(b.try_into().map_err(|_| Malformed)?))
    }

    /// A `TEXT`.
    pub fn text(&mut self) -> Result<&'a str, Malformed> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| Malformed)
    }
}

/// Decodes a value of type `ty` into its JSON form.
pub fn decode(meta: &Metadata, ty: &TypeDesc, r: &mut Reader<'_>) -> Result<Value, Malformed> {
    Ok(match ty {
        TypeDesc::Int | TypeDesc::IntIn { .. } => Value::from(r.i64()?),
        TypeDesc::Bool => Value::Bool(r.u8()? != 0),
        TypeDesc::Text => Value::String(r.text()?.to_string()),
        TypeDesc::Duration => Value::String(proc_abi::text::format_duration(r.i64()?)),
        TypeDesc::Time => Value::String(proc_abi::text::format_time_rfc3339(r.i64()?)),
        TypeDesc::Date => Value::String(proc_abi::text::format_date(r.i64()?)),
        TypeDesc::Role => Value::String(meta.role_name(r.u32()?)),
        TypeDesc::Enum { id } => {
            let index = r.u32()? as usize;
            let name = meta
                .enums
                .get(*id as usize)
                .and_then(|e| e.variants.get(index))
                .ok_or(Malformed)?;
            Value::String(name.clone())
        }
        TypeDesc::Record { id } => {
            let fields = meta
                .records
                .get(*id as usize)
                .map(|r| r.fields.as_slice())
                .unwrap_or_default();
            decode_fields(meta, fields, r)?
        }
        TypeDesc::Optional { of } => match r.u8()? {
            0 => Value::Null,
            _ => decode(meta, of, r)?,
        },
        TypeDesc::List { of } => {
            let n = r.u32()? as usize;
            let mut items = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                items.push(decode(meta, of, r)?);
            }
            Value::Array(items)
        }
    })
}

/// Decodes fields into a JSON object.
pub fn decode_fields(
    meta: &Metadata,
    fields: &[FieldMeta],
    r: &mut Reader<'_>,
) -> Result<Value, Malformed> {
    let mut map = Map::new();
    for field in fields {
        map.insert(field.name.clone(), decode(meta, &field.ty, r)?);
    }
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_abi::{EnumMeta, RecordMeta};
    use serde_json::json;

    fn meta() -> Metadata {
        Metadata {
            enums: vec![EnumMeta {
                name: "Urgency".into(),
                variants: vec!["low".into(), "high".into()],
            }],
            records: vec![RecordMeta {
                name: "Case".into(),
                fields: vec![
                    FieldMeta {
                        name: "customer".into(),
                        ty: TypeDesc::Text,
                        docs: None,
                    },
                    FieldMeta {
                        name: "urgency".into(),
                        ty: TypeDesc::Enum { id: 0 },
                        docs: None,
                    },
                    FieldMeta {
                        name: "due".into(),
                        ty: TypeDesc::Optional {
                            of: Box::new(TypeDesc::Time),
                        },
                        docs: None,
                    },
                    FieldMeta {
                        name: "tags".into(),
                        ty: TypeDesc::List {
                            of: Box::new(TypeDesc::Duration),
                        },
                        docs: None,
                    },
                ],
            }],
            ..Metadata::default()
        }
    }

    #[test]
    fn values_round_trip() {
        let meta = meta();
        let ty = TypeDesc::Record { id: 0 };
        let value = json!({"customer": "Ada", "urgency": "high", "due": "2026-03-02T09:00:00Z", "tags": ["4h", "1h30m"]});
        let mut bytes = Vec::new();
        encode(&meta, &ty, &value, "", &mut bytes).unwrap();
        let back = decode(&meta, &ty, &mut Reader::new(&bytes)).unwrap();
        assert_eq!(back, value);
        let mut short = Vec::new();
        encode(
            &meta,
            &ty,
            &json!({"customer": "Ada", "urgency": "low", "tags": []}),
            "",
            &mut short,
        )
        .unwrap();
        let back = decode(&meta, &ty, &mut Reader::new(&short)).unwrap();
        assert_eq!(back["due"], Value::Null);
        assert!(decode(&meta, &ty, &mut Reader::new(&bytes[..bytes.len() - 1])).is_err());
    }

    #[test]
    fn wrong_values_name_their_path() {
        let meta = meta();
        let ty = TypeDesc::Record { id: 0 };
        let cases = [
            (
                json!({"customer": 42, "urgency": "low", "tags": []}),
                "`c.customer` should be a text, but it is the number 42",
            ),
            (
                json!({"customer": "A", "urgency": "urgent", "tags": []}),
                "`c.urgency` should be one of `low`, `high`, not \"urgent\"",
            ),
            (
                json!({"customer": "A", "urgency": "low"}),
                "`c.tags` is missing (of type `[Duration]`)",
            ),
            (
                json!({"customer": "A", "urgency": "low", "tags": ["soon"]}),
                "`c.tags[0]` should be a duration such as \"4h\" or \"1h30m\", not \"soon\"",
            ),
            (
                json!({"customer": "A", "urgency": "low", "tags": [], "extra": 1}),
                "`c.extra` is not expected here; the fields are `customer`, `urgency`, `due`, `tags`",
            ),
            (
                json!({"customer": "A", "urgency": "low", "tags": [], "due": "tomorrow"}),
                "`c.due` should be a time such as \"2026-03-02T09:00:00Z\" (RFC 3339), not \"tomorrow\"",
            ),
        ];
        for (value, message) in cases {
            let error = encode(&meta, &ty, &value, "c", &mut Vec::new()).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
    }
}
