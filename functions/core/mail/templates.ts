import { formatUsd } from '../billing/amounts.ts';
import type { EmailMessage } from './mailer.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function message(
  to: string,
  subject: string,
  lines: string[],
  link: { label: string; url: string },
  footer = 'If this was not you, ignore this email.',
): EmailMessage {
  const text = [...lines, '', `${link.label}: ${link.url}`, '', footer].join('\n');
  const html = [
    ...lines.map((line) => `<p>${escapeHtml(line)}</p>`),
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    `<p>${escapeHtml(footer)}</p>`,
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

const BILLING_FOOTER = 'You get this email as an owner or billing member of the organization.';

export const lowBalanceEmail = (
  publicUrl: string,
  to: string,
  org: string,
  balanceMicroUsd: number,
  levelMicroUsd: number,
) =>
  message(
    to,
    levelMicroUsd <= 0
      ? `${org}: your AI Cloud balance is used up`
      : `${org}: your AI Cloud balance is below ${formatUsd(levelMicroUsd)}`,
    [
      `The balance of ${org} is ${formatUsd(balanceMicroUsd)}.`,
      levelMicroUsd <= 0
        ? 'New requests are refused (402) and endpoints scale to zero until funds are added.'
        : 'When it reaches zero, new requests are refused and endpoints scale to zero.',
      'Add funds, or turn on auto-refill, to keep your endpoints running.',
    ],
    { label: 'Add funds', url: new URL('/billing', publicUrl).toString() },
    BILLING_FOOTER,
  );

export const autoRefillFailedEmail = (
  publicUrl: string,
  to: string,
  org: string,
  amountMicroUsd: number,
  reason: string,
) =>
  message(
    to,
    `${org}: auto-refill of ${formatUsd(amountMicroUsd)} failed`,
    [
      `We tried to add ${formatUsd(amountMicroUsd)} to ${org} with the saved card, and the charge failed: ${reason}`,
      'Auto-refill is now off, so the card is not tried again. Update the card and turn auto-refill back on, or add funds by hand.',
    ],
    { label: 'Billing settings', url: new URL('/billing', publicUrl).toString() },
    BILLING_FOOTER,
  );

export const passwordChangedEmail = (publicUrl: string, to: string) =>
  message(
    to,
    'Your AI Cloud password was changed',
    [
      'The password of this AI Cloud account was just changed, and its other sessions were signed out.',
      'If this was you, there is nothing to do.',
    ],
    {
      label: 'If it was not you, reset your password now',
      url: new URL('/reset-password', publicUrl).toString(),
    },
    'Resetting it by email signs out every session, including whoever changed it.',
  );
