import { z } from '@hono/zod-openapi';
import { RECOVERY_CODE_COUNT } from '../../auth/mfa';

/** How long an enrolment waits for its first code, and a password step for its second factor (contract §10). */
export const ENROLMENT_SECONDS = 600;
export const MFA_TOKEN_SECONDS = 300;
/** Wrong codes after which an mfaToken dies (the email's lockout may come first). */
export const MFA_TOKEN_MAX_FAILURES = 5;

const CurrentPassword = z.string().min(1).max(1024);

/** Six digits; spaces a person may type between the groups are dropped. */
export const TotpCode = z
  .string()
  .max(32)
  .transform((s) => s.replace(/\s/g, ''))
  .pipe(z.string().regex(/^\d{6}$/, 'must be the 6-digit code of the authenticator app'))
  .openapi({ example: '123456', description: 'The 6-digit TOTP code shown by the authenticator app.' });

export const RecoveryCode = z
  .string()
  .min(1)
  .max(64)
  .openapi({ example: 'abcd-efgh-ijkl-mnop', description: 'One of the recovery codes; case, spaces and dashes do not matter.' });

/** Where either is taken in one field: six digits are a TOTP code, anything else a recovery code. */
const CodeOrRecovery = z.string().min(1).max(64).openapi({ example: '123456', description: 'A TOTP code or a recovery code.' });

export const EnrolBody = z.strictObject({ currentPassword: CurrentPassword }).openapi('MfaEnrolRequest');
export const Enrolment = z
  .object({
    secret: z.string().openapi({ example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', description: 'The TOTP secret, base32, for typing into an app.' }),
    otpauthUri: z.string().openapi({ example: 'otpauth://totp/Dashboard%20Analytics:ada%40example.com?issuer=…', description: 'For a QR code.' }),
    expiresIn: z.number().int().openapi({ example: ENROLMENT_SECONDS, description: 'Seconds left to confirm with a code.' }),
  })
  .openapi('MfaEnrolment');

export const ConfirmBody = z.strictObject({ code: TotpCode }).openapi('MfaConfirmRequest');
export const RecoveryCodes = z
  .object({
    recoveryCodes: z
      .array(z.string())
      .length(RECOVERY_CODE_COUNT)
      .openapi({ description: 'Ten single-use codes, shown only now; each signs in once in place of a TOTP code.' }),
  })
  .openapi('MfaRecoveryCodes');

export const RegenerateBody = z.strictObject({ code: TotpCode }).openapi('MfaRegenerateRequest');
export const DisableBody = z.strictObject({ currentPassword: CurrentPassword, code: CodeOrRecovery }).openapi('MfaDisableRequest');

export const MfaSignInBody = z
  .strictObject({ mfaToken: z.string().min(1).max(512), code: TotpCode.optional(), recoveryCode: RecoveryCode.optional() })
  .superRefine((body, ctx) => {
    if ((body.code === undefined) === (body.recoveryCode === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['code'], message: 'give exactly one of code and recoveryCode' });
    }
  })
  .openapi('MfaSignInRequest');

export const MfaChallenge = z
  .object({
    mfaRequired: z.literal(true),
    mfaToken: z.string().openapi({ description: 'Send with a code to POST /v1/auth/mfa; single-use.' }),
    methods: z.array(z.enum(['totp', 'recovery'])).openapi({ example: ['totp', 'recovery'] }),
    expiresIn: z.number().int().openapi({ example: MFA_TOKEN_SECONDS }),
  })
  .openapi('MfaChallenge');
