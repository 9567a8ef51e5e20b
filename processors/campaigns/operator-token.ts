/**
 * The bootstrap operator token of the campaign API: the one token that exists before any is in Postgres,
 * so that an operator can create the others. Read at start-up from CAMPAIGNS_OPERATOR_TOKEN_FILE
 * (preferred: not in the environment of every child process, not in `ps e`) or CAMPAIGNS_OPERATOR_TOKEN.
 * Without either the service refuses to start, unless RTB_DEV_MODE=1: then it uses the token in
 * DEV_OPERATOR_TOKEN_FILE (or the configured file), generating it there (mode 0600) when the file does
 * not exist yet. A configured token must look random (tokens.ts operatorTokenProblem).
 * Nothing here logs or echoes the token itself.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PipelineError } from '../../schemas/errors.js';
import { generateToken, operatorTokenProblem } from './tokens.js';

/** Where development mode keeps the generated token (relative to the working directory: the repository root). */
export const DEV_OPERATOR_TOKEN_FILE = '.stack/operator-token';

const GENERATE_HINT = "generate one with: node -e \"console.log('rtbk_'+require('crypto').randomBytes(32).toString('base64url'))\" > operator-token && chmod 600 operator-token";

export interface OperatorTokenConfig {
  readonly operatorToken: string;
  readonly operatorTokenFile: string;
  readonly devMode: boolean;
}

export interface OperatorToken {
  readonly token: string;
  /** env: CAMPAIGNS_OPERATOR_TOKEN; file: read from `path`; generated: made now and written to `path`. */
  readonly source: 'env' | 'file' | 'generated';
  /** Absolute path of the token file (source file or generated). */
  readonly path?: string;
  /** Something to log as a warning (a token file readable by others). */
  readonly warning?: string;
}

const invalid = (message: string): PipelineError => new PipelineError('CONFIG_INVALID', message);

/** The file a configuration reads the token from: the configured one, else the development default in dev mode. */
export function operatorTokenPath(cfg: OperatorTokenConfig, cwd = process.cwd()): string | null {
  if (cfg.operatorTokenFile !== '') return resolve(cwd, cfg.operatorTokenFile);
  return cfg.devMode && cfg.operatorToken === '' ? resolve(cwd, DEV_OPERATOR_TOKEN_FILE) : null;
}

/** Resolves the bootstrap operator token, or throws CONFIG_INVALID saying what to set. */
export async function resolveOperatorToken(cfg: OperatorTokenConfig, cwd = process.cwd()): Promise<OperatorToken> {
  if (cfg.operatorToken !== '' && cfg.operatorTokenFile !== '') {
    throw invalid('set CAMPAIGNS_OPERATOR_TOKEN_FILE or CAMPAIGNS_OPERATOR_TOKEN, not both (the file is preferred)');
  }
  if (cfg.operatorToken !== '') {
    const problem = operatorTokenProblem(cfg.operatorToken);
    if (problem) throw invalid(`CAMPAIGNS_OPERATOR_TOKEN is refused: it ${problem}; ${GENERATE_HINT}`);
    return { token: cfg.operatorToken, source: 'env' };
  }
  const path = operatorTokenPath(cfg, cwd);
  if (path === null) {
    throw invalid(`no operator token: set CAMPAIGNS_OPERATOR_TOKEN_FILE to a file holding one (${GENERATE_HINT}), or RTB_DEV_MODE=1 on a development machine to have one generated in ${DEV_OPERATOR_TOKEN_FILE}`);
  }
  let generated = false;
  let text = await readIfExists(path);
  if (text === null) {
    if (!cfg.devMode) throw invalid(`CAMPAIGNS_OPERATOR_TOKEN_FILE ${path} does not exist (${GENERATE_HINT})`);
    generated = await writeNewToken(path);
    // Another instance may have created it first (EEXIST): its token is the one to use.
    text = await readIfExists(path);
    if (text === null) throw invalid(`the operator token file ${path} vanished right after it was written`);
  }
  const token = text.trim();
  const problem = operatorTokenProblem(token);
  if (problem) throw invalid(`the operator token in ${path} is refused: it ${problem}; ${GENERATE_HINT}`);
  const mode = (await stat(path)).mode & 0o777;
  const warning = (mode & 0o077) !== 0 ? `the operator token file ${path} is readable by other users (mode ${mode.toString(8)}): chmod 600 it` : undefined;
  return { token, source: generated ? 'generated' : 'file', path, ...(warning ? { warning } : {}) };
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw invalid(`the operator token file ${path} cannot be read: ${(err as Error).message}`);
  }
}

/** Creates `path` with a new token, mode 0600, never overwriting (O_EXCL); false when it already existed. */
async function writeNewToken(path: string): Promise<boolean> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(`${generateToken()}\n`, 'utf8');
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw invalid(`could not write a development operator token to ${path}: ${(err as Error).message}`);
  }
}
