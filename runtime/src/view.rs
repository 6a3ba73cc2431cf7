//! Effects read in place: the effects of one accepted event, borrowed from the module's output buffer, for hosts
//! that handle many events per second. Nothing is decoded or copied until asked: [`EffectRef`] reads its few
//! fixed fields where they lie, and [`EffectRef::to_effect`] (or [`Effects::to_vec`]) makes the owned
//! [`Effect`] the other calls return.
//!
//! The runtime checks the bytes once, when the event is applied (every effect's extent, every text's UTF-8), so
//! reading a view cannot fail.

use crate::Time;
use crate::codec::{Malformed, Reader};
use crate::effect::{self, Effect, InstanceId, Names, TaskRef};
use proc_abi::{FieldMeta, Metadata, NO_ID, NO_TIME, TypeDesc, effect as tag, performer};

/// What an effect is: one per variant of [`Effect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EffectKind {
    /// [`Effect::TaskOpened`].
    TaskOpened,
    /// [`Effect::TaskCompleted`].
    TaskCompleted,
    /// [`Effect::TaskCancelled`].
    TaskCancelled,
    /// [`Effect::TaskBreached`].
    TaskBreached,
    /// [`Effect::TaskReassigned`].
    TaskReassigned,
    /// [`Effect::Notified`].
    Notified,
    /// [`Effect::Flagged`].
    Flagged,
    /// [`Effect::ActionRequested`].
    ActionRequested,
    /// [`Effect::Completed`].
    Completed,
    /// [`Effect::Failed`].
    Failed,
    /// [`Effect::Cancelled`].
    Cancelled,
    /// [`Effect::TaskClaimed`].
    TaskClaimed,
    /// [`Effect::TaskReleased`].
    TaskReleased,
    /// [`Effect::TaskDelegated`].
    TaskDelegated,
    /// [`Effect::TaskSuspended`].
    TaskSuspended,
    /// [`Effect::TaskResumed`].
    TaskResumed,
    /// [`Effect::TaskSkipped`].
    TaskSkipped,
    /// [`Effect::StepRedone`].
    StepRedone,
    /// [`Effect::DeadlinePaused`].
    DeadlinePaused,
    /// [`Effect::DeadlineResumed`].
    DeadlineResumed,
    /// [`Effect::ProcessBreached`].
    ProcessBreached,
    /// [`Effect::NextWakeup`].
    NextWakeup,
}

/// One field of an effect's encoding, for finding where each effect ends.
#[derive(Clone, Copy)]
enum Field {
    U8,
    U32,
    I64,
    Text,
    /// `u32 n`, then `n` ids.
    Ids,
    /// The outputs of the step whose id was the second field.
    Outputs,
    /// The arguments of the action whose id was the second field.
    Arguments,
    /// `u8 kind`, then the process's result (kind 1) or a reason (kind 2).
    Outcome,
}

/// An effect's kind and fields, by tag (`docs/abi.md`).
#[inline]
fn layout(code: u8) -> Option<(EffectKind, &'static [Field])> {
    use Field::*;
    const TASK: &[Field] = &[U32, U32];
    const TASK_BY: &[Field] = &[U32, U32, Text];
    const TASK_DUE: &[Field] = &[U32, U32, I64];
    Some(match code {
        tag::TASK_OPENED => (
            EffectKind::TaskOpened,
            &[
                U32, U32, U8, U32, Text, Text, Text, Ids, I64, I64, I64, Text,
            ],
        ),
        tag::TASK_COMPLETED => (EffectKind::TaskCompleted, &[U32, U32, Text, Outputs]),
        tag::TASK_CANCELLED => (EffectKind::TaskCancelled, &[U32, U32, U8]),
        tag::TASK_BREACHED => (EffectKind::TaskBreached, TASK_DUE),
        tag::TASK_REASSIGNED => (EffectKind::TaskReassigned, &[U32, U32, U32, U8, Text]),
        tag::NOTIFIED => (EffectKind::Notified, &[U32, Text, U32]),
        tag::FLAGGED => (EffectKind::Flagged, &[Text, U32]),
        tag::ACTION_REQUESTED => (EffectKind::ActionRequested, &[U32, U32, Arguments]),
        tag::COMPLETED => (EffectKind::Completed, &[Outcome]),
        tag::FAILED => (EffectKind::Failed, &[Text]),
        tag::CANCELLED => (EffectKind::Cancelled, &[Text]),
        tag::TASK_CLAIMED => (EffectKind::TaskClaimed, TASK_BY),
        tag::TASK_RELEASED => (EffectKind::TaskReleased, TASK_BY),
        tag::TASK_DELEGATED => (EffectKind::TaskDelegated, &[U32, U32, Text, Text]),
        tag::TASK_SUSPENDED => (EffectKind::TaskSuspended, TASK_BY),
        tag::TASK_RESUMED => (EffectKind::TaskResumed, &[U32, U32, Text, I64]),
        tag::TASK_SKIPPED => (EffectKind::TaskSkipped, TASK_BY),
        tag::STEP_REDONE => (EffectKind::StepRedone, &[U32, Text]),
        tag::DEADLINE_PAUSED => (EffectKind::DeadlinePaused, TASK),
        tag::DEADLINE_RESUMED => (EffectKind::DeadlineResumed, TASK_DUE),
        tag::PROCESS_BREACHED => (EffectKind::ProcessBreached, &[I64]),
        _ => return None,
    })
}

fn skip_text(r: &mut Reader<'_>) -> Result<(), Malformed> {
    let len = r.u32()? as usize;
    let bytes = r.bytes(len)?;
    // Most texts are short and ASCII (many are empty): that check is inlined; the full one is a call.
    if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
        Ok(())
    } else {
        Err(Malformed)
    }
}

/// Steps over a value of type `ty`.
fn skip_value(meta: &Metadata, ty: &TypeDesc, r: &mut Reader<'_>) -> Result<(), Malformed> {
    match ty {
        TypeDesc::Int
        | TypeDesc::IntIn { .. }
        | TypeDesc::Duration
        | TypeDesc::Time
        | TypeDesc::Date => {
            r.bytes(8)?;
        }
        TypeDesc::Bool => {
            r.bytes(1)?;
        }
        TypeDesc::Text => skip_text(r)?,
        TypeDesc::Role => {
            r.bytes(4)?;
        }
        TypeDesc::Enum { id } => {
            let variant = r.u32()? as usize;
            let variants = meta.enums.get(*id as usize).map_or(0, |e| e.variants.len());
            if variant >= variants {
                return Err(Malformed);
            }
        }
        TypeDesc::Record { id } => {
            let fields = meta.records.get(*id as usize).ok_or(Malformed)?;
            skip_fields(meta, &fields.fields, r)?;
        }
        TypeDesc::Optional { of } => {
            if r.u8()? != 0 {
                skip_value(meta, of, r)?;
            }
        }
        TypeDesc::List { of } => {
            let n = r.u32()?;
            for _ in 0..n {
                let before = r.position();
                skip_value(meta, of, r)?;
                if r.position() == before {
                    // Items that take no bytes (records without fields): the rest are the same.
                    break;
                }
            }
        }
    }
    Ok(())
}

fn skip_fields(meta: &Metadata, fields: &[FieldMeta], r: &mut Reader<'_>) -> Result<(), Malformed> {
    fields.iter().try_for_each(|f| skip_value(meta, &f.ty, r))
}

/// Reads one effect's extent: after this, `r` is at the next effect.
fn skip_effect(meta: &Metadata, process: u32, r: &mut Reader<'_>) -> Result<(), Malformed> {
    let (_, fields) = layout(r.u8()?).ok_or(Malformed)?;
    let mut second = 0;
    for (i, field) in fields.iter().enumerate() {
        match field {
            Field::U8 => {
                r.u8()?;
            }
            Field::U32 => {
                let value = r.u32()?;
                if i == 1 {
                    second = value;
                }
            }
            Field::I64 => {
                r.i64()?;
            }
            Field::Text => skip_text(r)?,
            Field::Ids => {
                let n = r.u32()? as usize;
                r.bytes(n.checked_mul(4).ok_or(Malformed)?)?;
            }
            Field::Outputs => {
                let step = meta.steps.get(second as usize).ok_or(Malformed)?;
                skip_fields(meta, &step.outputs, r)?;
            }
            Field::Arguments => {
                let action = meta.actions.get(second as usize).ok_or(Malformed)?;
                skip_fields(meta, &action.params, r)?;
            }
            Field::Outcome => match r.u8()? {
                1 => {
                    let ty = meta
                        .processes
                        .get(process as usize)
                        .and_then(|p| p.result.as_ref())
                        .ok_or(Malformed)?;
                    skip_value(meta, ty, r)?;
                }
                2 => skip_text(r)?,
                _ => {}
            },
        }
    }
    Ok(())
}

/// Checks `count` effects and records where each ends (offsets into `bytes`) in `ends`.
pub(crate) fn index(
    meta: &Metadata,
    process: u32,
    bytes: &[u8],
    count: usize,
    ends: &mut Vec<u32>,
) -> Result<(), Malformed> {
    ends.clear();
    if u32::try_from(bytes.len()).is_err() {
        return Err(Malformed);
    }
    let mut at = 0;
    for _ in 0..count {
        at = match skip_common(meta, bytes, at) {
            Some(end) => end,
            None => {
                let mut r = Reader::new(bytes.get(at..).ok_or(Malformed)?);
                skip_effect(meta, process, &mut r)?;
                at + r.position()
            }
        };
        // At most `bytes.len()`, which fits (checked above).
        ends.push(at as u32);
    }
    Ok(())
}

/// Where the effect at `at` ends, for the effects every event writes (a task opened, cancelled or completed
/// without outputs), read without a table. `None` for the others and for bytes that do not hold one whole:
/// [`skip_effect`] then reads it (and finds any fault). `tests::the_quick_reading_agrees` holds the two together.
#[inline]
fn skip_common(meta: &Metadata, bytes: &[u8], at: usize) -> Option<usize> {
    /// Past a text at `at`, if its bytes are there and are UTF-8.
    #[inline(always)]
    fn text(bytes: &[u8], at: usize) -> Option<usize> {
        let len = word_at(bytes, at)? as usize;
        let start = at + 4;
        let end = start.checked_add(len)?;
        let body = bytes.get(start..end)?;
        (body.is_ascii() || std::str::from_utf8(body).is_ok()).then_some(end)
    }
    #[inline(always)]
    fn word_at(bytes: &[u8], at: usize) -> Option<u32> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }
    let end = match *bytes.get(at)? {
        // task, step, performer, role; person, basis, excluded; skills; due, not before, expires; instruction.
        tag::TASK_OPENED => {
            let mut p = at + 14;
            for _ in 0..3 {
                p = text(bytes, p)?;
            }
            let skills = word_at(bytes, p)? as usize;
            p = (p + 4)
                .checked_add(skills.checked_mul(4)?)?
                .checked_add(24)?;
            text(bytes, p)?
        }
        // task, step, how.
        tag::TASK_CANCELLED => at + 10,
        // task, step, by, and the step's outputs: read here when it has none.
        tag::TASK_COMPLETED => {
            let step = word_at(bytes, at + 5)? as usize;
            if !meta.steps.get(step)?.outputs.is_empty() {
                return None;
            }
            text(bytes, at + 9)?
        }
        // An outcome without a result or reason.
        tag::COMPLETED if bytes.get(at + 1) == Some(&0) => at + 2,
        _ => return None,
    };
    (end <= bytes.len()).then_some(end)
}

/// What every effect of an event shares.
#[derive(Clone, Copy)]
struct Context<'r> {
    meta: &'r Metadata,
    names: &'r Names,
    instance: InstanceId,
    process: u32,
}

/// What the runtime knows of an accepted event besides its effects' bytes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Origin {
    /// The instance.
    pub(crate) instance: InstanceId,
    /// Its process.
    pub(crate) process: u32,
    /// The instance's next wake-up when the event moved it (see [`Effects`]).
    pub(crate) next_wakeup: Option<Option<Time>>,
    /// When the event happened.
    pub(crate) at: Time,
}

/// The effects of one accepted event, read in place (as [`crate::Runtime::complete_view`] gives them). Borrowed
/// from the [`crate::Runtime`], so they must be read (or turned into owned [`Effect`]s) before its next call.
#[derive(Clone, Copy)]
pub struct Effects<'r> {
    context: Context<'r>,
    bytes: &'r [u8],
    ends: &'r [u32],
    /// `Some` when the event moved a running instance's next wake-up: it ends the effects as
    /// [`EffectKind::NextWakeup`].
    next_wakeup: Option<Option<Time>>,
    at: Time,
}

impl std::fmt::Debug for Effects<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl<'r> Effects<'r> {
    pub(crate) fn new(
        meta: &'r Metadata,
        names: &'r Names,
        bytes: &'r [u8],
        ends: &'r [u32],
        origin: Origin,
    ) -> Effects<'r> {
        Effects {
            context: Context {
                meta,
                names,
                instance: origin.instance,
                process: origin.process,
            },
            bytes,
            ends,
            next_wakeup: origin.next_wakeup,
            at: origin.at,
        }
    }

    /// When the event happened: the runtime's clock, or, for the effects of a deadline, escalation or timer that
    /// [`crate::Runtime::advance_each`] fired, the time it was due (earlier than the clock when the host moved the
    /// clock past several wake-ups at once).
    #[inline]
    pub fn at(&self) -> Time {
        self.at
    }

    /// The instance the event went to.
    #[inline]
    pub fn instance(&self) -> InstanceId {
        self.context.instance
    }

    /// How many effects.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len() + usize::from(self.next_wakeup.is_some())
    }

    /// True if the event had no effect.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The effects in order.
    #[inline]
    pub fn iter(&self) -> EffectsIter<'r> {
        EffectsIter {
            effects: *self,
            next: 0,
        }
    }

    /// The `i`th effect.
    #[inline]
    pub fn get(&self, i: usize) -> Option<EffectRef<'r>> {
        let body = match self.ends.get(i) {
            Some(&end) => {
                let start = match i.checked_sub(1) {
                    Some(before) => self.ends.get(before).copied().unwrap_or(0),
                    None => 0,
                };
                Body::Module(self.bytes.get(start as usize..end as usize)?)
            }
            None if i == self.ends.len() => Body::NextWakeup(self.next_wakeup?),
            None => return None,
        };
        Some(EffectRef {
            context: self.context,
            body,
        })
    }

    /// The effects as owned values (what [`crate::Runtime::complete`] and the other calls return).
    pub fn to_vec(&self) -> Vec<Effect> {
        self.iter().map(|e| e.to_effect()).collect()
    }
}

impl<'r> IntoIterator for &Effects<'r> {
    type Item = EffectRef<'r>;
    type IntoIter = EffectsIter<'r>;

    fn into_iter(self) -> EffectsIter<'r> {
        self.iter()
    }
}

/// An iterator over [`Effects`].
#[derive(Clone)]
pub struct EffectsIter<'r> {
    effects: Effects<'r>,
    next: usize,
}

impl<'r> Iterator for EffectsIter<'r> {
    type Item = EffectRef<'r>;

    #[inline]
    fn next(&mut self) -> Option<EffectRef<'r>> {
        let effect = self.effects.get(self.next)?;
        self.next += 1;
        Some(effect)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.effects.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for EffectsIter<'_> {}

#[derive(Clone, Copy)]
enum Body<'r> {
    /// The effect's bytes, its tag first.
    Module(&'r [u8]),
    NextWakeup(Option<Time>),
}

/// One effect, read in place. The accessors read the fields most hosts route on; [`EffectRef::to_effect`]
/// gives the whole effect.
#[derive(Clone, Copy)]
pub struct EffectRef<'r> {
    context: Context<'r>,
    body: Body<'r>,
}

impl std::fmt::Debug for EffectRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_effect().fmt(f)
    }
}

impl<'r> EffectRef<'r> {
    #[inline]
    fn bytes(&self) -> &'r [u8] {
        match self.body {
            Body::Module(bytes) => bytes,
            Body::NextWakeup(_) => &[],
        }
    }

    #[inline]
    fn tag(&self) -> u8 {
        self.bytes().first().copied().unwrap_or(0)
    }

    /// A `u32` at `at` bytes after the tag.
    #[inline]
    fn word(&self, at: usize) -> Option<u32> {
        let b = self.bytes().get(1 + at..5 + at)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// The fields after the tag, for reading in order.
    fn reader(&self) -> Reader<'r> {
        Reader::new(self.bytes().get(1..).unwrap_or_default())
    }

    /// A reader at the `due` of a TASK_OPENED: past its ids, performer, role, three texts and skills.
    fn opened_times(&self) -> Option<Reader<'r>> {
        let mut r = self.reader();
        r.bytes(13).ok()?;
        for _ in 0..3 {
            r.text().ok()?;
        }
        let skills = r.u32().ok()? as usize;
        r.bytes(skills.checked_mul(4)?).ok()?;
        Some(r)
    }

    /// What the effect is.
    #[inline]
    pub fn kind(&self) -> EffectKind {
        match self.body {
            Body::NextWakeup(_) => EffectKind::NextWakeup,
            // The runtime indexed the effects, so every tag is known.
            Body::Module(_) => layout(self.tag()).map_or(EffectKind::Flagged, |(kind, _)| kind),
        }
    }

    /// The instance.
    #[inline]
    pub fn instance(&self) -> InstanceId {
        self.context.instance
    }

    #[inline]
    fn has_task(&self) -> bool {
        matches!(
            self.tag(),
            tag::TASK_OPENED
                | tag::TASK_COMPLETED
                | tag::TASK_CANCELLED
                | tag::TASK_BREACHED
                | tag::TASK_REASSIGNED
                | tag::TASK_CLAIMED
                | tag::TASK_RELEASED
                | tag::TASK_DELEGATED
                | tag::TASK_SUSPENDED
                | tag::TASK_RESUMED
                | tag::TASK_SKIPPED
                | tag::DEADLINE_PAUSED
                | tag::DEADLINE_RESUMED
        )
    }

    /// The task, for the effects about one task (as in [`Effect::task`]).
    #[inline]
    pub fn task(&self) -> Option<TaskRef> {
        if !self.has_task() {
            return None;
        }
        Some(TaskRef {
            instance: self.context.instance,
            task: self.word(0)?,
            step: self.word(4)?,
        })
    }

    /// The step's name: for effects about a task, and for [`EffectKind::StepRedone`].
    #[inline]
    pub fn step(&self) -> Option<&'r str> {
        let id = if self.has_task() {
            self.word(4)?
        } else if self.tag() == tag::STEP_REDONE {
            self.word(0)?
        } else {
            return None;
        };
        self.context.names.steps.get(id as usize).map(|s| &**s)
    }

    /// The role: who a task opened for (a role, or a role from data), the role a task went to, the role told.
    #[inline]
    pub fn role(&self) -> Option<&'r str> {
        let id = match self.tag() {
            tag::TASK_OPENED => {
                // As the owned form reads it: a person, a manager or the same person as before is not a role.
                let performer = self.bytes().get(9).copied()?;
                if matches!(
                    performer,
                    performer::PERSON | performer::MANAGER_OF | performer::SAME_PERSON
                ) {
                    return None;
                }
                self.word(9)?
            }
            tag::TASK_REASSIGNED => self.word(8)?,
            tag::NOTIFIED => self.word(0)?,
            _ => return None,
        };
        if id == NO_ID {
            return None;
        }
        self.context.names.roles.get(id as usize).map(|r| &**r)
    }

    /// Who did it: the person who completed, claimed, released, delegated, suspended, resumed or skipped a task,
    /// redid a step, or the manager who reassigned it (`None` when an escalation ladder did).
    #[inline]
    pub fn by(&self) -> Option<&'r str> {
        let mut r = self.reader();
        match self.tag() {
            tag::TASK_COMPLETED
            | tag::TASK_CLAIMED
            | tag::TASK_RELEASED
            | tag::TASK_DELEGATED
            | tag::TASK_SUSPENDED
            | tag::TASK_RESUMED
            | tag::TASK_SKIPPED => {
                r.bytes(8).ok()?;
            }
            tag::STEP_REDONE => {
                r.bytes(4).ok()?;
            }
            tag::TASK_REASSIGNED => {
                r.bytes(12).ok()?;
                if r.u8().ok()? == 0 {
                    return None;
                }
            }
            _ => return None,
        }
        r.text().ok()
    }

    /// When a task is due (opened, breached, resumed), or when the process's deadline was.
    #[inline]
    pub fn due(&self) -> Option<Time> {
        let mut r = self.reader();
        let due = match self.tag() {
            tag::TASK_OPENED => self.opened_times()?.i64().ok()?,
            tag::TASK_BREACHED | tag::DEADLINE_RESUMED => {
                r.bytes(8).ok()?;
                r.i64().ok()?
            }
            tag::TASK_RESUMED => {
                r.bytes(8).ok()?;
                r.text().ok()?;
                r.i64().ok()?
            }
            tag::PROCESS_BREACHED => r.i64().ok()?,
            _ => return None,
        };
        (due != NO_TIME).then_some(Time(due))
    }

    /// The effect's text: a task's instruction, a notification's or flag's message, why the instance failed or
    /// was cancelled.
    #[inline]
    pub fn text(&self) -> Option<&'r str> {
        let mut r = self.reader();
        match self.tag() {
            tag::TASK_OPENED => {
                r = self.opened_times()?;
                r.bytes(24).ok()?;
            }
            tag::NOTIFIED => {
                r.bytes(4).ok()?;
            }
            tag::FLAGGED | tag::FAILED | tag::CANCELLED => {}
            _ => return None,
        }
        r.text().ok()
    }

    /// The whole effect, owned.
    pub fn to_effect(&self) -> Effect {
        let c = self.context;
        match self.body {
            Body::NextWakeup(at) => Effect::NextWakeup {
                instance: c.instance,
                at,
            },
            Body::Module(bytes) => {
                effect::decode(
                    c.meta,
                    c.names,
                    c.instance,
                    c.process,
                    &mut Reader::new(bytes),
                )
                // The runtime indexed the effects; a module that wrote bytes decode cannot read was refused
                // then. This is only reachable if the two readers disagree.
                .unwrap_or_else(|_| Effect::Failed {
                    instance: c.instance,
                    reason: "the module wrote an effect this runtime cannot read".to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Malformed, Reader, index, skip_common, skip_effect, tag};
    use proc_abi::{FieldMeta, Metadata, StepMeta, TypeDesc};

    /// A `Failed` effect: its tag, then its message as a text.
    fn failed(message: &[u8]) -> Vec<u8> {
        let mut bytes = vec![tag::FAILED];
        bytes.extend_from_slice(&u32::try_from(message.len()).unwrap_or(0).to_le_bytes());
        bytes.extend_from_slice(message);
        bytes
    }

    #[test]
    fn texts_are_checked_before_effects_are_kept() {
        let meta = Metadata::default();
        let mut ends = Vec::new();
        for ok in [&b""[..], b"timed out", "Zo\u{eb} waited".as_bytes()] {
            let bytes = failed(ok);
            assert_eq!(index(&meta, 0, &bytes, 1, &mut ends), Ok(()));
            assert_eq!(ends, [bytes.len() as u32]);
        }
        // Not UTF-8 (a lone continuation byte, a cut-off sequence), or longer than the bytes written.
        for bad in [
            failed(b"ab\xffcd"),
            failed(b"Zo\xc3"),
            failed(b"abc")[..5].to_vec(),
        ] {
            assert_eq!(index(&meta, 0, &bad, 1, &mut ends), Err(Malformed));
        }
    }

    fn text(out: &mut Vec<u8>, t: &[u8]) {
        out.extend_from_slice(&u32::try_from(t.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(t);
    }

    /// Effects of the kinds [`skip_common`] reads: step 0 has no outputs, step 1 a text output.
    fn common_effects(instruction: &[u8], by: &[u8]) -> Vec<Vec<u8>> {
        let mut opened = vec![tag::TASK_OPENED];
        opened.extend_from_slice(&[7, 0, 0, 0, 1, 0, 0, 0, 2, 3, 0, 0, 0]);
        for t in [instruction, b"", b"ann"] {
            text(&mut opened, t);
        }
        opened.extend_from_slice(&[2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
        opened.extend_from_slice(&[9; 16]);
        text(&mut opened, b"");
        let completed = |step: u8, outputs: &[u8]| {
            let mut bytes = vec![tag::TASK_COMPLETED, 7, 0, 0, 0, step, 0, 0, 0];
            text(&mut bytes, by);
            text(&mut bytes, outputs);
            bytes
        };
        vec![
            opened,
            completed(0, b"ignored: step 0 has no outputs"),
            completed(1, b"a reason"),
            vec![tag::TASK_CANCELLED, 7, 0, 0, 0, 1, 0, 0, 0, 1],
            vec![tag::COMPLETED, 0],
            vec![tag::COMPLETED, 3],
        ]
    }

    /// The quick reading of the common effects ends where the table's reading ends, and finds the same faults:
    /// for every effect, cut at every length, with texts that are not UTF-8 or longer than the bytes.
    #[test]
    fn the_quick_reading_agrees() {
        let step = |outputs: Vec<FieldMeta>| StepMeta {
            name: "s".to_string(),
            flow: "p".to_string(),
            outputs,
            outputs_schema: serde_json::Value::Null,
            skippable: false,
            docs: None,
        };
        let meta = Metadata {
            steps: vec![
                step(Vec::new()),
                step(vec![FieldMeta {
                    name: "reason".to_string(),
                    ty: TypeDesc::Text,
                    docs: None,
                }]),
            ],
            ..Metadata::default()
        };
        let mut read_quickly = 0;
        for (instruction, by) in [
            (&b"Greet Ada"[..], &b"ann"[..]),
            ("Gr\u{fc}\u{df}e Zo\u{eb}".as_bytes(), b""),
            (b"ab\xffcd", b"ann"),
            (b"Greet", b"Zo\xc3"),
        ] {
            for effect in common_effects(instruction, by) {
                for cut in 0..=effect.len() {
                    let bytes = &effect[..cut];
                    let mut r = Reader::new(bytes);
                    let table = skip_effect(&meta, 0, &mut r).ok().map(|()| r.position());
                    let quick = skip_common(&meta, bytes, 0);
                    if quick.is_some() {
                        read_quickly += 1;
                        assert_eq!(quick, table, "{bytes:?}");
                    }
                    // Whichever reads it, `index` agrees with the table.
                    let mut ends = Vec::new();
                    assert_eq!(
                        index(&meta, 0, bytes, 1, &mut ends)
                            .ok()
                            .map(|()| ends[0] as usize),
                        table,
                        "{bytes:?}"
                    );
                }
            }
        }
        // Whole, valid effects of every kind the quick reading knows were read by it.
        assert!(read_quickly >= 8, "{read_quickly}");
    }
}
