// Small SVG line charts for the metrics history: one chart per measure, x = bucket start, y from 0 to the
// largest value. Hand-written (~60 lines) instead of a charting library: the console has no build step.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** series: [{name, cls, values: (number|null)[]}]; times: bucket start ms. */
export function lineChart(title, times, series, unit = '') {
  const W = 320;
  const H = 140;
  const L = 36;
  const B = 20;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.appendChild(el('text', { x: L, y: 12, class: 'chart-title' }, title));
  const all = series.flatMap((s) => s.values.filter((v) => v !== null));
  const max = Math.max(1, ...all);
  const n = Math.max(1, times.length - 1);
  const x = (i) => L + ((W - L - 6) * i) / n;
  const y = (v) => H - B - ((H - B - 20) * v) / max;
  svg.appendChild(el('line', { x1: L, y1: H - B, x2: W - 6, y2: H - B, class: 'axis' }));
  svg.appendChild(el('line', { x1: L, y1: 20, x2: L, y2: H - B, class: 'axis' }));
  const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  svg.appendChild(el('text', { x: L - 4, y: 24, class: 'tick', 'text-anchor': 'end' }, fmt(max) + unit));
  svg.appendChild(el('text', { x: L - 4, y: H - B, class: 'tick', 'text-anchor': 'end' }, '0'));
  if (times.length) {
    const t = (ms) => new Date(ms).toTimeString().slice(0, 5);
    svg.appendChild(el('text', { x: L, y: H - 4, class: 'tick' }, t(times[0])));
    svg.appendChild(el('text', { x: W - 6, y: H - 4, class: 'tick', 'text-anchor': 'end' }, t(times[times.length - 1])));
  }
  series.forEach((s, k) => {
    let d = '';
    s.values.forEach((v, i) => {
      if (v === null) return;
      d += `${d && s.values[i - 1] !== null ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    });
    if (d) svg.appendChild(el('path', { d, class: `line ${s.cls}` }));
    // A point with no neighbour draws no line: mark it.
    s.values.forEach((v, i) => {
      if (v !== null && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null) {
        svg.appendChild(el('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, class: `dot ${s.cls}` }));
      }
    });
    svg.appendChild(el('text', { x: W - 6 - k * 60, y: 12, class: `legend ${s.cls}`, 'text-anchor': 'end' }, s.name));
  });
  const total = all.reduce((a, b) => a + b, 0);
  svg.dataset.total = String(total);
  return svg;
}
