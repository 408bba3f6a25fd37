/**
 * The minimal producer (`minimal-producer.ts`) sending messages as large as the producer's: the
 * event plus the attributes normalisation and the publisher stamp add. Used by
 * `bench/producer-stages.ts` only, to tell the local queues' cost per byte from the producer's own work.
 */
import { minimalProducer } from "./minimal-producer.ts";

export default minimalProducer("producer-sized");
