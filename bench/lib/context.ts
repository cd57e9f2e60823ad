import type postgres from 'postgres';
import type { Placement } from './proc.js';
import type { Report } from './report.js';

export const SCENARIOS = ['serve', 'revalidate', 'freshness', 'refresh', 'ingest', 'memory', 'startup'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  only: Set<ScenarioName>;
  /** wrk duration per run, seconds. */
  durationSec: number;
  /** Runs per row (medians over these). */
  runs: number;
  /** wrk connections, the same for every row. */
  connections: number;
  /** Articles and categories of the large archive (scenario 4 and 6). */
  archiveArticles: number;
  archiveCategories: number;
  /** Ingests in the freshness scenario. */
  freshnessCount: number;
  /** Batches of 500 in the ingest scenario. */
  ingestBatches: number;
  /** Database of the service in scenarios 1–3. */
  serveDb: 'postgres' | 'pglite';
  /** Starts per start-up row. */
  startupRuns: number;
}

export interface BenchContext {
  options: BenchOptions;
  placement: Placement;
  report: Report;
  /** Admin connection to Postgres, or null when it is not reachable. */
  admin: postgres.Sql | null;
  /** The command that re-runs one scenario with the same options. */
  rerun(scenario: ScenarioName): string;
  log(line: string): void;
}
