// Public entry of @mqim/protocol: the CIM wire format (framing, command ids, message types,
// error codes). Everything else in this package is an implementation detail.

export { CIM, mqim } from './generated/proto';

export {
  CommandId,
  commandName,
  describeCommand,
  isAllowedBeforeLogin,
  isExtensionCommand,
  isKnownCommand,
  responseCommandOf,
  type CommandName,
} from './command-id';

export {
  DEFAULT_MAX_FRAME_LENGTH,
  encodeFrame,
  FRAME_HEADER_LENGTH,
  FRAME_VERSION,
  readHeader,
  writeHeader,
  type Frame,
  type FrameHeader,
  type FrameOf,
} from './frame.codec';
export { FrameDecoder, type FrameDecoderOptions } from './frame.decoder';
export { decodeWsFrame, type WsFrameOptions, type WsMessageData } from './ws-frame';
export { decodeWsMessage } from './ws-message';

export { bodyTypes, type AnyBody, type BodyInput, type BodyOf } from './messages';
export { bodyTypesOf } from './body-types';
export { decodeBody, encodeBody, encodeMessageFrame } from './codec';
export { encodeRefusedSendAck } from './send-ack';

export { idToString, longToNumber, toId, toIds, type IdInput } from './ids';
export { toLong } from './long-id';
export { conversationKey } from './conversation';
export { SessionType, isSessionType } from './session-type';
export { PUSH_PLATFORMS, type PushPlatform } from './push-platform';

export {
  CimErrorCode,
  CLIENT_FAULTS,
  errorNumberOf,
  isClientFault,
  FrameError,
  ImErrorNumber,
  MqimError,
  ProtocolError,
  toErrorNotify,
  type ErrorNotifyFields,
  type ImErrorCode,
} from './error-codes';
export { KickOutReason } from './kick-out-reason';

export {
  MqNames,
  PUSH_CHECK_BATCH_TAG,
  RECEIPT_BATCH_TAG,
  assertMqName,
  type MqGroup,
  type MqTopic,
  type MqTopicKind,
} from './mq-topics';
export { encodeGateBatch, encodeKickBatch, kickCommands, kickOutNotice } from './gate-commands';
export { decodePersisted } from './persisted';
export {
  DEFAULT_LANES,
  INTENT_BATCH_TAG,
  UPSTREAM_BATCH_TAG,
  assertLanes,
  decodeIntents,
  decodeUpstream,
  encodeIntentBatch,
  encodeUpstreamBatch,
  laneGroup,
  laneOf,
  type OrderedRequest,
} from './lanes';
export {
  decodeEvents,
  eventFamily,
  groupEventId,
  messageEventId,
  positionEventId,
  recallEventId,
  presenceEventId,
  pushEventId,
  type EventFamily,
} from './events';
export { ClientCapability, SUPPORTED_CAPABILITIES } from './client-capability';
