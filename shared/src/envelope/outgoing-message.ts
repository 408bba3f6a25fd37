/**
 * A message ready for a destination: `key` decides partition/ordering where the broker has
 * partitions, `headers` carry CloudEvents attributes (`ce_*`) where the broker has headers.
 */
export interface OutgoingMessage {
  /** Stable id; equal ids are the same message (CloudEvents `source` + `id`). */
  readonly id: string;
  readonly key?: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}
