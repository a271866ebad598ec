import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../jobs/states.ts';

/** Our extension to OpenAI's requests: run asynchronously and announce the end (Standard Webhooks). */
export const asyncFields = {
  webhook: z.string().max(2048).optional(),
  webhook_events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional(),
};
