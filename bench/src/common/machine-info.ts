import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { loadAverage } from './proc-stats';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
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
    gitCommit: git('rev-parse', 'HEAD') || 'unknown',
    gitDirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    loadAverageAtStart: loadAverage(),
  };
}
