import { api, download } from '../api';
import { useAuth } from '../auth';
import { t } from '../i18n';
import { ErrorBox, useAction } from '../ui';

/** Users as CSV (contract §11), with the filters of the list on screen. */
export function ExportUsers({ filters }: { filters: { q?: string; role?: string; disabled?: 'true' | 'false' } }) {
  const auth = useAuth()!;
  const action = useAction(() => download(api.v1.users.export.$url({ query: filters }).toString(), 'users.csv'));
  if (!auth.can('users:read')) return null;
  return (
    <>
      <button type="button" disabled={action.busy} onClick={() => void action.run()}>
        {t('common.exportCsv')}
      </button>
      <ErrorBox error={action.error} />
    </>
  );
}
