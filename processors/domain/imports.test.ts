/**
 * Who may import whom, checked on the source files (README "Architecture"):
 * - schemas/ imports nothing else of the repository: the contracts sit below everything.
 * - processors/runtime imports no processor folder and not processors/domain: the kit knows no business;
 *   and nothing of ingest/, sink/, bench/ or deploy/ (its non-test code imports only itself and schemas/).
 * - processors/domain imports only processors/domain, processors/runtime and schemas/.
 * - a processor folder (processors/<name>/) imports only itself, processors/domain, processors/runtime and
 *   schemas/; never another processor folder. Tests that drive several processors live in processors/ itself.
 * - sink/ and processors/campaigns do not import each other (both use schemas/postgres/ for the tables).
 * - processors/testing (fixtures and helpers that exist only for tests) is imported only by tests (*.test.ts)
 *   and by processors/testing itself, never by production code; it may import anything, as tests may.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOT = new URL('../../', import.meta.url);
const TOP = ['ingest', 'processors', 'schemas', 'sink', 'deploy', 'bench'];

/** Every .ts file under the top-level folders, repository-relative. */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(new URL(rel, ROOT), { withFileTypes: true })) {
      const p = `${rel}${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(`${p}/`);
      } else if (p.endsWith('.ts')) out.push(p);
    }
  };
  for (const dir of TOP) walk(`${dir}/`);
  return out.sort();
}

/** The repository-relative targets of a file's relative imports (static, type-only, re-exports, dynamic). */
function relativeImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)) {
    out.push(normalize(join(dirname(file), m[2]!)));
  }
  return out;
}

/** 'processors/<name>' for a file in a processors subfolder, else its top-level folder ('processors' for files directly in it). */
function area(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'processors' && parts.length > 2 ? `processors/${parts[1]}` : parts[0]!;
}

const TESTING = 'processors/testing';

/** A test, or test support: may import processors/testing. */
const isTestCode = (path: string): boolean => path.endsWith('.test.ts') || area(path) === TESTING;

/** Why `from` may not import `to`, or null when it may. */
function violation(from: string, to: string): string | null {
  const a = area(from);
  const b = area(to);
  if (b === TESTING) return isTestCode(from) ? null : 'production code never imports processors/testing (test support)';
  if (a === b || a === TESTING) return null;
  if ((a === 'sink' && b === 'processors/campaigns') || (a === 'processors/campaigns' && b === 'sink')) {
    return 'sink/ and processors/campaigns do not import each other';
  }
  if (a === 'schemas') return 'schemas/ imports nothing else of the repository';
  if (a === 'processors/runtime') {
    if (b.startsWith('processors/')) return 'processors/runtime imports no processor folder and not processors/domain';
    return b === 'schemas' || isTestCode(from) ? null : 'processors/runtime imports only schemas/ (ingest, sink, bench and deploy stand on it, not under it)';
  }
  if (a === 'processors/domain') {
    return b === 'processors/runtime' || b === 'schemas' ? null : 'processors/domain imports only processors/runtime and schemas/';
  }
  if (a.startsWith('processors/')) {
    return b === 'processors/domain' || b === 'processors/runtime' || b === 'schemas'
      ? null
      : 'a processor folder imports only itself, processors/domain, processors/runtime and schemas/';
  }
  return null;
}

test('imports: the rules themselves', () => {
  const allowed: Array<[string, string]> = [
    ['processors/bid/decide.ts', 'processors/domain/campaign.ts'],
    ['processors/bid/decide.ts', 'processors/runtime/logger.ts'],
    ['processors/bid/decide.ts', 'schemas/bid-set.ts'],
    ['processors/bid/decide.ts', 'processors/bid/types.ts'],
    ['processors/pipeline.int.test.ts', 'processors/auction/reserve.ts'], // cross-processor tests live in processors/
    ['deploy/services.ts', 'processors/bid/config.ts'],
    ['deploy/find-request.ts', 'sink/replay-args.ts'],
    ['processors/bid/decide.test.ts', 'processors/testing/campaign.fixture.ts'], // tests in any folder use test support
    ['ingest/edge.int.test.ts', 'processors/testing/spawn-edge.ts'],
    ['processors/testing/spawn-edge.ts', 'processors/testing/spawn-service.ts'],
    ['processors/testing/sink-parts.fixture.ts', 'sink/part-rows.ts'], // test support may import anything
  ];
  const refused: Array<[string, string]> = [
    ['processors/bid/decide.ts', 'processors/auction/auction.ts'],
    ['processors/settle/x.ts', 'processors/auction/reserve.ts'],
    ['processors/bid/x.ts', 'bench/lib/bodies.ts'],
    ['processors/campaigns/main.ts', 'sink/migrate.ts'],
    ['sink/main.ts', 'processors/campaigns/store.ts'],
    ['schemas/codec.ts', 'processors/runtime/errors.ts'],
    ['processors/runtime/x.ts', 'processors/enrich/y.ts'],
    ['processors/runtime/find-request.ts', 'sink/replay-args.ts'], // an operator tool on the kit lives in deploy/
    ['processors/domain/x.ts', 'processors/bid/y.ts'],
    ['processors/bid/decide.ts', 'processors/testing/campaign.fixture.ts'], // production code never imports test support
    ['processors/runtime/runner.ts', 'processors/testing/wait.ts'],
    ['bench/e2e.ts', 'processors/testing/spawn-service.ts'],
    ['deploy/chaos/run.ts', 'processors/testing/topics.fixture.ts'],
    ['sink/replay.ts', 'processors/testing/sink-parts.fixture.ts'],
  ];
  for (const [from, to] of allowed) assert.equal(violation(from, to), null, `${from} -> ${to}`);
  for (const [from, to] of refused) assert.notEqual(violation(from, to), null, `${from} -> ${to}`);
  assert.deepEqual(relativeImports('processors/bid/a.ts', "import type { X } from '../domain/bid.js';\nexport { y } from './b.js';\nconst m = await import('../../schemas/topics.js');"), [
    'processors/domain/bid.js', 'processors/bid/b.js', 'schemas/topics.js',
  ]);
});

test('imports: no processor folder imports another, schemas/ imports nothing of the repository, sink and campaigns stay apart', () => {
  const files = sourceFiles();
  const broken: string[] = [];
  let seen = 0;
  for (const file of files) {
    for (const target of relativeImports(file, readFileSync(new URL(file, ROOT), 'utf8'))) {
      seen++;
      const why = violation(file, target);
      if (why) broken.push(`${file} -> ${target}: ${why}`);
    }
  }
  assert.ok(files.includes('processors/bid/main.ts') && seen > 500, `the scan sees the sources (${files.length} files, ${seen} imports)`);
  assert.deepEqual(broken, []);
});

test('imports: production code (not *.test.ts, not processors/testing) never imports processors/testing', () => {
  const files = sourceFiles();
  const fromTests: string[] = [];
  const fromProduction: string[] = [];
  for (const file of files) {
    for (const target of relativeImports(file, readFileSync(new URL(file, ROOT), 'utf8'))) {
      if (area(target) !== TESTING) continue;
      (isTestCode(file) ? fromTests : fromProduction).push(`${file} -> ${target}`);
    }
  }
  assert.ok(fromTests.length > 50, `the scan sees the tests' imports of processors/testing (${fromTests.length})`);
  assert.deepEqual(fromProduction, []);
});
