/**
 * The privacy decision for one bid request (README "Privacy"): may personal data be used for it, and on
 * what basis. Pure; the edge decides it once per request from the request's signals and records it on
 * the BidRequest (`privacy`), so every later stage (enrich, bid) and every analyst reads the same answer.
 *
 * First match wins:
 *   1. regs.coppa = 1                                   -> 'coppa'
 *   2. device.lmt = 1 or device.dnt = 1                 -> 'lmt'
 *   3. GDPR applies (regs.gdpr = 1, or gpp_sid has 2 = TCF EU v2): the TCF v2 string (user.consent, else the
 *      GPP string's TCF EU section) decoded with IAB's @iabtcf/core must give consent to purposes 1 (store/access
 *      information), 3 (create a personalised-ads profile) and 4 (select personalised ads), and, when our GVL
 *      vendor id is configured, vendor consent -> 'consent'; anything else (missing, malformed, refused)
 *      -> 'gdpr_no_consent'
 *   4. regs.us_privacy (CCPA string "1YYN": version 1, notice, opt-out of sale, LSPA) with opt-out 'Y', or
 *      malformed -> 'us_privacy_opt_out' ("1---" = not applicable)
 *   5. a US section of the GPP string named in gpp_sid (6 uspv1, 7 usnat, 8 usca, ... 27: every US section
 *      IAB's @iabgpp/cmpapi knows) with SaleOptOut, SharingOptOut or TargetedAdvertisingOptOut = 1 (opted out;
 *      uspv1: OptOutSale 'Y'), or a gpp string that cannot be decoded or lacks the section -> 'gpp_opt_out'
 *   6. otherwise                                        -> 'unrestricted'
 * A malformed consent string is never an error: it means no consent (opted out), as the exchange's user
 * could not have agreed to anything we cannot read.
 */
import { TCString } from '@iabtcf/core';
import { GppModel } from '@iabgpp/cmpapi';
import type { PrivacyBasis, PrivacyDecision } from '../../schemas/bid-request.js';

export interface PrivacySignals {
  coppa: boolean;
  /** regs.gdpr; null = the exchange did not say (GDPR is then not assumed). */
  gdpr: boolean | null;
  /** user.consent: the TCF v2 string. */
  consent: string | null;
  usPrivacy: string | null;
  gpp: string | null;
  gppSid: readonly number[];
  lmt: boolean | null;
  dnt: boolean | null;
}

export interface PrivacyOptions {
  /** Our vendor id in IAB's Global Vendor List; null = only the purposes are checked (INGEST_GVL_VENDOR_ID unset). */
  vendorId: number | null;
}

/** TCF purposes personalised advertising needs: 1 store/access, 3 create profile, 4 select personalised ads. */
export const TCF_REQUIRED_PURPOSES: readonly number[] = [1, 3, 4];
/** GPP section id of TCF EU v2. */
export const GPP_TCF_EU_V2 = 2;
/** GPP section id of the US privacy string (uspv1). */
const GPP_USP_V1 = 6;
/** GPP US sections (usnat 7, usca 8, usva 9, usco 10, usut 11, usct 12, ... usri 27): the opt-out fields below. */
const GPP_US_FIRST = 7;
const GPP_US_LAST = 27;
const GPP_OPT_OUT_FIELDS = ['SaleOptOut', 'SharingOptOut', 'TargetedAdvertisingOptOut'] as const;
/** The GPP value of an opt-out field meaning "opted out" (0 = not applicable, 2 = did not opt out). */
const GPP_OPTED_OUT = 1;

const decision = (basis: PrivacyBasis): PrivacyDecision => ({ basis, personalData: basis === 'unrestricted' || basis === 'consent' });
export const UNRESTRICTED: PrivacyDecision = Object.freeze(decision('unrestricted'));

export function decidePrivacy(s: PrivacySignals, opts: PrivacyOptions): PrivacyDecision {
  if (s.coppa) return decision('coppa');
  if (s.lmt === true || s.dnt === true) return decision('lmt');
  const gppSid = s.gppSid;
  if (s.gdpr === true || gppSid.includes(GPP_TCF_EU_V2)) {
    const tcf = s.consent ?? gppSection(s.gpp, GPP_TCF_EU_V2);
    return decision(tcf !== null && tcfConsents(tcf, opts.vendorId) ? 'consent' : 'gdpr_no_consent');
  }
  if (s.usPrivacy !== null && usPrivacyOptedOut(s.usPrivacy)) return decision('us_privacy_opt_out');
  if (gppSid.some(isUsSection) && gppUsOptedOut(s.gpp, gppSid)) return decision('gpp_opt_out');
  return UNRESTRICTED;
}

/** The decision recorded on a request; null/absent (records from before the edge decided it) = unrestricted. */
export function privacyOf(p: PrivacyDecision | null | undefined): PrivacyDecision {
  return p ?? UNRESTRICTED;
}

/** A TCF v2 string consenting to every required purpose (and to our vendor, when configured); false when it cannot be decoded. */
export function tcfConsents(tcString: string, vendorId: number | null): boolean {
  try {
    const tc = TCString.decode(tcString);
    if (tc.version !== 2) return false;
    if (!TCF_REQUIRED_PURPOSES.every((p) => tc.purposeConsents.has(p))) return false;
    return vendorId === null || tc.vendorConsents.has(vendorId);
  } catch {
    return false;
  }
}

/** A US privacy (CCPA) string: opted out of sale, or malformed (treated as opted out). */
export function usPrivacyOptedOut(value: string): boolean {
  const v = value.toUpperCase();
  if (!/^1[YN-]{3}$/.test(v)) return true;
  return v[2] === 'Y';
}

const isUsSection = (id: number): boolean => id === GPP_USP_V1 || (id >= GPP_US_FIRST && id <= GPP_US_LAST);

/**
 * The encoded section `id` of a GPP string, or null (no string, malformed, or no such section). The sections
 * follow the header in the order of its section ids (GPP v1), so the TCF EU section is the TC string itself.
 */
function gppSection(gpp: string | null, id: number): string | null {
  if (gpp === null) return null;
  try {
    const at = new GppModel(gpp).getSectionIds().indexOf(id);
    return at < 0 ? null : (gpp.split('~')[at + 1] ?? null);
  } catch {
    return null;
  }
}

/** Any US section gpp_sid names is opted out, missing from the string, or the string cannot be decoded. */
function gppUsOptedOut(gpp: string | null, gppSid: readonly number[]): boolean {
  if (gpp === null) return true;
  try {
    const model = new GppModel(gpp);
    for (const id of gppSid) {
      if (!isUsSection(id)) continue;
      if (!model.hasSectionId(id)) return true;
      if (id === GPP_USP_V1) {
        if (model.getFieldValueBySectionId(id, 'OptOutSale') === 'Y') return true;
        continue;
      }
      for (const field of GPP_OPT_OUT_FIELDS) {
        // Each state's section has its own subset of the three (usva has no SharingOptOut).
        if (model.hasFieldBySectionId(id, field) && model.getFieldValueBySectionId(id, field) === GPP_OPTED_OUT) return true;
      }
    }
    return false;
  } catch {
    return true;
  }
}
