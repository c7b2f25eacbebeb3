import { compose, PRODUCT } from './layout';

/** To the old address, at the moment a change to another address is requested. */
export const emailChangeNotice = () =>
  compose({
    kind: 'email_change_notice',
    subject: 'Your email address is being changed',
    intro: [
      `Someone signed in to your ${PRODUCT} account asked to move it to another email address.`,
      'The change happens only when the link sent to the new address is used.',
    ],
    ignore: 'If this was not you, change your password now and tell your administrator.',
  });
