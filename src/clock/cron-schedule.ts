// A cron schedule: the five standard fields (minute, hour, day of month, month, day of
// week) and the times they name, in UTC or in an IANA time zone, as Kubernetes CronJob's
// `schedule` and `timeZone` (docs/decisions/0250-cron-backup-schedules.md). The backup
// schedule of a QuorumKVCluster (spec.backup.schedule) is one.
//
// What it accepts, field by field: `*`, a number, a range `a-b`, a step `*/n` or
// `a-b/n`, and comma lists of those; month and day-of-week also take three-letter
// English names (`jan`, `mon`, any case), and day-of-week 7 is Sunday like 0. The macros
// @yearly (@annually), @monthly, @weekly, @daily (@midnight) and @hourly stand for their
// five fields. When both day fields are restricted, a day matches either (Vixie cron's
// rule: `0 3 1 * mon` is the 1st and every Monday); a day field that is `*` leaves the
// other alone. Refused, each with a message naming the field: a value out of range, a
// backwards range, a step on a single value (`5/15`; write `5-59/15`), an empty list
// item, a sixth field (seconds or a year), @reboot and @every, and an expression that
// never fires (`0 0 31 2 *`).
//
// Times in a time zone are local wall-clock times, and two of them need a rule when the
// zone's offset changes (RFC 5545 and cron itself differ in details; these are ours):
//  - a local time that a change skips (02:30 when clocks go from 02:00 to 03:00) fires
//    at the change itself (03:00 new time), once, however many skipped times there are;
//  - a local time that a change repeats (02:30 when clocks go back from 03:00 to 02:00)
//    fires at its first occurrence only.
// Both keep the instants in the order of the local times, which is what lets nextAfter
// search local times in order and stop at the first one later than its argument.
import assert from 'node:assert/strict';
import { ConfigInvalidError } from '../errors/errors.js';
import { CRON_EXPRESSION_CHARS_MAX, CRON_SEARCH_DAYS_MAX, TIME_ZONE_CHARS_MAX } from '../limits.js';

/** The time zone a schedule without one is read in. */
export const CRON_TIME_ZONE_DEFAULT = 'UTC';

/**
 * What a time zone name may look like before Intl is asked: an IANA name (`UTC`,
 * `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`). Offsets (`+02:00`)
 * and abbreviations with spaces are not names. The CRD's pattern is this one's source.
 */
export const TIME_ZONE_PATTERN = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

const DAY_MS = 86_400_000;

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names of the values from `min` on, lower case. */
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // 7 is Sunday too (as in Vixie cron and Kubernetes); it is folded into 0 below.
  { name: 'day-of-week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The most days each month can have (February in a leap year). */
const MONTH_DAYS_MAX = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A local wall-clock time to the minute; month 1..12. */
interface WallMinute {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

/** One parsed field: the values it allows, ascending, and whether it is a bare `*`. */
interface FieldValues {
  readonly values: readonly number[];
  readonly allows: ReadonlySet<number>;
  readonly unrestricted: boolean;
}

export class CronSchedule {
  private readonly minutes: FieldValues;
  private readonly hours: FieldValues;
  private readonly daysOfMonth: FieldValues;
  private readonly months: FieldValues;
  private readonly daysOfWeek: FieldValues;
  /** Undefined for UTC, whose wall clock is the epoch's and needs no Intl. */
  private readonly wallClock: Intl.DateTimeFormat | undefined;

  private constructor(
    /** The expression as written (trimmed). */
    readonly expression: string,
    readonly timeZone: string,
    fields: readonly FieldValues[],
  ) {
    [this.minutes, this.hours, this.daysOfMonth, this.months, this.daysOfWeek] = fields as [FieldValues, FieldValues, FieldValues, FieldValues, FieldValues];
    // Other names of UTC ('Etc/UTC') go through Intl and come out the same.
    this.wallClock = timeZone === 'UTC' ? undefined : wallClockFormat(timeZone);
  }

  /**
   * Parses `expression` read in `timeZone`; a ConfigInvalidError says what is wrong,
   * quoting the field, for a resource's status or a log line.
   */
  static parse(expression: string, timeZone: string = CRON_TIME_ZONE_DEFAULT): CronSchedule {
    if (expression.length > CRON_EXPRESSION_CHARS_MAX) throw new ConfigInvalidError(`the cron expression is longer than ${CRON_EXPRESSION_CHARS_MAX} characters`);
    checkTimeZone(timeZone);
    const trimmed = expression.trim();
    const expanded = trimmed.startsWith('@') ? expandMacro(trimmed) : trimmed;
    const texts = expanded.split(/\s+/);
    if (expanded === '' || texts.length !== FIELDS.length) {
      throw new ConfigInvalidError(`cron expression "${trimmed}" has ${expanded === '' ? 0 : texts.length} fields; it needs 5: minute hour day-of-month month day-of-week (seconds and years are not supported)`);
    }
    const fields = FIELDS.map((rule, index) => parseField(texts[index]!, rule));
    checkFires(trimmed, fields[2]!, fields[3]!, fields[4]!);
    return new CronSchedule(trimmed, timeZone, fields);
  }

  /** The first time the schedule names strictly after `afterMs` (ms since the epoch). */
  nextAfter(afterMs: number): number {
    assert.ok(Number.isFinite(afterMs), 'nextAfter needs a time');
    // Local times before the one `afterMs` shows all fire at or before it (the rules above
    // keep instants in the order of local times), so the search starts at that minute.
    const start = this.wallMinuteOf(afterMs);
    for (let dayIndex = 0; dayIndex <= CRON_SEARCH_DAYS_MAX; dayIndex += 1) {
      const date = new Date(Date.UTC(start.year, start.month - 1, start.day + dayIndex));
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth() + 1;
      const day = date.getUTCDate();
      if (!this.months.allows.has(month) || !this.dayMatches(day, date.getUTCDay())) continue;
      for (const hour of this.hours.values) {
        if (dayIndex === 0 && hour < start.hour) continue;
        for (const minute of this.minutes.values) {
          if (dayIndex === 0 && hour === start.hour && minute < start.minute) continue;
          const atMs = this.instantOf({ year, month, day, hour, minute });
          if (atMs > afterMs) return atMs;
        }
      }
    }
    // parse() refused every expression without a day in CRON_SEARCH_DAYS_MAX.
    assert.fail(`cron expression "${this.expression}" has no time within ${CRON_SEARCH_DAYS_MAX} days of ${new Date(afterMs).toISOString()}`);
  }

  toString(): string {
    return this.timeZone === CRON_TIME_ZONE_DEFAULT ? this.expression : `${this.expression} (${this.timeZone})`;
  }

  /** Vixie cron: both day fields restricted means either; otherwise both must match. */
  private dayMatches(dayOfMonth: number, dayOfWeek: number): boolean {
    const byMonthDay = this.daysOfMonth.allows.has(dayOfMonth);
    const byWeekDay = this.daysOfWeek.allows.has(dayOfWeek);
    if (!this.daysOfMonth.unrestricted && !this.daysOfWeek.unrestricted) return byMonthDay || byWeekDay;
    return byMonthDay && byWeekDay;
  }

  /** The wall clock of the zone at `ms`, to the minute. */
  private wallMinuteOf(ms: number): WallMinute {
    const wall = new Date(this.wallMsOf(ms));
    return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(), hour: wall.getUTCHours(), minute: wall.getUTCMinutes() };
  }

  /** The wall clock of the zone at `ms`, as the instant it would be in UTC (to the second). */
  private wallMsOf(ms: number): number {
    if (this.wallClock === undefined) return ms;
    const parts: Record<string, number> = {};
    for (const part of this.wallClock.formatToParts(ms)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    // hourCycle h23 gives 0..23; `% 24` guards an ICU that still writes midnight as 24.
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
  }

  /** The instant a local time fires at, by the two rules of the header. */
  private instantOf(local: WallMinute): number {
    const asUtcMs = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
    if (this.wallClock === undefined) return asUtcMs;
    // The zone's offsets a day either side: a local time is one of these two instants (a
    // zone changes its offset at most once a day), both when repeated, neither when skipped.
    const offsetEarlierMs = this.wallMsOf(asUtcMs - DAY_MS) - (asUtcMs - DAY_MS);
    const offsetLaterMs = this.wallMsOf(asUtcMs + DAY_MS) - (asUtcMs + DAY_MS);
    const candidates = [asUtcMs - offsetEarlierMs, asUtcMs - offsetLaterMs].filter((ms) => this.wallMsOf(ms) === asUtcMs);
    if (candidates.length > 0) return Math.min(...candidates);
    // Skipped: the change is the first instant whose wall clock is past this local time.
    // Between the two guesses the wall clock runs forward with one jump; find it by halving.
    let beforeMs = Math.min(asUtcMs - offsetEarlierMs, asUtcMs - offsetLaterMs);
    let afterMs = Math.max(asUtcMs - offsetEarlierMs, asUtcMs - offsetLaterMs);
    assert.ok(this.wallMsOf(beforeMs) < asUtcMs && this.wallMsOf(afterMs) > asUtcMs, `no offset change around ${local.year}-${local.month}-${local.day} ${local.hour}:${local.minute} in ${this.timeZone}`);
    while (afterMs - beforeMs > 1_000) {
      const middleMs = beforeMs + Math.floor((afterMs - beforeMs) / 2_000) * 1_000;
      if (this.wallMsOf(middleMs) > asUtcMs) afterMs = middleMs;
      else beforeMs = middleMs;
    }
    return afterMs;
  }
}

function expandMacro(text: string): string {
  const macro = MACROS[text.toLowerCase()];
  if (macro !== undefined) return macro;
  if (/^@every\b/i.test(text)) throw new ConfigInvalidError(`cron expression "${text}": @every is not supported; use spec.backup.every for an interval`);
  throw new ConfigInvalidError(`cron expression "${text}" is not a macro this knows: ${Object.keys(MACROS).join(', ')}`);
}

function parseField(text: string, rule: FieldRule): FieldValues {
  const allows = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw new ConfigInvalidError(`cron ${rule.name} field "${text}" has an empty list item`);
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new ConfigInvalidError(`cron ${rule.name} field "${item}" has two steps`);
    let low: number;
    let high: number;
    if (range === '*') {
      [low, high] = [rule.min, rule.max];
    } else {
      const ends = range!.split('-');
      if (ends.length > 2) throw new ConfigInvalidError(`cron ${rule.name} field "${item}" is not a value, a range a-b or *`);
      low = valueOf(ends[0]!, rule, item);
      high = ends.length === 2 ? valueOf(ends[1]!, rule, item) : low;
      if (high < low) throw new ConfigInvalidError(`cron ${rule.name} range "${item}" runs backwards; ranges do not wrap around`);
      if (stepText !== undefined && ends.length === 1) throw new ConfigInvalidError(`cron ${rule.name} field "${item}" has a step on a single value; write ${range}-${rule.max}/${stepText} or */${stepText}`);
    }
    const span = rule.max - rule.min + 1;
    const step = stepText === undefined ? 1 : /^[0-9]{1,3}$/.test(stepText) ? Number(stepText) : NaN;
    if (!(step >= 1 && step <= span)) throw new ConfigInvalidError(`cron ${rule.name} step "${stepText ?? ''}" in "${item}" is not a whole number in 1..${span}`);
    for (let value = low; value <= high; value += step) allows.add(rule.name === 'day-of-week' && value === 7 ? 0 : value);
  }
  // A bare `*` (or `*/1`) leaves the day-of-month/day-of-week OR rule out, as in
  // Kubernetes CronJob; `*/2` is a restriction there and here.
  const unrestricted = text === '*' || text === '*/1';
  return { values: [...allows].sort((a, b) => a - b), allows, unrestricted };
}

function valueOf(text: string, rule: FieldRule, item: string): number {
  const named = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return rule.min + named;
  if (!/^[0-9]{1,2}$/.test(text)) {
    const names = rule.names === undefined ? '' : ` or a name (${rule.names[0]}..${rule.names[rule.names.length - 1]})`;
    throw new ConfigInvalidError(`cron ${rule.name} field "${item}": "${text}" is not a number${names}`);
  }
  const value = Number(text);
  if (value < rule.min || value > rule.max) throw new ConfigInvalidError(`cron ${rule.name} value ${value} in "${item}" is outside ${rule.min}..${rule.max}`);
  return value;
}

/**
 * Refuses an expression that names no day: with day-of-week `*`, a day of month that no
 * month of it has (31 in February, April, June, September, November only).
 */
function checkFires(expression: string, daysOfMonth: FieldValues, months: FieldValues, daysOfWeek: FieldValues): void {
  // A restricted day-of-week is OR-ed in, or alone; either way some day of every week fires.
  if (!daysOfWeek.unrestricted) return;
  const someDay = months.values.some((month) => daysOfMonth.values.some((day) => day <= MONTH_DAYS_MAX[month - 1]!));
  if (!someDay) throw new ConfigInvalidError(`cron expression "${expression}" never fires: none of its months has day ${daysOfMonth.values.join(',')}`);
}

/** Refuses, with a ConfigInvalidError, a time zone name that is malformed or that Intl does not know. */
export function checkTimeZone(timeZone: string): void {
  if (timeZone.length > TIME_ZONE_CHARS_MAX || !TIME_ZONE_PATTERN.test(timeZone)) {
    throw new ConfigInvalidError(`time zone ${JSON.stringify(timeZone.slice(0, TIME_ZONE_CHARS_MAX))} is not an IANA time zone name such as Europe/Berlin (at most ${TIME_ZONE_CHARS_MAX} characters)`);
  }
  try {
    wallClockFormat(timeZone);
  } catch {
    throw new ConfigInvalidError(`time zone "${timeZone}" is not one this Node.js knows (an IANA name such as Europe/Berlin or America/New_York)`);
  }
}

function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
}
