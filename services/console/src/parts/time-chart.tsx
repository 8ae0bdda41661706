import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface StatsPoint {
  bucket: string;
  group: string;
  entries: number;
}

const COLORS = ['#1a5fb4', '#c01c28', '#26a269', '#a347ba', '#c64600', '#1c71d8', '#865e3c', '#5e5c64'];
const MAX_SERIES = 8;

/** uPlot's columns from the API's points: one x per bucket, one series per group (the largest eight). */
export function toSeries(points: StatsPoint[]): { groups: string[]; data: uPlot.AlignedData } {
  const buckets = [...new Set(points.map((point) => point.bucket))].sort();
  const totals = new Map<string, number>();
  for (const point of points) totals.set(point.group, (totals.get(point.group) ?? 0) + point.entries);
  const groups = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_SERIES)
    .map(([group]) => group);
  const index = new Map(points.map((point) => [`${point.bucket}\u0000${point.group}`, point.entries]));
  const xs = buckets.map((bucket) => Date.parse(bucket) / 1000);
  const series = groups.map((group) => buckets.map((bucket) => index.get(`${bucket}\u0000${group}`) ?? 0));
  return { groups, data: [xs, ...series] };
}

export function TimeChart({ points, label }: { points: StatsPoint[]; label: string }) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const { groups, data } = toSeries(points);
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth || 800),
        height: 260,
        series: [{}, ...groups.map((group, index) => ({ label: group, stroke: COLORS[index % COLORS.length], width: 2, points: { show: true } }))],
        axes: [{}, { label: 'entries' }],
        legend: { live: false },
      },
      data,
      element,
    );
    return () => plot.destroy();
  }, [points]);
  return <div class="chart" ref={holder} role="img" aria-label={label} />;
}
