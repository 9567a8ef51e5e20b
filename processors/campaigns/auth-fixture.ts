/**
 * Test support: a fresh operator token in a temporary file (mode 0600), to start the campaigns service
 * with (`env`), and the header that carries a token. Not used by production code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateToken } from './tokens.js';

export interface OperatorTokenFile {
  token: string;
  path: string;
  /** The variables that give a spawned campaigns service this token. */
  env: Record<string, string>;
  remove: () => Promise<void>;
}

export async function operatorTokenFile(): Promise<OperatorTokenFile> {
  const dir = await mkdtemp(join(tmpdir(), 'campaigns-token-'));
  const path = join(dir, 'operator-token');
  const token = generateToken();
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return { token, path, env: { CAMPAIGNS_OPERATOR_TOKEN_FILE: path }, remove: () => rm(dir, { recursive: true, force: true }) };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
