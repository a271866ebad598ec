/** Outgoing email. Production sends through Resend's HTTP API; `npm run dev` through a local outbox. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}
