import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { articleInput } from '../helpers/builders.js';

// What `npm start` runs: dist/main.js, the single-file bundle `npm run build` makes (decision 0001).
// Everything else in the suite imports src/; this starts the built artefact as a process, on an
// empty PGlite data dir seeded from the build's template, and goes through the paths the bundle
// could break (module-relative files: migrations, the template, Swagger UI's assets, package.json).

const ENTRY = join(PACKAGE_ROOT, 'dist', 'main.js');
const TOKEN = 'build-test-admin-token-0123456789abcdef';

let child: ChildProcess;
let base: string;
let dataDir: string;
const output: string[] = [];

beforeAll(async () => {
  if (!existsSync(ENTRY)) throw new Error('dist/main.js is missing: run `npm run build` (npm ci runs it)');
  dataDir = mkdtempSync(join(tmpdir(), 'syndicate-start-'));
  // Only what the service needs: no DATABASE_URL from the CI environment, so this is the embedded default.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ADMIN_TOKEN: TOKEN, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' };
  child = spawn(process.execPath, [ENTRY], { env, cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d) => output.push(String(d)));
  base = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (d) => {
      buffered += String(d);
      output.push(String(d));
      for (const line of buffered.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening') resolve(`http://127.0.0.1:${entry.port}`);
        } catch {
          // a partial line; the rest arrives with the next chunk
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output.join('')}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the built service (dist/main.js)', () => {
  it('is one bundled file, not the tsc entry that imports ./config.js and the rest', () => {
    const source = readFileSync(ENTRY, 'utf8');
    expect(source).not.toMatch(/from ["']\.\/(config|service)\.js["']/);
    expect(source.length).toBeGreaterThan(500_000);
  });

  it('starts on an empty data dir, takes an article and serves it in the feed', async () => {
    const post = await fetch(`${base}/api/v1/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(articleInput({ externalId: 'built-1', title: 'Built and bundled', categories: ['World'] })),
    });
    expect(post.status).toBe(201);
    let items: string[] = [];
    for (let i = 0; i < 100 && !items.includes('Built and bundled'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const res = await fetch(`${base}/feeds/world.rss`);
      if (res.status === 200) items = (await new Parser().parseString(await res.text())).items.map((it) => it.title ?? '');
    }
    expect(items).toContain('Built and bundled');
  });

  it('the first start copied the build\'s migrated template (no migration run) and is ready', async () => {
    const listening = output.join('').split('\n').find((line) => line.includes('"msg":"listening"'));
    expect(JSON.parse(listening!)).toMatchObject({ database: 'pglite', fromTemplate: true });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ database: 'ok', migrations: 'ok' });
  });

  it('serves the API description and Swagger UI from files found next to the package', async () => {
    const spec = await fetch(`${base}/openapi.json`);
    expect(spec.status).toBe(200);
    expect(((await spec.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
    const css = await fetch(`${base}/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect((await css.text()).length).toBeGreaterThan(10_000);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.join('')).toContain('"msg":"stopped"');
  });
});
