import { compose, PRODUCT } from './layout';

/** A notice after the password changed: by the account itself, with a reset link, or by an administrator. */
export const passwordChanged = (how: 'changed' | 'reset' | 'admin') =>
  compose({
    kind: 'password_changed',
    subject: 'Your password was changed',
    intro: [
      {
        reset: `The password of your ${PRODUCT} account was just reset with a link sent to this address, and every session was signed out.`,
        changed: `The password of your ${PRODUCT} account was just changed, and your other sessions were signed out.`,
        admin: `An administrator just set a new password for your ${PRODUCT} account, and every session was signed out.`,
      }[how],
    ],
    ignore: 'If this was not you, reset your password now (use "Forgot password" on the sign-in page) and tell your administrator.',
  });
