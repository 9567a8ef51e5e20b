/**
 * The answer's currency conversion, pure and in integer arithmetic. Every *Micros in the pipeline is in
 * the base currency (USD); an answer in another currency carries the outcome's rate, `fxRatePpm` =
 * answer-currency units per base unit x 1,000,000. Both directions round down, so a price the exchange
 * reports back in the answer currency never converts to more base micros than we bid:
 * toBaseMicros(toAnswerMicros(b, r), r) <= b. BigInt because micros x rate exceeds 2^53 (a $1,000 CPM
 * at 16,000 IDR per USD is 10^9 x 1.6 x 10^10).
 */

const PPM = 1_000_000n;

/** Is `fxRatePpm` a rate the conversions accept (a positive safe integer)? */
export const validRate = (fxRatePpm: number): boolean => Number.isSafeInteger(fxRatePpm) && fxRatePpm > 0;

/** Base-currency micros -> answer-currency micros, rounded down. `fxRatePpm` must be validRate. */
export function toAnswerMicros(baseMicros: number, fxRatePpm: number): number {
  if (fxRatePpm === 1_000_000) return baseMicros;
  return Number((BigInt(baseMicros) * BigInt(fxRatePpm)) / PPM);
}

/** Answer-currency micros (as an exchange reports them) -> base-currency micros, rounded down. */
export function toBaseMicros(answerMicros: number, fxRatePpm: number): number {
  if (fxRatePpm === 1_000_000) return answerMicros;
  return Number((BigInt(answerMicros) * PPM) / BigInt(fxRatePpm));
}
