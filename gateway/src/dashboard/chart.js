// The visitors and page views chart: bars per hour or day, a y-axis with round ticks, time labels at steps that
// fit, the previous period as a line when comparing, and the hovered bucket's numbers in a readout beside it. The
// chart takes the keyboard focus too: the arrow keys (Home, End) walk the buckets and the readout follows.
// Plain SVG built with DOM calls: nothing inline for the Content-Security-Policy to refuse.

const svgNs = 'http://www.w3.org/2000/svg';
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * Every bucket of the period, as the query names them (`YYYY-MM-DD hh:00:00` local time in `zone`): the answer
 * leaves out buckets without events, and a chart with gaps closed up would misstate when things happened. Walking
 * the period hour by hour and truncating in the zone gets days of 23 and 25 hours right.
 */
export function bucketsOf(period, zone) {
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  });
  const keyOf = (t) => {
    const text = local.format(t); // "2026-03-05 14"
    return period.interval === 'hour' ? `${text}:00:00` : `${text.slice(0, 10)} 00:00:00`;
  };
  const keys = [];
  const end = Date.parse(`${period.to.replace(' ', 'T')}Z`);
  for (let t = Date.parse(`${period.from.replace(' ', 'T')}Z`); ; t = Math.min(t + 3600_000, end - 1)) {
    const key = keyOf(t);
    if (keys.at(-1) !== key) keys.push(key);
    if (t >= end - 1) break;
  }
  return keys;
}

/** The smallest of 1, 2, 5 × 10^n at or above `max / 4`: four or fewer round steps up the y-axis. */
export function tickStep(max) {
  const rough = Math.max(max, 1) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? power * 10;
}

function el(name, attributes, text) {
  const node = document.createElementNS(svgNs, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A bucket's short label: `14:00` for hours, `Mar 5` for days. */
function label(bucket, interval) {
  if (interval === 'hour') return bucket.slice(11, 16);
  const [, month, dayOfMonth] = bucket.slice(0, 10).split('-');
  const names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${names[Number(month) - 1]} ${Number(dayOfMonth)}`;
}

/**
 * Draws into `container`: `keys` the buckets of the period, `rows` the query's answer, `previous` the previous
 * period's answer with its keys (or undefined), `readout` the element that shows the hovered bucket.
 */
export function drawChart(container, readout, data) {
  draw(container, readout, data);
  // Drawn to its width, so drawn again when that changes (a window resized, a phone turned).
  if (!drawn.has(container)) {
    new ResizeObserver(() => {
      const last = drawn.get(container);
      if (last && Math.abs(container.clientWidth - last.width) > 1) drawChart(container, readout, last.data);
    }).observe(container);
  }
  drawn.set(container, { data, width: container.clientWidth });
}

/** What each chart last drew, and at which width. */
const drawn = new WeakMap();

function draw(container, readout, { keys, rows, interval, previous }) {
  const byBucket = new Map(rows.map((r) => [String(r.bucket), r]));
  const buckets = keys.map((bucket) => byBucket.get(bucket) ?? { bucket, visitors: 0, pageviews: 0 });
  const before = previous
    ? previous.keys.map((bucket) => {
        const r = previous.rows.find((p) => String(p.bucket) === bucket);
        return { bucket, visitors: Number(r?.visitors ?? 0), pageviews: Number(r?.pageviews ?? 0) };
      })
    : undefined;
  // Drawn at the width it is shown (a phone's 330 px as a desktop's 1,200), so its text keeps its size in pixels
  // instead of shrinking with the picture.
  const width = Math.max(280, Math.round(container.clientWidth) || 800);
  const height = width < 600 ? 180 : 220;
  const left = 44;
  const bottom = 22;
  const top = 8;
  const plot = height - bottom - top;
  const highest = Math.max(
    1,
    ...buckets.map((r) => Number(r.pageviews)),
    ...(before ?? []).map((r) => r.visitors),
  );
  const step = tickStep(highest);
  const max = Math.ceil(highest / step) * step;
  const y = (v) => top + plot - (v / max) * plot;
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Visitors and page views per ${interval}; arrow keys read each ${interval}`,
    tabindex: 0,
  });
  const steps = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };
  svg.addEventListener('keydown', (event) => {
    const move = steps[event.key];
    if (move === undefined || buckets.length === 0) return;
    event.preventDefault();
    const from = shown === -1 ? buckets.length : shown;
    show(Math.min(buckets.length - 1, Math.max(0, from + move)));
  });
  // Focus alone shows the latest bucket, so the readout is never empty while the chart has the keyboard.
  svg.addEventListener('focus', () => show(shown === -1 ? buckets.length - 1 : shown));
  for (let v = 0; v <= max; v += step) {
    svg.append(el('line', { x1: left, x2: width, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: left - 6, y: y(v) + 4, class: 'tick y' }, integer.format(v)));
  }
  const band = (width - left) / Math.max(buckets.length, 1);
  // A time label per ~70 px at most (8 on a desktop, 4 on a phone), on a step that reads well: every 1, 2, 3, 4, 6
  // or 12 hours; 1, 2, 7 or 14 days.
  const most = Math.min(8, Math.floor((width - left) / 70));
  const choices = interval === 'hour' ? [1, 2, 3, 4, 6, 12, 24] : [1, 2, 7, 14, 28];
  const every = choices.find((c) => buckets.length / c <= most) ?? choices.at(-1);
  const hits = [];
  let shown = -1;
  const show = (i) => {
    const r = buckets[i];
    const p = before?.[i];
    const then = p
      ? ` · previous period (${p.bucket.slice(0, 16)}): ${integer.format(p.visitors)} visitors`
      : '';
    readout.textContent = `${r.bucket.slice(0, 16)}: ${integer.format(Number(r.visitors))} visitors, ${integer.format(Number(r.pageviews))} page views${then}`;
    readout.dataset.bucket = r.bucket;
    hits[shown]?.classList.remove('on');
    hits[i]?.classList.add('on');
    shown = i;
  };
  buckets.forEach((r, i) => {
    const x = left + i * band;
    for (const [key, inset] of [
      ['pageviews', 0.1],
      ['visitors', 0.3],
    ]) {
      const v = Number(r[key]);
      svg.append(
        el('rect', {
          x: x + band * inset,
          width: Math.max(1, band * (1 - 2 * inset)),
          y: y(v),
          height: y(0) - y(v),
          class: key === 'pageviews' ? 'views' : 'visitors',
        }),
      );
    }
    if (i % every === 0) {
      svg.append(el('text', { x: x + band / 2, y: height - 6, class: 'tick x' }, label(r.bucket, interval)));
    }
    // The whole column answers the pointer (and its title the screen reader and a long press).
    const hit = el('rect', { x, width: band, y: top, height: plot, class: 'hit', 'data-index': i });
    hit.append(
      el('title', {}, `${r.bucket.slice(0, 16)}: ${r.visitors} visitors, ${r.pageviews} page views`),
    );
    hit.addEventListener('pointerenter', () => show(i));
    hits.push(hit);
    svg.append(hit);
  });
  if (before) {
    const points = before.map((p, i) => `${left + i * band + band / 2},${y(p.visitors)}`).join(' ');
    svg.append(el('polyline', { points, class: 'previous' }));
  }
  svg.append(el('line', { x1: left, x2: width, y1: y(0), y2: y(0), class: 'axis' }));
  // A redraw (every refresh) replaces the chart: one that had the keyboard keeps it, on the same bucket.
  const focused = container.contains(document.activeElement);
  const again = buckets.findIndex((r) => r.bucket === readout.dataset.bucket);
  readout.textContent = 'Point at a bar, or focus the chart and use the arrow keys, for its numbers.';
  delete readout.dataset.bucket;
  container.replaceChildren(svg);
  if (focused) {
    if (again !== -1) show(again);
    svg.focus();
  }
}
