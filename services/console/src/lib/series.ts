/** The API's stats points as chart columns. Pure: unit-tested beside it. */
export interface StatsPoint {
  bucket: string;
  group: string;
  entries: number;
}

const MAX_SERIES = 8;

/** uPlot's columns from the API's points: one x per bucket, one series per group (the largest eight). */
export function toSeries(points: StatsPoint[]): { groups: string[]; data: [number[], ...number[][]] } {
  const buckets = [...new Set(points.map((point) => point.bucket))].sort();
  const totals = new Map<string, number>();
  for (const point of points) totals.set(point.group, (totals.get(point.group) ?? 0) + point.entries);
  const groups = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_SERIES)
    .map(([group]) => group);
  const label = (group: string) => (group === '.' ? 'walaudit actions' : group);
  const index = new Map(points.map((point) => [`${point.bucket}\u0000${point.group}`, point.entries]));
  const xs = buckets.map((bucket) => Date.parse(bucket) / 1000);
  const series = groups.map((group) => buckets.map((bucket) => index.get(`${bucket}\u0000${group}`) ?? 0));
  return { groups: groups.map(label), data: [xs, ...series] };
}

