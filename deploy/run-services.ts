/**
 * The main command (`bash deploy/start.sh`): runs every project service (deploy/services.ts) under the
 * supervisor (deploy/supervisor.ts): a service that exits is restarted with backoff, a crash loop is
 * reported on stderr while the others keep running, and Ctrl-C (SIGINT/SIGTERM) stops them all
 * (SIGTERM, then SIGKILL after RTB_STOP_TIMEOUT_MS; a second Ctrl-C kills at once).
 *
 * Each service's output (JSON lines) is appended to <RTB_LOG_DIR>/<service>.log; stderr gets only the
 * supervisor's lines. Once the campaigns service is ready, an empty catalogue is seeded with a small
 * demo (skip: --no-demo-seed or RTB_SKIP_DEMO_SEED=1); then what runs where and a curl line to try a bid.
 *
 * A local run is a development run: RTB_DEV_MODE defaults to 1 here (said in the log), so the services
 * may make up missing secrets (the campaign API generates its operator token in .stack/operator-token).
 * RTB_DEV_MODE=0 applies the production rules (then CAMPAIGNS_OPERATOR_TOKEN_FILE is required).
 *
 *   node --import tsx deploy/run-services.ts [--no-demo-seed]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { commonSpecs, loadConfig, postgresSpecs, redisSpecs, type Spec } from '../schemas/config.js';
import { postgresTls } from '../processors/runtime/postgres.js';
import { projectServices, servicePort, servicePortEnv, type ProjectService } from './services.js';
import { campaignsSpecs } from '../processors/campaigns/config.js';
import { operatorTokenPath } from '../processors/campaigns/operator-token.js';
import { Supervisor, describeExit, type Spawner } from './supervisor.js';
import { maskUrlCredentials } from '../processors/runtime/logger.js';

const specs = {
  ...commonSpecs, ...postgresSpecs, ...redisSpecs,
  skipDemoSeed: { env: 'RTB_SKIP_DEMO_SEED', type: 'bool', default: false, doc: 'true: never seed the demo catalogue, even when the campaigns table is empty' },
  demoCampaigns: { env: 'RTB_DEMO_CAMPAIGNS', type: 'int', min: 1, max: 9999, default: 20, doc: 'campaigns in the demo catalogue' },
  stopTimeoutMs: { env: 'RTB_STOP_TIMEOUT_MS', type: 'int', min: 0, max: 600_000, default: 15_000, doc: 'grace between SIGTERM and SIGKILL when stopping' },
  logDir: { env: 'RTB_LOG_DIR', type: 'string', default: '.stack/logs', doc: 'folder of the services\' log files (relative to the repository root)' },
  portOffset: { env: 'RTB_PORT_OFFSET', type: 'int', min: 0, max: 50_000, default: 0, doc: 'added to every service\'s local port (8080 -> 8080 + offset, ...), to run a second copy beside the first on a second stack' },
} as const satisfies Record<string, Spec>;

const root = fileURLToPath(new URL('..', import.meta.url));
// Set before anything reads the configuration, and inherited by every service spawned below.
const devModeByDefault = (process.env['RTB_DEV_MODE'] ?? '') === '';
if (devModeByDefault) process.env['RTB_DEV_MODE'] = '1';
const cfg = loadConfig(specs);
const { values: flags } = parseArgs({ options: { 'no-demo-seed': { type: 'boolean', default: false } } });
const logDir = resolve(root, cfg.logDir);
mkdirSync(logDir, { recursive: true });
/** Events (exits, restarts, crash loops, stopping) go to stderr; the introduction (where, curl) to stdout. */
const say = (line: string): boolean => process.stderr.write(`[run-services] ${line}\n`);
const show = (line: string): boolean => process.stdout.write(`${line}\n`);
const logPath = (name: string): string => join(logDir, `${name}.log`);
/** Relative to where the user is when that is shorter to read. */
const shown = (path: string): string => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path));

/** The port a service listens on: its own config default (or override), or the port assigned in services.ts; plus RTB_PORT_OFFSET. */
const portOf = (svc: ProjectService): number | undefined => servicePort(svc, cfg.portOffset);
/** With an offset, notice URLs in bid answers must name the edge's shifted port (unless INGEST_PUBLIC_URL says otherwise). */
const ingestPort = portOf(projectServices.find((s) => s.name === 'ingest')!);
const shiftedEnv: Record<string, string> = cfg.portOffset > 0 && ingestPort ? { INGEST_PUBLIC_URL: `http://127.0.0.1:${ingestPort}` } : {};

const live = new Map<string, ReturnType<typeof spawn>>();
const spawner: Spawner = (svc, onExit) => {
  const entry = projectServices.find((s) => s.name === svc.name)!;
  const env = { ...shiftedEnv, ...servicePortEnv(entry, cfg.portOffset), ...process.env };
  const fd = openSync(svc.logPath, 'a');
  // The log file, not a pipe: a service's logging never waits on this process, and survives it.
  // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which stops them in order.
  const child = spawn(process.execPath, ['--import', 'tsx', entry.entry], { cwd: root, stdio: ['ignore', fd, fd], env, detached: true });
  closeSync(fd);
  let ended = false;
  const end = (exit: Parameters<typeof onExit>[0]): void => {
    if (!ended) (ended = true), onExit(exit);
  };
  child.on('exit', (code, signal) => end({ code, signal }));
  // 'error' also reports a failed kill; only a process that never got a pid has ended by it.
  child.on('error', (err) => child.pid === undefined && end({ code: null, signal: null, error: err.message }));
  live.set(svc.name, child);
  return { kill: (signal) => void child.kill(signal) };
};
// Last resort if this process dies of a bug: no orphaned services holding the ports.
process.on('exit', () => {
  for (const c of live.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const supervisor = new Supervisor(
  projectServices.map((s) => ({ name: s.name, logPath: logPath(s.name) })),
  spawner,
  { stopTimeoutMs: cfg.stopTimeoutMs, report: say },
);
let stopping = false;
const onSignal = (signal: string): void => {
  if (stopping) {
    say(`${signal} again: killing every service now`);
    supervisor.kill();
    return;
  }
  stopping = true;
  say(`${signal}: stopping every service (SIGTERM, SIGKILL after ${cfg.stopTimeoutMs / 1000} s; Ctrl-C again to kill now)`);
  void supervisor.stop().then(() => {
    const ends = supervisor.snapshot().map((s) => `${s.name} ${s.lastExit ? describeExit(s.lastExit) : 'not running'}`);
    say(`all services stopped (${ends.join(', ')}); the stack stays up: npm run stack:down`);
    process.exit(0);
  });
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

if (cfg.devMode) say(`RTB_DEV_MODE=1${devModeByDefault ? ' (the default of this command for local runs)' : ''}: development mode, services may generate missing secrets; RTB_DEV_MODE=0 for production rules`);
supervisor.start();
say(`started ${projectServices.map((s) => s.name).join(', ')}; logs in ${shown(logDir)}/<service>.log; Ctrl-C stops them`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isReady = (port: number): Promise<boolean> =>
  fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);

/** Polls /ready of `port` until it answers 200; false after `timeoutMs` or when stopping. */
async function waitReady(port: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; !stopping && Date.now() < deadline; await sleep(500)) if (await isReady(port)) return true;
  return false;
}

/** Seeds the demo catalogue when the campaigns table has no row. Runs after the campaigns service migrated. */
async function seedIfEmpty(): Promise<void> {
  const sql = postgres(cfg.postgresUrl, { max: 1, onnotice: () => undefined, ...postgresTls(cfg) });
  const [row] = await sql<{ any: boolean }[]>`select exists(select 1 from campaigns) as any`.finally(() => sql.end({ timeout: 5 }));
  if (row?.any) return void say('the campaign catalogue is not empty: no demo seed');
  say(`the campaign catalogue is empty: seeding a demo catalogue of ${cfg.demoCampaigns} campaigns (skip with --no-demo-seed or RTB_SKIP_DEMO_SEED=1)`);
  const args = ['--import', 'tsx', 'processors/campaigns/seed.ts', '--campaigns', String(cfg.demoCampaigns), '--users', '1000'];
  const seed = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  seed.stdout.on('data', (d: Buffer) => (out += d.toString()));
  seed.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => seed.on('exit', (c) => r(c)));
  for (const line of out.trim().split('\n')) say(`  ${line}`);
  if (code !== 0) say(`demo seed failed (exit ${code}): every bid will be answered 204 until campaigns exist (npm run seed)`);
}

async function introduce(): Promise<void> {
  const campaigns = projectServices.find((s) => s.name === 'campaigns');
  const campaignsPort = campaigns && portOf(campaigns);
  if (!cfg.skipDemoSeed && !flags['no-demo-seed'] && campaignsPort) {
    if (await waitReady(campaignsPort, 180_000)) await seedIfEmpty();
    else if (!stopping) say(`campaigns not ready on :${campaignsPort} after 180 s: no demo seed (see ${shown(logPath('campaigns'))})`);
  }
  const rows = await Promise.all(projectServices.map(async (s) => ({ s, port: portOf(s), ready: portOf(s) ? await waitReady(portOf(s)!, 120_000) : false })));
  if (stopping) return;
  show('what runs where (each serves /health, /ready and /metrics on its port):');
  for (const { s, port, ready } of rows) show(`  ${s.name.padEnd(10)} ${port ? `http://127.0.0.1:${port}` : '(no port)'.padEnd(22)}  ${ready ? 'ready' : 'NOT READY'}  ${s.entry}  log ${shown(logPath(s.name))}`);
  show(`  stack: Kafka ${cfg.kafkaBrokers}, registry ${cfg.schemaRegistryUrl}, Postgres ${cfg.postgresUrl.replace(/\/\/[^@/]*@/, '//')}, Redis ${maskUrlCredentials(cfg.redisUrl)}`);
  // 160x600 in the USA on a desktop matches demo campaigns cmp-0001 and cmp-0020 (seed-catalogue.ts, seed 42).
  const body = `{"id":"demo-'$(date +%s%N)'","imp":[{"id":"1","banner":{"w":160,"h":600},"bidfloor":0.5,"bidfloorcur":"USD"}],` +
    `"site":{"id":"site-1","domain":"news.example.com","page":"https://news.example.com/a"},"device":{"ua":"curl","ip":"203.0.113.7","devicetype":2,"geo":{"country":"USA"}},` +
    `"user":{"id":"user-1"},"tmax":1000,"at":2,"cur":["USD"]}`;
  show('try a bid (200 with a BidResponse, or 204 for no bid):');
  show(`curl -s -i -X POST http://127.0.0.1:${ingestPort ?? 8080}/openrtb2/bid -H 'content-type: application/json' -d '${body}'`);
  if (campaignsPort) {
    // The campaign API needs a bearer token: show where it is, never the token itself.
    const tokenFile = operatorTokenPath(loadConfig(campaignsSpecs), root);
    const token = tokenFile === null ? '$CAMPAIGNS_OPERATOR_TOKEN' : `$(cat ${shown(tokenFile)})`;
    show(`the campaign API (operator token ${tokenFile === null ? 'in CAMPAIGNS_OPERATOR_TOKEN' : `in ${shown(tokenFile)}`}; README "Campaign management API"):`);
    show(`curl -s http://127.0.0.1:${campaignsPort}/campaigns -H "authorization: Bearer ${token}"`);
  }
}

introduce().catch((err: unknown) => say(`could not seed or list the services: ${(err as Error).message}`));
