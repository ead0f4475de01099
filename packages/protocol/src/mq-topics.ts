/**
 * Names of mqim's MQ topics and consumer groups, and what kind each topic is. The wire contract
 * between roles (and analytics consumers) lives here next to the client protocol, so that every
 * role derives the same names from the same prefix. Documented in docs/mq-topics.md.
 */
export type MqTopicKind = 'normal' | 'fifo' | 'delay';

export interface MqTopic {
  name: string;
  kind: MqTopicKind;
  queues: number;
}

export interface MqGroup {
  name: string;
  orderly: boolean;
}

const NAME = /^[A-Za-z0-9_-]{1,100}$/;

export function assertMqName(kind: string, name: string): void {
  if (!NAME.test(name)) throw new Error(`${kind} "${name}" may contain only letters, digits, "-" and "_"`);
}

export class MqNames {
  constructor(readonly prefix: string) {
    assertMqName('topic prefix', prefix);
  }

  /** gate -> logic: client requests. FIFO by conversation (sends) or user (queries). */
  get upstream(): string {
    return `${this.prefix}-upstream`;
  }
  /** logic -> job: delivery intents. FIFO by conversation. */
  get deliver(): string {
    return `${this.prefix}-deliver`;
  }
  /** gate -> job: client delivery receipts. */
  get receipt(): string {
    return `${this.prefix}-receipt`;
  }
  /** job -> job: delayed undelivered -> offline push checks. */
  get pushCheck(): string {
    return `${this.prefix}-push-check`;
  }
  /** logic -> anyone: persisted chat messages (analytics tap). */
  get persisted(): string {
    return `${this.prefix}-persisted`;
  }
  /** logic, job, gates -> anyone: domain events (analytics), `EventBatch` tagged by family. */
  get events(): string {
    return `${this.prefix}-events`;
  }
  /** api -> api: a scheduled message is due (DELAY; `{"id","v"}` JSON, tag `due`; ADR 0016). */
  get schedule(): string {
    return `${this.prefix}-schedule`;
  }
  /** logic/job -> one gate: replies and deliveries. One queue, so one total order per gate. */
  gate(gateId: string): string {
    assertMqName('gate id', gateId);
    return `${this.prefix}-gate-${gateId}`;
  }

  get logicGroup(): string {
    return `${this.prefix}-logic`;
  }
  get jobDeliverGroup(): string {
    return `${this.prefix}-job-deliver`;
  }
  get jobReceiptGroup(): string {
    return `${this.prefix}-job-receipt`;
  }
  get jobPushGroup(): string {
    return `${this.prefix}-job-push`;
  }
  /** api: fires scheduled messages (every api process, sharing the work). */
  get apiScheduleGroup(): string {
    return `${this.prefix}-api-schedule`;
  }
  /** job: the observer webhooks and bots (ADR 0016) on `events`; provisioned by a job that has them. */
  get jobHooksGroup(): string {
    return `${this.prefix}-job-hooks`;
  }
  gateGroup(gateId: string): string {
    return `${this.prefix}-gate-${gateId}`;
  }

  /** Every shared topic a cluster needs before its roles start (`mqim provision`). */
  sharedTopics(): MqTopic[] {
    return [
      { name: this.upstream, kind: 'fifo', queues: 8 },
      { name: this.deliver, kind: 'fifo', queues: 8 },
      { name: this.receipt, kind: 'normal', queues: 4 },
      { name: this.pushCheck, kind: 'delay', queues: 4 },
      { name: this.persisted, kind: 'normal', queues: 4 },
      { name: this.events, kind: 'normal', queues: 4 },
      { name: this.schedule, kind: 'delay', queues: 4 },
    ];
  }

  sharedGroups(): MqGroup[] {
    return [
      { name: this.logicGroup, orderly: true },
      { name: this.jobDeliverGroup, orderly: true },
      { name: this.jobReceiptGroup, orderly: false },
      { name: this.jobPushGroup, orderly: false },
      { name: this.apiScheduleGroup, orderly: false },
    ];
  }

  gateTopic(gateId: string): MqTopic {
    return { name: this.gate(gateId), kind: 'fifo', queues: 1 };
  }

  gateGroupSpec(gateId: string): MqGroup {
    return { name: this.gateGroup(gateId), orderly: true };
  }
}

/** Tag of a DeliveryReceiptBatch on the receipt topic (untagged or other tags: one DeliveryReceipt). */
export const RECEIPT_BATCH_TAG = 'receipts';

/** Tag of a PushCheckDueBatch on the push-check topic (other tags: one PushCheckDue). */
export const PUSH_CHECK_BATCH_TAG = 'checks';
