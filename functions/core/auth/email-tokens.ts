/** What an emailed one-time link is for; each purpose has its own lifetime. */
export const EMAIL_TOKEN_PURPOSES = ['verify_email', 'reset_password'] as const;
export type EmailTokenPurpose = (typeof EMAIL_TOKEN_PURPOSES)[number];

export const EMAIL_TOKEN_TTL_SECONDS: Record<EmailTokenPurpose, number> = {
  verify_email: 48 * 3600,
  // Short: a reset link in a forwarded or leaked mailbox should be useless soon.
  reset_password: 3600,
};
