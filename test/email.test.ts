/**
 * The transactional outbox and its transports: the dev mailbox, the Resend transport against its local stand-in
 * (scripts/stand-ins/resend.ts), retries with backoff from the scheduled handler, and fail-fast configuration.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { loadConfig, type Bindings } from '../src/env';
import { DELIVERY_CRON } from '../src/jobs/scheduled';
import { createHarness, mailbox, uniqueEmail, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const LOOPBACK = '127.0.0.1:8787';
const register = (harness: Harness, email: string) =>
  harness.call('POST', '/v1/auth/register', { body: { name: 'Mail Test', email, password: 'long enough password' } });

/** A harness on the Resend transport, with a stand-in account of its own (faults and emails are per key). */
function withResend(overrides: Partial<Bindings> = {}) {
  const key = `re_test_${crypto.randomUUID()}`;
  const stub = h.env.TEST_RESEND_URL;
  return {
    key,
    h: h.with({ EMAIL_TRANSPORT: 'resend', RESEND_API_KEY: key, RESEND_API_URL: stub, EMAIL_FROM: 'Dashboard <no-reply@example.com>', APP_URL: 'https://app.example.com', ...overrides }),
    fault: (fault: object) => fetch(`${stub}/_stub/faults?key=${key}`, { method: 'POST', body: JSON.stringify(fault) }),
    emails: async (to: string) => ((await (await fetch(`${stub}/_stub/emails?key=${key}&to=${encodeURIComponent(to)}`)).json()) as { data: any[] }).data,
  };
}

async function runCron(bindings: Bindings, cron = DELIVERY_CRON) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ cron, scheduledTime: Date.now() }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}

type OutboxRow = { id: string; status: string; attempts: number; last_error: string | null; text_body: string | null; provider_id: string | null; transport: string | null; due_in: number };
const outbox = (to: string) =>
  h.query<OutboxRow>(
    `select id, status, attempts, last_error, text_body, provider_id, transport, extract(epoch from next_attempt_at - now())::int as due_in
     from email_outbox where to_address = $1 order by created_at`,
    [to],
  );
const makeDue = (to: string) => h.query(`update email_outbox set next_attempt_at = now() where to_address = $1`, [to]);

describe('dev transport and mailbox', () => {
  it('keeps the message, readable on a loopback host, newest first', async () => {
    const email = uniqueEmail('dev');
    expect((await register(h, email)).status).toBe(201);
    const [message, ...rest] = await mailbox(h, email.toUpperCase());
    expect(rest).toHaveLength(0);
    expect(message).toEqual({ id: expect.any(String), to: email, subject: expect.stringContaining('Confirm your email address'), text: expect.any(String), html: expect.any(String), createdAt: expect.stringMatching(/Z$/) });
    // With no APP_URL the dev transport links to the request's own origin.
    expect(message!.text).toMatch(new RegExp(`http://api\\.test/console/verify-email\\?token=[A-Za-z0-9_-]{43}`));
    const [row] = await outbox(email);
    expect(row).toMatchObject({ id: message!.id, status: 'sent', transport: 'dev', attempts: 1 });
    for (const host of ['localhost:8787', '[::1]:8787']) {
      const res = await h.call('GET', `/v1/dev/mailbox?to=${email}`, { host });
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(1);
    }
  });

  it('is a plain 404 on any other host, and with any other transport', async () => {
    const unknown = await h.call('GET', '/v1/dev/nothing-here');
    for (const res of [
      await h.call('GET', '/v1/dev/mailbox?to=a@example.com'),
      await h.call('GET', '/v1/dev/mailbox', { host: 'mailbox.example.com' }),
      await h.call('GET', '/v1/dev/mailbox', { host: '127.0.0.2' }),
      await withResend().h.call('GET', '/v1/dev/mailbox?to=a@example.com', { host: LOOPBACK }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.type).toBe(unknown.body.type);
      expect(res.body.detail).toBe('No route for GET /v1/dev/mailbox.');
    }
  });

  it('lists nothing for an address that got no mail', async () => {
    expect(await mailbox(h, uniqueEmail('nobody'))).toEqual([]);
  });
});

describe('messages', () => {
  it('say what, link once, with the lifetime and what to do if not asked for; no remote content', async () => {
    const email = uniqueEmail('content');
    await register(h.with({ APP_URL: 'https://app.example.com' }), email);
    const [message] = await mailbox(h, email);
    const link = /https:\/\/app\.example\.com\/console\/verify-email\?token=[A-Za-z0-9_-]+/.exec(message!.text)![0];
    for (const body of [message!.text, message!.html]) {
      expect(body).toContain('Dashboard Analytics');
      expect(body).toContain(link);
      expect(body).toContain('expires in 1 day');
      expect(body).toMatch(/If you did not create an account, ignore this email/);
    }
    expect(message!.subject).toContain('Dashboard Analytics');
    expect(message!.html).not.toMatch(/<img|<script|url\(|<link|@import/i);
    // The only URL in the HTML is the link itself.
    expect(new Set(message!.html.match(/https?:\/\/[^\s"<]+/g))).toEqual(new Set([link]));
    expect(message!.text.length).toBeLessThan(600);
  });
});

describe('resend transport', () => {
  it('sends once with the outbox id as Idempotency-Key, then drops the bodies from the database', async () => {
    const r = withResend();
    const email = uniqueEmail('resend');
    expect((await register(r.h, email)).status).toBe(201);
    const sent = await r.emails(email);
    expect(sent).toHaveLength(1);
    const [row] = await outbox(email);
    expect(sent[0]).toMatchObject({ idempotencyKey: row!.id, from: 'Dashboard <no-reply@example.com>', to: [email], subject: expect.stringContaining('Confirm') });
    expect(sent[0].text).toContain('https://app.example.com/console/verify-email?token=');
    expect(row).toMatchObject({ status: 'sent', transport: 'resend', provider_id: sent[0].id, text_body: null, attempts: 1 });
  });

  it('a provider that fails then recovers: delivered exactly once, after retries with backoff', async () => {
    const r = withResend();
    await r.fault({ status: 500, count: 2 });
    const email = uniqueEmail('flaky');
    expect((await register(r.h, email)).status).toBe(201);
    let [row] = await outbox(email);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: 'resend 500 application_error' });
    expect(row!.due_in).toBeGreaterThan(40); // ~1 minute
    // Not due yet: the cron leaves it alone.
    await runCron(r.h.env);
    expect((await outbox(email))[0]!.attempts).toBe(1);
    await makeDue(email);
    await runCron(r.h.env);
    [row] = await outbox(email);
    expect(row).toMatchObject({ status: 'pending', attempts: 2 });
    expect(row!.due_in).toBeGreaterThan(100); // ~2 minutes
    await makeDue(email);
    await runCron(r.h.env);
    [row] = await outbox(email);
    expect(row).toMatchObject({ status: 'sent', attempts: 3, last_error: null });
    expect(await r.emails(email)).toHaveLength(1);
    await makeDue(email);
    await runCron(r.h.env);
    expect(await r.emails(email)).toHaveLength(1);
  });

  it('an answer lost after the provider accepted: the retry is deduplicated by the idempotency key', async () => {
    const r = withResend();
    await r.fault({ status: 503, name: 'service_unavailable', accept: true });
    const email = uniqueEmail('lost');
    expect((await register(r.h, email)).status).toBe(201);
    expect((await outbox(email))[0]).toMatchObject({ status: 'pending', attempts: 1 });
    await makeDue(email);
    await runCron(r.h.env);
    const sent = await r.emails(email);
    expect(sent).toHaveLength(1);
    expect((await outbox(email))[0]).toMatchObject({ status: 'sent', provider_id: sent[0].id });
  });

  it('an unreachable provider never fails the request; the message waits for a retry', async () => {
    const r = withResend({ RESEND_API_URL: 'http://127.0.0.1:9' });
    const email = uniqueEmail('unreachable');
    const res = await register(r.h, email);
    expect(res.status).toBe(201);
    expect((await outbox(email))[0]).toMatchObject({ status: 'pending', attempts: 1, last_error: expect.stringMatching(/^resend unreachable/) });
  });

  it('retries later on 429 (rate limit or quota)', async () => {
    const r = withResend();
    await r.fault({ status: 429 });
    const email = uniqueEmail('limited');
    await register(r.h, email);
    const [row] = await outbox(email);
    expect(row).toMatchObject({ status: 'pending', last_error: 'resend 429 rate_limit_exceeded' });
  });

  it('a refused request (422) fails for good at once; other failures after EMAIL_MAX_ATTEMPTS', async () => {
    const r = withResend();
    await r.fault({ status: 422, name: 'validation_error' });
    const refused = uniqueEmail('refused');
    await register(r.h, refused);
    expect((await outbox(refused))[0]).toMatchObject({ status: 'failed', attempts: 1, last_error: 'resend 422 validation_error', text_body: null });

    const limited = withResend({ EMAIL_MAX_ATTEMPTS: '2' });
    await limited.fault({ status: 500, count: 5 });
    const email = uniqueEmail('exhausted');
    await register(limited.h, email);
    await makeDue(email);
    await runCron(limited.h.env);
    expect((await outbox(email))[0]).toMatchObject({ status: 'failed', attempts: 2 });
    await makeDue(email);
    await runCron(limited.h.env);
    expect((await outbox(email))[0]!.attempts).toBe(2);
    expect(await limited.emails(email)).toHaveLength(0);
  });

  it('a wrong API key is retried (the operator can fix it), and what fails is not sent', async () => {
    const r = withResend({ RESEND_API_KEY: 're_wrong' });
    const email = uniqueEmail('badkey');
    await register(r.h, email);
    expect((await outbox(email))[0]).toMatchObject({ status: 'pending', last_error: 'resend 403 invalid_api_key' });
  });
});

describe('configuration', () => {
  it('a provider without its settings fails fast, naming each missing one', () => {
    expect(() => loadConfig({ ...h.env, EMAIL_TRANSPORT: 'resend' })).toThrow(/RESEND_API_KEY: is required with EMAIL_TRANSPORT=resend \(set it with `wrangler secret put RESEND_API_KEY`\).*EMAIL_FROM.*APP_URL/);
    expect(() => loadConfig({ ...h.env, EMAIL_TRANSPORT: 'smtp' })).toThrow(/EMAIL_TRANSPORT/);
  });

  it('every request then answers 500 without sending anything', async () => {
    const res = await h.with({ EMAIL_TRANSPORT: 'resend' }).call('POST', '/v1/auth/register', { body: { name: 'X', email: uniqueEmail('cfg'), password: 'long enough password' } });
    expect(res.status).toBe(500);
    expect(res.text).not.toMatch(/RESEND/);
  });
});
