import type postgres from 'postgres';

/**
 * Distinct statement texts prepared per open database (one preparingStatements call); later new
 * texts go unnamed. It bounds what each connection keeps prepared (postgres.js caches per
 * connection, for the connection's life).
 */
export const MAX_PREPARED_STATEMENTS = 256;
/**
 * Statements with more parameters than this are never prepared: they are the one-offs (an IN list of
 * a batch's ids, a multi-row insert), a new text for every length.
 */
export const MAX_PREPARED_PARAMETERS = 32;

type QueryOptions = { prepare?: boolean } & Record<string, unknown>;
type Unsafe = (query: string, parameters?: unknown, options?: QueryOptions) => unknown;
type WithCallback = (...args: unknown[]) => unknown;

/**
 * Makes drizzle's queries through `client` (and through its transactions and savepoints) prepared
 * statements where that is safe to cache (see the limits above).
 *
 * Why: drizzle sends every query as an unnamed statement (`sql.unsafe(…, { prepare: false })` unless
 * a query was given a name), and postgres.js first asks the server to describe an unnamed statement
 * with parameters, then binds it: two round trips and a parse per query. A prepared statement is
 * described once per connection. Measured (a throw-away script, one connection each, interleaved
 * blocks of 300): a drizzle select of one feed_state row took 285 µs and 204 µs of this process's CPU
 * unnamed, 166 µs and 139 µs prepared. On the refresh tick (~12 such queries among rendering and
 * compressing) that is within the tick's run-to-run noise.
 *
 * Decided per statement text, so the same query always goes the same way. Queries without parameters
 * keep postgres.js's simple protocol.
 */
export function preparingStatements<T extends postgres.Sql>(client: T): T {
  const known = new Set<string>();
  const prepare = (query: string, parameters: unknown): boolean => {
    if (!Array.isArray(parameters) || parameters.length === 0 || parameters.length > MAX_PREPARED_PARAMETERS) return false;
    if (known.has(query)) return true;
    if (known.size >= MAX_PREPARED_STATEMENTS) return false;
    known.add(query);
    return true;
  };
  const wrap = <S extends object>(sql: S): S => {
    const target = sql as unknown as { unsafe: Unsafe; begin?: WithCallback; savepoint?: WithCallback };
    const unsafe = target.unsafe;
    target.unsafe = (query, parameters, options) => {
      // The two-argument form passes options in place of parameters.
      if (parameters !== undefined && !Array.isArray(parameters)) return unsafe(query, parameters, options);
      if (options?.prepare === true || !prepare(query, parameters)) return unsafe(query, parameters, options);
      return unsafe(query, parameters, { ...options, prepare: true });
    };
    // A transaction's (and a savepoint's) queries run on their own Sql: wrap that one too.
    for (const method of ['begin', 'savepoint'] as const) {
      const original = target[method];
      if (typeof original !== 'function') continue;
      target[method] = (...args: unknown[]) => {
        const fn = args.pop();
        if (typeof fn !== 'function') return original(...args, fn);
        return original(...args, (inner: object) => (fn as (sql: object) => unknown)(wrap(inner)));
      };
    }
    return sql;
  };
  return wrap(client);
}
