import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MachineInfo } from '../common/machine-info';

export const RESULTS_DIR = resolve(__dirname, '../../results');

/** One scenario's result file: bench/results/<run>-<scenario>.json. */
export interface ScenarioRecord {
  run: string;
  scenario: string;
  target: string;
  mode: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** Load average before and after, and whether other work shared the machine. */
  contention: { loadAverageBefore: number[]; loadAverageAfter: number[] };
  figures: Record<string, unknown>;
  notes: string[];
}

export function writeRecord(record: ScenarioRecord): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${record.run}-${record.scenario}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

/** Every record of one run, in scenario order of the files. */
export function readRun(run: string): ScenarioRecord[] {
  return readdirSync(RESULTS_DIR)
    .filter((f) => f.startsWith(`${run}-`) && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as ScenarioRecord);
}

/** The newest run id whose records all pass `accept`, if any. */
export function latestRun(accept: (r: ScenarioRecord) => boolean = () => true): string | undefined {
  const runs = readdirSync(RESULTS_DIR)
    .map((f) => /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})-.*\.json$/.exec(f)?.[1])
    .filter((r): r is string => r !== undefined);
  for (const run of [...new Set(runs)].sort().reverse()) if (readRun(run).every(accept)) return run;
  return undefined;
}
