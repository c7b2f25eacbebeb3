import { useState } from 'preact/hooks';
import { api, data, done } from '../api';
import { loadMe, useAuth } from '../auth';
import { t } from '../i18n';
import { QrCode } from '../qr';
import { ErrorBox, Field, Notice, submit, useAction } from '../ui';

function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <div class="stack">
      <Notice>{t('mfa.codesIntro')}</Notice>
      <ul class="codes" aria-label={t('mfa.recoveryCodes')}>
        {codes.map((c) => (
          <li>
            <code>{c}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Turning the second factor on: password → secret and QR code → first code → recovery codes (contract §10). */
function Enrol() {
  const [secret, setSecret] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const start = useAction(async (values: Record<string, string>) => {
    setSecret(await data(api.v1.me.mfa.totp.$post({ json: { currentPassword: values.currentPassword ?? '' } })));
  });
  const confirm = useAction(async (values: Record<string, string>) => {
    const answer = await data(api.v1.me.mfa.totp.confirm.$post({ json: { code: values.code ?? '' } }));
    setCodes(answer.recoveryCodes);
  });
  if (codes)
    return (
      <div class="stack">
        <RecoveryCodes codes={codes} />
        <button type="button" class="primary" onClick={() => void loadMe()}>
          {t('mfa.codesSaved')}
        </button>
      </div>
    );
  if (secret)
    return (
      <form class="stack" onSubmit={submit((v) => void confirm.run(v))}>
        <p>{t('mfa.scan')}</p>
        <QrCode text={secret.otpauthUri} label={t('mfa.qrLabel')} />
        <p>
          {t('mfa.orKey')} <code class="secret">{secret.secret}</code>
        </p>
        <ErrorBox error={confirm.error} />
        <Field id="mfa-code" label={t('mfa.code')} name="code" inputMode="numeric" autocomplete="one-time-code" required pattern="[0-9]{6}" error={confirm.error} />
        <button class="primary" disabled={confirm.busy}>
          {t('mfa.confirm')}
        </button>
      </form>
    );
  return (
    <form class="stack" onSubmit={submit((v) => void start.run(v))}>
      <p>{t('mfa.offIntro')}</p>
      <ErrorBox error={start.error} />
      <Field id="mfa-password" label={t('field.currentPassword')} name="currentPassword" type="password" autocomplete="current-password" required error={start.error} />
      <button class="primary" disabled={start.busy}>
        {t('mfa.turnOn')}
      </button>
    </form>
  );
}

/** With the factor on: a new set of recovery codes, or turning it off (both need a current code). */
function Manage() {
  const [codes, setCodes] = useState<string[] | null>(null);
  const renew = useAction(async (values: Record<string, string>, form: HTMLFormElement) => {
    setCodes((await data(api.v1.me.mfa['recovery-codes'].$post({ json: { code: values.code ?? '' } }))).recoveryCodes);
    form.reset();
  });
  const disable = useAction(async (values: Record<string, string>) => {
    await done(api.v1.me.mfa.disable.$post({ json: { currentPassword: values.currentPassword ?? '', code: values.code ?? '' } }));
    await loadMe();
  });
  return (
    <div class="stack">
      <p>
        <span class="tag on">{t('mfa.on')}</span>
      </p>
      {codes && <RecoveryCodes codes={codes} />}
      <form class="stack" onSubmit={submit((v, f) => void renew.run(v, f))}>
        <h3>{t('mfa.newCodes')}</h3>
        <ErrorBox error={renew.error} />
        <Field id="renew-code" label={t('mfa.code')} name="code" autocomplete="one-time-code" required error={renew.error} />
        <button disabled={renew.busy}>{t('mfa.newCodes')}</button>
      </form>
      <form class="stack" onSubmit={submit((v) => void disable.run(v))}>
        <h3>{t('mfa.turnOff')}</h3>
        <ErrorBox error={disable.error} />
        <Field id="disable-password" label={t('field.currentPassword')} name="currentPassword" type="password" autocomplete="current-password" required error={disable.error} />
        <Field id="disable-code" label={t('mfa.codeOrRecovery')} name="code" autocomplete="one-time-code" required error={disable.error} />
        <button class="danger" disabled={disable.busy}>
          {t('mfa.turnOff')}
        </button>
      </form>
    </div>
  );
}

export function SecondFactor() {
  const { me } = useAuth()!;
  return (
    <div class="panel">
      <h2>{t('mfa.title')}</h2>
      {me.mfaEnabled ? <Manage /> : <Enrol />}
    </div>
  );
}
