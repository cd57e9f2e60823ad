import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const TOKEN_32 = 'abcdefghijklmnopqrstuvwxyz012345';

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      PUBLIC_BASE_URL: 'http://localhost:3000',
      SITE_LANGUAGE: 'en-GB',
      BODY_LIMIT_BYTES: 5 * 1024 * 1024,
      DATA_DIR: './data',
      LOG_LEVEL: 'info',
      PGLITE_SHARED_BUFFERS: '16MB',
      DATABASE_PREPARED_STATEMENTS: true,
    });
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).DATABASE_PREPARED_STATEMENTS).toBe(false);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.ADMIN_TOKEN).toBeUndefined();
    expect(config.SITE_TITLE.length).toBeGreaterThan(0);
  });

  it('derives PUBLIC_BASE_URL from PORT, and drops a trailing slash from a given one', () => {
    expect(loadConfig({ PORT: '8080' }).PUBLIC_BASE_URL).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://news.example.co.uk/' }).PUBLIC_BASE_URL).toBe('https://news.example.co.uk');
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://news.example.co.uk/feeds//' }).PUBLIC_BASE_URL).toBe('https://news.example.co.uk/feeds');
  });

  it('parses the values it is given', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgresql://app@db.internal:5432/syndicate',
      DATA_DIR: 'memory://',
      SITE_TITLE: 'The Example Times',
      SITE_LANGUAGE: 'cy-GB',
      ADMIN_TOKEN: TOKEN_32,
      LOG_LEVEL: 'debug',
      BODY_LIMIT_BYTES: '2048',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      DATABASE_URL: 'postgresql://app@db.internal:5432/syndicate',
      DATA_DIR: 'memory://',
      SITE_TITLE: 'The Example Times',
      SITE_LANGUAGE: 'cy-GB',
      ADMIN_TOKEN: TOKEN_32,
      LOG_LEVEL: 'debug',
      BODY_LIMIT_BYTES: 2048,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }).DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/test');
  });

  it('treats an empty value as unset (a blank line in .env)', () => {
    const config = loadConfig({ PORT: '', ADMIN_TOKEN: '', DATABASE_URL: '  ', PUBLIC_BASE_URL: '' });
    expect(config.PORT).toBe(3000);
    expect(config.ADMIN_TOKEN).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.PUBLIC_BASE_URL).toBe('http://localhost:3000');
  });

  it('reads process.env when given nothing', () => {
    vi.stubEnv('PORT', '4321');
    vi.stubEnv('SITE_LANGUAGE', 'fr-FR');
    const config = loadConfig();
    expect(config.PORT).toBe(4321);
    expect(config.SITE_LANGUAGE).toBe('fr-FR');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['ADMIN_TOKEN', TOKEN_32.slice(0, 31)],
    ['PUBLIC_BASE_URL', 'not a url'],
    ['PUBLIC_BASE_URL', 'news.example.co.uk'],
    ['PUBLIC_BASE_URL', 'ftp://news.example.co.uk'],
    ['DATABASE_URL', 'mysql://root@127.0.0.1/app'],
    ['DATABASE_URL', '127.0.0.1:5432'],
    ['SITE_LANGUAGE', 'english'],
    ['LOG_LEVEL', 'verbose'],
    ['BODY_LIMIT_BYTES', 'five megabytes'],
    ['BODY_LIMIT_BYTES', '10'],
    ['PGLITE_SHARED_BUFFERS', '16'],
    ['PGLITE_SHARED_BUFFERS', '16 MB'],
    ['PGLITE_SHARED_BUFFERS', '0MB'],
    ['PGLITE_SHARED_BUFFERS', '16MB; drop table articles'],
    ['DATABASE_PREPARED_STATEMENTS', 'off'],
  ])('%s=%j is a ConfigError naming the variable', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.issues.map((i) => i.variable)).toEqual([variable]);
    expect(err.issues[0]!.message.length).toBeGreaterThan(0);
    expect(err.message).toContain(variable);
  });

  it('says why, in words an operator can act on', () => {
    expect(configError({ ADMIN_TOKEN: 'short' }).message).toMatch(/ADMIN_TOKEN: .*32 characters/);
    expect(configError({ DATABASE_URL: 'mysql://x' }).message).toMatch(/DATABASE_URL: .*postgres/);
    expect(configError({ PUBLIC_BASE_URL: 'nope' }).message).toMatch(/PUBLIC_BASE_URL: .*URL/);
  });

  it('names every invalid variable at once', () => {
    const err = configError({ PORT: 'abc', ADMIN_TOKEN: 'short', PUBLIC_BASE_URL: 'nope', DATABASE_URL: 'mysql://x' });
    expect(err.issues.map((i) => i.variable).sort()).toEqual(['ADMIN_TOKEN', 'DATABASE_URL', 'PORT', 'PUBLIC_BASE_URL']);
  });

  it('accepts an ADMIN_TOKEN of exactly 32 characters', () => {
    expect(loadConfig({ ADMIN_TOKEN: TOKEN_32 }).ADMIN_TOKEN).toBe(TOKEN_32);
  });
});
