/**
 * The learning catalogue (namespace `learning`): the learning hub's events, one Kafka topic per
 * event type named as the hub names it (`user.registered`, `payment.completed`), with the hub's
 * partition counts and retention, replication 3 and lz4 compression (the hub's producers use
 * snappy or lz4; the topic setting makes the stored codec lz4 whatever a producer sends).
 * docs/catalogues.md has the full table and the subscriber map (`routes.json`).
 *
 * Each topic is keyed by the entity its type is about (`entityIdField`): the user, course,
 * enrollment, payment, subscription or media item; assessment, notification and gamification
 * events by the learner (`userId`), so one learner's events on a topic stay in order.
 *
 * Services publish the hub's envelope `{eventId, eventType, timestamp, version, data, metadata:
 * {correlationId, source, traceId}}` with the short type names: they are the aliases here.
 */
import { z } from "zod";
import { Catalogue } from "#shared/catalogue/catalogue.ts";
import type { CataloguePlugin } from "#shared/catalogue/catalogue-set.ts";
import { defineEvent } from "#shared/catalogue/define-event.ts";
import type { DomainCatalogue, EventTypeDefinition, TopicDefinition } from "#shared/catalogue/types.ts";
import { parseRouteFile } from "../route-file.ts";
import routes from "./routes.json" with { type: "json" };

const DAY_MS = 86_400_000;

/** Topic (= short type name) → partitions and retention in days, as the hub configures them. */
export const LEARNING_TOPICS = {
  "user.registered": [3, 7],
  "user.updated": [3, 7],
  "user.deleted": [3, 30],
  "course.created": [3, 30],
  "course.updated": [3, 7],
  "course.published": [3, 30],
  "enrollment.created": [5, 30],
  "enrollment.completed": [3, 90],
  "progress.updated": [5, 7],
  "payment.initiated": [3, 90],
  "payment.completed": [5, 365],
  "payment.failed": [3, 90],
  "subscription.created": [3, 365],
  "media.uploaded": [3, 30],
  "media.processed": [3, 30],
  "quiz.submitted": [3, 90],
  "assignment.graded": [3, 90],
  "notification.email": [5, 7],
  "notification.push": [3, 7],
  "badge.earned": [3, 365],
  "points.awarded": [3, 90],
} as const satisfies Record<string, readonly [partitions: number, retentionDays: number]>;

type ShortName = keyof typeof LEARNING_TOPICS;

function topicOf(name: ShortName): TopicDefinition {
  const [partitions, days] = LEARNING_TOPICS[name];
  return { name, partitions, replicationFactor: 3, retentionMs: days * DAY_MS, compressionType: "lz4" };
}

const id = (prefix: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9a-z]{6,32}$`))
    .describe(`${what} id (${prefix}_…)`);
const userId = id("usr", "User");
const courseId = id("crs", "Course");
const enrollmentId = id("enr", "Enrollment");
const paymentId = id("pay", "Payment");
const mediaId = id("med", "Media");
const timestamp = z.iso.datetime({ offset: true }).describe("RFC 3339 timestamp");
const amount = z.number().positive().max(100_000).describe("Amount in the currency's major unit (49.99)");
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .describe("ISO 4217 currency code");
const score = z.number().min(0).max(100).describe("Score in percent");
const role = z.enum(["STUDENT", "INSTRUCTOR", "ADMIN"]);

/** One type of the hub: `learning.<short name>`, on the topic of its short name, aliased by it. */
function hubEvent<Data extends z.ZodType>(
  name: ShortName,
  definition: Omit<EventTypeDefinition<Data>, "type" | "topic" | "aliases" | "version"> & { entityIdField: string },
): EventTypeDefinition {
  return defineEvent({ ...definition, type: `learning.${name}`, topic: name, aliases: [name], version: 1 });
}

function domain(name: string, events: EventTypeDefinition[]): DomainCatalogue {
  return { domain: name, events, topics: events.map((event) => topicOf(event.topic as ShortName)) };
}

const user = domain("user", [
  hubEvent("user.registered", {
    description: "A learner or instructor registered.",
    entityIdField: "userId",
    data: z.strictObject({
      userId,
      email: z.email().max(254),
      firstName: z.string().min(1).max(100),
      lastName: z.string().min(1).max(100),
      role,
      registeredAt: timestamp,
    }),
    example: {
      userId: "usr_abc123",
      email: "student@example.com",
      firstName: "John",
      lastName: "Doe",
      role: "STUDENT",
      registeredAt: "2024-01-16T18:00:00Z",
    },
  }),
  hubEvent("user.updated", {
    description: "A user changed their profile.",
    entityIdField: "userId",
    data: z.strictObject({
      userId,
      changedFields: z.array(z.enum(["email", "firstName", "lastName", "avatar", "role"])).min(1),
      updatedAt: timestamp,
    }),
    example: { userId: "usr_abc123", changedFields: ["email"], updatedAt: "2024-01-18T08:12:00Z" },
  }),
  hubEvent("user.deleted", {
    description: "A user account was deleted; every service removes the user's data.",
    entityIdField: "userId",
    data: z.strictObject({
      userId,
      reason: z.enum(["user_request", "inactivity", "policy_violation"]),
      deletedAt: timestamp,
    }),
    example: { userId: "usr_abc123", reason: "user_request", deletedAt: "2024-06-01T10:00:00Z" },
  }),
]);

const course = domain("course", [
  hubEvent("course.created", {
    description: "An instructor created a course (not yet published).",
    entityIdField: "courseId",
    data: z.strictObject({
      courseId,
      instructorId: userId,
      title: z.string().min(1).max(200),
      category: z.string().min(1).max(100),
      price: amount.optional(),
      currency: currency.optional(),
      createdAt: timestamp,
    }),
    example: {
      courseId: "crs_ghi789",
      instructorId: "usr_ins456",
      title: "Introduction to Event-Driven Architecture",
      category: "software-engineering",
      price: 49.99,
      currency: "USD",
      createdAt: "2024-01-10T09:00:00Z",
    },
  }),
  hubEvent("course.updated", {
    description: "A course's content or details changed.",
    entityIdField: "courseId",
    data: z.strictObject({
      courseId,
      changedFields: z.array(z.enum(["title", "description", "price", "modules", "thumbnail"])).min(1),
      updatedAt: timestamp,
    }),
    example: { courseId: "crs_ghi789", changedFields: ["modules"], updatedAt: "2024-01-12T14:00:00Z" },
  }),
  hubEvent("course.published", {
    description: "A course was published and can be enrolled in.",
    entityIdField: "courseId",
    data: z.strictObject({ courseId, instructorId: userId, title: z.string().min(1).max(200), publishedAt: timestamp }),
    example: {
      courseId: "crs_ghi789",
      instructorId: "usr_ins456",
      title: "Introduction to Event-Driven Architecture",
      publishedAt: "2024-01-15T12:00:00Z",
    },
  }),
]);

const enrollment = domain("enrollment", [
  hubEvent("enrollment.created", {
    description: "A learner was enrolled in a course.",
    entityIdField: "enrollmentId",
    data: z.strictObject({ enrollmentId, userId, courseId, paymentId: paymentId.optional(), enrolledAt: timestamp }),
    example: {
      enrollmentId: "enr_xyz123",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      paymentId: "pay_def456",
      enrolledAt: "2024-01-16T18:05:02Z",
    },
  }),
  hubEvent("enrollment.completed", {
    description: "A learner completed a course.",
    entityIdField: "enrollmentId",
    data: z.strictObject({
      enrollmentId,
      userId,
      courseId,
      completedAt: timestamp,
      finalScore: score,
      duration: z
        .string()
        .regex(/^\d+ (days?|hours?|weeks?)$/)
        .describe("How long the course took (`30 days`)"),
    }),
    example: {
      enrollmentId: "enr_xyz123",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      completedAt: "2024-01-20T14:30:00Z",
      finalScore: 92.5,
      duration: "30 days",
    },
  }),
]);

const progress = domain("progress", [
  hubEvent("progress.updated", {
    description: "A learner's progress through a course changed.",
    entityIdField: "enrollmentId",
    data: z.strictObject({
      enrollmentId,
      userId,
      courseId,
      lessonId: id("lsn", "Lesson"),
      percentComplete: score,
      updatedAt: timestamp,
    }),
    example: {
      enrollmentId: "enr_xyz123",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      lessonId: "lsn_mod2l4",
      percentComplete: 45,
      updatedAt: "2024-01-18T20:10:00Z",
    },
  }),
]);

const payment = domain("payment", [
  hubEvent("payment.initiated", {
    description: "A learner started paying for a course.",
    entityIdField: "paymentId",
    data: z.strictObject({ paymentId, userId, courseId, amount, currency, initiatedAt: timestamp }),
    example: {
      paymentId: "pay_def456",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      amount: 49.99,
      currency: "USD",
      initiatedAt: "2024-01-16T18:04:30Z",
    },
  }),
  hubEvent("payment.completed", {
    description: "A payment succeeded at the payment gateway.",
    entityIdField: "paymentId",
    data: z.strictObject({
      paymentId,
      userId,
      courseId,
      amount,
      currency,
      stripePaymentId: z
        .string()
        .regex(/^pi_[0-9A-Za-z]{3,64}$/)
        .describe("Stripe PaymentIntent id"),
      completedAt: timestamp,
    }),
    example: {
      paymentId: "pay_def456",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      amount: 49.99,
      currency: "USD",
      stripePaymentId: "pi_stripe123",
      completedAt: "2024-01-16T18:05:00Z",
    },
  }),
  hubEvent("payment.failed", {
    description: "A payment was declined or failed; the learner is reminded to retry.",
    entityIdField: "paymentId",
    data: z.strictObject({
      paymentId,
      userId,
      courseId,
      amount,
      currency,
      failureReason: z.enum(["card_declined", "insufficient_funds", "authentication_required", "gateway_error"]),
      failedAt: timestamp,
    }),
    example: {
      paymentId: "pay_fai789",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      amount: 49.99,
      currency: "USD",
      failureReason: "card_declined",
      failedAt: "2024-01-16T18:04:58Z",
    },
  }),
]);

const subscription = domain("subscription", [
  hubEvent("subscription.created", {
    description: "A learner subscribed to a plan.",
    entityIdField: "subscriptionId",
    data: z.strictObject({
      subscriptionId: id("sub", "Subscription"),
      userId,
      plan: z.enum(["monthly", "annual", "team"]),
      amount,
      currency,
      startsAt: timestamp,
      renewsAt: timestamp,
    }),
    example: {
      subscriptionId: "sub_pln321",
      userId: "usr_abc123",
      plan: "annual",
      amount: 299,
      currency: "USD",
      startsAt: "2024-02-01T00:00:00Z",
      renewsAt: "2025-02-01T00:00:00Z",
    },
  }),
]);

const mediaKind = z.enum(["video", "audio", "document", "image"]);
const media = domain("media", [
  hubEvent("media.uploaded", {
    description: "A file finished uploading.",
    entityIdField: "mediaId",
    data: z.strictObject({
      mediaId,
      courseId,
      uploadedBy: userId,
      kind: mediaKind,
      contentType: z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/),
      sizeBytes: z.int().positive(),
      uploadedAt: timestamp,
    }),
    example: {
      mediaId: "med_vid001",
      courseId: "crs_ghi789",
      uploadedBy: "usr_ins456",
      kind: "video",
      contentType: "video/mp4",
      sizeBytes: 734_003_200,
      uploadedAt: "2024-01-11T10:00:00Z",
    },
  }),
  hubEvent("media.processed", {
    description: "A media file was transcoded or processed.",
    entityIdField: "mediaId",
    data: z.strictObject({
      mediaId,
      courseId,
      status: z.enum(["ready", "failed"]),
      renditions: z.array(z.enum(["1080p", "720p", "480p", "audio", "thumbnail"])),
      durationSeconds: z.int().nonnegative().optional(),
      processedAt: timestamp,
    }),
    example: {
      mediaId: "med_vid001",
      courseId: "crs_ghi789",
      status: "ready",
      renditions: ["1080p", "720p", "thumbnail"],
      durationSeconds: 1260,
      processedAt: "2024-01-11T10:09:30Z",
    },
  }),
]);

const quiz = domain("quiz", [
  hubEvent("quiz.submitted", {
    description: "A learner submitted a quiz; it was graded automatically.",
    entityIdField: "userId",
    data: z.strictObject({
      submissionId: id("qsb", "Quiz submission"),
      quizId: id("quz", "Quiz"),
      userId,
      courseId,
      score,
      passed: z.boolean(),
      submittedAt: timestamp,
    }),
    example: {
      submissionId: "qsb_a1b2c3",
      quizId: "quz_mod2q1",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      score: 85,
      passed: true,
      submittedAt: "2024-01-19T16:00:00Z",
    },
  }),
]);

const assignment = domain("assignment", [
  hubEvent("assignment.graded", {
    description: "An assignment was graded.",
    entityIdField: "userId",
    data: z.strictObject({
      assignmentId: id("asg", "Assignment"),
      userId,
      courseId,
      grade: z.enum(["A", "B", "C", "D", "F"]),
      score,
      gradedBy: userId.optional(),
      gradedAt: timestamp,
    }),
    example: {
      assignmentId: "asg_mod2ex",
      userId: "usr_abc123",
      courseId: "crs_ghi789",
      grade: "A",
      score: 91,
      gradedAt: "2024-01-19T16:00:05Z",
    },
  }),
]);

const notification = domain("notification", [
  hubEvent("notification.email", {
    description: "An email for the notification service to send.",
    entityIdField: "userId",
    data: z.strictObject({
      notificationId: id("ntf", "Notification"),
      userId,
      to: z.email().max(254),
      template: z.enum(["welcome", "enrollment_confirmation", "course_completed", "payment_receipt", "payment_failed"]),
      variables: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/), z.string().max(1000)).optional(),
    }),
    example: {
      notificationId: "ntf_mail01",
      userId: "usr_abc123",
      to: "student@example.com",
      template: "welcome",
      variables: { firstName: "John" },
    },
  }),
  hubEvent("notification.push", {
    description: "A push notification for the notification service to send.",
    entityIdField: "userId",
    data: z.strictObject({
      notificationId: id("ntf", "Notification"),
      userId,
      title: z.string().min(1).max(100),
      body: z.string().min(1).max(500),
      deepLink: z
        .string()
        .regex(/^learninghub:\/\/[a-z0-9/_-]+$/)
        .optional(),
    }),
    example: {
      notificationId: "ntf_push01",
      userId: "usr_abc123",
      title: "Badge earned!",
      body: "You earned the Fast Learner badge.",
      deepLink: "learninghub://badges/fast-learner",
    },
  }),
]);

const badge = domain("badge", [
  hubEvent("badge.earned", {
    description: "A learner earned a badge.",
    entityIdField: "userId",
    data: z.strictObject({
      userId,
      badgeId: z
        .string()
        .regex(/^[a-z][a-z0-9-]{1,63}$/)
        .describe("Badge slug"),
      courseId: courseId.optional(),
      earnedAt: timestamp,
    }),
    example: {
      userId: "usr_abc123",
      badgeId: "course-finisher",
      courseId: "crs_ghi789",
      earnedAt: "2024-01-20T14:30:05Z",
    },
  }),
]);

const points = domain("points", [
  hubEvent("points.awarded", {
    description: "Points were awarded to a learner.",
    entityIdField: "userId",
    data: z.strictObject({
      userId,
      points: z.int().positive().max(100_000),
      reason: z.enum(["signup", "quiz_passed", "course_completed", "streak", "assignment_graded"]),
      totalPoints: z.int().nonnegative(),
      awardedAt: timestamp,
    }),
    example: { userId: "usr_abc123", points: 50, reason: "signup", totalPoints: 50, awardedAt: "2024-01-16T18:00:02Z" },
  }),
]);

export const learningCatalogue = new Catalogue(
  [user, course, enrollment, progress, payment, subscription, media, quiz, assignment, notification, badge, points],
  { namespace: "learning" },
);

export const learningPlugin: CataloguePlugin = {
  catalogue: learningCatalogue,
  description: "Learning hub: users, courses, enrollments, payments, media, assessments, gamification",
  routes: parseRouteFile(routes, learningCatalogue, "schemas/learning/routes.json"),
};
