import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fmtMs, fmtNumber } from './stats.js';

/** One line of the final table. */
export interface ResultRow {
  /** The --only name of the scenario that produced the row (set by run.ts). */
  key?: string;
  /** When and how the row was measured (rows of earlier runs are kept for scenarios not re-run). */
  measured?: { date: string; quick: boolean };
  scenario: string;
  row: string;
  /** The median over runs (or the single figure, when `runs` says so). */
  value: number;
  unit: 'req/s' | 'ms' | 'articles/s' | 'MB' | 'feeds/s' | 's' | 'µs CPU/req' | 'µs CPU/article';
  /** Server CPU per request (serve rows), µs. */
  cpuUsPerRequest?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Every run's figure, in run order. */
  runs: number[];
  ratio?: number;
  /** What the ratio is of, e.g. "ours/B". */
  ratioLabel?: string;
  target?: string;
  /** null: no target (a baseline or a reference figure). */
  pass: boolean | null;
  note?: string;
}

export class Report {
  readonly rows: ResultRow[] = [];
  readonly notes: string[] = [];
  readonly commands: Record<string, string> = {};
  readonly info: Record<string, unknown> = {};

  add(row: ResultRow): ResultRow {
    this.rows.push(row);
    return row;
  }

  note(text: string): void {
    this.notes.push(text);
  }
}

function fmtValue(r: ResultRow): string {
  if (Number.isNaN(r.value)) return '–';
  switch (r.unit) {
    case 'ms':
      return fmtMs(r.value);
    case 's':
      return `${r.value.toFixed(2)} s`;
    case 'MB':
      return `${r.value.toFixed(1)} MB`;
    case 'µs CPU/req':
      return `${r.value.toFixed(1)} µs CPU/req`;
    default:
      return `${fmtNumber(r.value)} ${r.unit}`;
  }
}

function fmtRatio(r: ResultRow): string {
  if (r.ratio === undefined || Number.isNaN(r.ratio)) return '';
  const v = r.ratio >= 100 ? r.ratio.toFixed(0) : r.ratio >= 10 ? r.ratio.toFixed(1) : r.ratio.toFixed(2);
  return `${v}× ${r.ratioLabel ?? ''}`.trim();
}

export function renderTable(rows: ResultRow[]): string {
  const header = ['scenario', 'row', 'median', 'p50', 'p99', 'ratio', 'target', 'result'];
  const body = rows.map((r) => [
    r.scenario,
    r.row,
    fmtValue(r),
    r.p50Ms === undefined ? '' : fmtMs(r.p50Ms),
    r.p99Ms === undefined ? '' : fmtMs(r.p99Ms),
    fmtRatio(r),
    r.target ?? '',
    r.pass === null ? (r.note?.startsWith('skipped') ? 'skipped' : '') : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export function writeJson(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
