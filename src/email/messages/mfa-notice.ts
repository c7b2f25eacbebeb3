import { PRODUCT } from './layout';
import { securityNotice } from './security-notice';

/** The notices of contract §9 after a second factor is enabled, disabled (by the account) or reset (by an admin). */
const notices = {
  enabled: [
    'mfa_enabled',
    'Two-step sign-in was turned on',
    `Two-step sign-in with an authenticator app was turned on for your ${PRODUCT} account, and your other sessions were signed out.`,
  ],
  disabled: [
    'mfa_disabled',
    'Two-step sign-in was turned off',
    `Two-step sign-in was turned off for your ${PRODUCT} account: the password alone now signs in.`,
  ],
  reset: [
    'mfa_reset',
    'Your two-step sign-in was reset by an administrator',
    `An administrator removed the authenticator app from your ${PRODUCT} account and signed out every session. Sign in with your password and turn two-step sign-in on again.`,
  ],
} as const;

export const mfaNotice = (what: keyof typeof notices) => {
  const [kind, subject, text] = notices[what];
  return securityNotice(kind, subject, text);
};
