import type { Endpoint } from '../load/worker.protocol';

/** One gate's client endpoints. */
export interface GateEndpoints {
  id: string;
  tcp: { host: string; port: number };
  wsUrl: string;
}

/** A running mqim deployment under test, whatever started it. */
export interface MqimTarget {
  kind: 'standalone' | 'cluster';
  gates: GateEndpoints[];
  api: { url: string; key: string };
  /** Processes to watch (RSS, CPU), by role; a gate's entry has the gate id as role suffix. */
  processes: { role: string; pid: number }[];
  /** Where --profile put (or will put, on stop) .cpuprofile files; undefined without --profile. */
  profileDir?: string;
  stop(): Promise<void>;
}

export function gateEndpoint(gate: GateEndpoints, transport: 'tcp' | 'ws'): Endpoint {
  return transport === 'tcp'
    ? { kind: 'cim-tcp', host: gate.tcp.host, port: gate.tcp.port }
    : { kind: 'cim-ws', url: gate.wsUrl };
}
