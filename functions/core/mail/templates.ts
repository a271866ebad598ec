import type { EmailMessage } from './mailer.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function message(
  to: string,
  subject: string,
  lines: string[],
  link: { label: string; url: string },
): EmailMessage {
  const text = [
    ...lines,
    '',
    `${link.label}: ${link.url}`,
    '',
    'If this was not you, ignore this email.',
  ].join('\n');
  const html = [
    ...lines.map((line) => `<p>${escapeHtml(line)}</p>`),
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    '<p>If this was not you, ignore this email.</p>',
  ].join('\n');
  return { to, subject, text, html };
}

const linkTo = (publicUrl: string, path: string, token: string) => {
  const url = new URL(path, publicUrl);
  url.searchParams.set('token', token);
  return url.toString();
};

export const verificationEmail = (publicUrl: string, to: string, token: string) =>
  message(
    to,
    'Verify your AI Cloud email address',
    ['Welcome to AI Cloud.', 'Confirm this address to finish signing up. The link works for 48 hours.'],
    {
      label: 'Verify email',
      url: linkTo(publicUrl, '/verify-email', token),
    },
  );

export const passwordResetEmail = (publicUrl: string, to: string, token: string) =>
  message(
    to,
    'Reset your AI Cloud password',
    ['Someone asked to reset the password of this AI Cloud account.', 'The link works for one hour, once.'],
    {
      label: 'Choose a new password',
      url: linkTo(publicUrl, '/reset-password', token),
    },
  );

export const invitationEmail = (
  publicUrl: string,
  to: string,
  token: string,
  orgName: string,
  role: string,
) =>
  message(
    to,
    `You are invited to ${orgName} on AI Cloud`,
    [`You have been invited to join ${orgName} on AI Cloud as ${role}.`, 'The invitation works for 7 days.'],
    {
      label: 'Accept the invitation',
      url: linkTo(publicUrl, '/invitations/accept', token),
    },
  );

export const accountExistsEmail = (publicUrl: string, to: string, token: string) =>
  message(
    to,
    'You already have an AI Cloud account',
    [
      'Someone tried to sign up to AI Cloud with this address, which already has an account.',
      'If it was you and you forgot your password, choose a new one (the link works for one hour).',
    ],
    {
      label: 'Choose a new password',
      url: linkTo(publicUrl, '/reset-password', token),
    },
  );
