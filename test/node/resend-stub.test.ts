/** The Resend stand-in answers like Resend's documentation says, so the transport is tested against real answers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startResendStub, type ResendStub } from '../../scripts/stand-ins/resend';

let stub: ResendStub;
beforeAll(async () => {
  stub = await startResendStub({ perSecond: 5, verifiedDomains: ['example.com'] });
});
afterAll(() => stub.close());

const body = { from: 'Acme <no-reply@example.com>', to: ['ada@example.org'], subject: 'Hi', text: 'Hello' };
const post = (key: string | null, payload: unknown = body, headers: Record<string, string> = {}) =>
  fetch(`${stub.url}/emails`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
const answer = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });
const key = () => `re_test_${Math.random().toString(36).slice(2)}`;

describe('POST /emails', () => {
  it('200 { id } and the email kept for the key', async () => {
    const k = key();
    const res = await answer(await post(k));
    expect(res).toEqual({ status: 200, body: { id: expect.any(String) } });
    expect(stub.emails(k)).toMatchObject([{ id: res.body.id, to: ['ada@example.org'], subject: 'Hi' }]);
  });

  it('401 missing_api_key, 403 invalid_api_key', async () => {
    expect(await answer(await post(null))).toEqual({ status: 401, body: { statusCode: 401, name: 'missing_api_key', message: expect.any(String) } });
    expect((await answer(await post('re_live_nope'))).body).toMatchObject({ statusCode: 403, name: 'invalid_api_key' });
  });

  it('422 on missing fields or a malformed address, 403 for an unverified domain, 400 for bad JSON', async () => {
    const k = key();
    expect((await answer(await post(k, { ...body, subject: undefined }))).body).toMatchObject({ statusCode: 422, name: 'missing_required_field' });
    expect((await answer(await post(k, { ...body, to: ['not an address'] }))).body).toMatchObject({ statusCode: 422, name: 'validation_error' });
    expect((await answer(await post(k, { ...body, from: 'x@unverified.test' }))).body).toMatchObject({ statusCode: 403, name: 'validation_error' });
    expect((await answer(await post(k, '{nope'))).body).toMatchObject({ statusCode: 400, name: 'validation_error' });
    expect(stub.emails(k)).toHaveLength(0);
  });

  it('idempotency: the same key and body replays the answer; another body is 409; a bad key 400', async () => {
    const k = key();
    const first = await answer(await post(k, body, { 'idempotency-key': 'msg-1' }));
    const again = await answer(await post(k, body, { 'idempotency-key': 'msg-1' }));
    expect(again).toEqual(first);
    expect(stub.emails(k)).toHaveLength(1);
    expect((await answer(await post(k, { ...body, subject: 'Other' }, { 'idempotency-key': 'msg-1' }))).body).toMatchObject({ statusCode: 409, name: 'invalid_idempotent_request' });
    expect((await answer(await post(k, body, { 'idempotency-key': 'x'.repeat(257) }))).body).toMatchObject({ statusCode: 400, name: 'invalid_idempotency_key' });
  });

  it('409 concurrent_idempotent_requests while the first request with the key runs', async () => {
    const k = key();
    await fetch(`${stub.url}/_stub/faults?key=${k}`, { method: 'POST', body: JSON.stringify({ status: 200, delayMs: 300 }) });
    const [a, b] = await Promise.all([
      post(k, body, { 'idempotency-key': 'slow' }).then(answer),
      new Promise((r) => setTimeout(r, 50)).then(() => post(k, body, { 'idempotency-key': 'slow' })).then(answer),
    ]);
    expect(a.status).toBe(200);
    expect(b.body).toMatchObject({ statusCode: 409, name: 'concurrent_idempotent_requests' });
  });

  it('429 rate_limit_exceeded with ratelimit headers and Retry-After past the per-second limit', async () => {
    const k = key();
    const answers = await Promise.all(Array.from({ length: 7 }, () => post(k)));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.headers.get('retry-after')).toBe('1');
    expect(limited[0]!.headers.get('ratelimit-limit')).toBe('5');
    expect(await limited[0]!.json()).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' });
  });

  it('scripted 500s, and a lost answer (accepted, then 500) that a retry with the key resolves', async () => {
    const k = key();
    await fetch(`${stub.url}/_stub/faults?key=${k}`, { method: 'POST', body: JSON.stringify({ status: 500 }) });
    expect((await answer(await post(k))).body).toMatchObject({ statusCode: 500, name: 'application_error' });
    expect(stub.emails(k)).toHaveLength(0);
    await fetch(`${stub.url}/_stub/faults?key=${k}`, { method: 'POST', body: JSON.stringify({ status: 500, accept: true }) });
    expect((await post(k, body, { 'idempotency-key': 'lost' })).status).toBe(500);
    const retry = await answer(await post(k, body, { 'idempotency-key': 'lost' }));
    expect(retry.status).toBe(200);
    expect(stub.emails(k)).toHaveLength(1);
    expect(stub.emails(k)[0]!.id).toBe(retry.body.id);
  });

  it('404 for other paths, 405 for another method', async () => {
    expect((await fetch(`${stub.url}/domains`)).status).toBe(404);
    expect((await fetch(`${stub.url}/emails`)).status).toBe(405);
  });
});
