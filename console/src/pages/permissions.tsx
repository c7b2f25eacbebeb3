import { api, data } from '../api';
import { t } from '../i18n';
import { useLoad } from '../ui';

/** The §8 catalog (GET /v1/permissions), loaded once per page that shows the grid. */
export const usePermissionCatalog = () => useLoad(() => data(api.v1.permissions.$get()), []);

type Entry = { name: string; description: string };

/**
 * The permissions of a role as a grid: one row per resource (users, roles, stats, audit), one column per action
 * (read, write). Checkboxes are named `perm-<name>`; `checkedPermissions(form)` reads them back.
 */
export function PermissionGrid({ catalog, selected, disabled = false }: { catalog: Entry[]; selected: string[]; disabled?: boolean }) {
  const resources = [...new Set(catalog.map((p) => p.name.split(':')[0]!))];
  const actions = [...new Set(catalog.map((p) => p.name.split(':')[1]!))];
  return (
    <table class="grid">
      <caption class="visually-hidden">{t('roles.permissions')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('roles.resource')}</th>
          {actions.map((a) => (
            <th scope="col">{t(`perm.${a}`)}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {resources.map((r) => (
          <tr>
            <th scope="row">{t(`perm.${r}`)}</th>
            {actions.map((a) => {
              const entry = catalog.find((p) => p.name === `${r}:${a}`);
              return (
                <td>
                  {entry && (
                    <label class="check" title={entry.description}>
                      <input type="checkbox" name={`perm-${entry.name}`} checked={selected.includes(entry.name)} disabled={disabled} />
                      <code>{entry.name}</code>
                    </label>
                  )}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export const checkedPermissions = (form: HTMLFormElement, catalog: Entry[]) =>
  catalog.map((p) => p.name).filter((n) => (form.elements.namedItem(`perm-${n}`) as HTMLInputElement | null)?.checked);
