//! Running DS transfer sets: conditions, timers, change buffers and the reports they produce.
//!
//! Reports are encoded straight from the typed point values into the association's transmit
//! buffer (through two reusable scratch buffers when a report must be split), so a report costs
//! no allocation per member.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use super::{PointEntry, Tase2, Tase2Config, Tase2Event};
use crate::ber::{Tag, Writer};
use crate::mms::data::write;
use crate::mms::{AccessResult, Data, InformationReport, ObjectName, VariableAccessSpecification};
use crate::server::{ConnectionId, Ctx, Outbox};
use crate::tase2::point::PointValue;
use crate::tase2::transfer_set::{parse_object_name, write_object_name, DsTransferSetValue};
use crate::tase2::{names, DsConditions};
use crate::time::Instant;

/// Index of a transfer set within a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransferSetId(pub u32);

/// A special report variable a data set may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Special {
    Name,
    TimeStamp,
    Conditions,
    EventCode,
}

impl Special {
    pub(crate) fn from_item(item: &str) -> Option<Special> {
        Some(match item {
            names::TRANSFER_SET_NAME => Special::Name,
            names::TRANSFER_SET_TIME_STAMP => Special::TimeStamp,
            names::DS_CONDITIONS_DETECTED => Special::Conditions,
            names::EVENT_CODE_DETECTED => Special::EventCode,
            _ => return None,
        })
    }

    fn item(self) -> &'static str {
        match self {
            Special::Name => names::TRANSFER_SET_NAME,
            Special::TimeStamp => names::TRANSFER_SET_TIME_STAMP,
            Special::Conditions => names::DS_CONDITIONS_DETECTED,
            Special::EventCode => names::EVENT_CODE_DETECTED,
        }
    }
}

/// A data set member, resolved when the transfer set starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Member {
    Point(u32),
    Special(Special),
    /// Another variable (read from the model when reported). Boxed: members are many and this
    /// one is rare.
    Other(alloc::boxed::Box<ObjectName>),
}

pub(crate) struct Run {
    /// The data set, as a full report names it.
    report_spec: VariableAccessSpecification,
    members: Vec<Member>,
    /// The special variables among the members, in member order (every report carries them).
    specials: Vec<Special>,
    /// Their variable specifications, encoded once at start (RBE and split reports head with them).
    special_specs: Vec<u8>,
    start_at: Instant,
    next_interval: Option<Instant>,
    next_integrity: Option<Instant>,
    buffer_deadline: Option<Instant>,
    /// Changed member indices, each once (`mark` says which are in).
    changed: Vec<u32>,
    mark: Vec<bool>,
    /// AllChangesReported: every change with its value.
    all_changes: VecDeque<(u32, PointValue)>,
    dropped: usize,
    /// Conditions waiting to be reported.
    due: DsConditions,
    due_since: Option<Instant>,
    event_code: i16,
    /// A critical report sent and not yet acknowledged: its timestamp and deadline.
    awaiting: Option<(i32, Instant)>,
    /// The owner's output is above the endpoint's cap: reports wait (changes are kept) and the
    /// timers are silent until the endpoint says it drained (`Tase2::writable`).
    pub(crate) blocked: bool,
}

impl Run {
    /// The data set reported.
    pub(crate) fn list(&self) -> &ObjectName {
        match &self.report_spec {
            VariableAccessSpecification::VariableListName(n) => n,
            // `start` only ever builds the list-name form.
            VariableAccessSpecification::ListOfVariable(_) => unreachable!(),
        }
    }
}

pub(crate) struct TransferSet {
    pub(crate) name: ObjectName,
    pub(crate) domain: u32,
    pub(crate) owner: Option<ConnectionId>,
    pub(crate) value: DsTransferSetValue,
    pub(crate) run: Option<Run>,
    /// Its deadline in `Tase2::set_timers`.
    scheduled: Option<Instant>,
    /// In `Tase2::dirty_sets`.
    dirty: bool,
}

impl TransferSet {
    pub(crate) fn new(name: ObjectName, domain: u32) -> Self {
        TransferSet {
            name,
            domain,
            owner: None,
            value: DsTransferSetValue::default(),
            run: None,
            scheduled: None,
            dirty: false,
        }
    }
}

/// Transfer sets with work to do now (changed, raised, started, stopped, unblocked, acked) and
/// transfer sets waiting for a deadline: `run` visits only those, so an input or a timeout costs
/// work for what is due, not for every transfer set of the server.
#[derive(Default)]
pub(crate) struct Schedule {
    timers: alloc::collections::BinaryHeap<core::cmp::Reverse<(Instant, u32)>>,
    dirty: Vec<u32>,
    work: Vec<u32>,
}

impl Schedule {
    /// Transfer set `i` changed: visit it at the next `run`.
    pub(crate) fn touch(&mut self, ts: &mut TransferSet, i: u32) {
        if !ts.dirty {
            ts.dirty = true;
            self.dirty.push(i);
        }
    }

    /// The earliest deadline (possibly of an entry gone stale: one early wake-up).
    pub(crate) fn next(&self) -> Option<Instant> {
        self.timers.peek().map(|core::cmp::Reverse((t, _))| *t)
    }

    fn reschedule(&mut self, ts: &mut TransferSet, i: u32, now: Instant) {
        // A deadline that is not in the future would only spin: whatever is due now waits for
        // the change (an ack, the reader draining) that touches the set again.
        let d = next_deadline(ts).filter(|&t| t > now);
        if d != ts.scheduled {
            ts.scheduled = d;
            if let Some(t) = d {
                self.timers.push(core::cmp::Reverse((t, i)));
            }
        }
    }

    /// Moving deadlines leave stale entries behind: keep the heap proportional to the sets.
    fn compact(&mut self, sets: &[TransferSet]) {
        if self.timers.len() > 2 * sets.len() + 64 {
            self.timers = sets
                .iter()
                .enumerate()
                .filter_map(|(i, ts)| ts.scheduled.map(|t| core::cmp::Reverse((t, i as u32))))
                .collect();
        }
    }
}

/// Reusable report encoding buffers.
#[derive(Default)]
pub(crate) struct Scratch {
    head_values: Vec<u8>,
    specs: Vec<u8>,
    values: Vec<u8>,
    item_spec: Vec<u8>,
    item_value: Vec<u8>,
}

/// The (transfer set, member index) pairs of a point, in the order they were added. The first is
/// kept inline: a point is usually in one running transfer set, and an update then reads no
/// memory beyond its entry.
#[derive(Default)]
pub(crate) struct Subs {
    first: Option<(u32, u32)>,
    // Boxed: 8 octets instead of a `Vec`'s 24 keep `PointEntry` in one cache line.
    #[allow(clippy::box_collection)]
    more: Option<alloc::boxed::Box<Vec<(u32, u32)>>>,
}

impl Subs {
    pub(crate) fn push(&mut self, sub: (u32, u32)) {
        if self.first.is_none() {
            self.first = Some(sub);
        } else {
            self.more.get_or_insert_with(Default::default).push(sub);
        }
    }

    /// Forget every pair of transfer set `ts`, keeping the others in order.
    pub(crate) fn remove_set(&mut self, ts: u32) {
        if self.first.is_some_and(|(t, _)| t == ts) {
            self.first = None;
        }
        if let Some(more) = &mut self.more {
            more.retain(|&(t, _)| t != ts);
            if self.first.is_none() && !more.is_empty() {
                self.first = Some(more.remove(0));
            }
            if more.is_empty() {
                self.more = None;
            }
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let more = self.more.as_deref().map_or(&[][..], Vec::as_slice);
        self.first.into_iter().chain(more.iter().copied())
    }
}

fn secs(s: i32) -> Duration {
    Duration::from_secs(u64::from(s.max(0) as u32))
}

pub(crate) fn start(
    ts: &mut TransferSet,
    index: u32,
    points: &mut [PointEntry],
    members: Vec<Member>,
    now: Instant,
) {
    for (i, m) in members.iter().enumerate() {
        if let Member::Point(p) = m {
            points[*p as usize].subs.push((index, i as u32));
        }
    }
    let v = &ts.value;
    let wait = i64::from(v.start_time) - now.utc_seconds();
    let start_at = if v.start_time != 0 && wait > 0 {
        now + Duration::from_secs(wait as u64)
    } else {
        now
    };
    let timer = |cond: DsConditions, period: i32| {
        v.conditions.contains(cond).then(|| start_at + secs(period))
    };
    let specials: Vec<Special> = members
        .iter()
        .filter_map(|m| match m {
            Member::Special(s) => Some(*s),
            _ => None,
        })
        .collect();
    let mut special_specs = Vec::new();
    for sp in &specials {
        let name = match &v.data_set {
            ObjectName::DomainSpecific { domain, .. } => {
                ObjectName::domain(domain.as_str(), sp.item())
            }
            _ => ObjectName::vmd(sp.item()),
        };
        write_spec(&mut Writer::new(&mut special_specs), &name);
    }
    ts.run = Some(Run {
        report_spec: VariableAccessSpecification::VariableListName(v.data_set.clone()),
        specials,
        special_specs,
        mark: alloc::vec![false; members.len()],
        members,
        start_at,
        next_interval: timer(DsConditions::INTERVAL, v.interval),
        next_integrity: timer(DsConditions::INTEGRITY, v.integrity_check),
        buffer_deadline: None,
        changed: Vec::new(),
        all_changes: VecDeque::new(),
        dropped: 0,
        due: DsConditions::default(),
        due_since: None,
        event_code: 0,
        awaiting: None,
        blocked: false,
    });
}

pub(crate) fn stop(ts: &mut TransferSet, index: u32, points: &mut [PointEntry]) {
    if let Some(run) = ts.run.take() {
        for m in &run.members {
            if let Member::Point(p) = m {
                points[*p as usize].subs.remove_set(index);
            }
        }
    }
    ts.value.status = false;
}

pub(crate) fn note_change(
    ts: &mut TransferSet,
    config: &Tase2Config,
    now: Instant,
    member: u32,
    value: &PointValue,
) {
    let v = &ts.value;
    let Some(run) = ts.run.as_mut() else { return };
    if !v.conditions.contains(DsConditions::OBJECT_CHANGE) || now < run.start_at {
        return;
    }
    if v.all_changes_reported {
        if run.all_changes.len() >= config.max_buffered_changes {
            run.all_changes.pop_front();
            run.dropped += 1;
        }
        run.all_changes.push_back((member, *value));
    } else if let Some(m) = run.mark.get_mut(member as usize) {
        if !*m {
            *m = true;
            run.changed.push(member);
        }
    }
    if run.buffer_deadline.is_none() {
        run.buffer_deadline = Some(now + secs(v.buffer_time));
    }
}

pub(crate) fn raise(ts: &mut TransferSet, now: Instant, cond: DsConditions, code: i16) {
    let v = &ts.value;
    let Some(run) = ts.run.as_mut() else { return };
    if !v.conditions.contains(cond) || now < run.start_at {
        return;
    }
    if cond == DsConditions::EXTERNAL_EVENT {
        if v.event_code_requested != 0 && v.event_code_requested != code {
            return;
        }
        run.event_code = code;
    }
    run.due = run.due | cond;
    run.due_since.get_or_insert(now);
}

pub(crate) fn next_deadline(ts: &TransferSet) -> Option<Instant> {
    let run = ts.run.as_ref()?;
    if run.blocked {
        return None;
    }
    let mut d = [
        run.next_interval,
        run.next_integrity,
        run.buffer_deadline,
        run.awaiting.map(|a| a.1),
        None,
    ];
    if run.awaiting.is_some() {
        // Due reports wait for the ack (or its deadline, above), at most TLE when one is set.
        if ts.value.tle > 0 {
            d[4] = run.due_since.map(|s| s + secs(ts.value.tle));
        }
    } else if !run.due.is_empty() {
        d[4] = run.due_since;
    }
    d.into_iter().flatten().min()
}

/// Fire due timers and send due reports: only for the transfer sets that changed or whose
/// deadline passed (see [`Schedule`]).
#[inline]
pub(crate) fn run(h: &mut Tase2, out: &mut Outbox<'_, Tase2Event>, now: Instant) {
    let Tase2 {
        sets,
        points,
        specs,
        scratch,
        config,
        schedule,
        ..
    } = h;
    let points = Points {
        entries: points,
        specs,
    };
    let mut work = core::mem::take(&mut schedule.work);
    work.clear();
    work.append(&mut schedule.dirty);
    while let Some(&core::cmp::Reverse((t, i))) = schedule.timers.peek() {
        if t > now {
            break;
        }
        schedule.timers.pop();
        let ts = &mut sets[i as usize];
        if ts.scheduled == Some(t) {
            ts.scheduled = None;
            if !ts.dirty {
                ts.dirty = true;
                work.push(i);
            }
        }
    }
    for &i in &work {
        let ts = &mut sets[i as usize];
        ts.dirty = false;
        run_one(ts, out, scratch, &points, config, now);
        schedule.reschedule(ts, i, now);
    }
    schedule.compact(sets);
    // Stale entries on top would make `poll_timeout` report a deadline nobody has.
    while let Some(&core::cmp::Reverse((t, i))) = schedule.timers.peek() {
        if sets[i as usize].scheduled == Some(t) {
            break;
        }
        schedule.timers.pop();
    }
    schedule.work = work;
}

fn run_one(
    ts: &mut TransferSet,
    out: &mut Outbox<'_, Tase2Event>,
    scratch: &mut Scratch,
    points: &Points<'_>,
    config: &Tase2Config,
    now: Instant,
) {
    let Some(owner) = ts.owner else { return };
    let v = &ts.value;
    let Some(run) = ts.run.as_mut() else { return };
    if let Some((stamp, deadline)) = run.awaiting {
        if deadline <= now {
            run.awaiting = None;
            out.emit(Tase2Event::AckTimeout {
                id: owner,
                name: ts.name.clone(),
                timestamp: stamp,
            });
        }
    }
    let fire = |next: &mut Option<Instant>,
                cond: DsConditions,
                period: i32,
                run_due: &mut (DsConditions, Option<Instant>)| {
        if let Some(t) = *next {
            if t <= now {
                run_due.0 = run_due.0 | cond;
                run_due.1.get_or_insert(t);
                let p = secs(period.max(1));
                let mut n = t + p;
                while n <= now {
                    n = n + p;
                }
                *next = Some(n);
            }
        }
    };
    let mut due = (run.due, run.due_since);
    fire(
        &mut run.next_interval,
        DsConditions::INTERVAL,
        v.interval,
        &mut due,
    );
    fire(
        &mut run.next_integrity,
        DsConditions::INTEGRITY,
        v.integrity_check,
        &mut due,
    );
    if run.buffer_deadline.is_some_and(|t| t <= now) {
        run.buffer_deadline = None;
        if !run.changed.is_empty() || !run.all_changes.is_empty() {
            due.0 = due.0 | DsConditions::OBJECT_CHANGE;
            due.1.get_or_insert(now);
        }
    }
    (run.due, run.due_since) = due;
    if run.dropped > 0 {
        out.emit(Tase2Event::ChangesDropped {
            id: owner,
            name: ts.name.clone(),
            count: core::mem::take(&mut run.dropped),
        });
    }
    if run.due.is_empty() {
        return;
    }
    if run.awaiting.is_some() {
        let expired = v.tle > 0
            && run
                .due_since
                .is_some_and(|s| now.saturating_duration_since(s) >= secs(v.tle));
        if expired {
            clear(run);
            out.emit(Tase2Event::ReportExpired {
                id: owner,
                name: ts.name.clone(),
            });
        }
        return;
    }
    if out.is_blocked(owner) {
        // A slow reader: keep what is due (RBE marks keep the latest value of each changed
        // point) and report when its output drains.
        run.blocked = true;
        return;
    }
    let stamp = now.utc_seconds().clamp(0, i64::from(i32::MAX)) as i32;
    let due = run.due;
    let event_code = run.event_code;
    let full_conditions = DsConditions(due.0 & !DsConditions::OBJECT_CHANGE.0);
    let header = Header {
        ts: &ts.name,
        stamp,
        event_code,
    };
    if due.contains(DsConditions::OBJECT_CHANGE) && v.rbe {
        send_changes(out, owner, scratch, points, run, &header);
    }
    if !full_conditions.is_empty() || (due.contains(DsConditions::OBJECT_CHANGE) && !v.rbe) {
        let conditions = if v.rbe { full_conditions } else { due };
        send_full(out, owner, scratch, points, run, &header, conditions);
    }
    clear(run);
    if v.critical {
        run.awaiting = Some((stamp, now + config.ack_timeout));
    }
}

fn clear(run: &mut Run) {
    for &m in &run.changed {
        run.mark[m as usize] = false;
    }
    run.changed.clear();
    run.all_changes.clear();
    run.due = DsConditions::default();
    run.due_since = None;
    run.event_code = 0;
}

struct Header<'a> {
    ts: &'a ObjectName,
    stamp: i32,
    event_code: i16,
}

fn write_special(w: &mut Writer<'_>, s: Special, h: &Header<'_>, conditions: DsConditions) {
    match s {
        Special::Name => write_object_name(w, h.ts),
        Special::TimeStamp => write::integer(w, i64::from(h.stamp)),
        Special::Conditions => write::bit_string(w, &[conditions.to_octet()], 5),
        Special::EventCode => write::integer(w, i64::from(h.event_code)),
    }
}

fn write_member(
    w: &mut Writer<'_>,
    m: &Member,
    points: &[PointEntry],
    model: &crate::server::Vmd,
    h: &Header<'_>,
    conditions: DsConditions,
) {
    match m {
        Member::Point(p) => {
            let p = &points[*p as usize];
            p.ptype.encode(&p.value, w);
        }
        Member::Special(s) => write_special(w, *s, h, conditions),
        Member::Other(name) => match model.variable(name) {
            Some(v) if v.slot.is_none() => v.value.encode(w),
            _ => crate::mms::write_access_failure(
                w,
                crate::mms::DataAccessError::OBJECT_NON_EXISTENT,
            ),
        },
    }
}

/// The points with their encoded variable specifications.
struct Points<'a> {
    entries: &'a [PointEntry],
    specs: &'a [u8],
}

impl Points<'_> {
    /// Point `p`'s encoded variable specification.
    fn spec(&self, p: &PointEntry) -> &[u8] {
        let (at, len) = (p.spec.0 as usize, p.spec.1 as usize);
        &self.specs[at..at + len]
    }
}

/// A variable specification naming `name`, as a report by list of variables carries it.
pub(crate) fn write_spec(w: &mut Writer<'_>, name: &ObjectName) {
    w.constructed(Tag::SEQUENCE, |w| {
        w.constructed(Tag::context_cons(0), |w| name.encode(w))
    });
}

/// A full report: all members, named by the data set; split into lists of variables if it does
/// not fit one PDU.
fn send_full(
    out: &mut Outbox<'_, Tase2Event>,
    id: ConnectionId,
    scratch: &mut Scratch,
    points: &Points<'_>,
    run: &Run,
    h: &Header<'_>,
    conditions: DsConditions,
) {
    let model = out.model;
    let sent = out.send_raw(id, |w| {
        crate::mms::write_information_report(w, &run.report_spec, |w| {
            for m in &run.members {
                write_member(w, m, points.entries, model, h, conditions);
            }
        })
    });
    if sent == Err(crate::assoc::ApiError::PduTooLarge) {
        let items =
            run.members.iter().enumerate().filter_map(|(i, m)| {
                (!matches!(m, Member::Special(_))).then_some((i as u32, None))
            });
        send_split(out, id, scratch, points, run, h, conditions, items);
    }
}

/// An RBE report: the data set's special variables, then the changed members.
fn send_changes(
    out: &mut Outbox<'_, Tase2Event>,
    id: ConnectionId,
    scratch: &mut Scratch,
    points: &Points<'_>,
    run: &Run,
    h: &Header<'_>,
) {
    let conditions = DsConditions::OBJECT_CHANGE;
    if run.all_changes.is_empty() {
        let items = run.changed.iter().map(|&m| (m, None));
        send_split(out, id, scratch, points, run, h, conditions, items);
    } else {
        let items = run.all_changes.iter().map(|(m, v)| (*m, Some(*v)));
        send_split(out, id, scratch, points, run, h, conditions, items);
    }
}

/// Send `items` (member index, value snapshot) as InformationReports by list of variables, each
/// headed by the data set's special variables, as many per PDU as the negotiated size allows.
#[allow(clippy::too_many_arguments)]
fn send_split(
    out: &mut Outbox<'_, Tase2Event>,
    id: ConnectionId,
    s: &mut Scratch,
    points: &Points<'_>,
    run: &Run,
    h: &Header<'_>,
    conditions: DsConditions,
    items: impl Iterator<Item = (u32, Option<PointValue>)>,
) {
    let Some(max) = out.max_pdu_size(id) else {
        return;
    };
    let model = out.model;
    // Envelope: [3] [0] [0]listOfVariable [0]listOfAccessResult, each tag with up to a 4-octet length.
    let budget = max.saturating_sub(4 * 6);
    s.head_values.clear();
    for &sp in &run.specials {
        write_special(&mut Writer::new(&mut s.head_values), sp, h, conditions);
    }
    let head = run.special_specs.len() + s.head_values.len();
    s.specs.clear();
    s.values.clear();
    let mut count = 0usize;
    for (m, snapshot) in items {
        // Each item is written straight after the previous ones, and moved to the next PDU in the
        // rare case it does not fit this one.
        let (spec_at, value_at) = (s.specs.len(), s.values.len());
        let member = &run.members[m as usize];
        match member {
            Member::Point(p) => {
                let p = &points.entries[*p as usize];
                s.specs.extend_from_slice(points.spec(p));
                let v = snapshot.unwrap_or(p.value);
                p.ptype.encode(&v, &mut Writer::new(&mut s.values));
            }
            Member::Other(name) => {
                write_spec(&mut Writer::new(&mut s.specs), name);
                write_member(
                    &mut Writer::new(&mut s.values),
                    member,
                    points.entries,
                    model,
                    h,
                    conditions,
                );
            }
            Member::Special(_) => continue,
        }
        let item = (s.specs.len() - spec_at) + (s.values.len() - value_at);
        if head + item > budget {
            s.specs.truncate(spec_at);
            s.values.truncate(value_at);
            out.emit(Tase2Event::ReportMemberTooLarge {
                id,
                name: h.ts.clone(),
            });
            continue;
        }
        if head + s.specs.len() + s.values.len() > budget {
            s.item_spec.clear();
            s.item_spec.extend_from_slice(&s.specs[spec_at..]);
            s.item_value.clear();
            s.item_value.extend_from_slice(&s.values[value_at..]);
            s.specs.truncate(spec_at);
            s.values.truncate(value_at);
            flush(out, id, s, &run.special_specs);
            s.specs.extend_from_slice(&s.item_spec);
            s.values.extend_from_slice(&s.item_value);
            count = 0;
        }
        count += 1;
    }
    if count > 0 {
        flush(out, id, s, &run.special_specs);
    }
}

/// Octets of a BER identifier (low tag number) and definite length for `len` content octets.
fn header_len(len: usize) -> usize {
    if len < 0x80 {
        2
    } else {
        2 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

/// Send the report in the scratch buffers.
fn flush(out: &mut Outbox<'_, Tase2Event>, id: ConnectionId, s: &mut Scratch, head_specs: &[u8]) {
    let Scratch {
        head_values,
        specs,
        values,
        ..
    } = s;
    let _ = out.send_raw(id, |w| {
        write_report(w, [head_specs, specs], [head_values, values])
    });
    specs.clear();
    values.clear();
}

/// An InformationReport by list of variables whose variable specifications and access results are
/// already encoded (each the concatenation of two parts). The lengths are known, so the envelope
/// is written ahead of its content and nothing is moved after the copy.
fn write_report(w: &mut Writer<'_>, specs: [&[u8]; 2], values: [&[u8]; 2]) {
    let specs_len = specs[0].len() + specs[1].len();
    let values_len = values[0].len() + values[1].len();
    let report_len = header_len(specs_len) + specs_len + header_len(values_len) + values_len;
    // unconfirmed-PDU [3] { informationReport [0] { listOfVariable [0], listOfAccessResult [0] } }
    w.tag(Tag::context_cons(3));
    w.length(header_len(report_len) + report_len);
    w.tag(Tag::context_cons(0));
    w.length(report_len);
    w.tag(Tag::context_cons(0));
    w.length(specs_len);
    w.raw(specs[0]);
    w.raw(specs[1]);
    w.tag(Tag::context_cons(0));
    w.length(values_len);
    w.raw(values[0]);
    w.raw(values[1]);
}

/// A client's InformationReport: `Transfer_Report_ACK` / `Transfer_Report_NACK`.
pub(crate) fn acknowledgement(
    h: &mut Tase2,
    ctx: &mut Ctx<'_, Tase2Event>,
    report: &InformationReport,
) {
    let VariableAccessSpecification::ListOfVariable(vars) = &report.variables else {
        ctx.emit(Tase2Event::UnexpectedReport { id: ctx.id });
        return;
    };
    let item = |i: usize| vars.get(i).map(|v| v.name.item());
    let value = |i: usize| match report.results.get(i) {
        Some(AccessResult::Success(d)) => Some(d),
        _ => None,
    };
    let ack = match item(0) {
        Some(names::TRANSFER_REPORT_ACK) => true,
        Some(names::TRANSFER_REPORT_NACK) => false,
        _ => {
            ctx.emit(Tase2Event::UnexpectedReport { id: ctx.id });
            return;
        }
    };
    let Some(name) = value(0).and_then(parse_object_name) else {
        ctx.emit(Tase2Event::UnexpectedReport { id: ctx.id });
        return;
    };
    let stamp = (1..vars.len())
        .find(|&i| item(i) == Some(names::TRANSFER_SET_TIME_STAMP))
        .and_then(value)
        .and_then(|d| match d {
            Data::Integer(v) => i32::try_from(*v).ok(),
            _ => None,
        });
    let id = ctx.id;
    let Some(i) = h
        .sets
        .iter()
        .position(|t| t.name == name && t.owner == Some(id))
    else {
        ctx.emit(Tase2Event::UnexpectedReport { id });
        return;
    };
    let ts = &mut h.sets[i];
    h.schedule.touch(ts, i as u32);
    let Some(run) = ts.run.as_mut() else {
        ctx.emit(Tase2Event::UnexpectedReport { id });
        return;
    };
    match (ack, run.awaiting) {
        (true, Some((expected, _))) if stamp.is_none_or(|s| s == expected) => {
            run.awaiting = None;
            ctx.emit(Tase2Event::ReportAcked {
                id,
                name,
                timestamp: expected,
            });
        }
        (false, Some(_)) => {
            run.awaiting = None;
            ctx.emit(Tase2Event::ReportNacked { id, name });
        }
        _ => ctx.emit(Tase2Event::UnexpectedReport { id }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_keep_their_order_through_removals() {
        let mut s = Subs::default();
        let all = |s: &Subs| s.iter().collect::<Vec<_>>();
        assert_eq!(all(&s), []);
        for sub in [(3, 0), (5, 1), (7, 2), (5, 3)] {
            s.push(sub);
        }
        assert_eq!(all(&s), [(3, 0), (5, 1), (7, 2), (5, 3)]);
        s.remove_set(3);
        assert_eq!(all(&s), [(5, 1), (7, 2), (5, 3)]);
        s.remove_set(5);
        assert_eq!(all(&s), [(7, 2)]);
        assert!(s.more.is_none());
        s.push((9, 4));
        s.remove_set(7);
        assert_eq!(all(&s), [(9, 4)]);
        s.remove_set(9);
        assert_eq!(all(&s), []);
        s.remove_set(1);
        assert_eq!(all(&s), []);
    }

    #[test]
    fn a_point_entry_is_one_cache_line() {
        assert_eq!(core::mem::size_of::<PointEntry>(), 64);
    }

    #[test]
    fn the_report_envelope_is_the_nested_encoding() {
        for (a, b) in [
            (0, 3),
            (20, 100),
            (60, 70),
            (200, 56),
            (300, 70_000),
            (1, 65_535),
        ] {
            let specs: Vec<u8> = (0..a).map(|i| i as u8).collect();
            let values: Vec<u8> = (0..b).map(|i| (i * 7) as u8).collect();
            let (h1, h2) = (&specs[..a / 3], &values[..b / 2]);
            let mut direct = Vec::new();
            write_report(
                &mut Writer::new(&mut direct),
                [h1, &specs[a / 3..]],
                [h2, &values[b / 2..]],
            );
            let mut nested = Vec::new();
            Writer::new(&mut nested).constructed(Tag::context_cons(3), |w| {
                w.constructed(Tag::context_cons(0), |w| {
                    w.constructed(Tag::context_cons(0), |w| w.raw(&specs));
                    w.constructed(Tag::context_cons(0), |w| w.raw(&values));
                })
            });
            assert_eq!(direct, nested, "{a} + {b}");
        }
    }
}
