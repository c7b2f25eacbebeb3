import { PRODUCT } from './layout';
import { securityNotice } from './security-notice';

/** The notices of contract §9 (v3) after a passkey is added to or removed from the account (§17). */
export const passkeyAdded = (name: string) =>
  securityNotice('passkey_added', 'A passkey was added to your account', `A passkey named “${name}” was added to your ${PRODUCT} account: it can now sign in without a password.`);

/** The removed passkey's name is known only inside the statement that removes it, so the notice names none. */
export const passkeyRemoved = () =>
  securityNotice('passkey_removed', 'A passkey was removed from your account', `A passkey was removed from your ${PRODUCT} account: it can no longer sign in.`);
