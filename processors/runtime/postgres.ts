/**
 * TLS of the Postgres clients (the `postgres` package), from POSTGRES_SSLMODE and POSTGRES_SSL_CA_FILE
 * (config.ts `postgresTlsSpecs`): spread `postgresTls(cfg)` into every `postgres(url, options)`.
 *  - disable: no option (an `sslmode` in POSTGRES_URL still applies);
 *  - require: TLS, the server's certificate not checked (encryption against passive listeners only);
 *  - verify-full: TLS, the certificate must chain to POSTGRES_SSL_CA_FILE (or the system store) and name the host.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { PipelineError } from '../../schemas/errors.js';

export interface PostgresTlsConfig {
  readonly postgresSslMode: 'disable' | 'require' | 'verify-full';
  readonly postgresSslCaFile: string;
}

export function postgresTls(cfg: PostgresTlsConfig): { ssl?: 'require' | 'verify-full' | ConnectionOptions } {
  const { postgresSslMode: mode, postgresSslCaFile: caFile } = cfg;
  if (caFile !== '' && mode !== 'verify-full') {
    throw new PipelineError('CONFIG_INVALID', `POSTGRES_SSL_CA_FILE is set but POSTGRES_SSLMODE=${mode} does not check certificates: set POSTGRES_SSLMODE=verify-full`);
  }
  if (mode === 'disable') return {};
  if (mode === 'require') return { ssl: 'require' };
  if (caFile === '') return { ssl: 'verify-full' };
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (err) {
    throw new PipelineError('CONFIG_INVALID', `POSTGRES_SSL_CA_FILE=${JSON.stringify(caFile)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { ssl: { ca, rejectUnauthorized: true } };
}
