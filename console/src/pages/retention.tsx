import { api, data } from '../api';
import { formatNumber, t } from '../i18n';
import { ErrorBox, Loading, useLoad } from '../ui';

/** A rate as one of seven shades (classes r0..r6 in styles.css), so colour needs no inline style. */
const shade = (rate: number) => `r${Math.min(6, Math.ceil(rate * 6))}`;

/** Weekly cohorts: of the accounts created each week, the share active k weeks later (contract §11). */
export function Retention({ tz }: { tz: string }) {
  const cohorts = useLoad(() => data(api.v1.stats.retention.$get({ query: { weeks: '12', tz } })), [tz]);
  const width = Math.max(0, ...(cohorts.value?.data.map((c) => c.active.length) ?? []));
  return (
    <figure class="chart retention-box">
      <figcaption>{t('overview.retention')}</figcaption>
      <ErrorBox error={cohorts.error} />
      {cohorts.loading && !cohorts.value && <Loading />}
      {cohorts.value && (
        <div class="table-wrap">
          <table class="retention">
            <thead>
              <tr>
                <th scope="col">{t('overview.cohort')}</th>
                <th scope="col">{t('overview.size')}</th>
                {Array.from({ length: width }, (_, k) => (
                  <th scope="col">{t('overview.week', { k })}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {cohorts.value.data.map((c) => (
                <tr>
                  <th scope="row">{c.cohort}</th>
                  <td>{formatNumber(c.size)}</td>
                  {c.active.map((n) => {
                    const rate = c.size === 0 ? 0 : n / c.size;
                    return (
                      <td class={shade(rate)} title={`${n} / ${c.size}`}>
                        {c.size === 0 ? '—' : `${Math.round(rate * 100)} %`}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </figure>
  );
}
