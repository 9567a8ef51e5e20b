/**
 * Following one request (README "Following one request"): the ids that travel with it.
 *
 *  - `x-request-id`: the exchange's header when it is sane (1..128 visible ASCII characters), else the
 *    OpenRTB request id when that is sane, else one the edge generates. Answered on every bid-route
 *    answer, written as a Kafka record header on the edge's record, and copied by the runner onto every
 *    record a hop produces for that input (dead letters included).
 *  - `traceparent` (W3C Trace Context, version 00 only) and `tracestate` (bounded): carried as they came
 *    when valid; an invalid one is ignored, never an error.
 *
 * Record headers use librdkafka's form (an array of one-key objects), which the native producer takes
 * and the native consumer gives; the KafkaJS-compatible layer uses an object instead, converted here.
 * Pure functions only: no I/O, no logging.
 */
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
export const MAX_REQUEST_ID_LENGTH = 128;
/** W3C: vendors must propagate at least 512 characters of tracestate; longer ones are dropped here. */
export const MAX_TRACESTATE_LENGTH = 512;

/** One record header as librdkafka's API takes and gives it. */
export type RecordHeader = { [key: string]: Buffer | string };
/** A record's headers, librdkafka's form. */
export type RecordHeaders = RecordHeader[];
/** A record's headers as the KafkaJS-compatible API gives and takes them (a repeated key is an array). */
export type KafkaJsHeaders = { [key: string]: Buffer | string | Array<Buffer | string> | undefined };

/** 1..128 characters, each visible ASCII (0x21..0x7e): safe in an HTTP header, a log line and a grep. */
export function saneRequestId(v: string | null | undefined): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

export interface Traceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
}

/** Lower-case hex digits only (W3C HEXDIGLC), and not all zeros when `nonZero`. */
function lowerHex(v: string, from: number, to: number, nonZero: boolean): boolean {
  let zero = true;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
    if (c !== 0x30) zero = false;
  }
  return !(nonZero && zero);
}

/**
 * A W3C traceparent (https://www.w3.org/TR/trace-context/#traceparent-header), version 00:
 * `00-<32 hex trace-id, not all zeros>-<16 hex parent-id, not all zeros>-<2 hex flags>`, lower-case hex,
 * exactly 55 characters. Anything else (other versions included) is null: ignored, not an error.
 */
export function parseTraceparent(v: string | null | undefined): Traceparent | null {
  if (!validTraceparent(v)) return null;
  return { version: '00', traceId: v.slice(3, 35), parentId: v.slice(36, 52), flags: v.slice(53, 55) };
}

/** As parseTraceparent, without building the parts (the edge only needs to know). */
export function validTraceparent(v: string | null | undefined): v is string {
  if (typeof v !== 'string' || v.length !== 55) return false;
  if (v.charCodeAt(2) !== 0x2d || v.charCodeAt(35) !== 0x2d || v.charCodeAt(52) !== 0x2d) return false;
  if (v.charCodeAt(0) !== 0x30 || v.charCodeAt(1) !== 0x30) return false;
  return lowerHex(v, 3, 35, true) && lowerHex(v, 36, 52, true) && lowerHex(v, 53, 55, false);
}

/** A tracestate worth carrying: 1..512 characters of printable ASCII (spaces and tabs allowed, as the list syntax has them). */
export function saneTracestate(v: string | null | undefined): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TRACESTATE_LENGTH) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return false;
  }
  return true;
}

/** What the edge carries for one request. `requestId` is '' until chosen (see `chooseRequestId`). */
export interface RequestTrace {
  requestId: string;
  /** The exchange's traceparent when valid, else ''. */
  traceparent: string;
  /** Its tracestate when sane and the traceparent is valid, else ''. */
  tracestate: string;
}

/** From the HTTP headers as received ('' when absent): each kept only when valid. */
export function traceFromHttp(xRequestId: string, traceparent: string, tracestate: string): RequestTrace {
  const tp = traceparent !== '' && validTraceparent(traceparent) ? traceparent : '';
  return {
    requestId: saneRequestId(xRequestId) ? xRequestId : '',
    traceparent: tp,
    tracestate: tp !== '' && saneTracestate(tracestate) ? tracestate : '',
  };
}

/** An id of the edge's own, for a request that brought no usable one. */
export function generateRequestId(): string {
  return randomUUID();
}

/** The request id, choosing it now if not yet chosen: the exchange's, else `bidRequestId` when sane, else a generated one. */
export function chooseRequestId(trace: RequestTrace, bidRequestId?: string): string {
  if (trace.requestId === '') trace.requestId = saneRequestId(bidRequestId) ? bidRequestId : generateRequestId();
  return trace.requestId;
}

/** The edge record's headers: always the request id (chosen by then), the trace context when there is one. */
export function recordHeadersOf(trace: RequestTrace): RecordHeaders {
  // Literal keys (= REQUEST_ID_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER): objects with a fixed shape.
  const h: RecordHeaders = [{ 'x-request-id': chooseRequestId(trace) }];
  if (trace.traceparent !== '') {
    h.push({ traceparent: trace.traceparent });
    if (trace.tracestate !== '') h.push({ tracestate: trace.tracestate });
  }
  return h;
}

const isTraceKey = (k: string): boolean => k === REQUEST_ID_HEADER || k === TRACEPARENT_HEADER || k === TRACESTATE_HEADER;

/**
 * The trace headers of a consumed record, librdkafka's form, to copy onto the records produced for it;
 * undefined when it has none. The common case (a record of this pipeline: trace headers only, as
 * librdkafka gives them) returns the consumed array itself, so a hop allocates nothing for it; other
 * headers are not copied. Takes either client's form.
 */
export function traceHeaders(h: RecordHeaders | KafkaJsHeaders | null | undefined): RecordHeaders | undefined {
  if (h === undefined || h === null) return undefined;
  if (Array.isArray(h)) {
    let foreign = false;
    for (let i = 0; i < h.length && !foreign; i++) for (const k in h[i]) if (!isTraceKey(k)) foreign = true;
    if (!foreign) return h.length > 0 ? h : undefined;
    const kept = h.filter((one) => Object.keys(one).every(isTraceKey));
    return kept.length > 0 ? kept : undefined;
  }
  let out: RecordHeaders | undefined;
  for (const k in h) {
    if (!isTraceKey(k)) continue;
    const v = h[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) (out ??= []).push({ [k]: one });
    else (out ??= []).push({ [k]: v });
  }
  return out;
}

/** librdkafka's form -> the KafkaJS-compatible API's (the exactly-once writer's sendBatch). */
export function toKafkaJsHeaders(h: RecordHeaders): KafkaJsHeaders {
  const out: KafkaJsHeaders = {};
  for (const one of h) {
    for (const k in one) {
      const prev = out[k];
      out[k] = prev === undefined ? one[k] : Array.isArray(prev) ? [...prev, one[k]!] : [prev, one[k]!];
    }
  }
  return out;
}

/** The first value of header `key` as a string, in either form; undefined when absent. */
export function headerValue(h: RecordHeaders | KafkaJsHeaders | null | undefined, key: string): string | undefined {
  if (h === undefined || h === null) return undefined;
  let v: Buffer | string | Array<Buffer | string> | undefined;
  if (Array.isArray(h)) {
    for (const one of h) if (key in one) {
      v = one[key];
      break;
    }
  } else v = h[key];
  if (Array.isArray(v)) v = v[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
}

/** Log fields of a record's trace headers: `requestId` and `traceId` (from a valid traceparent), each only when present. For log paths only. */
export function traceLogFields(h: RecordHeaders | KafkaJsHeaders | null | undefined): { requestId?: string; traceId?: string } {
  const out: { requestId?: string; traceId?: string } = {};
  const requestId = headerValue(h, REQUEST_ID_HEADER);
  if (requestId !== undefined) out.requestId = requestId;
  const tp = parseTraceparent(headerValue(h, TRACEPARENT_HEADER));
  if (tp) out.traceId = tp.traceId;
  return out;
}

/** The trace id of an edge request's traceparent (already validated), or undefined. */
export function traceIdOf(trace: RequestTrace): string | undefined {
  return trace.traceparent === '' ? undefined : trace.traceparent.slice(3, 35);
}
