// Hand-written SVG: no charting dependency, and the files diff well in review.

export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (limits, goals). */
  guides?: { y: number; label: string }[];
  width?: number;
  height?: number;
}

const FONT = 'font-family="system-ui, sans-serif"';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A line chart with log10 axes: ramp rates grow geometrically and latencies span 0.1 ms to
 * seconds, so linear axes would squeeze most points into a corner.
 */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 760;
  const height = o.height ?? 420;
  const m = { left: 70, right: 180, top: 40, bottom: 50 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = o.series.flatMap((s) => s.points);
  const ys = [...all.map((p) => p.y), ...(o.guides ?? []).map((g) => g.y)].filter((y) => y > 0);
  const xs = all.map((p) => p.x).filter((v) => v > 0);
  const xMinExp = Math.floor(Math.log10(Math.min(...xs, 100)));
  const xMaxExp = Math.ceil(Math.log10(Math.max(...xs, 1000)));
  const yMinExp = Math.floor(Math.log10(Math.max(0.01, Math.min(...ys, 1))));
  const yMaxExp = Math.ceil(Math.log10(Math.max(...ys, 10)));
  const x = (v: number) =>
    m.left + ((Math.log10(Math.max(v, 10 ** xMinExp)) - xMinExp) / (xMaxExp - xMinExp)) * plotW;
  const y = (v: number) => {
    const e = Math.log10(Math.max(v, 10 ** yMinExp));
    return m.top + plotH - ((e - yMinExp) / (yMaxExp - yMinExp)) * plotH;
  };
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  ];
  for (let e = yMinExp; e <= yMaxExp; e++) {
    const yy = y(10 ** e);
    out.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${yy + 4}" text-anchor="end">${fmt(10 ** e)}</text>`,
    );
  }
  for (const v of logTicks(xMinExp, xMaxExp)) {
    out.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${m.top}" y2="${m.top + plotH}" stroke="#eee"/>`,
      `<text x="${x(v)}" y="${m.top + plotH + 16}" text-anchor="middle">${fmt(v)}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  for (const g of o.guides ?? []) {
    const yy = y(g.y);
    out.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${yy}" y2="${yy}" stroke="#c00" stroke-dasharray="5 4"/>`,
      `<text x="${m.left + plotW + 6}" y="${yy + 4}" fill="#c00">${esc(g.label)}</text>`,
    );
  }
  o.series.forEach((s, i) => {
    const pts = s.points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`);
    if (pts.length > 1)
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of s.points)
      out.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    // Legend bottom-up in the right margin: guides (limits) sit higher on a latency chart.
    const ly = m.top + plotH - 8 - i * 20;
    out.push(
      `<line x1="${m.left + plotW + 10}" x2="${m.left + plotW + 30}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${m.left + plotW + 36}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface Bar {
  label: string;
  value: number;
  color: string;
  /** Text after the bar (defaults to the value). */
  note?: string;
}

/** Horizontal bars with an optional goal line. */
export function barChart(o: {
  title: string;
  unit: string;
  bars: Bar[];
  goal?: { value: number; label: string };
}): string {
  const width = 760;
  const rowH = 34;
  const m = { left: 230, right: 150, top: 44, bottom: 30 };
  const plotW = width - m.left - m.right;
  const height = m.top + m.bottom + rowH * o.bars.length;
  const max = niceCeil(Math.max(1, ...o.bars.map((b) => b.value), o.goal?.value ?? 0));
  const x = (v: number) => m.left + (v / max) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  ];
  o.bars.forEach((b, i) => {
    const yy = m.top + i * rowH;
    out.push(
      `<text x="${m.left - 8}" y="${yy + rowH / 2 + 4}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${m.left}" y="${yy + 6}" width="${Math.max(1, x(b.value) - m.left).toFixed(1)}" height="${rowH - 12}" fill="${b.color}"/>`,
      `<text x="${x(b.value) + 6}" y="${yy + rowH / 2 + 4}">${esc(b.note ?? `${fmt(b.value)} ${o.unit}`)}</text>`,
    );
  });
  if (o.goal) {
    const gx = x(o.goal.value);
    out.push(
      `<line x1="${gx}" x2="${gx}" y1="${m.top}" y2="${height - m.bottom}" stroke="#c00" stroke-dasharray="5 4"/>`,
      `<text x="${gx}" y="${height - 10}" text-anchor="middle" fill="#c00">${esc(o.goal.label)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** 1-2-5 ticks from 10^lo to 10^hi. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) for (const f of [1, 2, 5]) if (e < hi || f === 1) ticks.push(f * 10 ** e);
  return ticks;
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toFixed(1))}k`;
  if (v >= 1) return String(Number(v.toFixed(1)));
  return String(Number(v.toPrecision(2)));
}
