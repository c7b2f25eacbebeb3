import { compose, lifetime, PRODUCT } from './layout';

/** A link to choose a new password, after POST /v1/auth/password/forgot. */
export const passwordReset = (url: string, ttl: number) =>
  compose({
    kind: 'password_reset',
    subject: 'Reset your password',
    intro: [`Someone asked to reset the password of the ${PRODUCT} account for this email address.`],
    action: { label: 'Choose a new password', url, lifetime: lifetime(ttl) },
    ignore: 'If you did not ask for this, ignore this email: your password stays as it is.',
  });
