/** Why money moved. Every ledger transaction has one kind; its entries sum to zero. */
export const LEDGER_KINDS = ['top_up', 'auto_refill', 'usage', 'refund', 'dispute', 'adjustment'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export const PAYMENT_STATES = ['pending', 'succeeded', 'failed', 'refunded', 'disputed'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export const PAYMENT_KINDS = ['checkout', 'auto_refill'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];
