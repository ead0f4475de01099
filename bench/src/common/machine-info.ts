import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { loadAverage } from './proc-stats';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  /** The Node of the cluster's roles (`MQIM_NODE`, else the same as `node`). */
  roleNode: string;
  /** `MQIM_*` variables of the bench's environment: every cluster role runs with them. */
  mqimEnv: Record<string, string>;
  gitCommit: string;
  /** `git status --porcelain` was not empty: the numbers are for uncommitted code. */
  gitDirty: boolean;
  loadAverageAtStart: number[];
}

export function machineInfo(root: string): MachineInfo {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    roleNode: roleNodeVersion(),
    mqimEnv: Object.fromEntries(
      Object.entries(process.env).filter(
        (e): e is [string, string] => e[0].startsWith('MQIM_') && e[1] !== undefined,
      ),
    ),
    gitCommit: git('rev-parse', 'HEAD') || 'unknown',
    gitDirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    loadAverageAtStart: loadAverage(),
  };
}

function roleNodeVersion(): string {
  const bin = process.env.MQIM_NODE;
  if (!bin) return process.version;
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return `unknown (${bin})`;
  }
}
