import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** A Stripe object as the API returns it: `id`, `object` and whatever fields that type has. */
export type StripeObject = { id: string; object: string; [field: string]: unknown };

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Ids shaped like Stripe's test-mode ids (`cus_…`, `cs_test_…`, `pi_…`). */
export function stripeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return `${prefix}_${id}`;
}

export const unixNow = () => Math.floor(Date.now() / 1000);

/** Test cards the local checkout page offers, with what Stripe's test mode does with each. */
export const TEST_CARDS = {
  '4242424242424242': { brand: 'visa', last4: '4242', behaviour: 'succeeds', label: 'Succeeds' },
  '4000000000000341': {
    brand: 'visa',
    last4: '0341',
    behaviour: 'declines_off_session',
    label: 'Succeeds now; later off-session charges (auto-refill) are declined',
  },
  '4000000000000259': {
    brand: 'visa',
    last4: '0259',
    behaviour: 'disputed',
    label: 'Succeeds, then the cardholder disputes the charge',
  },
  '4000000000000002': { brand: 'visa', last4: '0002', behaviour: 'declined', label: 'Declined' },
} as const;
export type TestCardNumber = keyof typeof TEST_CARDS;

interface Saved {
  objects: Record<string, StripeObject>;
  /** Payment method id → the test card behind it. */
  cards: Record<string, TestCardNumber>;
}

/**
 * Every object the stand-in knows, by id (ids carry their type in their prefix). Kept in a JSON file
 * when one is given, so customers and saved cards survive a restart of `npm run dev`.
 */
export class StripeStore {
  private objects = new Map<string, StripeObject>();
  readonly cards = new Map<string, TestCardNumber>();

  private readonly dataFile: string | undefined;

  constructor(dataFile?: string) {
    this.dataFile = dataFile;
    if (dataFile && existsSync(dataFile)) {
      const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as Saved;
      for (const object of Object.values(saved.objects)) this.objects.set(object.id, object);
      for (const [id, card] of Object.entries(saved.cards)) this.cards.set(id, card);
    }
  }

  get<T extends StripeObject = StripeObject>(id: string, object: string): T | undefined {
    const found = this.objects.get(id);
    return found?.object === object ? (found as T) : undefined;
  }

  put<T extends StripeObject>(value: T): T {
    this.objects.set(value.id, value);
    this.save();
    return value;
  }

  list(object: string, filter: (value: StripeObject) => boolean = () => true): StripeObject[] {
    return [...this.objects.values()].filter((value) => value.object === object && filter(value)).reverse();
  }

  private save() {
    if (!this.dataFile) return;
    const saved: Saved = { objects: Object.fromEntries(this.objects), cards: Object.fromEntries(this.cards) };
    const temporary = `${this.dataFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(saved));
    renameSync(temporary, this.dataFile);
  }
}
