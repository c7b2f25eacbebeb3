import { compose, PRODUCT } from './layout';

/** A notice after the password changed, through the account itself or a reset link. */
export const passwordChanged = (how: 'changed' | 'reset') =>
  compose({
    kind: 'password_changed',
    subject: 'Your password was changed',
    intro: [
      how === 'reset'
        ? `The password of your ${PRODUCT} account was just reset with a link sent to this address, and every session was signed out.`
        : `The password of your ${PRODUCT} account was just changed, and your other sessions were signed out.`,
    ],
    ignore: 'If this was not you, reset your password now (use "Forgot password" on the sign-in page) and tell your administrator.',
  });
