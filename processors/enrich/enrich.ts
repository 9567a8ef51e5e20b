/**
 * The enrich processor: attaches the user's profile (Redis, ./profile-store.ts) to each bid request.
 *
 * `prepare` looks up the batch's distinct users in one round trip, through a circuit breaker. When
 * Redis is slow, down or the circuit is open, the batch is marked unavailable instead of failing:
 * a bid request is worth more un-enriched and on time than enriched and late, so enrichment never
 * stalls the pipeline. `process` then emits each request once, with `enrichment` telling the bidder
 * what it got (ENRICHED + `profile`, NO_PROFILE, UNAVAILABLE). The exchange's own `user.*` fields are
 * left as sent; the profile travels beside them in `profile`.
 *
 * Privacy (README "Privacy"): a request whose privacy decision forbids personal data (`privacy.personalData`
 * false: COPPA, LMT/DNT, GDPR without consent, a US opt-out) is never looked up: it passes on NOT_ATTEMPTED
 * with no profile, counted by basis in `enrich_profile_skipped_total`. No decision (records from before the
 * edge made one) is unrestricted.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { InRecord, OutRecord, Processor } from '../runtime/processor.js';
import type { BidRequest, Enrichment, UserProfileRecord } from '../../schemas/bid-request.js';
import type { BreakerFailure, CircuitBreaker } from './circuit-breaker.js';
import type { ProfileLookup } from './profile-store.js';
import { privacyOf } from '../domain/privacy.js';

/** The batch's lookup outcome: the profiles by user id, or why there are none. */
export type EnrichContext =
  | { readonly available: true; readonly profiles: ReadonlyMap<string, UserProfileRecord | null> }
  | { readonly available: false; readonly reason: BreakerFailure };

export interface EnrichOptions {
  /** Processor name: consumer group `rtb-<name>` and the runner's metrics label. Default 'enrich'. */
  name?: string;
  input: string;
  output: string;
  profiles: ProfileLookup & { close?(): Promise<void> };
  breaker: CircuitBreaker;
  /** Where the domain metrics are registered (the service's registry, or a fresh one in tests). */
  registry: Registry;
}

/** The id profiles are stored under: the exchange's user id, else the buyer's; null when there is neither. */
export function profileUserId(request: BidRequest): string | null {
  return request.user?.id || request.user?.buyeruid || null;
}

/** The user's profile may be looked up: the request's privacy decision allows personal data. */
export function mayUseProfile(request: BidRequest): boolean {
  return privacyOf(request.privacy).personalData;
}

export function enrich(opts: EnrichOptions): Processor<BidRequest, EnrichContext> {
  const { input, output, profiles, breaker, registry } = opts;
  const registers = [registry];
  const unavailable = new Counter({
    name: 'enrich_unavailable_total',
    help: 'Bid requests passed on un-enriched because the profile store was unavailable, by reason (open: circuit open, timeout, error)',
    labelNames: ['reason'],
    registers,
  });
  const looked = new Counter({
    name: 'enrich_profiles_total',
    help: 'Bid requests whose user was looked up, by result (found, missing)',
    labelNames: ['result'],
    registers,
  });
  const skipped = new Counter({
    name: 'enrich_profile_skipped_total',
    help: 'Bid requests not looked up because their privacy decision forbids personal data, by basis (coppa, lmt, gdpr_no_consent, us_privacy_opt_out, gpp_opt_out)',
    labelNames: ['basis'],
    registers,
  });
  const states = ['closed', 'half-open', 'open'] as const;
  new Gauge({
    name: 'enrich_breaker_state',
    help: 'Circuit breaker around the profile store: 1 for the current state',
    labelNames: ['state'],
    registers,
    collect() {
      const now = breaker.state;
      for (const s of states) this.set({ state: s }, s === now ? 1 : 0);
    },
  });

  return {
    name: opts.name ?? 'enrich',
    // A decision hop: a profile lookup has no effect, so re-processing after a crash only repeats a read.
    delivery: 'at-least-once',
    input,
    outputs: [output],

    async prepare(records: readonly InRecord<BidRequest>[]): Promise<EnrichContext> {
      const ids = new Set<string>();
      for (const r of records) {
        const id = mayUseProfile(r.value) ? profileUserId(r.value) : null;
        if (id !== null) ids.add(id);
      }
      // Nothing to look up: do not spend a breaker call (or a trial) on it.
      if (ids.size === 0) return { available: true, profiles: new Map() };
      const result = await breaker.run(() => profiles.lookup([...ids]));
      return result.ok ? { available: true, profiles: result.value } : { available: false, reason: result.reason };
    },

    process(record: InRecord<BidRequest>, ctx: EnrichContext): OutRecord[] {
      const id = profileUserId(record.value);
      let enrichment: Enrichment;
      let profile: UserProfileRecord | null = null;
      if (!mayUseProfile(record.value)) {
        enrichment = 'NOT_ATTEMPTED';
        skipped.inc({ basis: privacyOf(record.value.privacy).basis });
      } else if (id === null) {
        enrichment = 'NO_PROFILE';
      } else if (!ctx.available) {
        enrichment = 'UNAVAILABLE';
        unavailable.inc({ reason: ctx.reason });
      } else {
        profile = ctx.profiles.get(id) ?? null;
        enrichment = profile ? 'ENRICHED' : 'NO_PROFILE';
        looked.inc({ result: profile ? 'found' : 'missing' });
      }
      const value: BidRequest = { ...record.value, enrichment, profile };
      return [{ topic: output, key: record.key, value }];
    },

    close: () => profiles.close?.() ?? Promise.resolve(),
  };
}
