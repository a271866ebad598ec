export type LogFields = Record<string, unknown>;

/**
 * Structured logging. Callers pass ids and sizes, never secrets, keys, tokens or whole webhook events.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}
