/** `queued → running → succeeded | failed | cancelled | timed_out` (DESIGN §2). */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
]);

export const JOB_KINDS = [
  'chat.completion',
  'completion',
  'embedding',
  'audio.transcription',
  'audio.speech',
  'image.generation',
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** What a job's webhook can announce; a job may subscribe to a subset with `webhook_events`. */
export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed', 'job.cancelled', 'job.timed_out'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
