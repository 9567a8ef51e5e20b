/**
 * Test support: real consent strings encoded by IAB's own libraries. TCF v2 strings need a Global Vendor
 * List to encode; the real one is a network fetch, so a small in-memory GVL (vendors 42 and 755) stands in.
 */
import { GVL, TCModel, TCString } from '@iabtcf/core';
import { GppModel } from '@iabgpp/cmpapi';

/** The vendor ids of the in-memory GVL. */
export const TEST_VENDOR = 755;
export const OTHER_TEST_VENDOR = 42;

function gvl(): GVL {
  const purposes: Record<string, unknown> = {};
  for (let i = 1; i <= 11; i++) purposes[i] = { id: i, name: `purpose ${i}`, description: '', descriptionLegal: '' };
  const vendor = (id: number) => ({
    id, name: `vendor ${id}`, purposes: [1, 3, 4], legIntPurposes: [], flexiblePurposes: [], specialPurposes: [], features: [], specialFeatures: [],
    policyUrl: 'https://vendor.example/privacy',
  });
  return new GVL({
    gvlSpecificationVersion: 2, vendorListVersion: 150, tcfPolicyVersion: 2, lastUpdated: '2024-01-01T00:00:00Z', purposes,
    specialPurposes: {}, features: {}, specialFeatures: {}, vendors: { [TEST_VENDOR]: vendor(TEST_VENDOR), [OTHER_TEST_VENDOR]: vendor(OTHER_TEST_VENDOR) }, stacks: {},
  } as unknown as ConstructorParameters<typeof GVL>[0]);
}

/** A TCF v2 string with these purpose and vendor consents, encoded by IAB's @iabtcf/core. */
export function tcString(purposes: number[], vendors: number[]): string {
  const m = new TCModel(gvl());
  m.cmpId = 10;
  m.cmpVersion = 1;
  m.consentScreen = 1;
  m.publisherCountryCode = 'DE';
  m.purposeConsents.set(purposes);
  m.vendorConsents.set(vendors);
  return TCString.encode(m);
}

/** A GPP string with one section's fields set, encoded by IAB's @iabgpp/cmpapi. */
export function gppString(section: string, fields: Record<string, unknown>): string {
  const m = new GppModel();
  for (const [k, v] of Object.entries(fields)) m.setFieldValue(section, k, v);
  return m.encode();
}

// IAB's GPP documentation example: a TCF EU v2 section (section id 2) consenting to no purpose.
export const IAB_GPP_TCF_EU_NO_CONSENT = 'DBABM~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA';
// IAB examples of US national sections (id 7): nobody opted out (2 = did not opt out; 0 = not applicable).
export const IAB_GPP_USNAT = 'DBABL~BVVqAAEABCA.QA';
export const IAB_GPP_USNAT_2 = 'DBABLA~BVAoAAAAAABk.QA';
