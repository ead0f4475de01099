import type { PeerTarget } from '../peers/peer.targets';
import { gateEndpoint, type MqimTarget } from '../targets/mqim.target';
import { registerUsers } from '../targets/users.provisioner';
import type { UserSpec } from '../load/worker.protocol';

export type Transport = 'tcp' | 'ws' | 'mixed';

/** Something the c2c scenarios can load: it hands out paired users with their endpoints. */
export interface C2cSystem {
  key: 'mqim' | 'socketio' | 'ws-relay';
  label: string;
  processes: { role: string; pid: number }[];
  /** `count` users (even), user 2k and 2k+1 sending to each other. */
  users(count: number): Promise<UserSpec[]>;
}

// Pair k = users 2k, 2k+1. Mixed transport puts the two ends of each pair on different
// transports and alternates which end is TCP, so senders and receivers are balanced too.
function transportOf(i: number, t: Transport): 'tcp' | 'ws' {
  if (t !== 'mixed') return t;
  return (i + Math.floor(i / 2)) % 2 === 0 ? 'tcp' : 'ws';
}

const peerIndex = (i: number) => (i % 2 === 0 ? i + 1 : i - 1);

export function mqimSystem(target: MqimTarget, transport: Transport): C2cSystem {
  return {
    key: 'mqim',
    label: `mqim ${target.kind}`,
    processes: target.processes,
    async users(count) {
      const users = await registerUsers(target.api, count);
      // Both ends of a pair on different gates when there are several: every message crosses.
      return users.map((u, i) => ({
        ...u,
        peerId: users[peerIndex(i)]!.userId,
        endpoint: gateEndpoint(target.gates[i % target.gates.length]!, transportOf(i, transport)),
      }));
    },
  };
}

export function peerSystem(peer: PeerTarget): C2cSystem {
  const socketio = peer.name === 'socketio-cluster';
  return {
    key: socketio ? 'socketio' : 'ws-relay',
    label: socketio ? `Socket.IO cluster (${peer.urls.length} nodes, Redis adapter)` : 'bare ws relay',
    processes: peer.processes,
    async users(count) {
      return Array.from({ length: count }, (_, i) => ({
        userId: i + 1,
        userName: `u${i + 1}`,
        pwdMd5: '',
        peerId: peerIndex(i) + 1,
        endpoint: socketio
          ? { kind: 'socketio' as const, url: peer.urls[i % peer.urls.length]! }
          : { kind: 'relay-ws' as const, url: peer.urls[0]! },
      }));
    },
  };
}
