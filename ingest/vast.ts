/**
 * The `adm` of a video win: VAST with our impression and click notices wired in, pure.
 *
 * - A creative served as VAST XML (the campaigns API accepted only documents that look like VAST) gets
 *   our <Impression> beside its own in its first <InLine> (or <Wrapper>) ad, and our <ClickTracking> in
 *   that ad's first <Linear> <VideoClicks>. The document is not parsed into a tree: we look for the few
 *   tags we need, with comments and CDATA sections masked first so that text inside them is never taken
 *   for a tag, and insert our elements at those offsets; everything else stays byte for byte. A document
 *   where those tags are not found is not edited (editDocument returns null).
 * - A creative served by a VAST tag URL, or VAST XML we could not edit, is wrapped: a VAST 4.2 <Wrapper>
 *   whose <VASTAdTagURI> is the tag, with our Impression and ClickTracking.
 * URLs are in CDATA sections (a `]]>` inside one is split, so no URL can end the section early).
 * The player calls the click tracker in the background: the click notice's 302 to the landing URL is
 * simply not followed for display, and the click is counted before it is answered.
 */

export interface VideoTrackers {
  /** The impression notice URL (the browser token). */
  readonly impression: string;
  /** The click notice URL (the browser token). */
  readonly click: string;
}

const cdata = (s: string): string => `<![CDATA[${s.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

/** The text with comments, CDATA sections and processing instructions replaced by spaces: same offsets, no tags inside them. */
function masked(xml: string): string {
  return xml.replace(/<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<\?[\s\S]*?(?:\?>|$)/g, (m) => ' '.repeat(m.length));
}

/** The first opening tag `<name ...>` at or after `from` (not `<nameOther`), with its end; null if none. */
function openTag(text: string, name: string, from: number, to: number): { start: number; end: number; selfClosing: boolean } | null {
  const re = new RegExp(`<${name}(?=[\\s/>])[^>]*>`, 'g');
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m || m.index >= to) return null;
  return { start: m.index, end: m.index + m[0].length, selfClosing: m[0].endsWith('/>') };
}

function closeTag(text: string, name: string, from: number, to: number): number {
  const i = text.indexOf(`</${name}>`, from);
  return i >= 0 && i < to ? i : -1;
}

/**
 * The VAST document with our trackers inserted into its first InLine (or Wrapper) ad; null when the
 * document has no <VAST> root, no such ad, or no place for the impression (an ad without <Creatives>).
 */
export function editDocument(xml: string, t: VideoTrackers): string | null {
  const text = masked(xml);
  if (!openTag(text, 'VAST', 0, text.length)) return null;
  const adName = openTag(text, 'InLine', 0, text.length) ? 'InLine' : 'Wrapper';
  const ad = openTag(text, adName, 0, text.length);
  if (!ad || ad.selfClosing) return null;
  const adEnd = closeTag(text, adName, ad.end, text.length);
  if (adEnd < 0) return null;
  // Edits as [start, end, text]: the span [start, end) replaced by text (start = end: an insertion).
  const edits: Array<[number, number, string]> = [];
  // Our impression goes before the ad's first own <Impression> (the schema's order), else before <Creatives>.
  const impressionAt = openTag(text, 'Impression', ad.end, adEnd)?.start ?? openTag(text, 'Creatives', ad.end, adEnd)?.start;
  if (impressionAt === undefined) return null;
  edits.push([impressionAt, impressionAt, `<Impression>${cdata(t.impression)}</Impression>`]);
  const linear = openTag(text, 'Linear', ad.end, adEnd);
  const linearEnd = linear && !linear.selfClosing ? closeTag(text, 'Linear', linear.end, adEnd) : -1;
  if (linear && linearEnd >= 0) {
    const tracking = `<ClickTracking>${cdata(t.click)}</ClickTracking>`;
    const clicks = openTag(text, 'VideoClicks', linear.end, linearEnd);
    if (clicks?.selfClosing) {
      edits.push([clicks.start, clicks.end, `<VideoClicks>${tracking}</VideoClicks>`]);
    } else if (clicks) {
      const clicksEnd = closeTag(text, 'VideoClicks', clicks.end, linearEnd);
      if (clicksEnd < 0) return null;
      // After the ClickThrough (VideoClicks' order: ClickThrough, ClickTracking, CustomClick).
      const through = closeTag(text, 'ClickThrough', clicks.end, clicksEnd);
      const at = through >= 0 ? through + '</ClickThrough>'.length : clicks.end;
      edits.push([at, at, tracking]);
    } else {
      // Linear's order puts VideoClicks after MediaFiles.
      const media = closeTag(text, 'MediaFiles', linear.end, linearEnd);
      const at = media >= 0 ? media + '</MediaFiles>'.length : linearEnd;
      edits.push([at, at, `<VideoClicks>${tracking}</VideoClicks>`]);
    }
  }
  let out = '';
  let at = 0;
  for (const [start, end, s] of edits.sort((a, b) => a[0] - b[0])) {
    out += xml.slice(at, start) + s;
    at = end;
  }
  return out + xml.slice(at);
}

/** A VAST 4.2 Wrapper around `tagUrl` with our trackers. */
export function wrapperDocument(adId: string, tagUrl: string, t: VideoTrackers): string {
  const id = adId.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0" encoding="UTF-8"?><VAST version="4.2"><Ad id="${id}"><Wrapper><AdSystem>rtb-pipeline</AdSystem>`
    + `<Impression>${cdata(t.impression)}</Impression>`
    + `<Creatives><Creative><Linear><VideoClicks><ClickTracking>${cdata(t.click)}</ClickTracking></VideoClicks></Linear></Creative></Creatives>`
    + `<VASTAdTagURI>${cdata(tagUrl)}</VASTAdTagURI></Wrapper></Ad></VAST>`;
}

/**
 * The video adm: the creative's VAST XML with our trackers, else a Wrapper around its tag URL (also when
 * its XML could not be edited); null when neither works (no tag URL and XML we cannot track: no bid).
 */
export function videoMarkup(adId: string, vastXml: string, vastTagUrl: string, t: VideoTrackers): string | null {
  const edited = vastXml !== '' ? editDocument(vastXml, t) : null;
  if (edited !== null) return edited;
  return vastTagUrl !== '' ? wrapperDocument(adId, vastTagUrl, t) : null;
}
