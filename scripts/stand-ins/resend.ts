/**
 * A local stand-in for Resend's `POST /emails` (https://resend.com/docs/api-reference/emails/send-email), built from
 * its documentation: Bearer API key, JSON body, `Idempotency-Key` (1..256 characters; the same key and body within
 * 24 h replays the first answer; the same key with another body is 409 `invalid_idempotent_request`; the same key
 * while the first request is still running is 409 `concurrent_idempotent_requests`), errors as
 * `{ statusCode, name, message }` (https://resend.com/docs/api-reference/errors), a per-key rate limit with
 * `ratelimit-*` and `retry-after` headers. Tests script failures through `/_stub/*` endpoints.
 *
 * Every key that starts with the configured prefix is valid, and each key has its own emails, idempotency records
 * and scripted faults, so test files sharing one stand-in never see each other (control calls take `?key=`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface StoredEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  idempotencyKey: string | null;
  createdAt: string;
}

/** A scripted answer for the next `count` sends. `accept: true` stores the email first, then answers the failure (a lost answer). */
export interface Fault {
  status: number;
  name?: string;
  count?: number;
  accept?: boolean;
  /** Milliseconds to wait before answering (to test timeouts and concurrent requests). */
  delayMs?: number;
}

export interface ResendStub {
  url: string;
  /** Keys accepted: this prefix followed by anything. */
  keyPrefix: string;
  emails(key: string): StoredEmail[];
  close(): Promise<void>;
}

interface Account {
  emails: StoredEmail[];
  replays: Map<string, { body: string; status: number; answer: unknown }>;
  inFlight: Set<string>;
  faults: (Fault & { count: number })[];
  windowStart: number;
  windowHits: number;
}

const NAMES: Record<number, string> = { 400: 'validation_error', 401: 'missing_api_key', 403: 'invalid_api_key', 422: 'validation_error', 429: 'rate_limit_exceeded', 500: 'application_error' };
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const address = (s: string) => /<([^>]+)>\s*$/.exec(s)?.[1] ?? s.trim();

export function startResendStub(options: { keyPrefix?: string; port?: number; perSecond?: number; verifiedDomains?: string[] } = {}): Promise<ResendStub> {
  const keyPrefix = options.keyPrefix ?? 're_test_';
  const perSecond = options.perSecond ?? 1000;
  const accounts = new Map<string, Account>();
  const account = (key: string) => {
    let a = accounts.get(key);
    if (!a) {
      a = { emails: [], replays: new Map(), inFlight: new Set(), faults: [], windowStart: 0, windowHits: 0 };
      accounts.set(key, a);
    }
    return a;
  };

  const send = (res: ServerResponse, status: number, answer: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(answer));
  };
  const error = (res: ServerResponse, status: number, name: string, message: string, headers?: Record<string, string>) =>
    send(res, status, { statusCode: status, name, message }, headers);

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string) {
    const params = new URL(req.url ?? '/', 'http://stub').searchParams;
    const a = account(params.get('key') ?? '');
    if (req.method === 'POST' && path === '/_stub/faults') {
      const fault = JSON.parse((await readBody(req)) || '{}') as Fault;
      a.faults.push({ ...fault, count: fault.count ?? 1 });
      return send(res, 200, { queued: a.faults.length });
    }
    if (req.method === 'GET' && path === '/_stub/emails') {
      const to = params.get('to');
      return send(res, 200, { data: a.emails.filter((e) => !to || e.to.includes(to)) });
    }
    return error(res, 404, 'not_found', 'The requested endpoint does not exist.');
  }

  async function emailsEndpoint(req: IncomingMessage, res: ServerResponse) {
    const auth = req.headers.authorization;
    if (!auth) return error(res, 401, 'missing_api_key', 'Missing API key in the authorization header.');
    if (!auth.startsWith(`Bearer ${keyPrefix}`)) return error(res, 403, 'invalid_api_key', 'API key is invalid.');
    const a = account(auth.slice('Bearer '.length));

    const now = Date.now();
    if (now - a.windowStart >= 1000) {
      a.windowStart = now;
      a.windowHits = 0;
    }
    const remaining = perSecond - ++a.windowHits;
    const limits = { 'ratelimit-limit': String(perSecond), 'ratelimit-remaining': String(Math.max(0, remaining)), 'ratelimit-reset': '1' };
    if (remaining < 0) {
      return error(res, 429, 'rate_limit_exceeded', `Too many requests. You can only make ${perSecond} requests per second.`, { ...limits, 'retry-after': '1' });
    }

    const key = req.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' ? key : null;
    if (idempotencyKey !== null && (idempotencyKey.length < 1 || idempotencyKey.length > 256)) {
      return error(res, 400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
    }
    const raw = await readBody(req);
    if (!(req.headers['content-type'] ?? '').includes('application/json')) {
      return error(res, 400, 'validation_error', 'Invalid content type: expected application/json.');
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return error(res, 400, 'validation_error', 'Invalid JSON body.');
    }

    if (idempotencyKey) {
      const replay = a.replays.get(idempotencyKey);
      if (replay) {
        if (replay.body !== raw) return error(res, 409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
        return send(res, replay.status, replay.answer, limits);
      }
      if (a.inFlight.has(idempotencyKey)) {
        return error(res, 409, 'concurrent_idempotent_requests', 'Same idempotency key used while original request is still in progress.');
      }
    }

    for (const field of ['from', 'to', 'subject'] as const) {
      if (body[field] === undefined || body[field] === '') return error(res, 422, 'missing_required_field', `Missing \`${field}\` field.`);
    }
    if (body.text === undefined && body.html === undefined) return error(res, 422, 'missing_required_field', 'Missing `html` or `text` field.');
    const from = String(body.from);
    if (!EMAIL.test(address(from))) {
      return error(res, 422, 'validation_error', 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
    }
    const domain = address(from).split('@')[1]!;
    if (options.verifiedDomains && !options.verifiedDomains.includes(domain)) {
      return error(res, 403, 'validation_error', `The ${domain} domain is not verified. Please, add and verify your domain on https://resend.com/domains`);
    }
    const to = (Array.isArray(body.to) ? body.to : [body.to]).map(String);
    if (to.length > 50) return error(res, 422, 'validation_error', 'Too many recipients: the maximum is 50.');
    const bad = to.find((t) => !EMAIL.test(address(t)));
    if (bad !== undefined) return error(res, 422, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');

    const fault = a.faults[0];
    if (fault && --fault.count <= 0) a.faults.shift();
    if (idempotencyKey) a.inFlight.add(idempotencyKey);
    try {
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      const accept = !fault || fault.accept || fault.status < 300;
      const id = randomUUID();
      if (accept) {
        a.emails.push({ id, from, to, subject: String(body.subject), text: body.text as string | undefined, html: body.html as string | undefined, idempotencyKey, createdAt: new Date().toISOString() });
        if (idempotencyKey) a.replays.set(idempotencyKey, { body: raw, status: 200, answer: { id } });
      }
      if (fault && fault.status >= 300) {
        const name = fault.name ?? NAMES[fault.status] ?? 'application_error';
        const extra: Record<string, string> = fault.status === 429 ? { ...limits, 'retry-after': '1' } : {};
        return error(res, fault.status, name, fault.status >= 500 ? 'An unexpected error occurred.' : `Scripted ${name}.`, extra);
      }
      return send(res, 200, { id }, limits);
    } finally {
      if (idempotencyKey) a.inFlight.delete(idempotencyKey);
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://stub').pathname;
    const handle = path.startsWith('/_stub/')
      ? control(req, res, path)
      : req.method === 'POST' && path === '/emails'
        ? emailsEndpoint(req, res)
        : Promise.resolve(error(res, path === '/emails' ? 405 : 404, path === '/emails' ? 'method_not_allowed' : 'not_found', 'Method or endpoint not supported.'));
    handle.catch(() => {
      if (!res.headersSent) error(res, 500, 'internal_server_error', 'An unexpected error occurred.');
    });
  });
  return new Promise((resolve) => {
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        keyPrefix,
        emails: (key) => [...account(key).emails],
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
