import { compose, PRODUCT } from './layout';

/**
 * A notice after another change to how the account signs in (e.g. a second factor enabled, disabled or reset):
 * `kind` names it, `what` says what happened in one sentence.
 */
export const securityNotice = (kind: string, subject: string, what: string) =>
  compose({
    kind,
    subject,
    intro: [what],
    ignore: `If this was not you, reset your password now and tell your ${PRODUCT} administrator.`,
  });
