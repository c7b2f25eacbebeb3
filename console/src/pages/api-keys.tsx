import type { InferResponseType } from 'hono/client';
import { useState } from 'preact/hooks';
import { api, data, done } from '../api';
import { useAuth } from '../auth';
import { formatDate, t } from '../i18n';
import { Confirm, Empty, ErrorBox, Field, Loading, Notice, submit, useAction, useLoad } from '../ui';
import { usePermissionCatalog } from './permissions';

type ApiKey = InferResponseType<(typeof api.v1.me)['api-keys']['$get'], 200>['data'][number];

/** Keys as a list: what each may do and when it was last used; revoking asks first. */
function KeyList({ keys, onRevoke }: { keys: ApiKey[]; onRevoke: (key: ApiKey) => void }) {
  if (keys.length === 0) return <Empty>{t('apiKey.none')}</Empty>;
  return (
    <ul class="sessions" aria-label={t('apiKey.title')}>
      {keys.map((k) => (
        <li>
          <div>
            <strong>{k.name}</strong> <code>{k.prefix}…</code>
            {k.expiresAt && Date.parse(k.expiresAt) <= Date.now() && <span class="tag off">{t('apiKey.expired')}</span>}
            <div class="muted">{k.permissions.join(', ')}</div>
            <div class="muted">
              {t('apiKey.meta', { created: formatDate(k.createdAt), expires: k.expiresAt ? formatDate(k.expiresAt) : t('apiKey.never'), used: formatDate(k.lastUsedAt) })}
            </div>
          </div>
          <Confirm label={t('apiKey.revoke')} question={t('apiKey.revokeQ', { name: k.name })} danger onConfirm={() => onRevoke(k)} />
        </li>
      ))}
    </ul>
  );
}

/** The key itself, once: selectable text and a copy button (the API never shows it again). */
function ShownOnce({ secret }: { secret: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="alert ok stack" role="status">
      <strong>{t('apiKey.shownOnce')}</strong>
      <div class="row">
        <input aria-label={t('apiKey.secret')} readOnly value={secret} size={48} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => void navigator.clipboard.writeText(secret).then(() => setCopied(true))}>
          {copied ? t('apiKey.copied') : t('apiKey.copy')}
        </button>
      </div>
    </div>
  );
}

/** A date input's day, as the end of that day in the person's zone (a key "valid until 30 June" works on 30 June). */
const endOfDay = (day: string) => (day ? new Date(`${day}T23:59:59.999`).toISOString() : undefined);

/** My account → API keys: create one with some of the permissions I hold now, see it once, revoke. */
export function MyApiKeys() {
  const { me } = useAuth()!;
  const catalog = usePermissionCatalog();
  const list = useLoad(() => data(api.v1.me['api-keys'].$get()), []);
  const [secret, setSecret] = useState('');
  const [notice, setNotice] = useState('');
  const create = useAction(async (values: Record<string, string>, form: HTMLFormElement) => {
    setNotice('');
    setSecret('');
    const permissions = me.permissions.filter((p) => values[`key-perm-${p}`] === 'on');
    const created = await data(api.v1.me['api-keys'].$post({ json: { name: values.keyName ?? '', permissions, expiresAt: endOfDay(values.keyExpires ?? '') } }));
    form.reset();
    setSecret(created.key);
    list.reload();
  });
  const revoke = useAction(async (key: ApiKey) => {
    setSecret('');
    await done(api.v1.me['api-keys'][':id'].$delete({ param: { id: String(key.id) } }));
    setNotice(t('apiKey.revoked'));
    list.reload();
  });
  const described = new Map((catalog.value?.data ?? []).map((p) => [p.name, p.description]));
  return (
    <div class="panel stack" id="api-keys">
      <h2>{t('apiKey.title')}</h2>
      <p class="muted">{t('apiKey.intro')}</p>
      {notice && <Notice>{notice}</Notice>}
      {secret && <ShownOnce secret={secret} />}
      <ErrorBox error={list.error ?? revoke.error} />
      {list.loading && !list.value && <Loading />}
      {list.value && <KeyList keys={list.value.data} onRevoke={(k) => void revoke.run(k)} />}
      <form class="stack" onSubmit={submit((v, f) => void create.run(v, f))}>
        <h3>{t('apiKey.create')}</h3>
        <ErrorBox error={create.error} />
        <Field id="f-keyName" label={t('apiKey.name')} name="keyName" required maxLength={100} autocomplete="off" error={create.error} />
        <fieldset class="choices">
          <legend>{t('apiKey.permissions')}</legend>
          {me.permissions.length === 0 && <p class="muted">{t('apiKey.noPermissions')}</p>}
          {me.permissions.map((p) => (
            <label>
              <input type="checkbox" name={`key-perm-${p}`} />
              <code>{p}</code>
              {described.get(p) && <span class="muted">{described.get(p)}</span>}
            </label>
          ))}
        </fieldset>
        <Field id="f-keyExpires" label={t('apiKey.expires')} name="keyExpires" type="date" hint={t('apiKey.expiresHint')} error={create.error} />
        <button class="primary" disabled={create.busy || me.permissions.length === 0}>
          {t('apiKey.create')}
        </button>
      </form>
    </div>
  );
}

/** An administrator's view of someone's keys on their user page: the list and revoking (§16, users:write). */
export function UserApiKeys({ id }: { id: string }) {
  const list = useLoad(() => data(api.v1.users[':id']['api-keys'].$get({ param: { id } })), [id]);
  const [notice, setNotice] = useState('');
  const revoke = useAction(async (key: ApiKey) => {
    await done(api.v1.users[':id']['api-keys'][':keyId'].$delete({ param: { id, keyId: String(key.id) } }));
    setNotice(t('apiKey.revoked'));
    list.reload();
  });
  return (
    <div class="panel stack" id="user-api-keys">
      <h2>{t('apiKey.title')}</h2>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={list.error ?? revoke.error} />
      {list.loading && !list.value && <Loading />}
      {list.value && <KeyList keys={list.value.data} onRevoke={(k) => void revoke.run(k)} />}
    </div>
  );
}
