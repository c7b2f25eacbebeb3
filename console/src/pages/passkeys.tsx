import { useState } from 'preact/hooks';
import { api, data, done } from '../api';
import { formatDate, t } from '../i18n';
import { Problem } from '../problem';
import { Confirm, Empty, ErrorBox, Field, Loading, Notice, submit, useAction, useLoad } from '../ui';

// The API speaks WebAuthn's JSON forms (binary fields base64url, contract §17); the browser's calls take and give
// ArrayBuffers. Converted here by hand, so browsers without PublicKeyCredential.parse*FromJSON()/toJSON() work too.
const toBytes = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
const toText = (buffer: ArrayBuffer | null) =>
  buffer ? btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : null;

type Descriptor = { id: string; type: 'public-key'; transports?: string[] };
const descriptors = (list?: Descriptor[]) =>
  list?.map((d) => ({ ...d, id: toBytes(d.id), transports: d.transports as AuthenticatorTransport[] | undefined }));

/** The browser's side of a ceremony failed: its own sentence, not the API's "could not be reached". */
class CeremonyError extends Problem {
  override get text() {
    return this.detail;
  }
}

/** A WebAuthn call the person cancelled or the browser refused: a message in their words, not a stack. */
function ceremonyFailed(error: unknown): never {
  if (error instanceof Problem) throw error;
  const name = error instanceof DOMException ? error.name : '';
  throw new CeremonyError(0, t(name === 'NotAllowedError' ? 'passkey.cancelled' : name === 'InvalidStateError' ? 'passkey.already' : 'passkey.unsupported'));
}

const supported = () => typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;

/** The fields PublicKeyCredential.toJSON() gives for any credential; `response` differs per ceremony. */
const credentialJson = (credential: PublicKeyCredential) => ({
  id: credential.id,
  rawId: toText(credential.rawId)!,
  type: 'public-key' as const,
  authenticatorAttachment: (credential.authenticatorAttachment ?? undefined) as 'platform' | 'cross-platform' | undefined,
  clientExtensionResults: credential.getClientExtensionResults() as Record<string, unknown>,
});

/** navigator.credentials.create() on the server's options, answered as PublicKeyCredential.toJSON() gives it. */
async function createCredential(options: any) {
  const publicKey: PublicKeyCredentialCreationOptions = {
    ...options,
    challenge: toBytes(options.challenge),
    user: { ...options.user, id: toBytes(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
  const response = credential.response as AuthenticatorAttestationResponse;
  return {
    ...credentialJson(credential),
    response: {
      clientDataJSON: toText(response.clientDataJSON)!,
      attestationObject: toText(response.attestationObject)!,
      transports: response.getTransports?.() ?? [],
    },
  };
}

/** navigator.credentials.get() on the server's options (no allowCredentials: the browser offers its passkeys). */
async function getAssertion(options: any) {
  const publicKey: PublicKeyCredentialRequestOptions = {
    ...options,
    challenge: toBytes(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
  const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential;
  const response = credential.response as AuthenticatorAssertionResponse;
  return {
    ...credentialJson(credential),
    response: {
      clientDataJSON: toText(response.clientDataJSON)!,
      authenticatorData: toText(response.authenticatorData)!,
      signature: toText(response.signature)!,
      userHandle: toText(response.userHandle),
    },
  };
}

/** My account → Passkeys: the list, adding one (a name, then the browser's prompt), removing one. */
export function Passkeys() {
  const list = useLoad(() => data(api.v1.me.passkeys.$get()), []);
  const [notice, setNotice] = useState('');
  const add = useAction(async (values: Record<string, string>, form: HTMLFormElement) => {
    setNotice('');
    const options = await data(api.v1.me.passkeys.options.$post());
    const response = await createCredential(options).catch(ceremonyFailed);
    await data(api.v1.me.passkeys.$post({ json: { name: values.passkeyName ?? '', response } }));
    form.reset();
    setNotice(t('passkey.added'));
    list.reload();
  });
  const remove = useAction(async (id: number) => {
    await done(api.v1.me.passkeys[':id'].$delete({ param: { id: String(id) } }));
    setNotice(t('passkey.removed'));
    list.reload();
  });
  return (
    <div class="panel stack" id="passkeys">
      <h2>{t('passkey.title')}</h2>
      <p class="muted">{t('passkey.intro')}</p>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={list.error ?? remove.error} />
      {list.loading && !list.value && <Loading />}
      {list.value && list.value.data.length === 0 && <Empty>{t('passkey.none')}</Empty>}
      <ul class="sessions" aria-label={t('passkey.title')}>
        {list.value?.data.map((p) => (
          <li>
            <div>
              <strong>{p.name}</strong>
              <div class="muted">{t('passkey.meta', { created: formatDate(p.createdAt), used: formatDate(p.lastUsedAt) })}</div>
            </div>
            <Confirm label={t('passkey.remove')} question={t('passkey.removeQ', { name: p.name })} danger onConfirm={() => void remove.run(p.id)} />
          </li>
        ))}
      </ul>
      {supported() ? (
        <form class="stack" onSubmit={submit((v, f) => void add.run(v, f))}>
          <ErrorBox error={add.error} />
          <Field id="f-passkeyName" label={t('passkey.name')} name="passkeyName" required maxLength={100} autocomplete="off" error={add.error} />
          <button class="primary" disabled={add.busy}>
            {t('passkey.add')}
          </button>
        </form>
      ) : (
        <p class="muted">{t('passkey.unsupported')}</p>
      )}
    </div>
  );
}

/** "Sign in with a passkey" on the sign-in page: no email needed (discoverable credentials). */
export function PasskeySignInButton({ onSignedIn }: { onSignedIn: (pair: { accessToken: string; refreshToken: string }) => Promise<void> }) {
  const signIn = useAction(async () => {
    const options = await data(api.v1.auth.passkey.options.$post());
    const response = await getAssertion(options).catch(ceremonyFailed);
    await onSignedIn(await data(api.v1.auth.passkey.$post({ json: { response } })));
  });
  if (!supported()) return null;
  return (
    <div class="stack">
      <ErrorBox error={signIn.error} />
      <button type="button" disabled={signIn.busy} onClick={() => void signIn.run()}>
        {t('passkey.signIn')}
      </button>
    </div>
  );
}
