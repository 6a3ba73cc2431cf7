#!/usr/bin/env node
// A second, small host for compiled Proc modules, in plain JavaScript (Node's built-in `WebAssembly`, no
// packages). It runs the module `procc build` writes exactly as the Rust runtime does (see docs/abi.md): each
// case is a byte blob copied into memory at the case base for every call; events are encoded from JSON with
// the types in the module's `proc.metadata` section; effects are decoded and printed in the documented JSON
// form, one object per line with members sorted by name, so its effects can be compared byte for byte with
// those of `procc run --json` (compiler/cli/tests/js_host.rs does that). It measures no KPIs, so the `kpis` and
// `kpi_summary` lines `procc run` ends with have no counterpart here; and it checks event lines only as it runs
// them (`procc run` checks every line's members and names first), apart from their time order.
//
//   node runtime/js/host.mjs MODULE.wasm --process NAME --input input.json --events events.jsonl \
//        [--directory dir.json] [--start-at TIME] [--until TIME]
//
// Events are the JSON lines `procc run` reads (compiler/cli/src/run.rs); the directory is
// `{"erin": {"roles": [...], "skills": [...], "manager": "ines"}}`. Exit status as `procc run`: 0 when every event
// was applied, 1 when one was refused, 2 on usage errors. As a library:
//
//   import { runEvents, toJson } from "./host.mjs";
//   const printed = runEvents({ wasmBytes, process, input, events, startAt, directory }); // effect objects
//   for (const effect of printed) console.log(toJson(effect)); // `Int` values are BigInts: print with toJson
//
// Where it differs from the Rust runtime: it has no time limit per event (a module that loops forever hangs it); time zones
// come from Node's ICU data instead of jiff's; `Int` inputs must be safe JavaScript integers (|n| < 2^53);
// refusal messages are worded differently (the codes are the same).

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ABI_VERSION = 4;
const I64_MAX = 0x7fffffffffffffffn;
const I64_MIN = -0x8000000000000000n;
const NO_TIME = I64_MAX;
const NO_ID = 0xffffffff;
const EVENT = { START: 1, COMPLETE: 2, SIGNAL: 3, ADVANCE: 4, CANCEL: 5, ACTION_RESULT: 6, CLAIM: 7, RELEASE: 8,
  DELEGATE: 9, REASSIGN: 10, SUSPEND: 11, RESUME: 12, SKIP: 13, REDO: 14, FAULT: 15, QUERY: 16 };
const ABORT = { NEED_HEAP: 1, NEED_OUT: 2, BAD_EVENT: 3, FAULT: 4, AREA_SIZE: 1024 };
const MAX_INSTANCE_BYTES = 16 << 20;
const MAX_OUT = 64 << 20;
const DAY_MS = 86_400_000n;

// ---------------------------------------------------------------------------------------------------------
// Text forms of times, dates and durations (runtime/abi/src/text.rs)

const divEuclid = (a, b) => { const q = a / b; return a % b < 0n ? (b > 0n ? q - 1n : q + 1n) : q; };
const remEuclid = (a, b) => { const r = a % b; return r < 0n ? r + (b < 0n ? -b : b) : r; };
const sat = (v) => (v > I64_MAX ? I64_MAX : v < I64_MIN ? I64_MIN : v);

function daysFromCivil(y, m, d) { // BigInt arithmetic, like the Rust i64 version
  const yy = m <= 2n ? y - 1n : y;
  const era = divEuclid(yy, 400n);
  const yoe = yy - era * 400n;
  const doy = (153n * ((m + 9n) % 12n) + 2n) / 5n + d - 1n;
  return era * 146_097n + yoe * 365n + yoe / 4n - yoe / 100n + doy - 719_468n;
}

function civilFromDays(days) {
  const z = days + 719_468n;
  const era = divEuclid(z, 146_097n);
  const doe = z - era * 146_097n;
  const yoe = (doe - doe / 1460n + doe / 36_524n - doe / 146_096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  return [yoe + era * 400n + (month <= 2n ? 1n : 0n), month, doy - (153n * mp + 2n) / 5n + 1n];
}

const pad = (n, width) => (n < 0n ? "-" + pad(-n, width - 1) : String(n).padStart(width, "0"));
function formatDate(days) { // `2026-03-02`
  const [y, m, d] = civilFromDays(BigInt(days));
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function formatTime(ms) { // `2026-03-02T09:00:00Z`, with `.250` only when there are milliseconds
  ms = BigInt(ms);
  const inDay = remEuclid(ms, DAY_MS);
  const [h, m, s, milli] = [inDay / 3_600_000n, (inDay / 60_000n) % 60n, (inDay / 1000n) % 60n, inDay % 1000n];
  const fraction = milli === 0n ? "" : `.${pad(milli, 3)}`;
  return `${formatDate(divEuclid(ms, DAY_MS))}T${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${fraction}Z`;
}

function formatDuration(ms) { // `4h`, `1h30m`, `2d`, `-15m`, `0s`
  ms = BigInt(ms);
  if (ms === 0n) return "0s";
  let rest = ms < 0n ? -ms : ms;
  let out = ms < 0n ? "-" : "";
  for (const [unit, size] of [["d", DAY_MS], ["h", 3_600_000n], ["m", 60_000n], ["s", 1000n], ["ms", 1n]]) {
    const count = rest / size;
    rest %= size;
    if (count > 0n) out += count + unit;
  }
  return out;
}

function parseDuration(text) { // units from the largest to the smallest, each at most once; null if malformed
  const negative = text.startsWith("-");
  let rest = negative ? text.slice(1) : text;
  if (rest === "") return null;
  // [unit, ms, rank]: "ms" is tried before "m", but ranks after "s".
  const units = [["w", 7n * DAY_MS, 0], ["d", DAY_MS, 1], ["h", 3_600_000n, 2], ["ms", 1n, 5], ["m", 60_000n, 3],
    ["s", 1000n, 4]];
  let total = 0n;
  let lastRank = -1;
  while (rest !== "") {
    const digits = /^[0-9]*/.exec(rest)[0];
    if (digits === "") return null;
    const after = rest.slice(digits.length);
    const unit = units.find(([u]) => after.startsWith(u));
    if (!unit || unit[2] <= lastRank) return null;
    lastRank = unit[2];
    total += BigInt(digits) * unit[1];
    if (total > I64_MAX) return null;
    rest = after.slice(unit[0].length);
  }
  return negative ? -total : total;
}

function parseDate(text) { // `2026-03-02` (checked to exist), as days since 1970-01-01
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = [BigInt(m[1]), BigInt(m[2]), BigInt(m[3])];
  const days = daysFromCivil(y, mo, d);
  const [y2, m2, d2] = civilFromDays(days);
  return y2 === y && m2 === mo && d2 === d ? days : null;
}

function parseTime(text) { // RFC 3339 (any offset, fractions) or `2026-03-02T09:00Z`, as ms since the epoch
  const m = new RegExp("^(.{10})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]+))?)?" +
    "(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$").exec(text);
  const days = m && parseDate(m[1]);
  if (days === null || days === undefined) return null;
  const [h, mi, s] = [BigInt(m[2]), BigInt(m[3]), BigInt(m[4] ?? "0")];
  const milli = BigInt((m[5] ?? "").concat("000").slice(0, 3));
  let offset = 0n;
  if (!m[6]) {
    const [oh, om] = [BigInt(m[8]), BigInt(m[9])];
    if (oh > 23n || om > 59n) return null;
    offset = (m[7] === "-" ? -1n : 1n) * (oh * 60n + om);
  }
  if (h > 23n || mi > 59n || s > 60n) return null;
  return days * DAY_MS + h * 3_600_000n + mi * 60_000n + s * 1000n + milli - offset * 60_000n;
}

// ---------------------------------------------------------------------------------------------------------
// Business calendars (runtime/src/calendar.rs): day by day in the calendar's zone; instants are BigInt ms.

const MAX_DAYS = 3700;
// The furthest a deadline may lie ahead (as in runtime/src/calendar.rs): further is NO_TIME, a run-time error.
const MAX_SPAN_DAYS = 36600;
const TS_MIN = -377_705_116_800_000n; // the range of instants the Rust runtime's tz library accepts
const TS_MAX = 253_402_207_199_999n;

class Calendar {
  constructor(meta) {
    this.name = meta.name;
    try {
      this.fmt = new Intl.DateTimeFormat("en-US", { timeZone: meta.zone, hourCycle: "h23", year: "numeric",
        month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric", era: "short" });
    } catch (e) {
      throw new Error(`calendar \`${meta.name}\` uses time zone \`${meta.zone}\`, which this host does not know ` +
        `(${e.message})`);
    }
    this.week = [[], [], [], [], [], [], []]; // minutes after local midnight per weekday, 0 = Monday
    for (const hours of meta.hours) {
      const span = [Math.min(hours.from_minute, 1440), Math.min(hours.to_minute, 1440)];
      for (const day of hours.days) this.week[day]?.push(span);
    }
    // Hours are a set of open times: overlapping or repeated lines count once (as in runtime/src/calendar.rs).
    this.week = this.week.map((list) => {
      list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const merged = [];
      for (const [from, to] of list.filter(([from, to]) => from < to)) {
        const last = merged[merged.length - 1];
        if (last && from <= last[1]) last[1] = Math.max(last[1], to);
        else merged.push([from, to]);
      }
      return merged;
    });
    this.holidays = new Set(meta.holidays.map((h) => {
      const days = parseDate(h);
      if (days === null) throw new Error(`calendar \`${meta.name}\` has a holiday \`${h}\` that is not a date`);
      return days;
    }));
  }

  // The local wall-clock time at an instant, as ms since the epoch "as if UTC", and the local day number.
  wall(at) {
    const ms = Number(at);
    const second = ms - (((ms % 1000) + 1000) % 1000);
    const p = Object.fromEntries(this.fmt.formatToParts(new Date(second)).map((x) => [x.type, x.value]));
    const year = p.era === "BC" || p.era === "B" ? 1 - Number(p.year) : Number(p.year);
    const days = daysFromCivil(BigInt(year), BigInt(p.month), BigInt(p.day));
    const local = Number(days) * 86_400_000 + ((+p.hour * 60 + +p.minute) * 60 + +p.second) * 1000;
    return { days, offset: local - second };
  }

  localDate(at) { return at < TS_MIN || at > TS_MAX ? null : this.wall(at).days; }

  // The instant of a local date and minute; in a gap the time after it, in a fold the earlier one (as jiff's
  // `to_timestamp` does).
  instant(days, minute) {
    if (minute >= 1440) [days, minute] = [days + 1n, 0];
    const local = Number(days) * 86_400_000 + minute * 60_000;
    const before = this.wall(BigInt(local - 86_400_000)).offset;
    const after = this.wall(BigInt(local + 86_400_000)).offset;
    const valid = [...new Set([before, after])].map((offset) => local - offset)
      .filter((u) => this.wall(BigInt(u)).offset === local - u);
    return BigInt(valid.length > 0 ? Math.min(...valid) : local - before);
  }

  intervals(days) {
    if (this.holidays.has(days)) return [];
    const weekday = Number(remEuclid(days + 3n, 7n));
    return this.week[weekday].map(([from, to]) => [this.instant(days, from), this.instant(days, to)])
      .filter(([a, b]) => b > a);
  }

  add(start, duration) {
    if (duration <= 0n) return start;
    let date = this.localDate(start);
    if (date === null) return sat(start + duration);
    let remaining = duration;
    let closedDays = 0;
    for (let i = 0; i < MAX_SPAN_DAYS; i++, date++) {
      const intervals = this.intervals(date);
      closedDays = intervals.length === 0 ? closedDays + 1 : 0;
      if (closedDays > MAX_DAYS) break;
      for (const [a, b] of intervals) {
        if (b <= start) continue;
        const from = a > start ? a : start;
        if (b - from >= remaining) return from + remaining;
        remaining -= b - from;
      }
    }
    return I64_MAX;
  }

  between(from, to) {
    if (to <= from) return 0n;
    let date = this.localDate(from);
    if (date === null) return 0n;
    let total = 0n;
    for (let i = 0; i < MAX_SPAN_DAYS && this.instant(date, 0) < to; i++, date++) {
      for (const [a, b] of this.intervals(date)) {
        const overlap = (b < to ? b : to) - (a > from ? a : from);
        if (overlap > 0n) total = sat(total + overlap);
      }
    }
    return total;
  }

  isOpen(at) {
    const date = this.localDate(at);
    return date !== null && this.intervals(date).some(([a, b]) => a <= at && at < b);
  }

  nextOpen(at) {
    let date = this.localDate(at);
    if (date === null) return I64_MAX;
    for (let i = 0; i < MAX_DAYS; i++, date++) {
      for (const [a, b] of this.intervals(date)) if (at < b) return a > at ? a : at;
    }
    return I64_MAX;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Values: JSON <-> the ABI's binary encoding, by the metadata's types (runtime/src/codec.rs)

class Refused extends Error {} // an event that was not applied (printed as "rejected"); `code` if the module refused

// Why the module refused an event, by rejection code (docs/abi.md).
const REJECTIONS = [null, "unknown task", "the task is on hold", "not in the task's role", "missing a required skill",
  "the task is for another person", "four eyes: someone else must do it", "too early", "outside the calendar's hours",
  "claimed by someone else", "the instance has ended", "nothing waits for this signal", "unknown action request",
  "not a manager of the task", "the step is not skippable", "the step cannot be redone now", "the task is not claimed",
  "the colleague may not do the task", "the task is not on hold", "unknown process", "already claimed by that person",
  "a task cannot be delegated to oneself"];

class Writer {
  constructor() { this.parts = []; }
  raw(bytes) { this.parts.push(bytes); }
  u8(v) { this.raw(Uint8Array.of(v)); }
  u32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); this.raw(b); }
  i64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(v), true); this.raw(b); }
  text(s) { const b = Buffer.from(s, "utf8"); this.u32(b.length); this.raw(b); }
  done() { return new Uint8Array(Buffer.concat(this.parts)); }
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  take(n) {
    if (this.pos + n > this.bytes.length) throw new Error("the module wrote bytes this host cannot read");
    this.pos += n;
    return this.pos - n;
  }

  u8() { return this.view.getUint8(this.take(1)); }
  u32() { return this.view.getUint32(this.take(4), true); }
  i64() { return this.view.getBigInt64(this.take(8), true); }
  text() {
    const n = this.u32();
    const at = this.take(n);
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(at, at + n));
  }
}

const kindOnly = (kind) => { const w = new Writer(); w.u32(kind); return w.done(); }; // ADVANCE, QUERY
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
function indexOf(list, name) { // the id of a named role, step, process… (skills are plain strings)
  const i = list.findIndex((x) => (x.name ?? x) === name);
  return i < 0 ? null : i;
}

function encode(meta, ty, value, path, w) {
  const wrong = (what) => new Refused(`\`${path}\` should be ${what}, but it is ${JSON.stringify(value)}`);
  switch (ty.kind) {
    case "int": if (!Number.isSafeInteger(value)) throw wrong("a whole number"); return w.i64(value);
    case "int_in": {
      const range = `a whole number from ${ty.min} to ${ty.max}`;
      if (!Number.isSafeInteger(value) || value < ty.min || value > ty.max) throw wrong(range);
      return w.i64(value);
    }
    case "bool": if (typeof value !== "boolean") throw wrong("`true` or `false`"); return w.u8(value ? 1 : 0);
    case "text": if (typeof value !== "string") throw wrong("a text"); return w.text(value);
    case "duration": case "time": case "date": {
      const parse = { duration: parseDuration, time: parseTime, date: parseDate }[ty.kind];
      const parsed = typeof value === "string" ? parse(value) : null;
      if (parsed === null) throw wrong(`a ${ty.kind}`);
      return w.i64(parsed);
    }
    case "role": {
      const id = typeof value === "string" ? indexOf(meta.roles, value) : null;
      if (id === null) throw wrong("a role's name");
      return w.u32(id);
    }
    case "enum": {
      const variants = meta.enums[ty.id]?.variants ?? [];
      if (!variants.includes(value)) throw wrong(`one of ${variants.join(", ")}`);
      return w.u32(variants.indexOf(value));
    }
    case "record": return encodeFields(meta, meta.records[ty.id]?.fields ?? [], value, path, w);
    case "optional": if (value === null) return w.u8(0); w.u8(1); return encode(meta, ty.of, value, path, w);
    case "list":
      if (!Array.isArray(value)) throw wrong("a list");
      w.u32(value.length);
      return value.forEach((item, i) => encode(meta, ty.of, item, `${path}[${i}]`, w));
    default: throw new Error(`unknown type kind ${ty.kind}`);
  }
}

// A JSON object as fields (parameters, outputs, payloads): optional ones may be left out, unknown ones are
// refused, `null` stands for `{}`.
function encodeFields(meta, fields, value, path, w) {
  const object = value === null ? {} : value;
  const join = (name) => (path ? `${path}.${name}` : name);
  if (!isObject(object)) {
    const what = path ? `\`${path}\`` : "the value"; // the outputs, payload or input themselves
    throw new Refused(`${what} should be an object, but it is ${JSON.stringify(value)}`);
  }
  const unknown = Object.keys(object).find((k) => !fields.some((f) => f.name === k));
  if (unknown !== undefined) throw new Refused(`\`${join(unknown)}\` is not expected here`);
  for (const field of fields) {
    if (Object.hasOwn(object, field.name)) encode(meta, field.type, object[field.name], join(field.name), w);
    else if (field.type.kind === "optional") w.u8(0);
    else throw new Refused(`\`${join(field.name)}\` is missing`);
  }
}

function decode(meta, ty, r) {
  switch (ty.kind) {
    case "int": case "int_in": return r.i64();
    case "bool": return r.u8() !== 0;
    case "text": return r.text();
    case "duration": return formatDuration(r.i64());
    case "time": return formatTime(r.i64());
    case "date": return formatDate(r.i64());
    case "role": { const id = r.u32(); return meta.roles[id]?.name ?? `role #${id}`; }
    case "enum": {
      const name = meta.enums[ty.id]?.variants[r.u32()];
      if (name === undefined) throw new Error("the module wrote an enum value this host cannot read");
      return name;
    }
    case "record": return decodeFields(meta, meta.records[ty.id]?.fields ?? [], r);
    case "optional": return r.u8() === 0 ? null : decode(meta, ty.of, r);
    case "list": { const n = r.u32(); return Array.from({ length: n }, () => decode(meta, ty.of, r)); }
    default: throw new Error(`unknown type kind ${ty.kind}`);
  }
}

function decodeFields(meta, fields, r) {
  const out = {};
  for (const f of fields) {
    Object.defineProperty(out, f.name, { value: decode(meta, f.type, r), enumerable: true, writable: true });
  }
  return out;
}

// JSON with members sorted by name (byte order), i64 values printed exactly: the same bytes as serde_json.
export function toJson(v) {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${toJson(v[k])}`).join(",")}}`;
}

// ---------------------------------------------------------------------------------------------------------
// Effects (runtime/src/effect.rs): binary records -> the documented JSON objects

const CANCEL_REASONS = ["breach", "branch_ended", "cancelled", "instance_ended", "redo", "expired"];
const PERFORMER = { ROLE: 0, PERSON: 1, DYNAMIC_ROLE: 2, MANAGER_OF: 3, SAME_PERSON: 4 };

// A type as people write it (runtime/src/codec.rs `type_name`): `Urgency`, `Text?`, `[Int]`.
function typeName(meta, ty) {
  switch (ty.kind) {
    case "int": return "Int";
    case "int_in": return `Int from ${ty.min} to ${ty.max}`;
    case "bool": return "Bool";
    case "text": return "Text";
    case "duration": return "Duration";
    case "time": return "Time";
    case "date": return "Date";
    case "role": return "Role";
    case "enum": return meta.enums[ty.id]?.name ?? "enum";
    case "record": return meta.records[ty.id]?.name ?? "record";
    case "optional": return `${typeName(meta, ty.of)}?`;
    case "list": return `[${typeName(meta, ty.of)}]`;
    default: return "?";
  }
}

function decodeEffects(meta, processId, instance, bytes, count) {
  const r = new Reader(bytes);
  const name = (list, id, what) => (list[id] === undefined ? `${what} #${id}` : (list[id].name ?? list[id]));
  const step = () => name(meta.steps, r.u32(), "step");
  const role = () => name(meta.roles, r.u32(), "role");
  const time = (ms) => (ms === NO_TIME || ms === I64_MIN ? null : formatTime(ms));
  const optText = (s) => (s === "" ? null : s);
  const optTask = (task) => (task === NO_ID ? null : task);
  const task = () => { const id = r.u32(); r.u32(); return id; }; // `u32 task, u32 step`, when the step is not shown
  const taskOpened = () => {
    const [task, stepId, kind, roleId, person, basis, excluded] =
      [r.u32(), r.u32(), r.u8(), r.u32(), r.text(), r.text(), r.text()];
    const skills = Array.from({ length: r.u32() }, () => name(meta.skills, r.u32(), "skill"));
    const [due, earliest, expires, instruction] = [r.i64(), r.i64(), r.i64(), r.text()];
    const roleName = name(meta.roles, roleId, "role");
    let who = { role: roleName, person: null, skills, manager_of: null };
    if (kind === PERFORMER.DYNAMIC_ROLE) who = { ...who, skills: [] };
    else if (kind === PERFORMER.MANAGER_OF) {
      who = { role: null, person: optText(person), skills: [], manager_of: basis };
    }
    else if (kind === PERFORMER.PERSON || kind === PERFORMER.SAME_PERSON || roleId === NO_ID) {
      who = { role: null, person, skills: [], manager_of: null };
    }
    const form = Object.fromEntries((meta.steps[stepId]?.outputs ?? []).map((o) => [o.name, typeName(meta, o.type)]));
    return { task, step: name(meta.steps, stepId, "step"), ...who, excluded: optText(excluded), due: time(due),
      earliest: time(earliest), expires: time(expires), instruction, form };
  };
  const decoders = {
    1: ["task_opened", taskOpened],
    2: ["task_completed", () => {
      const [task, stepId, by] = [r.u32(), r.u32(), r.text()];
      const outputs = decodeFields(meta, meta.steps[stepId]?.outputs ?? [], r);
      return { task, step: name(meta.steps, stepId, "step"), by, outputs };
    }],
    3: ["task_cancelled", () => ({ task: r.u32(), step: step(), reason: CANCEL_REASONS[r.u8()] ?? "instance_ended" })],
    4: ["task_breached", () => ({ task: r.u32(), step: step(), due: formatTime(r.i64()) })],
    5: ["task_reassigned", () => {
      const [task, stepName, roleName, cause, by] = [r.u32(), step(), role(), r.u8(), r.text()];
      return { task, step: stepName, role: roleName, by: cause === 0 ? null : by };
    }],
    6: ["notified", () => ({ role: role(), message: r.text(), task: optTask(r.u32()) })],
    7: ["flagged", () => ({ message: r.text(), task: optTask(r.u32()) })],
    8: ["action_requested", () => {
      const [request, action] = [r.u32(), r.u32()];
      const args = decodeFields(meta, meta.actions[action]?.params ?? [], r);
      return { request, action: name(meta.actions, action, "action"), args };
    }],
    9: ["completed", () => { // kind 0: nothing; 1: the process's result; 2: a reason
      const kind = r.u8();
      const type = meta.processes[processId]?.result;
      if (kind === 1 && !type) throw new Error("the module wrote a result for a process that has none");
      return { result: kind === 1 ? decode(meta, type, r) : null, reason: kind === 2 ? r.text() : null };
    }],
    10: ["failed", () => ({ reason: r.text() })],
    11: ["cancelled", () => ({ reason: r.text() })],
    12: ["task_claimed", () => ({ task: task(), by: r.text() })],
    13: ["task_released", () => ({ task: task(), by: r.text() })],
    14: ["task_delegated", () => ({ task: task(), by: r.text(), to: r.text() })],
    15: ["task_suspended", () => ({ task: task(), by: r.text() })],
    16: ["task_resumed", () => ({ task: task(), by: r.text(), due: time(r.i64()) })],
    17: ["task_skipped", () => ({ task: r.u32(), step: step(), by: r.text() })],
    18: ["step_redone", () => ({ step: step(), by: r.text() })],
    19: ["deadline_paused", () => ({ task: task() })],
    20: ["deadline_resumed", () => ({ task: task(), due: time(r.i64()) })],
    21: ["process_breached", () => ({ due: formatTime(r.i64()) })],
  };
  return Array.from({ length: count }, () => {
    const tag = r.u8();
    if (!decoders[tag]) throw new Error(`the module wrote an effect this host cannot read (tag ${tag})`);
    const [effect, fields] = decoders[tag];
    return { effect, instance, ...fields() };
  });
}

// ---------------------------------------------------------------------------------------------------------
// The host: one WebAssembly instance, many cases (runtime/src/worker.rs and runtime/src/runtime.rs)

export class Host {
  constructor(wasmBytes, directory = {}) {
    const module = new WebAssembly.Module(wasmBytes);
    const sections = WebAssembly.Module.customSections(module, "proc.metadata");
    if (sections.length === 0) {
      throw new Error("the module has no `proc.metadata` section; was it compiled by `procc build`?");
    }
    this.meta = JSON.parse(Buffer.from(sections[0]).toString("utf8"));
    if (this.meta.abi_version !== ABI_VERSION) {
      throw new Error(`the module was compiled for ABI version ${this.meta.abi_version}, and this host runs ` +
        `version ${ABI_VERSION}`);
    }
    const known = ["calendar_add", "calendar_between", "calendar_is_open", "calendar_next_open", "manager_of"];
    for (const i of WebAssembly.Module.imports(module)) {
      if (i.module !== "proc" || i.kind !== "function" || !known.includes(i.name)) {
        throw new Error(`the module imports \`${i.module}.${i.name}\`, which this host does not provide`);
      }
    }
    const exported = WebAssembly.Module.exports(module).map((e) => e.name);
    for (const name of ["memory", "proc_abi_version", "proc_case_base", "proc_abort_area", "proc_handle"]) {
      if (!exported.includes(name)) throw new Error(`the module does not export \`${name}\``);
    }
    this.directory = directory;
    const calendars = this.meta.calendars.map((c) => new Calendar(c));
    const cal = (id) => calendars[id];
    const instance = new WebAssembly.Instance(module, { proc: {
      calendar_add: (c, start, duration) => cal(c)?.add(start, duration) ?? sat(start + duration),
      calendar_between: (c, from, to) => cal(c)?.between(from, to) ?? sat(to - from),
      calendar_is_open: (c, at) => (cal(c) ? (cal(c).isOpen(at) ? 1 : 0) : 1),
      calendar_next_open: (c, at) => cal(c)?.nextOpen(at) ?? at,
      manager_of: (ptr, len, out, cap) => this.managerOf(ptr, len, out, cap),
    } });
    const ex = instance.exports;
    this.memory = ex.memory;
    this.handle = ex.proc_handle;
    const version = ex.proc_abi_version();
    if (version !== ABI_VERSION) {
      throw new Error(`the module reports ABI version ${version}, and this host runs version ${ABI_VERSION}`);
    }
    this.caseBase = ex.proc_case_base();
    this.abortArea = ex.proc_abort_area();
    this.headroom = 4096;
    this.outCap = 16 << 10;
    this.cases = []; // { blob, wake, status, process } by instance id - 1
    this.now = 0n;
  }

  bytes() { return new Uint8Array(this.memory.buffer); }

  person(id) { return Object.hasOwn(this.directory, id) ? this.directory[id] : undefined; }

  managerOf(ptr, len, out, cap) {
    let person;
    try {
      person = new TextDecoder("utf-8", { fatal: true }).decode(this.bytes().subarray(ptr, ptr + len));
    } catch {
      return -1;
    }
    const manager = this.person(person)?.manager;
    if (typeof manager !== "string") return -1;
    const encoded = Buffer.from(manager, "utf8");
    if (encoded.length > cap) return encoded.length;
    if (out + encoded.length > this.memory.buffer.byteLength) return -1;
    this.bytes().set(encoded, out);
    return encoded.length;
  }

  // One call of `proc_handle` at time `at`, repeated with more room after NEED_HEAP / NEED_OUT.
  call(blob, event, at = this.now) {
    for (;;) {
      const align8 = (n) => (n + 7) & ~7;
      const heapLimit = align8(this.caseBase + blob.length + this.headroom);
      const outPtr = align8(heapLimit + event.length);
      const end = outPtr + this.outCap;
      const size = this.memory.buffer.byteLength;
      if (end > size) {
        try {
          this.memory.grow(Math.ceil((end - size) / 65536));
        } catch {
          throw new Error("the host could not give the workflow more memory");
        }
      }
      let mem = this.bytes();
      mem.set(blob, this.caseBase);
      mem.set(event, heapLimit);
      mem.fill(0, this.abortArea, this.abortArea + 8);
      let status;
      try {
        status = this.handle(blob.length, heapLimit, heapLimit, event.length, outPtr, this.outCap, at);
      } catch (error) {
        const view = new DataView(this.memory.buffer);
        const code = view.getUint32(this.abortArea, true);
        if (code === ABORT.NEED_HEAP) {
          if (this.headroom >= MAX_INSTANCE_BYTES) {
            throw new Error(`the instance would need more than ${MAX_INSTANCE_BYTES} bytes of memory, its limit`);
          }
          this.headroom = Math.min(this.headroom * 4, MAX_INSTANCE_BYTES);
        } else if (code === ABORT.NEED_OUT) {
          if (this.outCap >= MAX_OUT) throw new Error("the event produced more effects than fit in 64 MiB");
          this.outCap = Math.min(this.outCap * 4, MAX_OUT);
        } else if (code === ABORT.BAD_EVENT) {
          throw new Error("the module could not read the event (is the module from a different compiler version?)");
        } else if (code === ABORT.FAULT) {
          const len = Math.min(view.getUint32(this.abortArea + 4, true), ABORT.AREA_SIZE - 8);
          const message = this.bytes().subarray(this.abortArea + 8, this.abortArea + 8 + len);
          return { fault: new TextDecoder().decode(message) };
        } else {
          throw new Error(`the module trapped: ${error.message}`);
        }
        continue;
      }
      mem = this.bytes();
      const out = mem.slice(outPtr, end);
      const view = new DataView(out.buffer);
      if (status === 0) {
        const caseLen = view.getUint32(0, true);
        return { blob: mem.slice(this.caseBase, this.caseBase + caseLen),
          effects: out.subarray(24, 24 + view.getUint32(4, true)), wake: view.getBigInt64(8, true),
          status: view.getUint32(16, true), count: view.getUint32(20, true) };
      }
      if (status === 2) return { answer: out };
      const r = new Reader(out);
      return { rejected: { code: r.u32(), task: r.u32(), arg: r.u32(), detail: r.text() } };
    }
  }

  // Runs an event that happens at `at` against instance `id`; returns its effects, or throws Refused for a
  // rejection.
  apply(id, event, at = this.now) {
    const c = this.cases[id - 1];
    if (!c) throw new Refused(`there is no instance ${id}`);
    let reply = this.call(c.blob, event, at);
    if (reply.fault !== undefined) { // a run-time error in the workflow fails the instance
      const w = new Writer();
      w.u32(EVENT.FAULT);
      // While starting, START's process and input follow: the module creates the instance, failed, with its input.
      const starting = new DataView(event.buffer, event.byteOffset).getUint32(0, true) === EVENT.START;
      if (starting) w.raw(event.subarray(4)); else w.u32(0);
      w.text(`run-time error: ${reply.fault}`);
      reply = this.call(c.blob, w.done(), at);
      if (reply.fault !== undefined) throw new Error(reply.fault);
    }
    if (reply.rejected) {
      const { code, task, detail } = reply.rejected;
      const what = `${REJECTIONS[code] ?? "refused"}${detail ? ` (${detail})` : ""}`;
      throw Object.assign(new Refused(`instance ${id}${task === NO_ID ? "" : `, task ${task}`}: ${what}`), { code });
    }
    if (reply.answer) throw new Error("the module answered an event as a query");
    const wakeChanged = reply.wake !== c.wake;
    Object.assign(c, { blob: reply.blob, wake: reply.wake, status: reply.status });
    const effects = decodeEffects(this.meta, c.process, id, reply.effects, reply.count);
    // Like the Rust runtime: a running instance's new wake-up time, whenever it changes.
    if (wakeChanged && reply.status === 0) {
      effects.push({ effect: "next_wakeup", instance: id, at: reply.wake === NO_TIME ? null : formatTime(reply.wake) });
    }
    // When it happened: the clock's time, or the wake-up's own for a timer that `advance` fired.
    const time = formatTime(at);
    for (const effect of effects) effect.time = time;
    return effects;
  }

  // Moves the clock (never backwards) and, like the Rust runtime, handles the wake-ups due by then one at a time,
  // earliest first over all instances (then by instance id), each with an ADVANCE at its own time. A wake-up
  // still due afterwards is not reported as `next_wakeup`; an instance that asks to be woken again at the time it
  // was given gets that time once more, then waits for the next advance.
  advance(now) {
    if (now > this.now) this.now = now;
    const effects = [];
    const again = new Set();
    const held = new Set();
    for (;;) {
      let due = null;
      this.cases.forEach((c, i) => {
        if (c.status === 0 && c.wake !== NO_TIME && c.wake <= this.now && !held.has(i + 1)
          && (due === null || c.wake < due.wake)) {
          due = { wake: c.wake, id: i + 1 };
        }
      });
      if (due === null) return effects;
      const { wake, id } = due;
      const happened = this.apply(id, kindOnly(EVENT.ADVANCE), wake);
      const c = this.cases[id - 1];
      const next = c.status === 0 ? c.wake : NO_TIME;
      let quiet = next !== NO_TIME && next <= this.now;
      if (next !== NO_TIME && next <= wake) {
        if (again.has(id)) {
          held.add(id);
          quiet = false;
        } else {
          again.add(id);
        }
      }
      effects.push(...(quiet ? happened.filter((e) => e.effect !== "next_wakeup") : happened));
    }
  }

  // For an event at `at` (a completion, a signal): handles the wake-ups due before it and leaves those due at `at`
  // itself for after the event, like the Rust runtime's `advance_before`: a task completed at its due time is on
  // time.
  advanceBefore(at) {
    const effects = this.advance(at - 1n);
    if (at > this.now) this.now = at;
    return effects;
  }

  start(process, input) {
    const pid = indexOf(this.meta.processes, process);
    if (pid === null) throw new Refused(`the module has no process \`${process}\``);
    const w = new Writer();
    w.u32(EVENT.START);
    w.u32(pid);
    encodeFields(this.meta, this.meta.processes[pid].params, input, "", w);
    this.cases.push({ blob: new Uint8Array(0), wake: NO_TIME, status: 0, process: pid });
    try {
      return [this.cases.length, this.apply(this.cases.length, w.done())];
    } catch (error) {
      this.cases.pop();
      throw error;
    }
  }

  // Roles and skills as ids the module knows, with the directory's added; admin is never set.
  actor(w, person) {
    if (person.id.trim() === "") throw new Refused("a person acting on a task needs an id");
    const ids = (list, names) => names.map((n) => indexOf(list, n)).filter((i) => i !== null);
    const entry = this.person(person.id);
    const strings = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
    const roles = ids(this.meta.roles, [...person.roles, ...strings(entry?.roles)]);
    const skills = ids(this.meta.skills, [...person.skills, ...strings(entry?.skills)]);
    w.text(person.id);
    w.u32(roles.length);
    roles.forEach((r) => w.u32(r));
    w.u32(skills.length);
    skills.forEach((s) => w.u32(s));
    w.u8(0);
  }

  // The open tasks of an instance, from a QUERY: [{ task, step, stepName, person }] (person "" for a role's).
  openTasks(id) {
    const c = this.cases[id - 1];
    if (!c) throw new Refused(`there is no instance ${id}`);
    const reply = this.call(c.blob, kindOnly(EVENT.QUERY));
    if (!reply.answer) throw new Error("the module did not answer a query");
    const r = new Reader(reply.answer);
    r.u32(); r.u32(); r.i64(); r.i64(); r.i64();
    return Array.from({ length: r.u32() }, () => {
      const [task, step] = [r.u32(), r.u32()];
      r.u8(); r.u32();
      const person = r.text();
      r.text(); r.i64(); r.i64(); r.text();
      return { task, step, stepName: this.meta.steps[step]?.name ?? `step #${step}`, person };
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The event file (compiler/cli/src/run.rs)

class Fatal extends Error {} // a usage error: `procc run` stops with exit status 2

function u32Field(event, key) {
  const v = event[key];
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : null;
}

function actorOf(event, idKey, rolesKey, skillsKey) {
  const id = event[idKey];
  if (typeof id !== "string") throw new Fatal(`needs "${idKey}": the id of the person acting`);
  const list = (key) => (Array.isArray(event[key]) ? event[key].filter((x) => typeof x === "string") : []);
  return { id, roles: list(rolesKey), skills: list(skillsKey) };
}

// Instance statuses as the runtime names them (0 is running).
const STATUS = ["running", "completed", "failed", "cancelled"];

function taskOf(host, id, event) {
  // An ended case is refused as the runtime refuses any event for it (code 10), not as a wrong task number.
  const c = host.cases[id - 1];
  if (c && c.status !== 0) {
    throw Object.assign(new Refused(`instance ${id} has already ended (${STATUS[c.status] ?? c.status})`),
      { code: 10 });
  }
  const open = host.openTasks(id);
  const number = u32Field(event, "task");
  if (number !== null) {
    const t = open.find((t) => t.task === number);
    if (!t) throw Object.assign(new Refused(`instance ${id} has no open task ${number}`), { code: 1 });
    if (typeof event.step === "string" && event.step !== t.stepName) {
      throw Object.assign(new Refused(`task ${number} is \`${t.stepName}\`, not \`${event.step}\`: give the task's ` +
        "number or its step, or both alike"), { code: 1 });
    }
    return t;
  }
  if (typeof event.step !== "string") throw new Fatal(`needs "task" (a task number) or "step" (a step name)`);
  // The task of that step for this person, if one is theirs alone; else the oldest.
  const t = open.find((t) => t.stepName === event.step && t.person !== "" && t.person === event.by) ??
    open.find((t) => t.stepName === event.step);
  if (!t) throw Object.assign(new Refused(`instance ${id} has no open task for step \`${event.step}\``), { code: 1 });
  return t;
}

function applyEvent(host, id, kind, event) {
  const w = new Writer();
  const meta = host.meta;
  if (["complete", "claim", "release", "suspend", "resume", "skip", "delegate", "reassign"].includes(kind)) {
    const who = actorOf(event, "by", "roles", "skills");
    const t = taskOf(host, id, event);
    const to = kind === "delegate" ? actorOf(event, "to", "to_roles", "to_skills") : null;
    if (kind === "reassign" && typeof event.role !== "string") throw new Fatal(`a "reassign" needs "role"`);
    const role = kind === "reassign" ? indexOf(meta.roles, event.role) : null;
    if (kind === "reassign" && role === null) throw new Refused(`there is no role \`${event.role}\``);
    const kinds = { complete: EVENT.COMPLETE, claim: EVENT.CLAIM, release: EVENT.RELEASE, suspend: EVENT.SUSPEND,
      resume: EVENT.RESUME, skip: EVENT.SKIP, delegate: EVENT.DELEGATE, reassign: EVENT.REASSIGN };
    w.u32(kinds[kind]);
    w.u32(t.task);
    if (kind === "complete") w.u32(t.step);
    host.actor(w, who);
    if (kind === "complete") encodeFields(meta, meta.steps[t.step].outputs, event.outputs ?? null, "", w);
    if (to) host.actor(w, to);
    if (role !== null) w.u32(role);
  } else if (kind === "redo") {
    const who = actorOf(event, "by", "roles", "skills");
    if (typeof event.step !== "string") throw new Fatal(`a "redo" needs "step"`);
    const step = indexOf(meta.steps, event.step);
    if (step === null) throw new Refused(`there is no step \`${event.step}\``);
    w.u32(EVENT.REDO);
    w.u32(step);
    host.actor(w, who);
  } else if (kind === "signal") {
    if (typeof event.signal !== "string") throw new Fatal(`a "signal" needs "signal": its name`);
    const signal = indexOf(meta.signals, event.signal);
    if (signal === null) throw new Refused(`there is no signal \`${event.signal}\``);
    w.u32(EVENT.SIGNAL);
    w.u32(signal);
    encodeFields(meta, meta.signals[signal].fields, event.payload ?? null, "", w);
  } else if (kind === "cancel") {
    w.u32(EVENT.CANCEL);
    w.text(typeof event.reason === "string" ? event.reason : "");
  } else if (kind === "action_result") {
    const request = u32Field(event, "request");
    if (request === null) throw new Fatal(`an "action_result" needs "request"`);
    let action = 0;
    if (typeof event.action === "string") {
      action = indexOf(meta.actions, event.action);
      if (action === null) throw new Fatal(`there is no action \`${event.action}\``);
    } else if (meta.actions.length !== 1) throw new Fatal(`an "action_result" needs "action": the action's name`);
    w.u32(EVENT.ACTION_RESULT);
    w.u32(request);
    w.u32(action);
    if (typeof event.error === "string") {
      w.u8(0);
      w.text(event.error);
    } else {
      w.u8(1);
      const ty = meta.actions[action].result;
      if (ty) encode(meta, ty, event.result ?? null, "", w);
    }
  } else if (kind === "") {
    throw new Fatal(`each event needs a "type"`);
  } else {
    throw new Fatal(`unknown event type "${kind}"`);
  }
  return host.apply(id, w.done());
}

const timeOf = (text, what) => {
  const t = parseTime(text);
  if (t === null) throw new Fatal(`${what}: \`${text}\` is not a time; write it as in 2026-03-02T09:00:00Z (RFC 3339)`);
  if (t < 0n) {
    throw new Fatal(`${what}: \`${text}\` is before 1970-01-01T00:00:00Z, the earliest time the runtime's clock can show`);
  }
  return t;
};

// Runs a process and its events like `procc run --json`; returns the printed objects in order (effects, and
// `{rejected: {line, code, message}}` for refused events), each also passed to `emit` as it happens. `events`
// is an array of `[line, object]` pairs or of objects (numbered from 1). Throws on usage errors (what has
// been emitted stays emitted); `error.exitCode` is 1 if the process could not start.
export function runEvents({ wasmBytes, process: processName, input = {}, events = [], startAt, until, directory = {},
  emit }) {
  const host = new Host(wasmBytes, directory);
  const numbered = events.map((e, i) => (Array.isArray(e) ? e : [i + 1, e]));
  const firstAt = numbered.map(([, e]) => e.at).find((at) => typeof at === "string");
  // Checked before anything runs, as `procc run` does: time only moves forward, and `--until` is not before the
  // last event.
  const start = timeOf(startAt ?? firstAt ?? "2026-01-01T00:00:00Z", "the start time");
  let clock = [start, null];
  for (const [line, event] of numbered) {
    if (typeof event.at !== "string") continue;
    const at = timeOf(event.at, `line ${line}`);
    if (at < clock[0]) {
      const after = clock[1] === null ? "`--start-at`" : `the event on line ${clock[1]}`;
      throw new Fatal(`line ${line}: "at" ${formatTime(at)} is before ${after} (${formatTime(clock[0])}): ` +
        "put the events in time order");
    }
    clock = [at, line];
  }
  if (until !== undefined && timeOf(until, "--until") < clock[0]) {
    throw new Fatal(`\`--until\` ${until} is before the last event (${formatTime(clock[0])}): the clock only moves ` +
      "forward");
  }
  const out = [];
  const print = (items) => items.forEach((item) => { out.push(item); emit?.(item); });
  const refuse = (line, error) => print([{ rejected: { line, code: error.code ?? null, message: error.message,
    time: formatTime(host.now) } }]);
  print(host.advance(start));
  let current = null;
  if (processName !== undefined) {
    try {
      const [id, effects] = host.start(processName, input);
      current = id;
      print(effects);
    } catch (error) {
      throw Object.assign(new Error(error.message), { exitCode: 1 });
    }
  }
  for (const [line, event] of numbered) {
    const kind = typeof event.type === "string" ? event.type : "";
    if (typeof event.at === "string") {
      const at = timeOf(event.at, `line ${line}`);
      print(kind === "advance" ? host.advance(at) : host.advanceBefore(at));
    }
    const id = u32Field(event, "instance") ?? current;
    if (kind === "advance") continue;
    try {
      if (kind === "start") {
        if (typeof event.process !== "string") throw new Fatal(`a "start" needs "process"`);
        const [started, effects] = host.start(event.process, event.input ?? null);
        current = started;
        print(effects);
      } else {
        if (id === null) throw new Fatal(`no instance is running: give --process, or a "start" event first`);
        print(applyEvent(host, id, kind, event));
      }
    } catch (error) {
      if (error instanceof Fatal) throw new Fatal(`line ${line}: ${error.message}`);
      refuse(line, error); // a rejection, a value of the wrong shape, or a trap: the event was not applied
    }
  }
  if (until !== undefined) print(host.advance(timeOf(until, "--until")));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Command line

const USAGE = "usage: node host.mjs MODULE.wasm [--process NAME] [--input FILE] [--events FILE] [--directory FILE]\n" +
  "                    [--start-at TIME] [--until TIME]   (prints JSON lines, like `procc run --json`)";

function readText(path) {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (e) {
    throw new Error(`cannot read \`${path}\`: ${e.message}`);
  }
}

function readJson(path) {
  const text = readText(path);
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`\`${path}\`: it is not valid JSON: ${e.message}`);
  }
  if (depth(value) > 128) {
    throw new Error(`\`${path}\`: it nests arrays and objects more than 128 deep, more than the runtime reads`);
  }
  return value;
}

// One event per line; empty lines and `//` comments are skipped but counted.
// How deeply arrays and objects nest in a JSON value (iteratively: the value may be deeper than the stack).
function depth(value) {
  let deepest = 0;
  const stack = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop();
    if (v === null || typeof v !== "object") continue;
    deepest = Math.max(deepest, d + 1);
    for (const item of Object.values(v)) stack.push([item, d + 1]);
  }
  return deepest;
}

function readEvents(path) {
  const events = [];
  readText(path).split("\n").forEach((raw, index) => {
    const text = raw.trim();
    if (text === "" || text.startsWith("//")) return;
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}:${index + 1}: it is not valid JSON: ${e.message}`);
    }
    if (!isObject(value)) throw new Error(`${path}:${index + 1}: each line must be one JSON object`);
    // As serde_json in `procc run`: nesting deeper than 128 is refused (it would overflow the stack later).
    if (depth(value) > 128) {
      throw new Error(`${path}:${index + 1}: it nests arrays and objects more than 128 deep, more than the runtime reads`);
    }
    events.push([index + 1, value]);
  });
  return events;
}

function main(argv) {
  const options = { "--process": "process", "--input": "input", "--events": "events", "--directory": "directory",
    "--start-at": "startAt", "--until": "until" };
  const args = {};
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (let i = 0; i < argv.length; i++) {
    if (options[argv[i]] && i + 1 < argv.length) args[options[argv[i]]] = argv[++i];
    else if (argv[i] === "--json") continue; // the output is always JSON
    else if (!argv[i].startsWith("--") && args.module === undefined) args.module = argv[i];
    else throw new Error(`unexpected argument \`${argv[i]}\`\n${USAGE}`);
  }
  if (args.module === undefined) throw new Error(USAGE);
  const directory = args.directory === undefined ? {} : readJson(args.directory);
  if (!isObject(directory)) {
    throw new Error(`\`${args.directory}\` should be an object mapping person ids to {"roles", "skills", "manager"}`);
  }
  const out = runEvents({
    wasmBytes: readFileSync(args.module),
    process: args.process,
    input: args.input === undefined ? {} : readJson(args.input),
    events: args.events === undefined ? [] : readEvents(args.events),
    startAt: args.startAt,
    until: args.until,
    directory,
    emit: (item) => process.stdout.write(`${toJson(item)}\n`),
  });
  return out.some((item) => item.rejected) ? 1 : 0; // like `procc run`: 1 when an event was refused
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Output piped into `head` and closed early: stop quietly, as command-line tools do.
  process.stdout.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error.exitCode ?? 2; // 1: the process could not start; 2: usage, files, the module
  }
}
