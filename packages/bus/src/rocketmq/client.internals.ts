import type { MessageView, Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { Code, Resource } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb';
import {
  AckMessageRequest,
  ForwardMessageToDeadLetterQueueRequest,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb';

/**
 * Every place where mqim reaches past `rocketmq-client-nodejs`' public API, in one file:
 *
 * - a route lookup through the producer (`getRouteData` is protected) — the proxy caches "topic
 *   not found", and a producer that waits for the route avoids the first sends failing;
 * - the consumer's request timeout (protected field);
 * - one AckMessage RPC for many messages (the client acks one message per call);
 * - forwarding a message to the dead-letter queue (the client has no public call for it);
 * - the generated gRPC request classes those two build, imported from the package's `proto/`.
 *
 * The client is pinned to one version in package.json; `client.internals.spec.ts` fails when
 * the installed version or the shape of any of these changes, so an upgrade is a deliberate
 * step that re-checks them rather than a silent break at run time.
 */
export const PINNED_CLIENT_VERSION = '1.0.8';

/** `apache.rocketmq.v2.Code.OK`: the status code of a successful RPC. */
export const RPC_OK: number = Code.OK;

interface ProtectedProducer {
  getRouteData(topic: string): Promise<unknown>;
}
interface ProtectedConsumer {
  requestTimeout?: number;
}

/** Asks the proxy for the topic's route through the producer; throws the client's error. */
export function lookupRoute(producer: Producer, topic: string): Promise<unknown> {
  return (producer as unknown as ProtectedProducer).getRouteData(topic);
}

/** The timeout the consumer was built with (ms). */
export function requestTimeoutOf(consumer: SimpleConsumer): number {
  return (consumer as unknown as ProtectedConsumer).requestTimeout ?? 3000;
}

export interface RpcStatus {
  code: number;
  message: string;
}

/**
 * Acks several messages of one topic in one RPC to the proxy that delivered them (all `views`
 * must share `views[0].endpoints`). Answers each message's status by message id; an entry the
 * proxy answered without its own status takes the response's.
 */
export async function ackMany(
  consumer: SimpleConsumer,
  group: string,
  topic: string,
  views: readonly MessageView[],
  timeoutMs: number,
): Promise<Map<string, RpcStatus>> {
  const request = new AckMessageRequest()
    .setGroup(new Resource().setName(group))
    .setTopic(new Resource().setName(topic));
  for (const view of views) {
    request.addEntries().setMessageId(view.messageId).setReceiptHandle(view.receiptHandle);
  }
  const response = await consumer.ackMessageViaRpc(views[0]!.endpoints, request, timeoutMs);
  const overall = response.getStatus();
  const byId = new Map<string, RpcStatus>();
  for (const e of response.getEntriesList()) {
    const s = e.getStatus();
    byId.set(e.getMessageId(), { code: s?.getCode() ?? 0, message: s?.getMessage() ?? '' });
  }
  for (const view of views) {
    if (!byId.has(view.messageId)) {
      byId.set(view.messageId, { code: overall?.getCode() ?? 0, message: overall?.getMessage() ?? '' });
    }
  }
  return byId;
}

/**
 * Moves a received message to the group's dead-letter queue (`%DLQ%<group>`). Throws when the
 * proxy refuses; the broker then keeps the message and delivers it again.
 */
export async function forwardToDeadLetter(
  consumer: SimpleConsumer,
  group: string,
  topic: string,
  view: MessageView,
  attempt: number,
  maxAttempts: number,
): Promise<void> {
  const request = new ForwardMessageToDeadLetterQueueRequest()
    .setGroup(new Resource().setName(group))
    .setTopic(new Resource().setName(topic))
    .setReceiptHandle(view.receiptHandle)
    .setMessageId(view.messageId)
    .setDeliveryAttempt(attempt)
    .setMaxDeliveryAttempts(maxAttempts);
  const response = await consumer.forwardMessageToDeadLetterQueueViaRpc(
    view.endpoints,
    request,
    requestTimeoutOf(consumer),
  );
  const status = response.getStatus();
  if (status && status.getCode() !== RPC_OK) throw new Error(`${status.getCode()} ${status.getMessage()}`);
}
