import { useEffect, useRef, useState } from 'preact/hooks';
import { api, data } from '../api';
import { useAuth } from '../auth';
import { TimeChart, type Series } from '../chart';
import { formatDate, formatNumber, t } from '../i18n';
import { problemOf } from '../problem';
import { setQuery, useLocation } from '../router';
import { Confirm, Empty, ErrorBox, Loading, Notice, useAction, useLoad, useTitle } from '../ui';

type Dashboard = Awaited<ReturnType<typeof loadDashboard>>['dashboard'];
type Widget = Dashboard['widgets'][number];
type Figures = { widgetId: string; result: Record<string, unknown> | null; error: { detail: string } | null };

const COLORS = ['#1f6feb', '#c2410c', '#15803d', '#7c3aed', '#be123c'];
const RANGES = [
  ['', 'dash.rangeSaved'],
  ['24h', 'dash.last24h'],
  ['7d', 'dash.last7d'],
  ['30d', 'dash.last30d'],
  ['12w', 'dash.last12w'],
] as const;

async function loadDashboard(id: string) {
  const res = await api.v1.dashboards[':id'].$get({ param: { id } });
  if (!res.ok) throw await problemOf(res as unknown as Response);
  return { dashboard: await res.json(), etag: res.headers.get('etag') ?? '' };
}

/** The list of dashboards the caller sees (contract §15: owner, shared roles, admin). */
export function Dashboards() {
  useTitle(t('dash.title'));
  const list = useLoad(() => data(api.v1.dashboards.$get({ query: { limit: '100' } })), []);
  const auth = useAuth();
  const create = useAction(async () => {
    const made = await data(api.v1.dashboards.$post({ json: { name: t('dash.new') } }));
    location.assign(`/console/dashboards/${made.id}`);
  });
  return (
    <section>
      <div class="row spread">
        <h1>{t('dash.title')}</h1>
        {auth?.can('dashboards:write') && auth.can('events:read') && (
          <button type="button" class="primary" disabled={create.busy} onClick={() => void create.run()}>
            {t('dash.new')}
          </button>
        )}
      </div>
      <ErrorBox error={list.error ?? create.error} />
      {list.loading && !list.value && <Loading />}
      {list.value && list.value.data.length === 0 && <Empty>{t('dash.none')}</Empty>}
      {list.value && list.value.data.length > 0 && (
        <ul class="dash-list">
          {list.value.data.map((d) => (
            <li>
              <a href={`/console/dashboards/${d.id}`}>{d.name}</a>
              <span class="muted"> · {t('dash.widgets', { n: d.widgets.length })}</span>
              {d.description && <p class="muted">{d.description}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** One widget's figures, drawn for its viz; the numbers stay readable as text or a table for screen readers. */
function WidgetFigures({ widget, figures, onDrawn }: { widget: Widget; figures?: Figures; onDrawn: () => void }) {
  useEffect(() => {
    if (figures && (figures.error || !['line', 'bar'].includes(widget.viz))) onDrawn();
  }, [figures]);
  if (!figures) return <Loading />;
  if (figures.error) return <p class="alert error">{figures.error.detail}</p>;
  const result = figures.result as { data: any[] };
  if (widget.viz === 'number') {
    const total = result.data[0]?.total ?? 0;
    return <p class="big-number">{formatNumber(total)}</p>;
  }
  if (widget.viz === 'line' || widget.viz === 'bar') {
    const dates = (result.data[0]?.points ?? []).map((p: { t: string }) => p.t.slice(0, 10));
    const series: Series[] = result.data.map((s, i) => ({
      label: s.breakdown === null ? `${t('dash.series')} ${s.series + 1}` : String(s.breakdown),
      values: s.points.map((p: { value: number }) => p.value),
      color: COLORS[i % COLORS.length]!,
      bars: widget.viz === 'bar',
    }));
    return <TimeChart title={widget.title} dates={dates} series={series} onDrawn={onDrawn} />;
  }
  if (widget.viz === 'funnel') {
    return (
      <>
        {result.data.map((group) => {
          const first = group.steps[0]?.count ?? 0;
          return (
            <ol class="funnel">
              {group.breakdown !== null && <li class="muted">{String(group.breakdown)}</li>}
              {group.steps.map((s: { event: string; count: number }) => (
                <li>
                  <span>{s.event}</span> <strong>{formatNumber(s.count)}</strong>{' '}
                  <progress max={Math.max(1, first)} value={s.count} aria-label={s.event} />{' '}
                  <span class="muted">{t('dash.conversion', { rate: first === 0 ? 0 : Math.round((s.count / first) * 100) })}</span>
                </li>
              ))}
            </ol>
          );
        })}
      </>
    );
  }
  if (widget.viz === 'retention') {
    const width = Math.max(0, ...result.data.map((c) => c.active.length));
    return (
      <div class="table-wrap">
        <table class="retention">
          <thead>
            <tr>
              <th scope="col">{t('dash.cohort')}</th>
              <th scope="col">{t('dash.size')}</th>
              {Array.from({ length: width }, (_, k) => (
                <th scope="col">{t('dash.interval', { k })}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result.data.map((c) => (
              <tr>
                <th scope="row">{c.cohort}</th>
                <td>{formatNumber(c.size)}</td>
                {c.active.map((n: number) => (
                  <td class={`r${c.size === 0 ? 0 : Math.min(6, Math.ceil((n / c.size) * 6))}`}>{c.size === 0 ? '—' : `${Math.round((n / c.size) * 100)} %`}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{t('dash.breakdown')}</th>
            <th scope="col">{t('dash.total')}</th>
          </tr>
        </thead>
        <tbody>
          {result.data.map((row) => (
            <tr>
              <th scope="row">{row.breakdown === null || row.breakdown === undefined ? '—' : String(row.breakdown)}</th>
              <td>{formatNumber(row.total ?? row.size ?? row.steps?.at(-1)?.count ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A dashboard: its widgets on a 12-column grid with their figures (GET …/data, with the range override in the URL),
 * and for those who may edit it: rename, reorder and resize with buttons (keyboard-usable), remove, share, save.
 * A save that meets someone else's newer version (412) says so and offers to reload.
 */
export function DashboardPage({ id }: { id: string }) {
  const auth = useAuth();
  const { query } = useLocation();
  const range = query.get('range') ?? '';
  const loaded = useLoad(() => loadDashboard(id), [id]);
  const [draft, setDraft] = useState<Dashboard | null>(null);
  const [conflict, setConflict] = useState(false);
  const [saved, setSaved] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const started = useRef(performance.now());
  const pending = useRef(new Set<string>());
  useEffect(() => {
    if (loaded.value) setDraft(structuredClone(loaded.value.dashboard));
  }, [loaded.value]);
  useTitle(draft?.name ?? t('dash.title'));
  const figures = useLoad(
    () => data(api.v1.dashboards[':id'].data.$get({ param: { id }, query: { ...(range ? { last: range } : {}), ...(refresh ? { refresh: 'true' } : {}) } })),
    [id, range, refresh, loaded.value?.etag],
  );
  const roles = useLoad(() => (auth?.can('roles:read') ? data(api.v1.roles.$get()) : Promise.resolve({ data: [] })), []);
  const editable = !!auth && !!loaded.value && (auth.me.roles.includes('admin') || (loaded.value.dashboard.ownerId === auth.me.id && auth.can('dashboards:write') && auth.can('events:read')));
  useEffect(() => {
    if (figures.value) {
      pending.current = new Set(figures.value.data.map((w: Figures) => w.widgetId));
      started.current = performance.now();
    }
  }, [figures.value]);
  const drawn = (widgetId: string) => {
    pending.current.delete(widgetId);
    if (pending.current.size === 0) console.info(`dashboard painted: ${Math.round(performance.now() - started.current)} ms`);
  };
  const save = useAction(async () => {
    if (!draft || !loaded.value) return;
    setSaved(false);
    const res = await api.v1.dashboards[':id'].$put({
      param: { id },
      header: { 'if-match': loaded.value.etag },
      json: { name: draft.name, description: draft.description, shares: draft.shares, widgets: draft.widgets as never },
    });
    if (res.status === 412) {
      setConflict(true);
      return;
    }
    if (!res.ok) throw await problemOf(res as unknown as Response);
    setSaved(true);
    loaded.reload();
  });
  const update = (change: (d: Dashboard) => void) =>
    setDraft((d) => {
      if (!d) return d;
      const next = structuredClone(d);
      change(next);
      setSaved(false);
      return next;
    });
  const move = (i: number, by: number) =>
    update((d) => {
      const [w] = d.widgets.splice(i, 1);
      d.widgets.splice(Math.max(0, Math.min(d.widgets.length, i + by)), 0, w!);
      d.widgets.forEach((x) => delete x.layout);
    });
  const resize = (i: number, by: number) =>
    update((d) => {
      const w = d.widgets[i]!;
      const width = Math.max(3, Math.min(12, (w.layout?.w ?? 6) + by));
      w.layout = { x: 0, y: i, w: width, h: w.layout?.h ?? 4 };
    });
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (!draft || !loaded.value) return <Loading />;
  const byId = new Map<string, Figures>((figures.value?.data ?? []).map((f: Figures) => [f.widgetId, f]));
  return (
    <section>
      <div class="row spread">
        {editable ? (
          <label class="field inline">
            <span class="visually-hidden">{t('dash.rename')}</span>
            <input class="title-input" value={draft.name} onInput={(e) => update((d) => (d.name = (e.currentTarget as HTMLInputElement).value))} />
          </label>
        ) : (
          <h1>{draft.name}</h1>
        )}
        <div class="row">
          <label>
            {t('dash.range')}{' '}
            <select value={range} onChange={(e) => setQuery({ range: (e.currentTarget as HTMLSelectElement).value })}>
              {RANGES.map(([value, label]) => (
                <option value={value}>{t(label)}</option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setRefresh((n) => n + 1)}>
            {t('dash.refresh')}
          </button>
        </div>
      </div>
      {figures.value && <p class="muted">{t('dash.computedAt', { at: formatDate(figures.value.computedAt) })}</p>}
      {conflict && (
        <div class="alert error" role="alert">
          {t('dash.conflict')}{' '}
          <button
            type="button"
            onClick={() => {
              setConflict(false);
              loaded.reload();
            }}
          >
            {t('dash.reload')}
          </button>
        </div>
      )}
      {saved && <Notice>{t('dash.saved')}</Notice>}
      <ErrorBox error={save.error ?? figures.error} />
      {editable && (
        <details class="share">
          <summary>{t('dash.share')}</summary>
          <fieldset>
            <legend>{t('dash.shareWith')}</legend>
            {(roles.value?.data ?? draft.shares.map((name) => ({ name }))).map((r) => (
              <label class="share-role">
                <input
                  type="checkbox"
                  checked={draft.shares.includes(r.name)}
                  onChange={(e) =>
                    update((d) => {
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      d.shares = on ? [...new Set([...d.shares, r.name])].sort() : d.shares.filter((n) => n !== r.name);
                    })
                  }
                />{' '}
                {r.name}
              </label>
            ))}
          </fieldset>
        </details>
      )}
      {draft.widgets.length === 0 && <Empty />}
      <ol class="widget-grid">
        {draft.widgets.map((w, i) => (
          <li class={`widget span-${w.layout?.w ?? 6}`} aria-label={w.title}>
            <div class="row spread">
              <h2>{w.title}</h2>
              {editable && (
                <div class="row tools">
                  <button type="button" aria-label={t('dash.moveEarlier', { title: w.title })} disabled={i === 0} onClick={() => move(i, -1)}>
                    ←
                  </button>
                  <button type="button" aria-label={t('dash.moveLater', { title: w.title })} disabled={i === draft.widgets.length - 1} onClick={() => move(i, 1)}>
                    →
                  </button>
                  <button type="button" aria-label={t('dash.narrower', { title: w.title })} onClick={() => resize(i, -3)}>
                    −
                  </button>
                  <button type="button" aria-label={t('dash.wider', { title: w.title })} onClick={() => resize(i, 3)}>
                    +
                  </button>
                  <button type="button" class="danger" onClick={() => update((d) => void d.widgets.splice(i, 1))}>
                    {t('dash.remove')}
                  </button>
                </div>
              )}
            </div>
            <WidgetFigures widget={w} figures={byId.get(w.id)} onDrawn={() => drawn(w.id)} />
          </li>
        ))}
      </ol>
      {editable && (
        <div class="row">
          <button type="button" class="primary" disabled={save.busy} onClick={() => void save.run()}>
            {t('dash.save')}
          </button>
          <Confirm
            label={t('dash.delete')}
            question={t('dash.deleteQ')}
            danger
            onConfirm={() => void api.v1.dashboards[':id'].$delete({ param: { id }, header: {} }).then(() => location.assign('/console/dashboards'))}
          />
        </div>
      )}
    </section>
  );
}
