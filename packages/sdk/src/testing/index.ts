// Test support for code built on @mqim/sdk: an in-process fake CIM server. Tests only.
export {
  FakeConnection,
  FakeImServer,
  type FakeHandler,
  type FakeImServerOptions,
  type FakeRequest,
  type ReceivedFrame,
} from './fake-im.server';
export { FakeStore, type FakeGroup, type FakeUser, type StoredMessage } from './fake.store';
export { ALICE, BOB, CAROL, nextEvent, startHarness, until, type ClientHarness } from './client.harness';
export { errorPathCases, parityCases, type ErrorPathWorld } from './error-paths.cases';
