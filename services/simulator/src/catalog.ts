/** The synthetic shop: where customers live, what it sells, what people say in chats. */
import type { ChatIntent } from '@nextact/core';

export interface Zone {
  timeZone: string;
  /** Standard-time offset; daylight saving is ignored for activity shaping only. */
  utcOffsetHours: number;
  currency: string;
  weight: number;
}

export const zones: readonly Zone[] = [
  { timeZone: 'Europe/Berlin', utcOffsetHours: 1, currency: 'EUR', weight: 20 },
  { timeZone: 'Europe/Paris', utcOffsetHours: 1, currency: 'EUR', weight: 12 },
  { timeZone: 'Europe/Madrid', utcOffsetHours: 1, currency: 'EUR', weight: 8 },
  { timeZone: 'Europe/Amsterdam', utcOffsetHours: 1, currency: 'EUR', weight: 6 },
  { timeZone: 'Europe/London', utcOffsetHours: 0, currency: 'GBP', weight: 14 },
  { timeZone: 'America/New_York', utcOffsetHours: -5, currency: 'USD', weight: 14 },
  { timeZone: 'America/Chicago', utcOffsetHours: -6, currency: 'USD', weight: 8 },
  { timeZone: 'America/Los_Angeles', utcOffsetHours: -8, currency: 'USD', weight: 8 },
  { timeZone: 'Asia/Singapore', utcOffsetHours: 8, currency: 'SGD', weight: 5 },
  { timeZone: 'Australia/Sydney', utcOffsetHours: 10, currency: 'AUD', weight: 5 },
];
export const zoneWeights = zones.map((z) => z.weight);

/** Relative activity by local hour (people shop in the evening, rarely at night); mean 1. */
const rawHourly = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.2, 1.1, 1.1, 1.2, 1.4, 1.7, 1.9, 1.9, 1.6, 1.0, 0.45];
const hourlyMean = rawHourly.reduce((a, b) => a + b, 0) / rawHourly.length;
export const hourlyActivity = rawHourly.map((v) => v / hourlyMean);
export const hourlyActivityMax = Math.max(...hourlyActivity);

export interface Category {
  name: string;
  code: string;
  /** Price of the cheapest SKU in minor units; the dearest is 4x. */
  basePriceMinor: number;
  terms: readonly string[];
}

export const categories: readonly Category[] = [
  { name: 'electronics', code: 'el', basePriceMinor: 4900, terms: ['headphones', 'charger', 'smart speaker', 'tablet case'] },
  { name: 'home', code: 'ho', basePriceMinor: 1900, terms: ['lamp', 'cushion', 'kettle', 'storage box'] },
  { name: 'fashion', code: 'fa', basePriceMinor: 1500, terms: ['jacket', 'sneakers', 'scarf', 'jeans'] },
  { name: 'beauty', code: 'be', basePriceMinor: 700, terms: ['serum', 'shampoo', 'sunscreen'] },
  { name: 'sports', code: 'sp', basePriceMinor: 1900, terms: ['yoga mat', 'running shoes', 'water bottle'] },
  { name: 'books', code: 'bo', basePriceMinor: 800, terms: ['novel', 'cookbook', 'travel guide'] },
  { name: 'toys', code: 'to', basePriceMinor: 900, terms: ['puzzle', 'building set', 'board game'] },
  { name: 'grocery', code: 'gr', basePriceMinor: 300, terms: ['coffee beans', 'tea', 'chocolate'] },
];

export const SKUS_PER_CATEGORY = 200;

export const skuOf = (category: Category, index: number): string => `${category.code}-${String(index).padStart(4, '0')}`;

/** A SKU's price is fixed by its index so every customer sees the same price; ends in 99. */
export function unitPriceMinor(category: Category, index: number): number {
  const raw = category.basePriceMinor * (1 + (3 * index) / (SKUS_PER_CATEGORY - 1));
  return Math.max(99, Math.round(raw / 100) * 100 - 1);
}

export const chatTexts: Record<ChatIntent, readonly string[]> = {
  PRODUCT_QUESTION: ['Does this come in another size?', 'Is this compatible with my phone?', 'When will it be back in stock?'],
  ORDER_STATUS: ['Where is my order?', 'Has my parcel shipped yet?', 'Can I change the delivery address?'],
  RETURN_REFUND: ['I want to return an item', 'When do I get my refund?', 'The item does not fit'],
  BILLING: ['I was charged twice', 'Can I get an invoice?', 'My voucher did not apply'],
  COMPLAINT: ['The product arrived broken', 'Nobody answered my last message', 'This is the third time I am asking'],
  CANCEL: ['Please close my account', 'I want to cancel my membership', 'Stop sending me things'],
  OTHER: ['Hello', 'Do you have a store near me?', 'Thanks for the help'],
};

/** Sentiment an intent starts from, before the customer's mood and noise. */
export const intentSentiment: Record<ChatIntent, number> = {
  PRODUCT_QUESTION: 0.25,
  ORDER_STATUS: 0.0,
  RETURN_REFUND: -0.15,
  BILLING: -0.15,
  COMPLAINT: -0.55,
  CANCEL: -0.4,
  OTHER: 0.15,
};

/** Chance that a conversation with this intent ends resolved. */
export const intentResolution: Record<ChatIntent, number> = {
  PRODUCT_QUESTION: 0.9,
  ORDER_STATUS: 0.85,
  RETURN_REFUND: 0.7,
  BILLING: 0.75,
  COMPLAINT: 0.45,
  CANCEL: 0.3,
  OTHER: 0.9,
};
