import { useMemo } from 'preact/hooks';
import { api, data } from '../api';
import { TimeChart } from '../chart';
import { formatNumber, t } from '../i18n';
import { setQuery, useLocation } from '../router';
import { ErrorBox, Loading, useLoad, useTitle } from '../ui';
import { Retention } from './retention';

const PERIODS = ['7', '30', '90', '365'] as const;
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const zones = (): string[] => {
  const listed = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return [...new Set(['UTC', browserZone(), ...listed])];
};

/** Marks the moment the overview's charts are on screen: the browser test reports it (performance entries). */
function drawn() {
  if (performance.getEntriesByName('overview-drawn').length === 0) performance.mark('overview-drawn');
}

/** "+12 % vs previous period" (or "new" when there was nothing before); `upIsGood` picks the colour. */
function delta(now: number, before: number, upIsGood = true): { text: string; tone: string } {
  if (before === 0) return { text: now === 0 ? t('overview.noChange') : t('overview.newVsPrevious'), tone: '' };
  const change = Math.round(((now - before) / before) * 100);
  const tone = change === 0 ? '' : change > 0 === upIsGood ? 'up' : 'down';
  return { text: t('overview.vsPrevious', { p: `${change > 0 ? '+' : ''}${change}` }), tone };
}

function Card({ label, value, note }: { label: string; value: number; note?: { text: string; tone: string } | string }) {
  const n = typeof note === 'string' ? { text: note, tone: '' } : note;
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value">{formatNumber(value)}</div>
      {n && <div class={`card-note ${n.tone}`}>{n.text}</div>}
    </div>
  );
}

export function Overview() {
  useTitle(t('nav.overview'));
  const { query } = useLocation();
  const days = PERIODS.find((p) => p === query.get('days')) ?? '30';
  const tz = query.get('tz') || browserZone();
  const overview = useLoad(() => data(api.v1.stats.overview.$get({ query: { days, tz } })), [days, tz]);
  const active = useLoad(() => data(api.v1.stats['active-users'].$get({ query: { days, tz } })), [days, tz]);
  const value = overview.value;
  const dates = useMemo(() => value?.signups.map((d) => d.date) ?? [], [value]);
  const signups = useMemo(() => [{ label: t('overview.signups'), values: value?.signups.map((d) => d.count) ?? [], color: '#2f6fde', bars: true }], [value]);
  const logins = useMemo(
    () => [
      { label: t('overview.succeeded'), values: value?.logins.map((d) => d.succeeded) ?? [], color: '#1b7f4b' },
      { label: t('overview.failed'), values: value?.logins.map((d) => d.failed) ?? [], color: '#c0392b' },
    ],
    [value],
  );
  const activeDates = useMemo(() => active.value?.data.map((d) => d.date) ?? [], [active.value]);
  const activeSeries = useMemo(
    () => [
      { label: t('overview.daily'), values: active.value?.data.map((d) => d.day) ?? [], color: '#2f6fde' },
      { label: t('overview.weekly'), values: active.value?.data.map((d) => d.week) ?? [], color: '#8e44ad' },
      { label: t('overview.monthly'), values: active.value?.data.map((d) => d.month) ?? [], color: '#d35400' },
    ],
    [active.value],
  );
  const failed = value?.logins.reduce((n, d) => n + d.failed, 0) ?? 0;
  const maxRole = Math.max(1, ...(value?.roles.map((r) => r.users) ?? []));
  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.overview')}</h1>
        <div class="row">
          <label>
            {t('overview.period')}{' '}
            <select value={days} onChange={(e) => setQuery({ days: (e.currentTarget as HTMLSelectElement).value })}>
              {PERIODS.map((p) => (
                <option value={p}>{t('overview.days', { n: p })}</option>
              ))}
            </select>
          </label>
          <label>
            {t('overview.timeZone')}{' '}
            <select value={tz} onChange={(e) => setQuery({ tz: (e.currentTarget as HTMLSelectElement).value })}>
              {zones().map((z) => (
                <option value={z}>{z}</option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <ErrorBox error={overview.error} />
      {overview.loading && !value && <Loading />}
      {value && (
        <>
          <div class="cards">
            <Card label={t('overview.users')} value={value.users.total} note={t('overview.disabledNote', { n: value.users.disabled })} />
            <Card label={t('overview.activeDay')} value={value.activeUsers.day} />
            <Card label={t('overview.activeWeek')} value={value.activeUsers.week} />
            <Card label={t('overview.activeMonth')} value={value.activeUsers.month} />
            <Card label={t('overview.newInPeriod')} value={value.users.newInPeriod} note={delta(value.users.newInPeriod, value.previous.signups)} />
            <Card label={t('overview.failedInPeriod')} value={failed} note={delta(failed, value.previous.logins.failed, false)} />
            <Card label={t('overview.sessions')} value={value.sessions.active} />
            <Card label={t('overview.mfa')} value={value.mfa.enabled} />
          </div>
          <div class="charts">
            <TimeChart title={t('overview.signupsPerDay')} dates={dates} series={signups} onDrawn={drawn} />
            <TimeChart title={t('overview.loginsPerDay')} dates={dates} series={logins} />
            {active.value && <TimeChart title={t('overview.activeUsers')} dates={activeDates} series={activeSeries} />}
            <ErrorBox error={active.error} />
            <figure class="chart">
              <figcaption>{t('overview.roles')}</figcaption>
              <ul class="bars">
                {value.roles.map((r) => (
                  <li>
                    <span class="bar-label">{r.name}</span>
                    <meter min={0} max={maxRole} value={r.users} aria-label={r.name} />
                    <span class="bar-value">{formatNumber(r.users)}</span>
                  </li>
                ))}
              </ul>
            </figure>
          </div>
          <Retention tz={tz} />
        </>
      )}
    </section>
  );
}
