import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

// `npm run cli -- source …` as a user runs it: a real process, on a PGlite data dir in a temp
// directory (or this file's own Postgres database), polling the local fixture server.

const run = promisify(execFile);
let server: UpstreamServer;
let dataDir: string;
let pg: TestDb | undefined;

beforeAll(async () => {
  server = await startUpstreamServer();
  dataDir = mkdtempSync(join(tmpdir(), 'syndicate-cli-'));
  if (process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL) {
    pg = await createTestDb();
    // The CLI opens the database itself; free this file's pool first.
    await pg.handle.close();
  }
});
afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (pg) await pg.close().catch(() => {});
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATA_DIR: join(dataDir, 'data'),
    DATABASE_URL: pg?.url,
    TEST_DATABASE_URL: undefined,
    // The fixture server is on 127.0.0.1: the CLI process resolves names for real, so it is allowed here.
    SOURCE_ALLOW_PRIVATE: 'true',
    PUBLIC_BASE_URL: 'https://news.example.co.uk',
    LOG_LEVEL: 'warn',
  };
  if (!pg) delete env.DATABASE_URL;
  delete env.TEST_DATABASE_URL;
  try {
    // node --import tsx: what `npm run cli` runs (tsx src/cli.ts), without npx's own start-up.
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'source', ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('source CLI', () => {
  it('add, list, poll', async () => {
    const url = `http://127.0.0.1:${server.port}/fixtures/rss2-full.xml`;
    const added = await cli('add', url, '--category', 'World', '--name', 'Gazette', '--interval', '600');
    expect(added, added.stderr).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(
      /^source (\d+) added: http:\/\/127\.0\.0\.1:\d+\/fixtures\/rss2-full\.xml → World \(every 600 s, due now\)/,
    );
    const id = /^source (\d+)/.exec(added.stdout)![1]!;

    const listed = await cli('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}  Gazette  ${url.replace(/[.?]/g, '\\$&')}  \\[World\\]  never polled  next `, 'm'));

    const polled = await cli('poll', id);
    expect(polled, polled.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(polled.stdout)).toMatchObject({ outcome: 'ok', httpStatus: 200, itemsSeen: 2, itemsNew: 2 });
    expect(server.requests.at(-1)!.headers['user-agent']).toMatch(/^syndicate\/.+\(\+https:\/\/news\.example\.co\.uk; feed poller\)$/);

    const after = await cli('list');
    expect(after.stdout).toMatch(new RegExp(`^${id}  Gazette .* ok 200 at `, 'm'));
  }, 120_000);

  it('refuses bad input with exit code 2, naming the flag', async () => {
    const noCategory = await cli('add', 'https://wire.example.com/rss');
    expect(noCategory.code).toBe(2);
    expect(noCategory.stderr).toMatch(/--category: must name at least one category/);
    const badUrl = await cli('add', 'ftp://wire.example.com/rss', '--category', 'World', '--interval', '10');
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/<url>: must be an absolute http\(s\) URL/);
    expect(badUrl.stderr).toMatch(/--interval: /);
    const unknown = await cli('poll', '999999');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no source with id 999999/);
  }, 120_000);
});
