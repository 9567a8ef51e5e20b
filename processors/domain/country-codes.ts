/**
 * ISO 3166-1 alpha-2 to alpha-3 for the countries most bid traffic comes from. OpenRTB sends
 * `device.geo.country` as alpha-3, but some exchanges (and people typing targeting rules) use alpha-2;
 * both sides are normalised through this table so 'US', 'us' and 'USA' all match. An alpha-2 code not in
 * the table is rejected by campaign validation, so a rule can never silently fail to normalise.
 */
const ALPHA2_TO_ALPHA3: Readonly<Record<string, string>> = {
  ar: 'arg', at: 'aut', au: 'aus', be: 'bel', bg: 'bgr', br: 'bra', ca: 'can', ch: 'che', cl: 'chl',
  cn: 'chn', co: 'col', cz: 'cze', de: 'deu', dk: 'dnk', eg: 'egy', es: 'esp', fi: 'fin', fr: 'fra',
  gb: 'gbr', gr: 'grc', hk: 'hkg', hr: 'hrv', hu: 'hun', id: 'idn', ie: 'irl', il: 'isr', in: 'ind',
  it: 'ita', jp: 'jpn', ke: 'ken', kr: 'kor', lt: 'ltu', lu: 'lux', lv: 'lva', ma: 'mar', mx: 'mex',
  my: 'mys', ng: 'nga', nl: 'nld', no: 'nor', nz: 'nzl', pe: 'per', ph: 'phl', pk: 'pak', pl: 'pol',
  pt: 'prt', ro: 'rou', rs: 'srb', ru: 'rus', sa: 'sau', se: 'swe', sg: 'sgp', si: 'svn', sk: 'svk',
  th: 'tha', tr: 'tur', tw: 'twn', ua: 'ukr', us: 'usa', vn: 'vnm', za: 'zaf', ae: 'are',
};

/** Lower-case alpha-3 for an alpha-2 or alpha-3 code (any case); null when it is neither. */
export function normalizeCountry(code: string): string | null {
  const c = code.trim().toLowerCase();
  if (!/^[a-z]{2,3}$/.test(c)) return null;
  if (c.length === 3) return c;
  return ALPHA2_TO_ALPHA3[c] ?? null;
}
