import { useMemo } from 'preact/hooks';
import { api, data } from '../api';
import { TimeChart } from '../chart';
import { formatNumber, t } from '../i18n';
import { setQuery, useLocation } from '../router';
import { ErrorBox, Loading, useLoad, useTitle } from '../ui';

const PERIODS = ['7', '30', '90', '365'] as const;

/** Marks the moment the overview's charts are on screen: the browser test reports it (performance entries). */
function drawn() {
  if (performance.getEntriesByName('overview-drawn').length === 0) performance.mark('overview-drawn');
}

function Card({ label, value, note }: { label: string; value: number; note?: string }) {
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value">{formatNumber(value)}</div>
      {note && <div class="card-note">{note}</div>}
    </div>
  );
}

export function Overview() {
  useTitle(t('nav.overview'));
  const { query } = useLocation();
  const days = PERIODS.find((p) => p === query.get('days')) ?? '30';
  const { value, error, loading } = useLoad(() => data(api.v1.stats.overview.$get({ query: { days } })), [days]);
  const dates = useMemo(() => value?.signups.map((d) => d.date) ?? [], [value]);
  const signups = useMemo(() => [{ label: t('overview.signups'), values: value?.signups.map((d) => d.count) ?? [], color: '#2f6fde', bars: true }], [value]);
  const logins = useMemo(
    () => [
      { label: t('overview.succeeded'), values: value?.logins.map((d) => d.succeeded) ?? [], color: '#1b7f4b' },
      { label: t('overview.failed'), values: value?.logins.map((d) => d.failed) ?? [], color: '#c0392b' },
    ],
    [value],
  );
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
        </div>
      </div>
      <ErrorBox error={error} />
      {loading && !value && <Loading />}
      {value && (
        <>
          <div class="cards">
            <Card label={t('overview.users')} value={value.users.total} note={t('overview.disabledNote', { n: value.users.disabled })} />
            <Card label={t('overview.activeDay')} value={value.activeUsers.day} />
            <Card label={t('overview.activeWeek')} value={value.activeUsers.week} />
            <Card label={t('overview.activeMonth')} value={value.activeUsers.month} />
            <Card label={t('overview.newInPeriod')} value={value.users.newInPeriod} />
            <Card label={t('overview.failedInPeriod')} value={value.logins.reduce((n, d) => n + d.failed, 0)} />
          </div>
          <div class="charts">
            <TimeChart title={t('overview.signupsPerDay')} dates={dates} series={signups} onDrawn={drawn} />
            <TimeChart title={t('overview.loginsPerDay')} dates={dates} series={logins} />
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
        </>
      )}
    </section>
  );
}
