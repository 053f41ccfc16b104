// The cron schedule of a backup (src/clock/cron-schedule.ts): the next time after a given
// one for every kind of field (lists, ranges, steps, names, macros), over month ends,
// year ends and leap years, Vixie cron's day-of-month OR day-of-week rule, in time zones
// and across both kinds of daylight-saving change; every malformed expression refused
// with CONFIG_INVALID and a message naming what is wrong; and, for random expressions,
// the same answers as a minute-by-minute scan written independently here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronSchedule } from '../../src/clock/cron-schedule.js';
import { isQkvError } from '../../src/errors/errors.js';
import { CRON_EXPRESSION_CHARS_MAX, TIME_ZONE_CHARS_MAX } from '../../src/limits.js';

/** The next `count` times of `expression` after `from`, as ISO strings. */
function next(expression: string, from: string, count = 1, timeZone?: string): string[] {
  const schedule = CronSchedule.parse(expression, timeZone);
  const times: string[] = [];
  let atMs = Date.parse(from);
  for (let index = 0; index < count; index += 1) {
    atMs = schedule.nextAfter(atMs);
    times.push(new Date(atMs).toISOString().replace('.000Z', 'Z'));
  }
  return times;
}

const refused = (message: RegExp) => (error: unknown) => isQkvError(error) && error.code === 'CONFIG_INVALID' && message.test(error.message);

describe('cron schedule: fields', () => {
  it('fires strictly after the time given, at the minute the fields name', () => {
    assert.deepEqual(next('0 3 * * *', '2026-12-06T12:00:00Z', 2), ['2026-12-07T03:00:00Z', '2026-12-08T03:00:00Z']);
    // Exactly at a time: the next one, not the same.
    assert.deepEqual(next('0 3 * * *', '2026-12-07T03:00:00Z'), ['2026-12-08T03:00:00Z']);
    // Seconds into the minute of a time: that time has passed.
    assert.deepEqual(next('* * * * *', '2026-12-07T03:00:30.500Z', 2), ['2026-12-07T03:01:00Z', '2026-12-07T03:02:00Z']);
  });

  it('takes lists, ranges, steps over * and over ranges, and ranges with steps in lists', () => {
    assert.deepEqual(next('5,35 1,13 * * *', '2026-12-06T00:00:00Z', 5), ['2026-12-06T01:05:00Z', '2026-12-06T01:35:00Z', '2026-12-06T13:05:00Z', '2026-12-06T13:35:00Z', '2026-12-07T01:05:00Z']);
    assert.deepEqual(next('*/15 9 * * *', '2026-12-06T00:00:00Z', 5), ['2026-12-06T09:00:00Z', '2026-12-06T09:15:00Z', '2026-12-06T09:30:00Z', '2026-12-06T09:45:00Z', '2026-12-07T09:00:00Z']);
    assert.deepEqual(next('10-30/10 22-23 * * *', '2026-12-06T00:00:00Z', 7), ['2026-12-06T22:10:00Z', '2026-12-06T22:20:00Z', '2026-12-06T22:30:00Z', '2026-12-06T23:10:00Z', '2026-12-06T23:20:00Z', '2026-12-06T23:30:00Z', '2026-12-07T22:10:00Z']);
    assert.deepEqual(next('0 0 1-5/2,20 * *', '2026-12-01T00:00:00Z', 4), ['2026-12-03T00:00:00Z', '2026-12-05T00:00:00Z', '2026-12-20T00:00:00Z', '2027-01-01T00:00:00Z']);
    // A step that does not divide the field: 0, 7, ..., 56, then 0 of the next hour.
    assert.deepEqual(next('*/7 * * * *', '2026-12-06T10:50:00Z', 3), ['2026-12-06T10:56:00Z', '2026-12-06T11:00:00Z', '2026-12-06T11:07:00Z']);
  });

  it('takes month and day names in any case, in ranges too, and 7 as Sunday', () => {
    // 2026-12-06 is a Sunday.
    assert.deepEqual(next('0 8 * * mon-fri', '2026-12-05T00:00:00Z', 6), ['2026-12-07T08:00:00Z', '2026-12-08T08:00:00Z', '2026-12-09T08:00:00Z', '2026-12-10T08:00:00Z', '2026-12-11T08:00:00Z', '2026-12-14T08:00:00Z']);
    assert.deepEqual(next('0 0 * * 7', '2026-12-01T00:00:00Z', 2), ['2026-12-06T00:00:00Z', '2026-12-13T00:00:00Z']);
    assert.deepEqual(next('0 0 * * SUN', '2026-12-01T00:00:00Z'), next('0 0 * * 0', '2026-12-01T00:00:00Z'));
    assert.deepEqual(next('0 0 1 Jan,jul *', '2026-12-06T00:00:00Z', 3), ['2027-01-01T00:00:00Z', '2027-07-01T00:00:00Z', '2028-01-01T00:00:00Z']);
  });

  it('takes the macros @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly', () => {
    const from = '2026-12-06T12:34:00Z';
    assert.deepEqual(next('@yearly', from), ['2027-01-01T00:00:00Z']);
    assert.deepEqual(next('@annually', from), ['2027-01-01T00:00:00Z']);
    assert.deepEqual(next('@monthly', from), ['2027-01-01T00:00:00Z']);
    assert.deepEqual(next('@weekly', from), ['2026-12-13T00:00:00Z']);
    assert.deepEqual(next('@daily', from), ['2026-12-07T00:00:00Z']);
    assert.deepEqual(next('@MIDNIGHT', from), ['2026-12-07T00:00:00Z']);
    assert.deepEqual(next('@hourly', from), ['2026-12-06T13:00:00Z']);
  });

  it('ORs day-of-month and day-of-week when both are restricted, and ANDs when either is *', () => {
    // The 1st, and every Monday (2026-12-07, 14, 21, 28, then 2027-01-01 a Friday).
    assert.deepEqual(next('0 0 1 * mon', '2026-12-01T00:00:00Z', 6), ['2026-12-07T00:00:00Z', '2026-12-14T00:00:00Z', '2026-12-21T00:00:00Z', '2026-12-28T00:00:00Z', '2027-01-01T00:00:00Z', '2027-01-04T00:00:00Z']);
    // A step is a restriction: odd days, or Sundays.
    assert.deepEqual(next('0 0 */2 * 0', '2026-12-01T00:00:00Z', 4), ['2026-12-03T00:00:00Z', '2026-12-05T00:00:00Z', '2026-12-06T00:00:00Z', '2026-12-07T00:00:00Z']);
    // Day-of-month * : Mondays only; day-of-week * : the 13th only.
    assert.deepEqual(next('0 0 * * mon', '2026-12-01T00:00:00Z', 2), ['2026-12-07T00:00:00Z', '2026-12-14T00:00:00Z']);
    assert.deepEqual(next('0 0 13 * *', '2026-12-01T00:00:00Z', 2), ['2026-12-13T00:00:00Z', '2027-01-13T00:00:00Z']);
    // Both restricted with a month: the 13th or a Friday, in February only.
    assert.deepEqual(next('0 0 13 feb fri', '2027-01-01T00:00:00Z', 5), ['2027-02-05T00:00:00Z', '2027-02-12T00:00:00Z', '2027-02-13T00:00:00Z', '2027-02-19T00:00:00Z', '2027-02-26T00:00:00Z']);
  });

  it('crosses month and year ends, skips months without the day, and finds 29 February in leap years only', () => {
    assert.deepEqual(next('0 0 31 * *', '2026-01-31T00:00:00Z', 6), ['2026-03-31T00:00:00Z', '2026-05-31T00:00:00Z', '2026-07-31T00:00:00Z', '2026-08-31T00:00:00Z', '2026-10-31T00:00:00Z', '2026-12-31T00:00:00Z']);
    assert.deepEqual(next('59 23 31 12 *', '2026-12-31T23:59:00Z'), ['2027-12-31T23:59:00Z']);
    assert.deepEqual(next('0 0 30 * *', '2027-01-30T00:00:00Z', 2), ['2027-03-30T00:00:00Z', '2027-04-30T00:00:00Z']);
    assert.deepEqual(next('0 12 29 2 *', '2026-12-06T00:00:00Z', 2), ['2028-02-29T12:00:00Z', '2032-02-29T12:00:00Z']);
    // 2100 is no leap year: eight years between two 29 Februaries.
    assert.deepEqual(next('0 12 29 2 *', '2096-03-01T00:00:00Z'), ['2104-02-29T12:00:00Z']);
    assert.deepEqual(next('0 0 28-31 * *', '2028-02-27T00:00:00Z', 3), ['2028-02-28T00:00:00Z', '2028-02-29T00:00:00Z', '2028-03-28T00:00:00Z']);
  });
});

describe('cron schedule: time zones', () => {
  it('reads the fields in the time zone: New York in winter and summer, Kolkata at +05:30', () => {
    assert.deepEqual(next('0 3 * * *', '2026-12-06T12:00:00Z', 1, 'America/New_York'), ['2026-12-07T08:00:00Z']);
    assert.deepEqual(next('0 3 * * *', '2026-07-06T12:00:00Z', 1, 'America/New_York'), ['2026-07-07T07:00:00Z']);
    assert.deepEqual(next('0 3 * * *', '2026-12-06T12:00:00Z', 1, 'Asia/Kolkata'), ['2026-12-06T21:30:00Z']);
    // The day is the zone's: Monday 00:30 in Tokyo is Sunday 15:30 UTC.
    assert.deepEqual(next('30 0 * * mon', '2026-12-01T00:00:00Z', 1, 'Asia/Tokyo'), ['2026-12-06T15:30:00Z']);
    // Other names of UTC give what the default gives.
    assert.deepEqual(next('0 3 * * *', '2026-12-06T12:00:00Z', 1, 'Etc/UTC'), next('0 3 * * *', '2026-12-06T12:00:00Z'));
  });

  it('fires a local time that the spring change skips at the change itself, once', () => {
    // Berlin, 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST; 02:30 does not exist.
    assert.deepEqual(next('30 2 * * *', '2026-03-27T12:00:00Z', 3, 'Europe/Berlin'), ['2026-03-28T01:30:00Z', '2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']);
    // Every 20 minutes: 02:00, 02:20 and 02:40 all fall at 03:00 CEST, with 03:00 itself: one time.
    assert.deepEqual(next('*/20 * * * *', '2026-03-29T00:30:00Z', 4, 'Europe/Berlin'), ['2026-03-29T00:40:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:20:00Z', '2026-03-29T01:40:00Z']);
    // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
    assert.deepEqual(next('15 2 * * *', '2026-03-07T12:00:00Z', 2, 'America/New_York'), ['2026-03-08T07:00:00Z', '2026-03-09T06:15:00Z']);
  });

  it('fires a local time that the autumn change repeats at its first occurrence only', () => {
    // Berlin, 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET; 02:30 happens twice.
    assert.deepEqual(next('30 2 * * *', '2026-10-24T12:00:00Z', 3, 'Europe/Berlin'), ['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z', '2026-10-27T01:30:00Z']);
    // Hourly: 02:30 CEST, then 03:30 CET two hours later; the second 02:30 does not fire.
    assert.deepEqual(next('30 * * * *', '2026-10-24T23:00:00Z', 3, 'Europe/Berlin'), ['2026-10-24T23:30:00Z', '2026-10-25T00:30:00Z', '2026-10-25T02:30:00Z']);
    // Asked from inside the second 02:xx hour: the next time is 03:30 CET, not a repeat.
    assert.deepEqual(next('30 * * * *', '2026-10-25T01:10:00Z', 1, 'Europe/Berlin'), ['2026-10-25T02:30:00Z']);
  });
});

describe('cron schedule: refusals', () => {
  const cases: readonly (readonly [string, RegExp])[] = [
    ['', /has 0 fields; it needs 5: minute hour day-of-month month day-of-week/],
    ['0 3 * *', /"0 3 \* \*" has 4 fields; it needs 5/],
    ['0 0 3 * * *', /has 6 fields; it needs 5.*seconds and years are not supported/],
    ['60 * * * *', /^cron minute value 60 in "60" is outside 0\.\.59$/],
    ['* 24 * * *', /^cron hour value 24 in "24" is outside 0\.\.23$/],
    ['* * 0 * *', /^cron day-of-month value 0 in "0" is outside 1\.\.31$/],
    ['* * * 13 *', /^cron month value 13 in "13" is outside 1\.\.12$/],
    ['* * * * 8', /^cron day-of-week value 8 in "8" is outside 0\.\.7$/],
    ['* * * * funday', /^cron day-of-week field "funday": "funday" is not a number or a name \(sun\.\.sat\)$/],
    ['* * * mon *', /^cron month field "mon": "mon" is not a number or a name \(jan\.\.dec\)$/],
    ['x * * * *', /^cron minute field "x": "x" is not a number$/],
    ['-1 * * * *', /^cron minute field "-1": "" is not a number$/],
    ['30-10 * * * *', /^cron minute range "30-10" runs backwards; ranges do not wrap around$/],
    ['1-2-3 * * * *', /^cron minute field "1-2-3" is not a value, a range a-b or \*$/],
    ['5/15 * * * *', /^cron minute field "5\/15" has a step on a single value; write 5-59\/15 or \*\/15$/],
    ['*/0 * * * *', /^cron minute step "0" in "\*\/0" is not a whole number in 1\.\.60$/],
    ['*/61 * * * *', /^cron minute step "61" in "\*\/61" is not a whole number in 1\.\.60$/],
    ['*/x * * * *', /^cron minute step "x"/],
    ['*/2/3 * * * *', /^cron minute field "\*\/2\/3" has two steps$/],
    ['1,,2 * * * *', /^cron minute field "1,,2" has an empty list item$/],
    ['1.5 * * * *', /^cron minute field "1\.5": "1\.5" is not a number$/],
    ['0 0 31 2 *', /^cron expression "0 0 31 2 \*" never fires: none of its months has day 31$/],
    ['0 0 30,31 feb *', /never fires: none of its months has day 30,31$/],
    ['0 0 31 apr,jun,sep,nov *', /never fires/],
    ['@reboot', /^cron expression "@reboot" is not a macro this knows: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly$/],
    ['@every 1h', /@every is not supported; use spec\.backup\.every for an interval$/],
    ['*'.repeat(CRON_EXPRESSION_CHARS_MAX + 1), new RegExp(`^the cron expression is longer than ${CRON_EXPRESSION_CHARS_MAX} characters$`)],
  ];
  for (const [expression, message] of cases) {
    it(`refuses ${JSON.stringify(expression.slice(0, 30))}`, () => {
      assert.throws(() => CronSchedule.parse(expression), refused(message));
    });
  }

  it('accepts what is at the edges: whitespace around and between fields, 31 in months that have it, 29 February', () => {
    assert.equal(CronSchedule.parse('  0\t3  * *  * ').expression, '0\t3  * *  *');
    assert.deepEqual(next('0 3 * * *', '2026-12-06T12:00:00Z'), next('  0\t3  * *  * ', '2026-12-06T12:00:00Z'));
    assert.doesNotThrow(() => CronSchedule.parse('0 0 31 2,3 *'));
    assert.doesNotThrow(() => CronSchedule.parse('0 0 29 2 *'));
    // 31 February, or Mondays: the OR rule makes it fire.
    assert.deepEqual(next('0 0 31 2 mon', '2026-12-01T00:00:00Z'), ['2027-02-01T00:00:00Z']);
  });

  it('refuses a time zone that is not an IANA name, or one this Node.js does not know', () => {
    assert.throws(() => CronSchedule.parse('0 3 * * *', 'Mars/Olympus'), refused(/^time zone "Mars\/Olympus" is not one this Node\.js knows/));
    for (const timeZone of ['+02:00', 'Europe/Berlin ', '', 'Europe//Berlin', '../etc/passwd', `A${'b'.repeat(TIME_ZONE_CHARS_MAX)}`]) {
      assert.throws(() => CronSchedule.parse('0 3 * * *', timeZone), refused(/is not an IANA time zone name such as Europe\/Berlin/), JSON.stringify(timeZone));
    }
    assert.equal(CronSchedule.parse('0 3 * * *', 'America/Argentina/Buenos_Aires').timeZone, 'America/Argentina/Buenos_Aires');
    assert.equal(CronSchedule.parse('0 3 * * *', 'Etc/GMT+5').timeZone, 'Etc/GMT+5');
  });
});

describe('cron schedule: against a minute-by-minute scan', () => {
  /** A random field: `*`, a value, a list, a range or a stepped range, with the values it allows. */
  function randomField(random: () => number, min: number, max: number): { text: string; values: Set<number>; star: boolean } {
    const pick = (): number => min + Math.floor(random() * (max - min + 1));
    const kind = Math.floor(random() * 5);
    if (kind === 0) return { text: '*', values: new Set(Array.from({ length: max - min + 1 }, (_, i) => min + i)), star: true };
    if (kind === 1) {
      const value = pick();
      return { text: String(value), values: new Set([value]), star: false };
    }
    if (kind === 2) {
      const values = [pick(), pick(), pick()];
      return { text: values.join(','), values: new Set(values), star: false };
    }
    const [low, high] = [pick(), pick()].sort((a, b) => a - b) as [number, number];
    const step = kind === 3 ? 1 : 1 + Math.floor(random() * 4);
    const values = new Set<number>();
    for (let value = low; value <= high; value += step) values.add(value);
    return { text: kind === 3 ? `${low}-${high}` : `${low}-${high}/${step}`, values, star: false };
  }

  it('gives the first matching minute of the scan for 300 random expressions in UTC', () => {
    // A fixed seed: a failure names its expression and can be run again.
    let seed = 20261206;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let compared = 0;
    for (let round = 0; round < 300; round += 1) {
      const [minute, hour, dayOfMonth, month, dayOfWeek] = [randomField(random, 0, 59), randomField(random, 0, 23), randomField(random, 1, 31), randomField(random, 1, 12), randomField(random, 0, 6)];
      const expression = [minute, hour, dayOfMonth, month, dayOfWeek].map((field) => field.text).join(' ');
      let schedule: CronSchedule;
      try {
        schedule = CronSchedule.parse(expression);
      } catch {
        continue; // e.g. "0 0 31 2 *": refused above
      }
      const fromMs = Date.parse('2026-01-01T00:00:00Z') + Math.floor(random() * 365) * 86_400_000 + Math.floor(random() * 1440) * 60_000 + 17_000;
      // The scan, written from the rule's words: the first minute after `from` whose fields
      // match (a day that does not match is passed over whole, for speed).
      let expectedMs: number | undefined;
      for (let atMs = Math.floor(fromMs / 60_000) * 60_000 + 60_000; atMs < fromMs + 400 * 86_400_000; atMs += 60_000) {
        const at = new Date(atMs);
        const byMonthDay = dayOfMonth.values.has(at.getUTCDate());
        const byWeekDay = dayOfWeek.values.has(at.getUTCDay());
        const dayMatches = month.values.has(at.getUTCMonth() + 1) && (dayOfMonth.star || dayOfWeek.star ? byMonthDay && byWeekDay : byMonthDay || byWeekDay);
        if (!dayMatches) {
          atMs = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1) - 60_000;
          continue;
        }
        if (minute.values.has(at.getUTCMinutes()) && hour.values.has(at.getUTCHours())) {
          expectedMs = atMs;
          break;
        }
      }
      if (expectedMs === undefined) continue; // rarer than once in 400 days: the scan is too slow for it
      assert.equal(new Date(schedule.nextAfter(fromMs)).toISOString(), new Date(expectedMs).toISOString(), `${expression} after ${new Date(fromMs).toISOString()}`);
      compared += 1;
    }
    assert.ok(compared >= 200, `${compared} expressions compared`);
  });
});
