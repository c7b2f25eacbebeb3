import { useEffect, useState } from 'preact/hooks';
import { api, data } from '../api';
import { loadMe } from '../auth';
import { t } from '../i18n';
import { navigate, useLocation } from '../router';
import { session } from '../session';
import { useTitle } from '../ui';
import { safeNext } from './sign-in';

/** The page the provider's sign-in comes back to (contract §18): `?code=` is exchanged, `?error=` explained. */
const CALLBACK = '/console/sso-callback';

const message = (error: string) => {
  const key = `sso.error.${error}`;
  const text = t(key);
  return text === key ? t('sso.error.provider_error') : text;
};

/** "Sign in with …", one link per provider: a plain navigation to the API's start, which redirects to the provider. */
export function SsoButtons({ next }: { next: string | null }) {
  const [providers, setProviders] = useState<{ id: string; name: string }[]>([]);
  const { query } = useLocation();
  useEffect(() => {
    data(api.v1.auth.oidc.providers.$get())
      .then((list) => setProviders(list.data))
      .catch(() => setProviders([]));
  }, []);
  const error = query.get('error');
  const back = `${CALLBACK}?next=${encodeURIComponent(safeNext(next))}`;
  return (
    <>
      {error && <p class="alert error" role="alert">{message(error)}</p>}
      {providers.length > 0 && (
        <div class="stack sso">
          <p class="muted sso-or">{t('sso.or')}</p>
          {providers.map((p) => (
            <a class="button" href={`/v1/auth/oidc/${encodeURIComponent(p.id)}/start?redirect=${encodeURIComponent(back)}`}>
              {t('sso.with', { name: p.name })}
            </a>
          ))}
        </div>
      )}
    </>
  );
}

/** Trades the one-time code for the session; the code leaves the address bar (and history) at once. */
export function SsoCallback() {
  useTitle(t('signIn.title'));
  const { query } = useLocation();
  const [error, setError] = useState<string | null>(query.get('error'));
  useEffect(() => {
    const code = query.get('code');
    const next = safeNext(query.get('next'));
    history.replaceState(null, '', `${CALLBACK}?next=${encodeURIComponent(next)}`);
    if (!code) return setError((e) => e ?? 'code');
    data(api.v1.auth.oidc.exchange.$post({ json: { code } }))
      .then(async (pair) => {
        session.store(pair);
        await loadMe();
        navigate(next, { replace: true });
      })
      .catch((problem: { status?: number }) => setError(problem.status === 403 ? 'account_disabled' : 'code'));
  }, []);
  return (
    <main class="auth-page" id="main">
      <h1>{t('signIn.title')}</h1>
      {error ? (
        <div class="stack">
          <p class="alert error" role="alert">{message(error)}</p>
          <a href="/console/sign-in">{t('sso.back')}</a>
        </div>
      ) : (
        <p aria-live="polite">{t('sso.signingIn')}</p>
      )}
    </main>
  );
}
