/**
 * Campaign time rules: flight dates, dayparting and the campaign-local day that daily budgets and
 * frequency caps reset on. Local wall time comes from Intl.DateTimeFormat (one cached formatter per
 * zone); UTC offsets are whole minutes in all current zones, which the per-minute caches rely on.
 */
import type { Campaign, DaypartWindow } from '../domain/campaign.js';

export interface LocalTime {
  /** Local calendar date 'YYYY-MM-DD'. */
  readonly dayKey: string;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  /** Wall-clock minutes since local midnight, 0..1439. */
  readonly minuteOfDay: number;
  /** Wall-clock milliseconds since local midnight. */
  readonly msOfDay: number;
}

/** A campaign-local day: [startMs, nextMidnightMs) in UTC ms; 23 or 25 hours long on DST days. */
export interface LocalDay {
  readonly dayKey: string;
  readonly startMs: number;
  readonly nextMidnightMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const formatters = new Map<string, Intl.DateTimeFormat>();
const lastMinute = new Map<string, { minute: number; local: LocalTime }>();
const lastDay = new Map<string, LocalDay>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function computeLocalTime(timeZone: string, ms: number): LocalTime {
  const p: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(ms)) p[part.type] = part.value;
  const [y, m, d] = [Number(p['year']), Number(p['month']), Number(p['day'])];
  const minuteOfDay = Number(p['hour']) * 60 + Number(p['minute']);
  return {
    dayKey: `${p['year']}-${p['month']}-${p['day']}`,
    weekday: new Date(Date.UTC(y, m - 1, d)).getUTCDay(),
    minuteOfDay,
    msOfDay: minuteOfDay * MINUTE + (((ms % MINUTE) + MINUTE) % MINUTE),
  };
}

/** The cached local time of the minute containing `ms`: its `msOfDay` may be of another ms in that minute. */
function localMinute(timeZone: string, ms: number): LocalTime {
  const minute = Math.floor(ms / MINUTE);
  const hit = lastMinute.get(timeZone);
  if (hit !== undefined && hit.minute === minute) return hit.local;
  const local = computeLocalTime(timeZone, ms);
  lastMinute.set(timeZone, { minute, local });
  return local;
}

/** Local wall time of `ms` in `timeZone` (throws RangeError for an unknown zone). */
export function localTime(timeZone: string, ms: number): LocalTime {
  const local = localMinute(timeZone, ms);
  const msOfDay = local.minuteOfDay * MINUTE + (((ms % MINUTE) + MINUTE) % MINUTE);
  return local.msOfDay === msOfDay ? local : { ...local, msOfDay };
}

function nextDayKey(dayKey: string): string {
  const [y, m, d] = dayKey.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * First UTC minute whose local date is `dayKey` or later. Local dates only move forward with UTC
 * time, and every zone's offset is within ±15 h, so a binary search over that range finds it; unlike
 * offset arithmetic it also handles zones where midnight itself is skipped by a DST change.
 */
function firstInstantOf(timeZone: string, dayKey: string): number {
  let lo = Math.floor((Date.parse(`${dayKey}T00:00:00Z`) - 15 * HOUR) / MINUTE);
  let hi = lo + (30 * HOUR) / MINUTE;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (computeLocalTime(timeZone, mid * MINUTE).dayKey >= dayKey) hi = mid;
    else lo = mid + 1;
  }
  return lo * MINUTE;
}

/** The campaign-local day containing `ms`: its 'YYYY-MM-DD' key, start and next local midnight (DST-safe). */
export function localDay(timeZone: string, ms: number): LocalDay {
  const hit = lastDay.get(timeZone);
  if (hit !== undefined && ms >= hit.startMs && ms < hit.nextMidnightMs) return hit;
  const dayKey = localTime(timeZone, ms).dayKey;
  const day = { dayKey, startMs: firstInstantOf(timeZone, dayKey), nextMidnightMs: firstInstantOf(timeZone, nextDayKey(dayKey)) };
  lastDay.set(timeZone, day);
  return day;
}

/** True when some window covers the local weekday and minute; no windows = always. */
export function inDaypart(windows: readonly DaypartWindow[], local: LocalTime): boolean {
  if (windows.length === 0) return true;
  return windows.some((w) => w.days.includes(local.weekday) && local.minuteOfDay >= w.startMinute && local.minuteOfDay < w.endMinute);
}

/**
 * Whether the campaign may bid at `nowMs`: status 'active', startMs <= now < endMs, and inside a
 * daypart window in its own time zone. An unknown zone (which validation rejects) means "not scheduled"
 * rather than an exception, so one bad campaign record cannot fail every bid request.
 */
export function isScheduledAt(campaign: Campaign, nowMs: number): boolean {
  if (campaign.status !== 'active' || nowMs < campaign.startMs) return false;
  if (campaign.endMs !== null && nowMs >= campaign.endMs) return false;
  try {
    // Evaluated even without dayparting, so callers may rely on the zone working (pacing, day keys).
    // Minute fields only, so the cached object serves without a copy (this runs per campaign per imp).
    const local = localMinute(campaign.timezone, nowMs);
    return inDaypart(campaign.dayparting, local);
  } catch {
    return false;
  }
}
