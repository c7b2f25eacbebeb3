/** The product name every message carries (subject prefix, greeting, signature). */
export const PRODUCT = 'Dashboard Analytics';

/** A rendered email: plain text and HTML with the same content; no remote images, no tracking. */
export interface Message {
  /** What the message is for (stored with the outbox row, for logs and the purge). */
  kind: string;
  subject: string;
  text: string;
  html: string;
}

export interface Content {
  kind: string;
  subject: string;
  /** Paragraphs before the link. */
  intro: string[];
  action?: { label: string; url: string; lifetime: string };
  /** What to do when the reader did not ask for this. */
  ignore: string;
}

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Lays a message out twice, as text and as simple inline-styled HTML, from the same parts. */
export function compose(content: Content): Message {
  const { action } = content;
  const text = [
    ...content.intro,
    ...(action ? [`${action.label}:\n${action.url}`, `This link works once and expires in ${action.lifetime}.`] : []),
    content.ignore,
    `— ${PRODUCT}`,
  ].join('\n\n');
  const p = (s: string) => `<p style="margin:0 0 16px">${escape(s)}</p>`;
  const html = [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;font-size:15px;line-height:1.5;color:#111;max-width:560px;margin:0 auto;padding:24px">',
    ...content.intro.map(p),
    ...(action
      ? [
          `<p style="margin:0 0 16px"><a href="${escape(action.url)}" style="display:inline-block;padding:10px 16px;background:#1f4ed8;color:#fff;text-decoration:none;border-radius:6px">${escape(action.label)}</a></p>`,
          p(`Or paste this link into your browser: ${action.url}`),
          p(`This link works once and expires in ${action.lifetime}.`),
        ]
      : []),
    p(content.ignore),
    `<p style="margin:0;color:#555">— ${escape(PRODUCT)}</p>`,
    '</body></html>',
  ].join('\n');
  return { kind: content.kind, subject: `${content.subject} — ${PRODUCT}`, text, html };
}

/** "7 days", "30 minutes", "1 hour": a lifetime in seconds as a reader would say it. */
export function lifetime(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}
