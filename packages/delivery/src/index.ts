// Delivery to gates: what logic, job and api put on the gates' own topics (im-gate-<id>).
// Built on the bus's generic BatchPublisher; the bus itself knows nothing of gates.
export { GatePublisher, type GatePublisherOptions } from './gate.publisher';
export { publishKicks, type KickTarget } from './kick.publisher';
