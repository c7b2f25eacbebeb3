import { useEffect, useState } from 'preact/hooks';
import { whenSignedOut } from './api';
import { forget, restore, signOut, useAuth, type Auth } from './auth';
import { currentLang, setLang, t, type Lang } from './i18n';
import { Account } from './pages/account';
import { Audit } from './pages/audit';
import { DashboardPage, Dashboards } from './pages/dashboards';
import { ForgotPassword } from './pages/forgot';
import { AcceptInvitation, ConfirmEmail, ResetPassword, VerifyEmail } from './pages/token-pages';
import { Overview } from './pages/overview';
import { RolePage } from './pages/role';
import { Roles } from './pages/roles';
import { SignIn } from './pages/sign-in';
import { SsoCallback } from './pages/sso';
import { UserPage } from './pages/user';
import { Users } from './pages/users';
import { navigate, useLocation } from './router';
import { Loading } from './ui';

/** Pages anyone may open, signed in or not (sign-in itself, the pages the emails link to). */
const PUBLIC: Record<string, () => preact.JSX.Element> = {
  '/sign-in': SignIn,
  '/forgot-password': ForgotPassword,
  '/accept-invitation': AcceptInvitation,
  '/reset-password': ResetPassword,
  '/verify-email': VerifyEmail,
  '/confirm-email': ConfirmEmail,
  '/sso-callback': SsoCallback,
};

function LanguageSwitch({ onChange }: { onChange: (lang: Lang) => void }) {
  return (
    <label class="lang">
      <span class="visually-hidden">{t('nav.language')}</span>
      <select value={currentLang()} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value as Lang)}>
        <option value="en">English</option>
        <option value="fr">Français</option>
      </select>
    </label>
  );
}

function Forbidden() {
  return <p class="alert error">{t('problem.403')}</p>;
}

/** The signed-in pages, each shown only when the caller holds the permission it needs. */
function Page({ auth, path }: { auth: Auth; path: string }) {
  const [, section, id] = path.split('/');
  if (path === '/') return auth.can('stats:read') ? <Overview /> : <Account />;
  if (section === 'users' && !id) return auth.can('users:read') ? <Users /> : <Forbidden />;
  if (section === 'users' && id) return auth.can('users:read') ? <UserPage id={id} /> : <Forbidden />;
  if (section === 'roles' && !id) return auth.can('roles:read') ? <Roles /> : <Forbidden />;
  if (section === 'roles' && id) return auth.can('roles:read') ? <RolePage name={decodeURIComponent(id)} /> : <Forbidden />;
  if (section === 'dashboards') return id ? <DashboardPage id={id} /> : <Dashboards />;
  if (section === 'audit') return auth.can('audit:read') ? <Audit /> : <Forbidden />;
  if (section === 'account') return <Account />;
  return <p class="alert error">{t('problem.404')}</p>;
}

function Shell({ auth, path, onLang }: { auth: Auth; path: string; onLang: (lang: Lang) => void }) {
  const links = [
    { href: '/', label: t('nav.overview'), show: auth.can('stats:read') },
    { href: '/dashboards', label: t('nav.dashboards'), show: true },
    { href: '/users', label: t('nav.users'), show: auth.can('users:read') },
    { href: '/roles', label: t('nav.roles'), show: auth.can('roles:read') },
    { href: '/audit', label: t('nav.audit'), show: auth.can('audit:read') },
    { href: '/account', label: t('nav.account'), show: true },
  ].filter((l) => l.show);
  const active = (href: string) => (href === '/' ? path === '/' : path.startsWith(href));
  return (
    <>
      <a class="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header class="top">
        <strong class="brand">Dashboard Analytics</strong>
        <nav aria-label={t('nav.main')}>
          {links.map((l) => (
            <a href={`/console${l.href === '/' ? '/' : l.href}`} aria-current={active(l.href) ? 'page' : undefined}>
              {l.label}
            </a>
          ))}
        </nav>
        <div class="row">
          <span class="muted who">{auth.me.name}</span>
          <LanguageSwitch onChange={onLang} />
          <button type="button" onClick={() => void signOut().then(() => navigate('/sign-in'))}>
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page auth={auth} path={path} />
      </main>
    </>
  );
}

export function App() {
  const [ready, setReady] = useState(false);
  const [lang, setLangState] = useState(currentLang());
  const auth = useAuth();
  const { path } = useLocation();
  useEffect(() => {
    whenSignedOut(() => {
      forget();
      navigate(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    });
    void restore().finally(() => setReady(true));
  }, []);
  const changeLang = (next: Lang) => {
    setLang(next);
    setLangState(next);
  };
  useEffect(() => {
    if (ready && !auth && !PUBLIC[path]) {
      navigate(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    }
  }, [ready, auth, path]);
  if (!ready) return <Loading />;
  const Public = PUBLIC[path];
  return (
    <div key={lang}>
      {Public ? (
        <>
          <div class="public-lang">
            <LanguageSwitch onChange={changeLang} />
          </div>
          <Public />
        </>
      ) : auth ? (
        <Shell auth={auth} path={path} onLang={changeLang} />
      ) : (
        <Loading />
      )}
    </div>
  );
}
