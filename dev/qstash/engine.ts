import { createHash, randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { defaultRetryDelayMs, evaluateRetryDelay } from './durations.ts';
import type { LogEvent, StoredMessage, StoredSchedule } from './model.ts';
import type { PublishOptions } from './options.ts';
import { signDelivery } from './signing.ts';

export interface EngineOptions {
  currentSigningKey: string;
  /** How long a deduplication id is remembered. */
  dedupWindowMs: number;
  /** Called after every state change, e.g. to persist. */
  onChange?: () => void;
}

const MAX_TIMER_MS = 2_147_483_647;
const MAX_LOG_EVENTS = 1_000;

/**
 * Delivery engine of the QStash stand-in: timers for delayed messages, signed deliveries, retries with
 * backoff, callbacks, the dead-letter queue and cron schedules.
 */
export class DeliveryEngine {
  readonly messages = new Map<string, StoredMessage>();
  readonly schedules = new Map<string, StoredSchedule>();
  readonly dlq = new Map<string, StoredMessage>();
  readonly events: LogEvent[] = [];
  readonly #dedup = new Map<string, { messageId: string; expiresAt: number }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #crons = new Map<string, Cron>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #options: EngineOptions;
  #closed = false;

  constructor(options: EngineOptions) {
    this.#options = options;
  }

  publish(url: string, body: Buffer, options: PublishOptions, scheduleId: string | null = null) {
    const now = Date.now();
    const dedupKey = this.#dedupKey(url, body, options);
    if (dedupKey) {
      for (const [key, entry] of this.#dedup) if (entry.expiresAt <= now) this.#dedup.delete(key);
      const previous = this.#dedup.get(dedupKey);
      if (previous) return { messageId: previous.messageId, url, deduplicated: true };
    }
    const header = { ...options.header };
    if (options.contentType) header['content-type'] = options.contentType;
    const message: StoredMessage = {
      messageId: `msg_${randomUUID().replaceAll('-', '')}`,
      url,
      method: options.method,
      header,
      bodyBase64: body.toString('base64'),
      maxRetries: options.retries,
      retried: 0,
      retryDelay: options.retryDelay,
      timeoutMs: options.timeoutMs,
      notBefore: Math.max(now + options.delayMs, options.notBefore ?? 0),
      createdAt: now,
      callback: options.callback,
      failureCallback: options.failureCallback,
      scheduleId,
      state: 'CREATED',
      lastError: null,
      responseStatus: null,
    };
    if (dedupKey)
      this.#dedup.set(dedupKey, {
        messageId: message.messageId,
        expiresAt: now + this.#options.dedupWindowMs,
      });
    this.messages.set(message.messageId, message);
    this.#log(message);
    this.#arm(message);
    this.#options.onChange?.();
    return { messageId: message.messageId, url };
  }

  cancel(messageId: string): boolean {
    const message = this.messages.get(messageId);
    if (
      !message ||
      message.state === 'DELIVERED' ||
      message.state === 'FAILED' ||
      message.state === 'CANCELED'
    ) {
      return false;
    }
    clearTimeout(this.#timers.get(messageId));
    this.#timers.delete(messageId);
    message.state = 'CANCELED';
    this.#log(message);
    this.#options.onChange?.();
    return true;
  }

  upsertSchedule(schedule: StoredSchedule) {
    this.#crons.get(schedule.scheduleId)?.stop();
    this.schedules.set(schedule.scheduleId, schedule);
    this.#startCron(schedule);
    this.#options.onChange?.();
  }

  deleteSchedule(scheduleId: string): boolean {
    this.#crons.get(scheduleId)?.stop();
    this.#crons.delete(scheduleId);
    const existed = this.schedules.delete(scheduleId);
    this.#options.onChange?.();
    return existed;
  }

  setPaused(scheduleId: string, paused: boolean): boolean {
    const schedule = this.schedules.get(scheduleId);
    if (!schedule) return false;
    schedule.isPaused = paused;
    this.#options.onChange?.();
    return true;
  }

  /** Re-arms persisted messages and schedules after a restart. */
  restore(messages: StoredMessage[], schedules: StoredSchedule[]) {
    for (const schedule of schedules) this.upsertSchedule(schedule);
    for (const message of messages) {
      this.messages.set(message.messageId, message);
      if (['CREATED', 'ACTIVE', 'RETRY'].includes(message.state)) this.#arm(message);
    }
  }

  async close() {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    for (const cron of this.#crons.values()) cron.stop();
    await Promise.allSettled([...this.#inFlight]);
  }

  #dedupKey(url: string, body: Buffer, options: PublishOptions): string | null {
    if (options.deduplicationId) return `id:${options.deduplicationId}`;
    if (!options.contentBasedDeduplication) return null;
    const hash = createHash('sha256')
      .update(url)
      .update('\n')
      .update(JSON.stringify(options.header))
      .update('\n');
    return `content:${hash.update(body).digest('hex')}`;
  }

  #startCron(schedule: StoredSchedule) {
    const cron = new Cron(schedule.cron, { timezone: 'UTC' }, () => {
      if (schedule.isPaused || this.#closed) return;
      this.publish(
        schedule.destination,
        Buffer.from(schedule.bodyBase64, 'base64'),
        {
          method: schedule.method,
          header: schedule.header,
          contentType: null,
          retries: schedule.retries,
          retryDelay: schedule.retryDelay,
          delayMs: schedule.delayMs,
          notBefore: null,
          timeoutMs: schedule.timeoutMs,
          callback: schedule.callback,
          failureCallback: schedule.failureCallback,
          deduplicationId: null,
          contentBasedDeduplication: false,
        },
        schedule.scheduleId,
      );
    });
    this.#crons.set(schedule.scheduleId, cron);
  }

  #arm(message: StoredMessage) {
    if (this.#closed) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, message.notBefore - Date.now()));
    const timer = setTimeout(() => {
      this.#timers.delete(message.messageId);
      if (Date.now() < message.notBefore) return this.#arm(message);
      const attempt = this.#deliver(message).finally(() => this.#inFlight.delete(attempt));
      this.#inFlight.add(attempt);
    }, wait);
    this.#timers.set(message.messageId, timer);
  }

  async #deliver(message: StoredMessage) {
    if (message.state === 'CANCELED' || this.#closed) return;
    message.state = 'ACTIVE';
    const body = Buffer.from(message.bodyBase64, 'base64');
    const signature = await signDelivery(this.#options.currentSigningKey, message.url, body);
    const headers: Record<string, string> = {
      ...message.header,
      'upstash-signature': signature,
      'upstash-message-id': message.messageId,
      'upstash-retried': String(message.retried),
      'user-agent': 'Upstash-QStash',
    };
    if (message.scheduleId) headers['upstash-schedule-id'] = message.scheduleId;
    let status = 0;
    let responseHeaders: Record<string, string[]> = {};
    let responseBody = Buffer.alloc(0);
    let nonRetryable = false;
    try {
      const response = await fetch(message.url, {
        method: message.method,
        headers,
        body: message.method === 'GET' ? undefined : body,
        signal: AbortSignal.timeout(message.timeoutMs),
        redirect: 'manual',
      });
      status = response.status;
      responseBody = Buffer.from(await response.arrayBuffer());
      responseHeaders = Object.fromEntries([...response.headers].map(([name, value]) => [name, [value]]));
      nonRetryable = status === 489 && response.headers.has('upstash-nonretryable-error');
    } catch (error) {
      message.lastError = (error as Error).message;
    }
    // The message may have been cancelled while the request was in flight.
    if (this.#isCanceled(message) || this.#closed) return;
    message.responseStatus = status || null;
    if (status >= 200 && status < 300) {
      message.state = 'DELIVERED';
      message.lastError = null;
      this.#log(message);
      this.#sendCallback(message.callback, message, status, responseHeaders, responseBody, {});
    } else if (nonRetryable || message.retried >= message.maxRetries) {
      message.state = 'FAILED';
      message.lastError ??= `destination answered ${status}`;
      const dlqId = `dlq_${randomUUID().replaceAll('-', '')}`;
      this.dlq.set(dlqId, message);
      this.#log(message);
      this.#sendCallback(message.failureCallback, message, status, responseHeaders, responseBody, { dlqId });
    } else {
      message.lastError ??= `destination answered ${status}`;
      message.retried += 1;
      const delay = message.retryDelay
        ? evaluateRetryDelay(message.retryDelay, message.retried)
        : defaultRetryDelayMs(message.retried);
      message.notBefore = Date.now() + delay;
      message.state = 'RETRY';
      this.#log(message, message.notBefore);
      this.#arm(message);
    }
    this.#options.onChange?.();
  }

  /** Callbacks are messages of their own: QStash signs, delivers and retries them the same way. */
  #sendCallback(
    url: string | null,
    source: StoredMessage,
    status: number,
    header: Record<string, string[]>,
    body: Buffer,
    extra: Record<string, string>,
  ) {
    if (!url) return;
    const payload = {
      status,
      header,
      body: body.toString('base64'),
      retried: source.retried,
      maxRetries: source.maxRetries,
      sourceMessageId: source.messageId,
      url: source.url,
      method: source.method,
      sourceHeader: Object.fromEntries(Object.entries(source.header).map(([name, value]) => [name, [value]])),
      sourceBody: source.bodyBase64,
      notBefore: String(source.notBefore),
      createdAt: String(source.createdAt),
      scheduleId: source.scheduleId ?? '',
      callerIP: '127.0.0.1',
      ...extra,
    };
    this.publish(url, Buffer.from(JSON.stringify(payload)), {
      method: 'POST',
      header: {},
      contentType: 'application/json',
      retries: source.maxRetries,
      retryDelay: source.retryDelay,
      delayMs: 0,
      notBefore: null,
      timeoutMs: source.timeoutMs,
      callback: null,
      failureCallback: null,
      deduplicationId: null,
      contentBasedDeduplication: false,
    });
  }

  #isCanceled(message: StoredMessage): boolean {
    return message.state === 'CANCELED';
  }

  #log(message: StoredMessage, nextDeliveryTime?: number) {
    this.events.push({
      time: Date.now(),
      state: message.state,
      messageId: message.messageId,
      url: message.url,
      ...(message.lastError ? { error: message.lastError } : {}),
      ...(nextDeliveryTime ? { nextDeliveryTime } : {}),
    });
    if (this.events.length > MAX_LOG_EVENTS) this.events.splice(0, this.events.length - MAX_LOG_EVENTS);
  }
}
