import { t } from './i18n';

export interface FieldError {
  path: string;
  message: string;
}

/** A problem+json answer (RFC 9457), or a network failure (status 0), as the pages show it. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly retryAfter?: number,
  ) {
    super(detail);
  }

  /** One sentence for a person: what happened in their language, then the API's own detail. */
  get text(): string {
    const key = `problem.${this.status}`;
    const general = t(key) === key ? t('problem.other') : t(key);
    const wait = this.retryAfter ? ' ' + t('problem.retry', { s: this.retryAfter }) : '';
    return this.detail && this.detail !== general ? `${general} ${this.detail}${wait}` : general + wait;
  }

  /** The validation message for one input field, if the API named it. */
  field(path: string): string | undefined {
    return this.errors.find((e) => e.path === path || e.path.startsWith(`${path}.`))?.message;
  }
}

export async function problemOf(res: Response): Promise<Problem> {
  const retry = Number(res.headers.get('retry-after')) || undefined;
  try {
    const body = (await res.json()) as { detail?: string; title?: string; errors?: FieldError[] };
    return new Problem(res.status, body.detail ?? body.title ?? '', body.errors ?? [], retry);
  } catch {
    return new Problem(res.status, '', [], retry);
  }
}

export const asProblem = (error: unknown): Problem =>
  error instanceof Problem ? error : new Problem(0, error instanceof Error ? error.message : String(error));
