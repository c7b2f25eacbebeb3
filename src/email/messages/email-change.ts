import { compose, lifetime, PRODUCT } from './layout';

/** To the new address of a self-service email change: the change happens only through this link. */
export const emailChange = (url: string, ttl: number) =>
  compose({
    kind: 'email_change',
    subject: 'Confirm your new email address',
    intro: [`Someone asked to move a ${PRODUCT} account to this email address.`],
    action: { label: 'Confirm the new address', url, lifetime: lifetime(ttl) },
    ignore: 'If you did not ask for this, ignore this email: the account keeps its current address.',
  });
