import { text, timestamp } from 'drizzle-orm/pg-core';
import { type IdKind, newId } from '../../functions/core/ids.ts';

/** Primary key carrying the entity's prefix; generated in the application so it is known before insert. */
export const prefixedId = (kind: IdKind) =>
  text('id')
    .primaryKey()
    .$defaultFn(() => newId(kind));

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const timestamps = () => ({
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
});
