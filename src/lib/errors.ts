import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface FieldError {
  path: string;
  message: string;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Problem `type` URIs: one per kind of failure, documented in the README. */
export const problemType = (slug: string) => `https://dashboard-analytics.dev/problems/${slug}`;

/**
 * The one error type handlers throw. `onError` turns it into problem+json; the cause stays server-side for logs.
 */
export class ApiError extends HTTPException {
  readonly slug: string;
  readonly detail: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    slug: string,
    detail: string,
    extra: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(status, { message: detail, cause: extra.cause });
    this.slug = slug;
    this.detail = detail;
    this.errors = extra.errors;
    this.headers = extra.headers;
  }
}

export const badRequest = (detail: string, slug = 'bad-request') => new ApiError(400, slug, detail);
export const unauthorized = (detail = 'Missing or invalid access token.', cause?: unknown) =>
  new ApiError(401, 'unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer' }, cause });
export const forbidden = (detail = 'You do not have the role this needs.') => new ApiError(403, 'forbidden', detail);
export const notFound = (detail = 'No such resource.') => new ApiError(404, 'not-found', detail);
export const conflict = (detail: string, slug = 'conflict') => new ApiError(409, slug, detail);
export const validationFailed = (errors: FieldError[], detail = 'The request failed validation.') =>
  new ApiError(422, 'validation-error', detail, { errors });
export const tooManyRequests = (retryAfterSeconds: number, detail = 'Too many attempts; try again later.') =>
  new ApiError(429, 'rate-limited', detail, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
export const serviceUnavailable = (detail = 'The database cannot be reached; try again shortly.', cause?: unknown) =>
  new ApiError(503, 'database-unavailable', detail, { headers: { 'Retry-After': '5' }, cause });

/** The problem+json body (RFC 9457) of a failure, also where one is embedded in an answer (a dashboard widget's). */
export function problemJson(status: number, slug: string, detail: string, errors?: FieldError[]) {
  return { type: problemType(slug), title: titles[status] ?? 'Error', status, detail, ...(errors ? { errors } : {}) };
}

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  slug: string,
  detail: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
): Response {
  const body = problemJson(status, slug, detail, extra.errors);
  const headers: Record<string, string> = { 'Content-Type': 'application/problem+json', ...extra.headers };
  return c.body(JSON.stringify(body), status, headers);
}
