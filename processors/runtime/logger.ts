/**
 * pino JSON logs; one child logger per component, bound to its name.
 *
 * Secrets stay out of the logs: fields that commonly hold one (authorization headers, cookies,
 * password, token, apiKey, secret, the configuration's secret keys) are replaced by `[redacted]` at the
 * top level and one level down, and the password of any URL with credentials (`redis://:pw@host`,
 * `postgres://user:pw@host/db`) is masked wherever it appears: in the message, in string fields (two
 * levels deep) and in logged errors' message and stack.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const SECRET_FIELDS = [
  'authorization', 'Authorization', 'cookie', 'set-cookie', 'x-api-key', 'password', 'passwd', 'pass', 'token', 'accessToken', 'refreshToken',
  'apiKey', 'api_key', 'secret', 'clientSecret', 'trackingSecret', 'trackingSecretPrevious', 'operatorToken',
];
/** pino `redact` paths: each field at the top level, one level down, and under any `headers`. */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
  const sub = key.startsWith('[') ? key : `.${key}`;
  return [key, `*${sub}`, `*.headers${sub}`, `headers${sub}`];
});

/** `scheme://user:password@` (or `scheme://:password@`): the password part is masked. */
const CREDENTIALS_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):([^\s/@]+)@/gi;

/** The string with the password of every URL in it masked: `redis://:***@host`, `postgres://rtb:***@db/rtb`. */
export function maskUrlCredentials(s: string): string {
  return s.includes('://') ? s.replace(CREDENTIALS_IN_URL, '$1:***@') : s;
}

/** A copy of `value` with URL credentials masked in its strings, `depth` levels down; the same object when nothing changed. */
function maskDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return maskError(value);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const m = maskDeep(v, depth - 1);
      if (m !== v) changed = true;
      return m;
    });
    return changed ? out : value;
  }
  // Only plain objects are copied: a Buffer, a Map or a class instance is left to pino's serialisation.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    const m = maskDeep(v, depth - 1);
    if (m !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = m;
  }
  return out ?? value;
}

/** An error as pino would serialise it, with URL credentials masked in its message and stack. */
function maskError(err: Error): unknown {
  // pino's serialised error is not a plain object (its prototype hides `raw`): copy its own fields.
  const s = { ...(pino.stdSerializers.err(err) as unknown as Record<string, unknown>) };
  for (const [k, v] of Object.entries(s)) s[k] = v instanceof Error ? maskError(v) : typeof v === 'object' && v !== null ? maskDeep({ ...v }, 2) : maskDeep(v, 2);
  return s;
}

/** `destination`: where the JSON lines go (stdout by default; tests pass a stream to read them). */
export function createLogger(name: string, level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { service: name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    serializers: { err: (e: unknown) => (e instanceof Error ? maskError(e) : maskDeep(e, 3)) },
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => maskDeep(obj, 3) as Record<string, unknown>,
    },
    hooks: {
      // The message (and any printf-style arguments): e.g. `Redis at redis://:pw@host not ready`.
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') (args as unknown[])[i] = maskUrlCredentials(args[i] as string);
        return method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
