// Test helpers for MessageBus implementations and their users. Tests only (lint rule).
export { runBusContract, type BusContractTiming, type BusFactory } from './bus.contract';
export { recordingBus } from './recording.bus';
