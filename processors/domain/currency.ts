/**
 * Currencies: the rate table and exact conversions. The base currency is USD: campaigns, budgets and
 * every *Micros in the pipeline are USD micros; other currencies appear only at the edges of a decision
 * (a floor in imp.bidfloorcur or a deal's bidfloorcur, the answer's cur).
 *
 * A rate is "units of X per 1 USD", given as an exact decimal string ('0.92', '149.5') with at most six
 * decimals, and held as integer parts per million (0.92 -> 920,000): the same integer the BidSet carries as
 * fxRatePpm, so the bidder's floor check and the edge's answer conversion use one number and agree.
 * Conversions are one BigInt expression each, never a float:
 *   floor in X -> USD: ceil(x × 10^6 / ratePpm)   (rounded UP: a bid that clears the converted floor clears the real one)
 *   price USD -> X:    floor(usd × ratePpm / 10^6) (rounded DOWN: never answer more than we bid)
 *   reported X -> USD: floor(x × 10^6 / ratePpm)   (rounded DOWN: a price the exchange reports back in the
 *                      answer's currency never converts to more than we bid: toBase(fromBase(b)) <= b)
 * With those roundings a bid >= the converted floor, converted back, is still >= the original floor.
 * BigInt because micros × rate exceeds 2^53 (a $1,000 CPM at 16,000 IDR per USD is 10^9 × 1.6 × 10^10).
 */

export const BASE_CURRENCY = 'USD';
/** 1 USD = 1,000,000 ppm of itself. */
export const BASE_RATE_PPM = 1_000_000;

const CODE = /^[A-Z]{3}$/;
/** Positive decimal, at most 12 integer digits and 6 decimals (ppm stays far below 2^53). */
const RATE = /^(\d{1,12})(?:\.(\d{1,6}))?$/;

export interface RateTable {
  /** When the source says the rates were valid (UTC epoch ms). */
  readonly asOfMs: number;
  /** Currency code -> units per 1 USD in ppm. USD itself is implied (BASE_RATE_PPM). */
  readonly ratesPpm: ReadonlyMap<string, number>;
}

export type ParsedRates = { readonly ok: true; readonly table: RateTable } | { readonly ok: false; readonly error: string };

/** '0.92' -> 920000; null when not an exact positive decimal with at most six decimals. */
export function parseRatePpm(s: string): number | null {
  const m = RATE.exec(s);
  if (!m) return null;
  const ppm = Number(m[1]) * BASE_RATE_PPM + Number((m[2] ?? '').padEnd(6, '0'));
  return ppm > 0 ? ppm : null;
}

/**
 * Reads a rate document: {"base": "USD", "asOfMs": <epoch ms>, "rates": {"EUR": "0.92", ...}}. Rates
 * must be strings (a JSON number such as 0.1 is already a float and may not be the decimal that was meant).
 */
export function parseRateTable(doc: unknown): ParsedRates {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, error: 'rate document must be a JSON object' };
  const o = doc as Record<string, unknown>;
  if (o['base'] !== BASE_CURRENCY) return { ok: false, error: `base must be "${BASE_CURRENCY}"` };
  const asOfMs = o['asOfMs'];
  if (typeof asOfMs !== 'number' || !Number.isSafeInteger(asOfMs) || asOfMs <= 0) return { ok: false, error: 'asOfMs must be a positive integer (UTC epoch ms)' };
  const rates = o['rates'];
  if (typeof rates !== 'object' || rates === null || Array.isArray(rates)) return { ok: false, error: 'rates must be an object of currency code -> decimal string' };
  const ratesPpm = new Map<string, number>();
  for (const [code, value] of Object.entries(rates)) {
    if (!CODE.test(code)) return { ok: false, error: `rates.${code}: not an ISO 4217 code (three upper-case letters)` };
    if (code === BASE_CURRENCY) {
      if (value !== '1' && value !== '1.0') return { ok: false, error: `rates.${code}: the base currency's rate must be "1"` };
      continue;
    }
    const ppm = typeof value === 'string' ? parseRatePpm(value) : null;
    if (ppm === null) return { ok: false, error: `rates.${code}: must be a positive decimal string with at most 6 decimals, e.g. "0.92"` };
    ratesPpm.set(code, ppm);
  }
  return { ok: true, table: { asOfMs, ratesPpm } };
}

/** Units of `currency` per USD in ppm; USD always has one, others only from `table` (null = unknown). */
export function ratePpm(table: RateTable | null, currency: string): number | null {
  const code = currency.toUpperCase();
  if (code === BASE_CURRENCY || code === '') return BASE_RATE_PPM;
  return table?.ratesPpm.get(code) ?? null;
}

/** An amount in `currency` micros as USD micros, rounded up; null when the currency has no rate. */
export function toBaseMicrosCeil(micros: number, currency: string, table: RateTable | null): number | null {
  const rate = ratePpm(table, currency);
  if (rate === null) return null;
  if (rate === BASE_RATE_PPM || micros === 0) return micros;
  const n = BigInt(micros) * BigInt(BASE_RATE_PPM);
  const d = BigInt(rate);
  return Number((n + d - 1n) / d);
}

/** Is `fxRatePpm` a rate the conversions accept (a positive safe integer)? A record's rate is checked before use. */
export const validRatePpm = (fxRatePpm: number): boolean => Number.isSafeInteger(fxRatePpm) && fxRatePpm > 0;

/** Micros of the currency at `ratePpm` (as an exchange reports a price back) as USD micros, rounded down. */
export function toBaseMicrosFloor(micros: number, ratePpmValue: number): number {
  if (ratePpmValue === BASE_RATE_PPM) return micros;
  return Number((BigInt(micros) * BigInt(BASE_RATE_PPM)) / BigInt(ratePpmValue));
}

/** USD micros as micros of a currency at `ratePpm`, rounded down. */
export function fromBaseMicrosFloor(usdMicros: number, ratePpmValue: number): number {
  if (ratePpmValue === BASE_RATE_PPM) return usdMicros;
  return Number((BigInt(usdMicros) * BigInt(ratePpmValue)) / BigInt(BASE_RATE_PPM));
}

export interface AnswerCurrency {
  readonly currency: string;
  readonly fxRatePpm: number;
}

/**
 * The currency to answer in, from the request's cur[]: USD when the list is empty or allows USD (our
 * prices need no conversion then); otherwise the first listed currency with a rate; null when none has one.
 */
export function answerCurrency(cur: readonly string[], table: RateTable | null): AnswerCurrency | null {
  if (cur.length === 0 || cur.some((c) => c.toUpperCase() === BASE_CURRENCY)) return { currency: BASE_CURRENCY, fxRatePpm: BASE_RATE_PPM };
  for (const c of cur) {
    const rate = ratePpm(table, c);
    if (rate !== null) return { currency: c.toUpperCase(), fxRatePpm: rate };
  }
  return null;
}
