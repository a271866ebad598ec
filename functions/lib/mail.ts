import { DependencyUnavailableError } from '../core/errors.ts';
import type { EmailMessage, Mailer } from '../core/mail/mailer.ts';

export interface ResendSettings {
  apiUrl: string;
  apiKey: string;
  from: string;
}

const ATTEMPTS = 3;

/**
 * Sends through Resend's `POST /emails`. Retries 429 and 5xx briefly with the same Idempotency-Key, so
 * a retried send never delivers twice; a 4xx means our request is wrong and is not retried.
 */
export function createResendMailer(settings: ResendSettings): Mailer {
  const endpoint = new URL('/emails', settings.apiUrl).toString();
  return {
    async send(message: EmailMessage) {
      const idempotencyKey = crypto.randomUUID();
      let lastError = '';
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          const response = await fetch(endpoint, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${settings.apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': idempotencyKey,
            },
            body: JSON.stringify({ from: settings.from, ...message }),
            signal: AbortSignal.timeout(5_000),
          });
          if (response.ok) {
            await response.body?.cancel();
            return;
          }
          lastError = `Resend answered ${response.status}: ${(await response.text()).slice(0, 200)}`;
          if (response.status < 500 && response.status !== 429) break;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
      throw new DependencyUnavailableError('email', { cause: new Error(lastError) });
    },
  };
}
