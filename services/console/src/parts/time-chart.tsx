import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { toSeries, type StatsPoint } from '../lib/series';

export type { StatsPoint };

const COLORS = ['#1a5fb4', '#c01c28', '#26a269', '#a347ba', '#c64600', '#1c71d8', '#865e3c', '#5e5c64'];

/** Entries per bucket over [from, to] (ISO), the whole range shown even where it has no entry. */
export function TimeChart({ points, label, from, to }: { points: StatsPoint[]; label: string; from: string; to: string }) {
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
        scales: { x: { time: true, range: [Date.parse(from) / 1000, Date.parse(to) / 1000] } },
        axes: [{}, { label: 'entries' }],
        legend: { live: false },
      },
      data,
      element,
    );
    return () => plot.destroy();
  }, [points, from, to]);
  return <div class="chart" ref={holder} role="img" aria-label={label} />;
}
