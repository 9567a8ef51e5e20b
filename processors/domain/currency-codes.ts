/**
 * The active ISO 4217 currency codes (list one of the ISO 4217 maintenance agency, 2025, including ZWG and
 * XCG), so that the edge refuses an unknown code in `cur[]` or a `bidfloorcur` with a 400 naming the field
 * instead of carrying it to a bidder that cannot price it. XXX (no currency) and XTS (testing) are left out:
 * no price can be in them. Which of these we can actually convert is the rate table's business
 * (processors/domain/currency.ts); this list only says what is a currency at all.
 */
const CODES = `
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN
NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL
SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
`;

export const CURRENCY_CODES: ReadonlySet<string> = new Set(CODES.trim().split(/\s+/));

/** An active ISO 4217 code, upper case (callers upper-case what a request sent). */
export function isCurrencyCode(code: string): boolean {
  return CURRENCY_CODES.has(code);
}
