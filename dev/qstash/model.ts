export type MessageState = 'CREATED' | 'ACTIVE' | 'RETRY' | 'DELIVERED' | 'FAILED' | 'CANCELED';

/** A message as the stand-in keeps it; bodies are base64 so the store can be written as JSON. */
export interface StoredMessage {
  messageId: string;
  url: string;
  method: string;
  /** Headers forwarded to the destination (the `Upstash-Forward-` prefix removed). */
  header: Record<string, string>;
  bodyBase64: string;
  maxRetries: number;
  retried: number;
  retryDelay: string | null;
  timeoutMs: number;
  notBefore: number;
  createdAt: number;
  callback: string | null;
  failureCallback: string | null;
  scheduleId: string | null;
  state: MessageState;
  lastError: string | null;
  responseStatus: number | null;
}

export interface StoredSchedule {
  scheduleId: string;
  cron: string;
  destination: string;
  method: string;
  header: Record<string, string>;
  bodyBase64: string;
  retries: number;
  retryDelay: string | null;
  delayMs: number;
  timeoutMs: number;
  callback: string | null;
  failureCallback: string | null;
  createdAt: number;
  isPaused: boolean;
}

export interface LogEvent {
  time: number;
  state: MessageState;
  messageId: string;
  url: string;
  error?: string;
  nextDeliveryTime?: number;
}
