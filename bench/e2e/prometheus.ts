// Reading the gateway's and the sink's GET /metrics (Prometheus text) without a client library: the benchmark
// needs sums of a few counters, filtered by label, and nothing else.

/** The sample lines of one metric (comments and other metrics left out). */
export function metricLines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

/** The sum of a metric's samples, only those whose line contains `label` when given (e.g. `status="503"`). */
export function metricSum(text: string, name: string, label?: string): number {
  return metricLines(text, name)
    .filter((l) => label === undefined || l.includes(label))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Each label value of `label` with the sum of its samples, e.g. the gateway's shed counter by cause. */
export function metricByLabel(text: string, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metricLines(text, name)) {
    const value = new RegExp(`${label}="([^"]*)"`).exec(line)?.[1];
    if (value === undefined) continue;
    out.set(value, (out.get(value) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}
