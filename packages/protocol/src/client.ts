// Browser-safe entry of @mqim/protocol (`@mqim/protocol/client`): what a CIM client needs, on
// Uint8Array and standard APIs only: no Buffer, no node: modules, and the slim generated module
// instead of the server's. The SDK imports nothing else from this package except in its Node-only
// TCP transport.

export { CIM } from './generated/cim.client';
export { CommandId, describeCommand, type CommandName } from './command-id';
export { DEFAULT_MAX_FRAME_LENGTH, FRAME_HEADER_LENGTH, type FrameOf } from './frame.bytes';
export { decodeWsMessage, type WsFrameOptions } from './ws-message';
export { type AnyBody, type BodyInput, type BodyOf } from './body-types';
export { decodeClientBody, encodeClientFrame } from './client.codec';
export { idToString, toId, toIds, type IdInput } from './ids';
export { CimErrorCode, FrameError, ImErrorNumber, ProtocolError, type ImErrorCode } from './error-codes';
export { KickOutReason } from './kick-out-reason';
export { ClientCapability } from './client-capability';
export { SessionType, isSessionType } from './session-type';
