/**
 * The privacy decision on real consent strings (processors/testing/consent.fixture.ts): TCF v2 strings
 * encoded by IAB's @iabtcf/core, GPP strings from IAB's documentation and encoded by IAB's @iabgpp/cmpapi,
 * and US privacy strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decidePrivacy, privacyOf, tcfConsents, usPrivacyOptedOut, type PrivacySignals } from './privacy.js';
import {
  IAB_GPP_TCF_EU_NO_CONSENT, IAB_GPP_USNAT, IAB_GPP_USNAT_2, OTHER_TEST_VENDOR as OTHER_VENDOR, TEST_VENDOR as VENDOR, gppString, tcString,
} from '../testing/consent.fixture.js';

const none: PrivacySignals = { coppa: false, gdpr: null, consent: null, usPrivacy: null, gpp: null, gppSid: [], lmt: null, dnt: null };
const decide = (s: Partial<PrivacySignals>, vendorId: number | null = null) => decidePrivacy({ ...none, ...s }, { vendorId });
const basis = (s: Partial<PrivacySignals>, vendorId: number | null = null) => decide(s, vendorId).basis;

const CONSENT_ALL = tcString([1, 2, 3, 4, 7], [VENDOR]);
const CONSENT_NO_PROFILE = tcString([1, 2, 4], [VENDOR]);

test('privacy: no signal is unrestricted, and only unrestricted and consent allow personal data', () => {
  assert.deepEqual(decide({}), { basis: 'unrestricted', personalData: true });
  assert.deepEqual(decide({ gdpr: true, consent: CONSENT_ALL }), { basis: 'consent', personalData: true });
  for (const s of [{ coppa: true }, { lmt: true }, { gdpr: true }, { usPrivacy: '1YYN' }, { gpp: 'x', gppSid: [7] }]) {
    assert.equal(decide(s).personalData, false, JSON.stringify(s));
  }
  assert.deepEqual(privacyOf(null), { basis: 'unrestricted', personalData: true }, 'records from before the decision');
  assert.deepEqual(privacyOf(undefined), { basis: 'unrestricted', personalData: true });
  assert.deepEqual(privacyOf({ basis: 'coppa', personalData: false }), { basis: 'coppa', personalData: false });
});

test('privacy: first match wins: coppa, then lmt/dnt, then GDPR, then US privacy, then GPP', () => {
  const all = { coppa: true, lmt: true, gdpr: true, consent: CONSENT_ALL, usPrivacy: '1YYN', gpp: gppString('usnat', { SaleOptOut: 1 }), gppSid: [7] };
  assert.equal(basis(all), 'coppa');
  assert.equal(basis({ ...all, coppa: false }), 'lmt');
  assert.equal(basis({ ...all, coppa: false, lmt: false, dnt: true }), 'lmt', 'dnt counts as lmt');
  assert.equal(basis({ ...all, coppa: false, lmt: false }), 'consent', 'GDPR decides before the US signals');
  assert.equal(basis({ ...all, coppa: false, lmt: false, gdpr: false }), 'us_privacy_opt_out');
  assert.equal(basis({ ...all, coppa: false, lmt: false, gdpr: false, usPrivacy: '1YNN' }), 'gpp_opt_out');
  assert.equal(basis({ lmt: false, dnt: false }), 'unrestricted', 'lmt=0 and dnt=0 restrict nothing');
});

test('privacy: GDPR needs TCF consent to purposes 1, 3 and 4 (and our vendor when configured)', () => {
  assert.equal(basis({ gdpr: true, consent: CONSENT_ALL }), 'consent');
  assert.equal(basis({ gdpr: true, consent: CONSENT_NO_PROFILE }), 'gdpr_no_consent', 'purpose 3 refused');
  assert.equal(basis({ gdpr: true, consent: tcString([3, 4], [VENDOR]) }), 'gdpr_no_consent', 'purpose 1 refused');
  assert.equal(basis({ gdpr: true }), 'gdpr_no_consent', 'no consent string');
  assert.equal(basis({ gdpr: true, consent: CONSENT_ALL }, VENDOR), 'consent', 'our vendor consented');
  assert.equal(basis({ gdpr: true, consent: CONSENT_ALL }, OTHER_VENDOR), 'gdpr_no_consent', 'our vendor did not');
  assert.equal(basis({ gdpr: false, consent: CONSENT_NO_PROFILE }), 'unrestricted', 'gdpr=0: the string is not needed');
  assert.equal(basis({ gdpr: null, consent: CONSENT_NO_PROFILE }), 'unrestricted', 'gdpr unsaid: GDPR is not assumed');
});

test('privacy: a malformed TCF string is no consent, never an error', () => {
  for (const bad of ['', 'x', 'CO....', 'not a consent string', '!!!', CONSENT_ALL.slice(0, 10), 'BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA' /* TCF v1 */]) {
    assert.equal(tcfConsents(bad, null), false, JSON.stringify(bad));
    assert.equal(basis({ gdpr: true, consent: bad }), 'gdpr_no_consent', JSON.stringify(bad));
  }
});

test('privacy: GDPR through GPP (gpp_sid 2): user.consent, else the GPP string\'s TCF EU section', () => {
  assert.equal(basis({ gpp: IAB_GPP_TCF_EU_NO_CONSENT, gppSid: [2] }), 'gdpr_no_consent', 'IAB example: no purpose consented');
  assert.equal(basis({ gpp: `DBABM~${CONSENT_ALL}`, gppSid: [2] }), 'consent', 'the TCF EU section consents');
  assert.equal(basis({ gpp: IAB_GPP_TCF_EU_NO_CONSENT, gppSid: [2], consent: CONSENT_ALL }), 'consent', 'user.consent first');
  assert.equal(basis({ gpp: 'DBABM~garbage', gppSid: [2] }), 'gdpr_no_consent');
  assert.equal(basis({ gppSid: [2] }), 'gdpr_no_consent', 'no string at all');
});

test('privacy: US privacy strings: opt-out of sale, or malformed, is us_privacy_opt_out', () => {
  assert.equal(basis({ usPrivacy: '1YYN' }), 'us_privacy_opt_out');
  assert.equal(basis({ usPrivacy: '1nyy' }), 'us_privacy_opt_out', 'case-insensitive');
  assert.equal(basis({ usPrivacy: '1YNN' }), 'unrestricted');
  assert.equal(basis({ usPrivacy: '1---' }), 'unrestricted', 'CCPA does not apply');
  for (const bad of ['', 'YYN', '2YNN', '1YNNN', '1ABC']) assert.equal(usPrivacyOptedOut(bad), true, JSON.stringify(bad));
});

test('privacy: GPP US sections (IAB strings and strings encoded by IAB\'s library)', () => {
  assert.equal(basis({ gpp: IAB_GPP_USNAT, gppSid: [7] }), 'unrestricted', 'IAB usnat example: did not opt out');
  assert.equal(basis({ gpp: IAB_GPP_USNAT_2, gppSid: [7] }), 'unrestricted');
  assert.equal(basis({ gpp: gppString('usnat', { SaleOptOutNotice: 1, SaleOptOut: 1 }), gppSid: [7] }), 'gpp_opt_out');
  assert.equal(basis({ gpp: gppString('usnat', { SharingOptOut: 1 }), gppSid: [7] }), 'gpp_opt_out');
  assert.equal(basis({ gpp: gppString('usva', { SaleOptOut: 2, TargetedAdvertisingOptOut: 1 }), gppSid: [9] }), 'gpp_opt_out', 'usva has no SharingOptOut');
  assert.equal(basis({ gpp: gppString('usca', { SaleOptOut: 2, SharingOptOut: 2 }), gppSid: [8] }), 'unrestricted');
  assert.equal(basis({ gpp: gppString('uspv1', { Version: 1, Notice: 'Y', OptOutSale: 'Y', LspaCovered: 'N' }), gppSid: [6] }), 'gpp_opt_out');
  assert.equal(basis({ gpp: gppString('usnat', { SaleOptOut: 1 }), gppSid: [] }), 'unrestricted', 'gpp_sid names the sections that apply');
});

test('privacy: a GPP string that cannot be read for a US section gpp_sid names is opted out, never an error', () => {
  for (const gpp of ['DBABL~!!!', 'zzz', 'DBABL', '', IAB_GPP_TCF_EU_NO_CONSENT /* lacks section 7 */]) {
    assert.equal(basis({ gpp, gppSid: [7] }), 'gpp_opt_out', gpp);
  }
  assert.equal(basis({ gppSid: [7] }), 'gpp_opt_out', 'no string at all');
});
