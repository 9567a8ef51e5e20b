/**
 * The pipeline's one error class. Every error carries a stable code from the closed list below,
 * a retryable flag (only retryable errors are ever retried) and, where it wraps another, a `cause`.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: { retryable: false, message: 'invalid configuration' },
  BAD_REQUEST: { retryable: false, message: 'invalid request' },
  PAYLOAD_TOO_LARGE: { retryable: false, message: 'payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { retryable: false, message: 'unsupported content type' },
  DECODE_FAILED: { retryable: false, message: 'record could not be decoded' },
  ENCODE_FAILED: { retryable: false, message: 'record could not be encoded' },
  SCHEMA_REGISTRY: { retryable: true, message: 'schema registry call failed' },
  SCHEMA_INCOMPATIBLE: { retryable: false, message: 'schema change is not compatible' },
  KAFKA_UNAVAILABLE: { retryable: true, message: 'Kafka is unreachable' },
  KAFKA_QUEUE_FULL: { retryable: true, message: 'producer queue is full' },
  KAFKA_PRODUCE_FAILED: { retryable: true, message: 'produce failed' },
  DEPENDENCY_UNAVAILABLE: { retryable: true, message: 'a dependency is unavailable' },
  INVALID_RECORD: { retryable: false, message: 'record failed validation' },
} as const satisfies Record<string, { retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message ?? ERROR_CODES[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
  }
}

/** True when `err` is a PipelineError with one of the given codes (any code when none are given). */
export function isPipelineError(err: unknown, ...codes: ErrorCode[]): err is PipelineError {
  return err instanceof PipelineError && (codes.length === 0 || codes.includes(err.code));
}
