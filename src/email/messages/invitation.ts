import { compose, lifetime, PRODUCT } from './layout';

/** To an account created without a password: set one to accept. */
export const invitation = (url: string, ttl: number) =>
  compose({
    kind: 'invitation',
    subject: 'You are invited',
    intro: [`An administrator has created a ${PRODUCT} account for this email address.`, 'Choose a password to accept the invitation and sign in.'],
    action: { label: 'Accept the invitation', url, lifetime: lifetime(ttl) },
    ignore: 'If you did not expect this invitation, ignore this email: without a password the account cannot be used.',
  });
