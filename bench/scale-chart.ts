/**
 * The scale benchmark's chart, as an SVG written from its results: each phase's time, and calls per instance, against the number of instances.
 */

/** What the chart reads of a phase. */
interface ChartPhase {
  readonly phase: string;
  readonly wallSeconds: number;
  readonly callsPerInstance: Record<string, number>;
  readonly bound: { seconds: number };
}

/** What the chart reads of one stack size. */
interface ChartSize {
  readonly instances: number;
  readonly phases: readonly ChartPhase[];
}

const COLOURS: Record<string, string> = { Create: '#1f77b4', Update: '#ff7f0e', Delete: '#2ca02c', bound: '#7f7f7f' };
const W = 420;
const H = 300;
const M = { left: 56, right: 16, top: 36, bottom: 44 };

/** A "nice" upper end for an axis holding `max`. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One panel: series of (x, y) points on linear axes, with ticks, labels and a legend. */
function panel(
  x0: number,
  title: string,
  yLabel: string,
  xs: number[],
  series: Array<{ name: string; points: Array<[number, number]>; dashed?: boolean }>,
): string {
  const xMax = niceMax(Math.max(...xs));
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p[1]))));
  const px = (x: number) => x0 + M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => M.top + (1 - y / yMax) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  out.push(`<line x1="${px(0)}" y1="${py(0)}" x2="${px(xMax)}" y2="${py(0)}" stroke="#000"/>`);
  out.push(`<line x1="${px(0)}" y1="${py(0)}" x2="${px(0)}" y2="${py(yMax)}" stroke="#000"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    out.push(`<line x1="${px(0)}" y1="${py(y)}" x2="${px(xMax)}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${px(0) - 6}" y="${py(y) + 4}" text-anchor="end">${Number(y.toFixed(1))}</text>`);
    const x = (xMax * i) / 4;
    out.push(`<text x="${px(x)}" y="${py(0) + 16}" text-anchor="middle">${Number(x.toFixed(0))}</text>`);
  }
  out.push(`<text x="${x0 + W / 2}" y="${H - 8}" text-anchor="middle">instances in the stack</text>`);
  out.push(`<text transform="translate(${x0 + 14} ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[s.name] ?? COLOURS.bound;
    const d = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"/>`);
    const ly = M.top + 4 + i * 16;
    out.push(
      `<line x1="${px(0) + 10}" y1="${ly}" x2="${px(0) + 30}" y2="${ly}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
    );
    out.push(`<text x="${px(0) + 34}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** The chart: deploy time by phase (with the Create phase's lower bound) and calls per instance by phase, against N. */
export function scaleChart(sizes: readonly ChartSize[]): string {
  const xs = sizes.map((s) => s.instances);
  const phases = [...new Set(sizes.flatMap((s) => s.phases.map((p) => p.phase)))];
  const of = (name: string) => sizes.map((s) => ({ n: s.instances, p: s.phases.find((p) => p.phase === name) }));
  const time = phases.map((name) => ({
    name,
    points: of(name).flatMap(({ n, p }) => (p ? [[n, p.wallSeconds] as [number, number]] : [])),
  }));
  time.push({
    name: 'Create: lower bound',
    points: of('Create').flatMap(({ n, p }) => (p ? [[n, p.bound.seconds] as [number, number]] : [])),
    dashed: true,
  } as (typeof time)[number]);
  const calls = phases.map((name) => ({
    name,
    points: of(name).flatMap(({ n, p }) =>
      p ? [[n, Object.values(p.callsPerInstance).reduce((a, b) => a + b, 0)] as [number, number]] : [],
    ),
  }));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" viewBox="0 0 ${2 * W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${2 * W}" height="${H}" fill="#fff"/>`,
    panel(0, 'Time per phase (real-world s)', 'seconds', xs, time),
    panel(W, 'Calls per instance, every API', 'calls per instance', xs, calls),
    '</svg>',
    '',
  ].join('\n');
}
