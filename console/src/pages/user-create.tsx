import { useRef, useState } from 'preact/hooks';
import { api, data } from '../api';
import { t } from '../i18n';
import { navigate } from '../router';
import { ErrorBox, Field, submit, useAction } from '../ui';

/** "New user": a dialog with the account's name, email, password, roles and whether it starts disabled. */
export function CreateUser({ roles }: { roles: string[] }) {
  const dialog = useRef<HTMLDialogElement>(null);
  // An invitation (contract §9) leaves the password to the person: the account waits until they accept.
  const [invite, setInvite] = useState(true);
  const action = useAction(async (values: Record<string, string>, form: HTMLFormElement) => {
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
    dialog.current?.close();
    navigate(`/users/${user.id}`);
  });
  return (
    <>
      <button type="button" class="primary" onClick={() => (action.clear(), dialog.current?.showModal())}>
        {t('users.create')}
      </button>
      <dialog ref={dialog} aria-labelledby="create-user-title">
        <h2 id="create-user-title">{t('users.create')}</h2>
        <form class="stack" onSubmit={submit((v, f) => void action.run(v, f))}>
          <ErrorBox error={action.error} />
          <Field label={t('field.name')} name="name" required maxLength={100} error={action.error} />
          <Field label={t('field.email')} name="email" type="email" required error={action.error} />
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
            <Field label={t('field.password')} name="password" type="password" autocomplete="new-password" required minLength={12} error={action.error} hint={t('field.passwordHint')} />
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
          <div class="row">
            <button type="button" onClick={() => dialog.current?.close()}>
              {t('common.cancel')}
            </button>
            <button class="primary" disabled={action.busy}>
              {t('common.create')}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
