import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../common/child.process';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
/** The parts of V8's .cpuprofile (what `node --cpu-prof` writes) that self time needs. */
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeRow {
  name: string;
  where: string;
  selfMs: number;
  /** Share of non-idle samples. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  /** The samples summarised, in seconds after the profile started. */
  window: { fromS: number; toS: number };
  wallMs: number;
  busyMs: number;
  idleMs: number;
  top: SelfTimeRow[];
  /** Self time by area: an app or package of ours, a dependency, node internals, GC. */
  byArea: SelfTimeRow[];
}

export interface SummaryWindow {
  /** Only samples within [fromS, toS) seconds after the profile started. */
  fromS?: number;
  toS?: number;
  /**
   * Only samples from the first to the last one with one of these functions on the stack (e.g.
   * `handleSend`): the load window, without start-up, connecting and the drain, so that runs whose
   * phases take different times compare. Applied within `fromS`/`toS`.
   */
  under?: readonly string[];
}

/** Top self-time functions of a .cpuprofile, merged by function and source location. */
export function summarizeProfile(file: string, topN = 25, window: SummaryWindow = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const { fromUs, toUs } = windowOf(profile, window);
  const self = new Map<string, { frame: CallFrame; us: number }>();
  const areas = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  let at = 0;
  // Sample i lasts until sample i+1: its duration is timeDeltas[i + 1].
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at >= toUs) continue;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = byId.get(profile.samples[i]!);
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}`;
    const entry = self.get(key);
    if (entry) entry.us += us;
    else self.set(key, { frame, us });
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const row = (name: string, where: string, us: number): SelfTimeRow => ({
    name,
    where,
    selfMs: Math.round(us / 100) / 10,
    pct: busy > 0 ? Math.round((1000 * us) / busy) / 10 : 0,
  });
  const endUs = Math.min(profile.endTime - profile.startTime, toUs);
  return {
    file,
    window: { fromS: fromUs / 1e6, toS: endUs / 1e6 },
    wallMs: Math.round((endUs - fromUs) / 1000),
    busyMs: Math.round(busy / 100) / 10,
    idleMs: Math.round(idle / 100) / 10,
    top: [...self.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => row(e.frame.functionName || '(anonymous)', whereOf(e.frame), e.us)),
    byArea: [...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([area, us]) => row(area, '', us)),
  };
}

/** [fromUs, toUs) of the samples to count, in µs after the profile started. */
function windowOf(profile: CpuProfile, window: SummaryWindow): { fromUs: number; toUs: number } {
  let fromUs = (window.fromS ?? 0) * 1e6;
  let toUs = (window.toS ?? Infinity) * 1e6;
  if (!window.under?.length) return { fromUs, toUs };
  const names = new Set(window.under);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const memo = new Map<number, boolean>();
  const under = (id: number): boolean => {
    let hit = memo.get(id);
    if (hit === undefined) {
      const up = parent.get(id);
      hit = names.has(frames.get(id)?.functionName ?? '') || (up !== undefined && under(up));
      memo.set(id, hit);
    }
    return hit;
  };
  let first = Infinity;
  let last = -Infinity;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at >= toUs || !under(profile.samples[i]!)) continue;
    first = Math.min(first, at);
    last = at;
  }
  if (first === Infinity) return { fromUs: 0, toUs: 0 };
  fromUs = first;
  // The last such sample counts too: it lasts until the next one.
  toUs = last + 1;
  return { fromUs, toUs };
}

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? url.slice(7) : url;
  return path.startsWith('/') ? relative(ROOT, path) : path;
}

function whereOf(frame: CallFrame): string {
  if (!frame.url) return '';
  return `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** "apps/gate", "packages/protocol", "dep:protobufjs", "node", or V8's own "(garbage collector)". */
function areaOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const url = shortUrl(frame.url);
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `dep:${dep[1]}`;
  if (url.startsWith('node:')) return 'node';
  const ours = /^(apps|packages|bench)\/([^/]+)/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url;
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [
    `${shortUrl(s.file)}: ${s.window.fromS.toFixed(2)}–${s.window.toS.toFixed(2)} s, ${s.wallMs} ms wall, ${s.busyMs} ms busy, ${s.idleMs} ms idle`,
    '',
    '| self ms | % busy | function | where |',
    '| ---: | ---: | --- | --- |',
    ...s.top.map((r) => `| ${r.selfMs} | ${r.pct} | \`${r.name}\` | ${r.where} |`),
    '',
    '| self ms | % busy | area |',
    '| ---: | ---: | --- |',
    ...s.byArea.map((r) => `| ${r.selfMs} | ${r.pct} | ${r.name} |`),
  ];
  return lines.join('\n');
}

// As a script: npx tsx bench/src/profile/cpuprofile.summary.ts <file.cpuprofile>… [--top N]
//   [--from S] [--to S]   only the samples S seconds after the profile began (skip start-up)
//   [--under f,g]         only from the first to the last sample with f or g on the stack
//                         (`--under handleSend,handleBatch`: the load window of a c2c run)
if (require.main === module) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '25' },
      from: { type: 'string' },
      to: { type: 'string' },
      under: { type: 'string' },
    },
  });
  if (positionals.length === 0) {
    console.error(
      'usage: npx tsx bench/src/profile/cpuprofile.summary.ts <file.cpuprofile>… [--top N] [--from S] [--to S] [--under f,g]',
    );
    process.exit(2);
  }
  const window: SummaryWindow = {
    fromS: values.from === undefined ? undefined : Number(values.from),
    toS: values.to === undefined ? undefined : Number(values.to),
    under: values.under?.split(',').filter(Boolean),
  };
  for (const f of positionals)
    console.log(`${formatSummary(summarizeProfile(f, Number(values.top), window))}\n`);
}
