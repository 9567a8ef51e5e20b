/**
 * The Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro body.
 * The only place that knows the framing; everything else calls these two functions.
 */
import { PipelineError } from './errors.js';

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  writeHeader(out, schemaId);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** Writes the 5-byte header at the start of `buf` (for encoders that write the body after it in place). */
export function writeHeader(buf: Buffer, schemaId: number): void {
  buf.writeUInt8(MAGIC_BYTE, 0);
  buf.writeUInt32BE(schemaId, 1);
}

export function unframe(buf: Buffer): { schemaId: number; body: Buffer } {
  if (buf.length < HEADER_BYTES) {
    throw new PipelineError('DECODE_FAILED', `record of ${buf.length} bytes is shorter than the 5-byte wire header`);
  }
  const magic = buf.readUInt8(0);
  if (magic !== MAGIC_BYTE) throw new PipelineError('DECODE_FAILED', `unknown magic byte ${magic} (expected 0)`);
  return { schemaId: buf.readUInt32BE(1), body: buf.subarray(HEADER_BYTES) };
}
