import { MemoryPublisher } from "../../shared/src/brokers/memory-publisher.ts";
import { runPublisherContract } from "./publisher.contract.ts";

let current = new MemoryPublisher();

runPublisherContract({
  name: "memory",
  newPublisher: () => {
    current = new MemoryPublisher();
    return current;
  },
  destinations: ["contract-a", "contract-b"],
  newFailingPublisher: () => {
    const publisher = new MemoryPublisher();
    publisher.failNext(1);
    return publisher;
  },
  readBack: async (destination, runId) =>
    current
      .messages(destination)
      .filter((message) => message.value.includes(runId))
      .map((message) => message.value),
  requestCount: () => current.calls,
  skip: { "oversized-message-rejected": "memory has no size limit; it stores whatever it is given" },
});
