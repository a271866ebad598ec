import type { ServiceContext } from '../../context.ts';
import type { EmailMessage } from './mailer.ts';

/**
 * Sends after the change it announces was committed. If the mail service is down the user can ask for
 * the link again, so the failure is logged (subject only, never the link) rather than turned into an
 * error for a change that is done.
 */
export async function sendBestEffort(ctx: ServiceContext, message: EmailMessage): Promise<void> {
  try {
    await ctx.mailer.send(message);
  } catch (error) {
    ctx.logger.error('email not sent', {
      subject: message.subject,
      cause: error instanceof Error ? error.message : String(error),
    });
  }
}
