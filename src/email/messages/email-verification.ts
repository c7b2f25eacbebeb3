import { compose, lifetime, PRODUCT } from './layout';

/** Proves the account owns its address: after sign-up, creation with a password, or an admin's email change. */
export const emailVerification = (url: string, ttl: number) =>
  compose({
    kind: 'email_verification',
    subject: 'Confirm your email address',
    intro: [`Please confirm that this address belongs to your ${PRODUCT} account.`],
    action: { label: 'Confirm this address', url, lifetime: lifetime(ttl) },
    ignore: 'If you did not create an account, ignore this email: nothing happens without the link.',
  });
