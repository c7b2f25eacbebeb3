import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { t } from './i18n';

export interface Series {
  label: string;
  values: number[];
  /** A class from styles.css (--c1..--c4) gives the colour; uPlot needs the value itself. */
  color: string;
  bars?: boolean;
}

const bars = uPlot.paths.bars!({ size: [0.7, 40] });

/**
 * A time series chart drawn by uPlot on a canvas. For screen readers the figure carries a summary (label) and the
 * numbers are in a visually hidden table right after it.
 */
export function TimeChart({ title, dates, series, onDrawn }: { title: string; dates: string[]; series: Series[]; onDrawn?: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const x = dates.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 240),
        height: 220,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'UTC'),
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ stroke: '#555' }, { stroke: '#555', values: (_u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : '')) }],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            fill: s.bars ? s.color : undefined,
            paths: s.bars ? bars : undefined,
            points: { show: false },
          })),
        ],
        hooks: onDrawn ? { draw: [() => onDrawn()] } : undefined,
      },
      [x, ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 240), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [dates, series]);
  const total = series.map((s) => `${s.label}: ${s.values.reduce((a, b) => a + b, 0)}`).join(', ');
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}. ${t('chart.total')} ${total}`} />
      <div class="visually-hidden">
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{t('chart.date')}</th>
            {series.map((s) => (
              <th scope="col">{s.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {dates.map((d, i) => (
            <tr>
              <th scope="row">{d}</th>
              {series.map((s) => (
                <td>{s.values[i]}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}
