import { useState } from 'preact/hooks';
import { api, data } from '../api';
import { t } from '../i18n';
import { navigate } from '../router';
import { CreateDialog } from '../create-dialog';
import { Field } from '../ui';

/** "New user": a dialog with the account's name, email, password, roles and whether it starts disabled. */
export function CreateUser({ roles }: { roles: string[] }) {
  // An invitation (contract §9) leaves the password to the person: the account waits until they accept.
  const [invite, setInvite] = useState(true);
  const create = async (values: Record<string, string>, form: HTMLFormElement) => {
    const chosen = roles.filter((r) => (form.elements.namedItem(`role-${r}`) as HTMLInputElement | null)?.checked);
    const user = await data(
      api.v1.users.$post({
        json: {
          name: values.name ?? '',
          email: values.email ?? '',
          password: invite ? undefined : values.password ?? '',
          roles: chosen.length > 0 ? chosen : undefined,
          disabled: values.disabled === 'on',
        },
      }),
    );
    navigate(`/users/${user.id}`);
  };
  return (
    <CreateDialog
      id="create-user"
      title={t('users.create')}
      create={create}
      fields={(error) => (
        <>
          <Field label={t('field.name')} name="name" required maxLength={100} error={error} />
          <Field label={t('field.email')} name="email" type="email" required error={error} />
          <fieldset>
            <legend class="visually-hidden">{t('field.password')}</legend>
            <label class="check">
              <input type="radio" name="mode" checked={invite} onChange={() => setInvite(true)} /> {t('users.invite')}
            </label>
            <label class="check">
              <input type="radio" name="mode" checked={!invite} onChange={() => setInvite(false)} /> {t('users.withPassword')}
            </label>
          </fieldset>
          {!invite && (
            <Field label={t('field.password')} name="password" type="password" autocomplete="new-password" required minLength={12} error={error} hint={t('field.passwordHint')} />
          )}
          <fieldset>
            <legend>{t('users.roles')}</legend>
            {roles.map((r) => (
              <label class="check">
                <input type="checkbox" name={`role-${r}`} checked={r === 'viewer'} /> {r}
              </label>
            ))}
          </fieldset>
          <label class="check">
            <input type="checkbox" name="disabled" /> {t('users.startDisabled')}
          </label>
        </>
      )}
    />
  );
}
