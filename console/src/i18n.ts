import { en, fr } from './messages';

export type Lang = 'en' | 'fr';
type Key = keyof typeof en;

const LANG_KEY = 'dashboard.lang';
const dictionaries: Record<Lang, Record<Key, string>> = { en, fr };

/** The saved choice, else the browser's first language we have, else English. */
function initial(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'en' || saved === 'fr') return saved;
  const preferred = (navigator.languages ?? [navigator.language]).map((l) => l.slice(0, 2).toLowerCase());
  return (preferred.find((l) => l === 'en' || l === 'fr') as Lang | undefined) ?? 'en';
}

let lang: Lang = initial();
document.documentElement.lang = lang;

export const currentLang = () => lang;
export function setLang(next: Lang) {
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

/** The message for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: string, params: Record<string, string | number> = {}): string {
  const text = dictionaries[lang][key as Key] ?? en[key as Key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export const formatNumber = (n: number) => new Intl.NumberFormat(lang).format(n);
export const formatDate = (iso: string | null) =>
  iso ? new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)) : '—';
