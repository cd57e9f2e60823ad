import { expect } from 'vitest';
import { ADMIN_TOKEN } from './app.js';

let counter = 0;

/** A valid CMS article payload; override any field. */
export function articleInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    externalId: `cms-${counter}`,
    title: `Council approves new cycle lanes ${counter}`,
    url: `https://news.example.co.uk/local/cycle-lanes-${counter}`,
    summary: 'The council voted 7-2 in favour of the scheme.',
    contentHtml: '<p>The council voted on Tuesday.</p><h2>What happens next</h2><p>Work starts in spring.</p>',
    authors: [{ name: 'Jane Reporter', email: 'jane@news.example.co.uk' }],
    categories: ['Local News'],
    tags: ['transport'],
    publishedAt: '2026-11-28T08:00:00Z',
    ...overrides,
  };
}

/** A batch of `count` valid articles with unique externalIds (`${prefix}-0` …); `overrides(i)` changes any field. */
export function articleBatch(
  count: number,
  prefix: string,
  overrides: (index: number) => Record<string, unknown> = () => ({}),
): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => articleInput({ externalId: `${prefix}-${i}`, ...overrides(i) }));
}

/** What the app answered, with the body parsed (JSON and problem+json as objects, anything else as text). */
export interface Answer {
  status: number;
  headers: Headers;
  // Tests read arbitrary members of response bodies; each assertion states the shape it expects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

interface RequestTarget {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

/**
 * One request through app.request(): a JSON body (or a raw string) and a bearer token (null for none).
 * The default token is the admin token the test context is configured with.
 */
export async function send(
  app: RequestTarget,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  Object.assign(headers, options.headers);
  const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  return readAnswer(res);
}

export async function readAnswer(res: Response): Promise<Answer> {
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = /json/.test(type) && text !== '' ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body, text };
}


/** Paths named in a problem's `errors` array. */
export function errorPaths(answer: Answer): string[] {
  const errors = (answer.body as { errors?: { path: string }[] }).errors ?? [];
  return errors.map((e) => e.path);
}

/**
 * Asserts an RFC 9457 answer: the status, application/problem+json, the four members with the right
 * types and, when `paths` is given, an `errors` array of {path, message} naming each of them.
 */
export function expectProblem(answer: Answer, status: number, paths?: string[]): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
  expect(answer.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  expect((answer.body as { detail: string }).detail.length).toBeGreaterThan(0);
  if (paths) {
    const errors = (answer.body as { errors?: unknown }).errors;
    expect(Array.isArray(errors), 'errors must be an array').toBe(true);
    for (const e of errors as unknown[]) expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
    expect(errorPaths(answer)).toEqual(expect.arrayContaining(paths));
  }
}
