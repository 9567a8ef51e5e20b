/**
 * A pending budget reservation: what the auction's authorize script records for each successful
 * reservation (the member of the campaign's pending set and the value of its reservation key;
 * redis-keys.ts) and what settle reads back to settle it or release exactly what was reserved.
 */

/** What a pending member records: everything needed to release exactly what was reserved. */
export interface PendingReservation {
  /** requestKey(exchange, id) of the request (schemas/request-key.ts), as the tracking token names it. */
  readonly requestId: string;
  readonly impId: string;
  readonly costMicros: number;
  readonly dayKey: string;
  readonly userId: string | null;
}

/** The pending member: a JSON array, unambiguous whatever characters the ids contain. */
export function pendingMember(p: PendingReservation): string {
  return JSON.stringify([p.requestId, p.impId, p.costMicros, p.dayKey, p.userId]);
}

/** The member decoded, or null when it is not one pendingMember() wrote. */
export function parsePendingMember(member: string): PendingReservation | null {
  let v: unknown;
  try {
    v = JSON.parse(member);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 5) return null;
  const [requestId, impId, costMicros, dayKey, userId] = v as unknown[];
  if (typeof requestId !== 'string' || typeof impId !== 'string' || typeof dayKey !== 'string') return null;
  if (typeof costMicros !== 'number' || !Number.isSafeInteger(costMicros) || costMicros < 0) return null;
  if (userId !== null && typeof userId !== 'string') return null;
  return { requestId, impId, costMicros, dayKey, userId };
}
