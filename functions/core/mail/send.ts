import type { ServiceContext } from '../../context.ts';
import type { EmailMessage } from './mailer.ts';

/**
 * Sends after the change it announces was committed, once the response is on its way: whether a mail
 * goes out (an account exists) must not show in response times. If the mail service is down the user
 * can ask for the link again, so the failure is logged (subject only, never the link).
 */
export function sendBestEffort(ctx: ServiceContext, message: EmailMessage): void {
  ctx.defer(
    ctx.mailer.send(message).catch((error: unknown) => {
      ctx.logger.error('email not sent', {
        subject: message.subject,
        cause: error instanceof Error ? error.message : String(error),
      });
    }),
  );
}
