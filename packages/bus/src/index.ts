export {
  BusUnavailableError,
  InvalidMessageError,
  TopicNotFoundError,
  type GroupSpec,
  type MessageBus,
  type MessageHandler,
  type OutgoingMessage,
  type ReceivedMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicKind,
  type TopicSpec,
} from './message-bus.port';
export { MemoryBroker, MemoryBus, type MemoryBrokerOptions, type MemoryBusOptions } from './memory.bus';
export { RocketMqBus, type ConsumerLag, type RocketMqBusOptions } from './rocketmq.bus';
export {
  RocketMqAdmin,
  TopicKindConflictError,
  type BrokerTopicConfig,
  type QueueProgress,
  type RocketMqAdminOptions,
  type SubscriptionGroupConfig,
  type TopicRoute,
} from './rocketmq/rocketmq.admin';
export { RemotingResponseError } from './rocketmq/remoting.client';
export {
  BatchPublisher,
  PublisherBusyError,
  publishMetrics,
  type BatchPublisherOptions,
  type BatchTarget,
} from './batch.publisher';
export { LanePublisher, type LanePublisherOptions } from './lane.publisher';
export { EventPublisher, type EventPublisherOptions } from './event.publisher';
