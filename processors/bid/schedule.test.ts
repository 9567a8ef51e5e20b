import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCampaign } from '../testing/campaign.fixture.js';
import { inDaypart, isScheduledAt, localDay, localTime } from './schedule.js';

const H = 3_600_000;

test('schedule localTime gives the wall date, weekday and minute in the zone', () => {
  // 2024-07-01 03:30Z is Sunday 2024-06-30 23:30 in New York (EDT, UTC-4).
  const ny = localTime('America/New_York', Date.UTC(2024, 6, 1, 3, 30));
  assert.deepEqual([ny.dayKey, ny.weekday, ny.minuteOfDay], ['2024-06-30', 0, 23 * 60 + 30]);
  const utc = localTime('UTC', Date.UTC(2024, 6, 1, 3, 30, 15, 500));
  assert.deepEqual([utc.dayKey, utc.weekday, utc.minuteOfDay, utc.msOfDay], ['2024-07-01', 1, 210, 210 * 60_000 + 15_500]);
});

test('schedule localTime handles half-hour and extreme offsets', () => {
  // Kolkata is UTC+5:30, Kiritimati UTC+14, Pago Pago UTC-11.
  assert.equal(localTime('Asia/Kolkata', Date.UTC(2024, 0, 1, 18, 29)).minuteOfDay, 23 * 60 + 59);
  assert.equal(localTime('Asia/Kolkata', Date.UTC(2024, 0, 1, 18, 30)).dayKey, '2024-01-02');
  assert.equal(localTime('Pacific/Kiritimati', Date.UTC(2024, 0, 1, 10, 0)).dayKey, '2024-01-02');
  assert.equal(localTime('Pacific/Pago_Pago', Date.UTC(2024, 0, 1, 10, 0)).dayKey, '2023-12-31');
});

test('schedule localTime cache returns the right ms within the same minute', () => {
  const a = localTime('Europe/Berlin', Date.UTC(2024, 0, 1, 12, 0, 1));
  const b = localTime('Europe/Berlin', Date.UTC(2024, 0, 1, 12, 0, 59));
  assert.equal(b.msOfDay - a.msOfDay, 58_000);
});

test('schedule localDay of an ordinary day spans 24 hours from local midnight', () => {
  const d = localDay('America/New_York', Date.UTC(2024, 6, 1, 12));
  assert.deepEqual(d, { dayKey: '2024-07-01', startMs: Date.UTC(2024, 6, 1, 4), nextMidnightMs: Date.UTC(2024, 6, 2, 4) });
});

test('schedule localDay is 23 hours on the spring-forward day and 25 on the fall-back day', () => {
  const spring = localDay('America/New_York', Date.UTC(2024, 2, 10, 12));
  assert.equal(spring.startMs, Date.UTC(2024, 2, 10, 5));
  assert.equal(spring.nextMidnightMs - spring.startMs, 23 * H);
  const fall = localDay('America/New_York', Date.UTC(2024, 10, 3, 12));
  assert.equal(fall.nextMidnightMs, Date.UTC(2024, 10, 4, 5));
  assert.equal(fall.nextMidnightMs - fall.startMs, 25 * H);
  const london = localDay('Europe/London', Date.UTC(2024, 2, 31, 12));
  assert.equal(london.nextMidnightMs - london.startMs, 23 * H);
});

test('schedule localDay starts at 01:00 where DST skips midnight itself', () => {
  // Chile springs forward at 24:00 on Saturday 2024-09-07: Sunday begins at 01:00 local (-03) = 04:00Z.
  const d = localDay('America/Santiago', Date.UTC(2024, 8, 8, 12));
  assert.equal(d.dayKey, '2024-09-08');
  assert.equal(d.startMs, Date.UTC(2024, 8, 8, 4));
  const before = localDay('America/Santiago', Date.UTC(2024, 8, 7, 12));
  assert.equal(before.nextMidnightMs, d.startMs);
  assert.equal(before.nextMidnightMs - before.startMs, 24 * H);
});

test('schedule localDay moves to the next day exactly at local midnight', () => {
  const tz = 'Australia/Sydney';
  const d = localDay(tz, Date.UTC(2024, 0, 15, 0));
  assert.equal(localDay(tz, d.nextMidnightMs - 1).dayKey, d.dayKey);
  assert.notEqual(localDay(tz, d.nextMidnightMs).dayKey, d.dayKey);
  assert.equal(localTime(tz, d.nextMidnightMs).minuteOfDay, 0);
});

test('schedule inDaypart uses start inclusive, end exclusive and the weekday', () => {
  const windows = [{ days: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1020 }];
  const at = (weekday: number, minuteOfDay: number) => inDaypart(windows, { dayKey: 'x', weekday, minuteOfDay, msOfDay: minuteOfDay * 60_000 });
  assert.ok(at(1, 540));
  assert.ok(at(5, 1019));
  assert.ok(!at(1, 1020));
  assert.ok(!at(1, 539));
  assert.ok(!at(0, 600));
  assert.ok(inDaypart([], { dayKey: 'x', weekday: 0, minuteOfDay: 0, msOfDay: 0 }));
});

test('schedule isScheduledAt evaluates dayparting in the campaign time zone', () => {
  const windows = [{ days: [1], startMinute: 9 * 60, endMinute: 17 * 60 }];
  const ny = makeCampaign({ timezone: 'America/New_York', dayparting: windows });
  const tokyo = makeCampaign({ timezone: 'Asia/Tokyo', dayparting: windows });
  // Monday 2024-07-01 14:00Z = 10:00 in New York (Monday) = 23:00 in Tokyo (Monday).
  const t = Date.UTC(2024, 6, 1, 14);
  assert.ok(isScheduledAt(ny, t));
  assert.ok(!isScheduledAt(tokyo, t));
  // Monday 2024-07-01 01:00Z = 10:00 Monday in Tokyo, 21:00 Sunday in New York.
  assert.ok(isScheduledAt(tokyo, Date.UTC(2024, 6, 1, 1)));
  assert.ok(!isScheduledAt(ny, Date.UTC(2024, 6, 1, 1)));
});

test('schedule isScheduledAt never activates a window inside the skipped DST hour', () => {
  const c = makeCampaign({ timezone: 'America/New_York', dayparting: [{ days: [0], startMinute: 120, endMinute: 180 }] });
  const day = localDay('America/New_York', Date.UTC(2024, 2, 10, 12));
  for (let t = day.startMs; t < day.nextMidnightMs; t += 60_000) assert.ok(!isScheduledAt(c, t));
  // The same window on the next Sunday is active as usual (02:30 EDT = 06:30Z).
  assert.ok(isScheduledAt(c, Date.UTC(2024, 2, 17, 6, 30)));
});

test('schedule isScheduledAt requires active status and [start, end)', () => {
  const c = makeCampaign({ startMs: 1000, endMs: 2000 });
  assert.ok(!isScheduledAt(c, 999));
  assert.ok(isScheduledAt(c, 1000));
  assert.ok(isScheduledAt(c, 1999));
  assert.ok(!isScheduledAt(c, 2000));
  assert.ok(!isScheduledAt({ ...c, status: 'paused' }, 1500));
  assert.ok(!isScheduledAt({ ...c, status: 'ended' }, 1500));
  assert.ok(isScheduledAt({ ...c, endMs: null }, 10 ** 13));
});

test('schedule isScheduledAt treats an unknown time zone as not scheduled instead of throwing', () => {
  assert.equal(isScheduledAt(makeCampaign({ timezone: 'Mars/Olympus' }), Date.UTC(2024, 6, 1)), false);
});
