/**
 * The commerce catalogue (namespace `commerce`): the generic event bus's order, inventory, payment
 * and customer events, on its own topics with its own settings (docs/catalogues.md restates the
 * design this follows):
 *
 * | topic              | partitions | replicas | retention | compression | types                      | key          |
 * |--------------------|-----------:|---------:|-----------|-------------|----------------------------|--------------|
 * | `order-events`     | 12         | 3        | 7 days    | lz4         | `order.*`, `payment.*`     | order id     |
 * | `inventory-events` | 6          | 3        | 3 days    | lz4         | `inventory.*`              | SKU          |
 * | `customer-events`  | 8          | 3        | 30 days   | lz4         | `customer.*`               | customer id  |
 *
 * The design lists no payment topic; payments belong to an order and are keyed by its id, so they
 * travel on `order-events` and an order's saga (created → payment processed → completed) stays in
 * one partition, in order. Inventory is keyed by SKU so one product's stock changes stay ordered.
 *
 * Services publish in the bus's own envelope `{eventId, eventType, timestamp, source, version,
 * data}` with the short type names of the design (`order.created`): they are the aliases here.
 */
import { z } from "zod";
import { Catalogue } from "#shared/catalogue/catalogue.ts";
import type { CataloguePlugin } from "#shared/catalogue/catalogue-set.ts";
import { defineEvent } from "#shared/catalogue/define-event.ts";
import type { DomainCatalogue, TopicDefinition } from "#shared/catalogue/types.ts";
import { parseRouteFile } from "../route-file.ts";
import routes from "./routes.json" with { type: "json" };

const DAY_MS = 86_400_000;

export const COMMERCE_TOPICS = {
  orders: {
    name: "order-events",
    partitions: 12,
    replicationFactor: 3,
    retentionMs: 7 * DAY_MS,
    compressionType: "lz4",
  },
  inventory: {
    name: "inventory-events",
    partitions: 6,
    replicationFactor: 3,
    retentionMs: 3 * DAY_MS,
    compressionType: "lz4",
  },
  customers: {
    name: "customer-events",
    partitions: 8,
    replicationFactor: 3,
    retentionMs: 30 * DAY_MS,
    compressionType: "lz4",
  },
} as const satisfies Record<string, TopicDefinition>;

const orderId = z
  .string()
  .regex(/^ord_[0-9A-Za-z]{8,32}$/)
  .describe("Order id (ord_…)");
const customerId = z
  .string()
  .regex(/^cus_[0-9A-Za-z]{8,32}$/)
  .describe("Customer id (cus_…)");
const paymentId = z
  .string()
  .regex(/^pay_[0-9A-Za-z]{8,32}$/)
  .describe("Payment id (pay_…)");
const sku = z
  .string()
  .regex(/^[A-Z0-9]{2,16}(-[A-Z0-9]{1,8}){0,3}$/)
  .describe("Stock keeping unit");
const warehouseId = z
  .string()
  .regex(/^wh_[a-z0-9-]{2,32}$/)
  .describe("Warehouse id (wh_…)");
const amount = z.number().nonnegative().max(10_000_000).describe("Amount in the currency's major unit (49.99)");
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .describe("ISO 4217 currency code");
const timestamp = z.iso.datetime({ offset: true }).describe("RFC 3339 timestamp");
const email = z.email().max(254).describe("Email address");
const orderStatus = z.enum(["pending", "confirmed", "packed", "shipped", "delivered"]);

const orderLine = z.strictObject({
  sku,
  quantity: z.int().min(1).max(999),
  unitPrice: amount,
});

const address = z.strictObject({
  line1: z.string().min(1).max(200),
  city: z.string().min(1).max(100),
  postalCode: z.string().min(1).max(20),
  country: z.string().regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2 country code"),
});

const onOrders = { topic: COMMERCE_TOPICS.orders.name, entityIdField: "orderId" } as const;

const orderDomain: DomainCatalogue = {
  domain: "order",
  topics: [COMMERCE_TOPICS.orders],
  events: [
    defineEvent({
      type: "commerce.order.created",
      ...onOrders,
      version: 1,
      description: "A customer placed a new order.",
      aliases: ["order.created"],
      data: z.strictObject({
        orderId,
        customerId,
        items: z.array(orderLine).min(1).max(200),
        totalAmount: amount,
        currency,
        shippingAddress: address,
        createdAt: timestamp,
      }),
      example: {
        orderId: "ord_7Hq2LmX9pR4k",
        customerId: "cus_3Fz8NwQ1vT6b",
        items: [
          { sku: "MUG-BLUE-350", quantity: 2, unitPrice: 12.5 },
          { sku: "TEA-EARLGREY", quantity: 1, unitPrice: 8.9 },
        ],
        totalAmount: 33.9,
        currency: "EUR",
        shippingAddress: { line1: "Keizersgracht 123", city: "Amsterdam", postalCode: "1015 CJ", country: "NL" },
        createdAt: "2026-11-02T09:14:03Z",
      },
    }),
    defineEvent({
      type: "commerce.order.updated",
      ...onOrders,
      version: 1,
      description: "An order's status changed (confirmed, packed, shipped, delivered).",
      aliases: ["order.updated"],
      data: z.strictObject({
        orderId,
        customerId,
        status: orderStatus,
        previousStatus: orderStatus,
        trackingNumber: z.string().min(4).max(64).optional(),
        updatedAt: timestamp,
      }),
      example: {
        orderId: "ord_7Hq2LmX9pR4k",
        customerId: "cus_3Fz8NwQ1vT6b",
        status: "shipped",
        previousStatus: "packed",
        trackingNumber: "3SPOST0012345678",
        updatedAt: "2026-11-03T15:40:00Z",
      },
    }),
    defineEvent({
      type: "commerce.order.cancelled",
      ...onOrders,
      version: 1,
      description: "An order was cancelled before it was fulfilled.",
      aliases: ["order.cancelled"],
      data: z.strictObject({
        orderId,
        customerId,
        reason: z.enum(["customer_request", "payment_failed", "out_of_stock", "fraud_suspected"]),
        cancelledAt: timestamp,
      }),
      example: {
        orderId: "ord_7Hq2LmX9pR4k",
        customerId: "cus_3Fz8NwQ1vT6b",
        reason: "customer_request",
        cancelledAt: "2026-11-02T10:01:00Z",
      },
    }),
    defineEvent({
      type: "commerce.order.completed",
      ...onOrders,
      version: 1,
      description: "An order was delivered and fulfilled.",
      aliases: ["order.completed"],
      data: z.strictObject({ orderId, customerId, deliveredAt: timestamp, completedAt: timestamp }),
      example: {
        orderId: "ord_7Hq2LmX9pR4k",
        customerId: "cus_3Fz8NwQ1vT6b",
        deliveredAt: "2026-11-04T11:22:00Z",
        completedAt: "2026-11-04T11:25:00Z",
      },
    }),
  ],
};

const paymentDomain: DomainCatalogue = {
  domain: "payment",
  topics: [],
  events: [
    defineEvent({
      type: "commerce.payment.processed",
      ...onOrders,
      version: 1,
      description: "A payment for an order was completed.",
      aliases: ["payment.processed"],
      data: z.strictObject({
        paymentId,
        orderId,
        customerId,
        amount,
        currency,
        method: z.enum(["card", "bank_transfer", "wallet"]),
        processedAt: timestamp,
      }),
      example: {
        paymentId: "pay_9Kd3Vb7Qw2Lx",
        orderId: "ord_7Hq2LmX9pR4k",
        customerId: "cus_3Fz8NwQ1vT6b",
        amount: 33.9,
        currency: "EUR",
        method: "card",
        processedAt: "2026-11-02T09:14:41Z",
      },
    }),
    defineEvent({
      type: "commerce.payment.failed",
      ...onOrders,
      version: 1,
      description: "A payment for an order failed.",
      aliases: ["payment.failed"],
      data: z.strictObject({
        paymentId,
        orderId,
        customerId,
        amount,
        currency,
        failureCode: z.enum(["card_declined", "insufficient_funds", "expired_card", "processing_error"]),
        failureMessage: z.string().max(500).optional(),
        failedAt: timestamp,
      }),
      example: {
        paymentId: "pay_2Rt6Hc1Zm8Np",
        orderId: "ord_7Hq2LmX9pR4k",
        customerId: "cus_3Fz8NwQ1vT6b",
        amount: 33.9,
        currency: "EUR",
        failureCode: "card_declined",
        failureMessage: "The card issuer declined the charge.",
        failedAt: "2026-11-02T09:14:20Z",
      },
    }),
    defineEvent({
      type: "commerce.payment.refunded",
      ...onOrders,
      version: 1,
      description: "All or part of a payment was refunded.",
      aliases: ["payment.refunded"],
      data: z.strictObject({
        refundId: z
          .string()
          .regex(/^ref_[0-9A-Za-z]{8,32}$/)
          .describe("Refund id (ref_…)"),
        paymentId,
        orderId,
        amount,
        currency,
        reason: z.enum(["returned", "damaged", "cancelled", "goodwill"]),
        refundedAt: timestamp,
      }),
      example: {
        refundId: "ref_5Yp1Sd8Gk3Qa",
        paymentId: "pay_9Kd3Vb7Qw2Lx",
        orderId: "ord_7Hq2LmX9pR4k",
        amount: 12.5,
        currency: "EUR",
        reason: "damaged",
        refundedAt: "2026-11-06T08:30:00Z",
      },
    }),
  ],
};

const onInventory = { topic: COMMERCE_TOPICS.inventory.name, entityIdField: "sku" } as const;
const reservationId = z
  .string()
  .regex(/^rsv_[0-9A-Za-z]{8,32}$/)
  .describe("Reservation id (rsv_…)");

const inventoryDomain: DomainCatalogue = {
  domain: "inventory",
  topics: [COMMERCE_TOPICS.inventory],
  events: [
    defineEvent({
      type: "commerce.inventory.updated",
      ...onInventory,
      version: 1,
      description: "A product's stock level in a warehouse changed.",
      aliases: ["inventory.updated"],
      data: z.strictObject({
        sku,
        warehouseId,
        quantityOnHand: z.int().nonnegative(),
        previousQuantity: z.int().nonnegative(),
        reason: z.enum(["restock", "sale", "adjustment", "return"]),
        updatedAt: timestamp,
      }),
      example: {
        sku: "MUG-BLUE-350",
        warehouseId: "wh_ams-1",
        quantityOnHand: 140,
        previousQuantity: 40,
        reason: "restock",
        updatedAt: "2026-11-01T06:00:00Z",
      },
    }),
    defineEvent({
      type: "commerce.inventory.reserved",
      ...onInventory,
      version: 1,
      description: "Stock was reserved for an order.",
      aliases: ["inventory.reserved"],
      data: z.strictObject({
        reservationId,
        sku,
        orderId,
        warehouseId,
        quantity: z.int().min(1).max(999),
        expiresAt: timestamp,
        reservedAt: timestamp,
      }),
      example: {
        reservationId: "rsv_4Nc7Tq2Wb9Ze",
        sku: "MUG-BLUE-350",
        orderId: "ord_7Hq2LmX9pR4k",
        warehouseId: "wh_ams-1",
        quantity: 2,
        expiresAt: "2026-11-02T09:29:03Z",
        reservedAt: "2026-11-02T09:14:05Z",
      },
    }),
    defineEvent({
      type: "commerce.inventory.released",
      ...onInventory,
      version: 1,
      description: "Reserved stock was released back to the shelf.",
      aliases: ["inventory.released"],
      data: z.strictObject({
        reservationId,
        sku,
        orderId,
        warehouseId,
        quantity: z.int().min(1).max(999),
        reason: z.enum(["order_cancelled", "reservation_expired", "payment_failed"]),
        releasedAt: timestamp,
      }),
      example: {
        reservationId: "rsv_4Nc7Tq2Wb9Ze",
        sku: "MUG-BLUE-350",
        orderId: "ord_7Hq2LmX9pR4k",
        warehouseId: "wh_ams-1",
        quantity: 2,
        reason: "order_cancelled",
        releasedAt: "2026-11-02T10:01:02Z",
      },
    }),
  ],
};

const onCustomers = { topic: COMMERCE_TOPICS.customers.name, entityIdField: "customerId" } as const;

const customerDomain: DomainCatalogue = {
  domain: "customer",
  topics: [COMMERCE_TOPICS.customers],
  events: [
    defineEvent({
      type: "commerce.customer.registered",
      ...onCustomers,
      version: 1,
      description: "A new customer registered.",
      aliases: ["customer.registered"],
      data: z.strictObject({
        customerId,
        email,
        firstName: z.string().min(1).max(100),
        lastName: z.string().min(1).max(100),
        marketingOptIn: z.boolean(),
        registeredAt: timestamp,
      }),
      example: {
        customerId: "cus_3Fz8NwQ1vT6b",
        email: "noor.dekker@example.com",
        firstName: "Noor",
        lastName: "Dekker",
        marketingOptIn: false,
        registeredAt: "2026-10-28T19:02:11Z",
      },
    }),
    defineEvent({
      type: "commerce.customer.updated",
      ...onCustomers,
      version: 1,
      description: "A customer changed their profile; only the changed fields are sent.",
      aliases: ["customer.updated"],
      data: z.strictObject({
        customerId,
        changes: z
          .strictObject({
            email: email.optional(),
            firstName: z.string().min(1).max(100).optional(),
            lastName: z.string().min(1).max(100).optional(),
            marketingOptIn: z.boolean().optional(),
          })
          .refine((changes) => Object.keys(changes).length > 0, "at least one changed field"),
        updatedAt: timestamp,
      }),
      example: {
        customerId: "cus_3Fz8NwQ1vT6b",
        changes: { email: "noor@dekker.example", marketingOptIn: true },
        updatedAt: "2026-11-05T12:00:00Z",
      },
    }),
  ],
};

export const commerceCatalogue = new Catalogue([orderDomain, paymentDomain, inventoryDomain, customerDomain], {
  namespace: "commerce",
});

export const commercePlugin: CataloguePlugin = {
  catalogue: commerceCatalogue,
  description: "Commerce (generic event bus): orders, inventory, payments, customers",
  routes: parseRouteFile(routes, commerceCatalogue, "schemas/commerce/routes.json"),
};
