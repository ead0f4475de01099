import { EventPublisher, type MessageBus } from '@mqim/bus';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { type MqNames, mqim, presenceEventId } from '@mqim/protocol';
import type { Connection } from './connection';

/**
 * USER_ONLINE / USER_OFFLINE on the event stream: online once a login's route is registered,
 * offline once a logged-in connection is gone and its route withdrawn. Both are batched with
 * everything else this gate reports within a few ms (one publish per batch, not per login).
 *
 * Nothing upstream waits on these (a connection is not held open for its event), so a publish
 * that fails is logged and lost: presence is at least once while the broker is up, and a data
 * team computing actives from it must treat a gap (an ONLINE without an OFFLINE) as "until the
 * gate's next heartbeat" — see docs/analytics.md.
 */
export class PresenceEvents {
  private readonly events: EventPublisher;

  constructor(
    bus: MessageBus,
    names: MqNames,
    metrics: MqimMetrics,
    private readonly gateId: string,
    private readonly log: Logger,
    minIntervalMs: number,
  ) {
    this.events = new EventPublisher(bus, names, metrics, {
      source: `gate:${gateId}`,
      windowMs: 5,
      minIntervalMs,
    });
  }

  online(conn: Connection): void {
    this.send(conn, true);
  }

  offline(conn: Connection): void {
    this.send(conn, false);
  }

  flushAll(): Promise<void> {
    return this.events.flushAll();
  }

  private send(conn: Connection, online: boolean): void {
    const event: mqim.v1.IEvent = {
      eventId: presenceEventId(online, this.gateId, conn.id),
      type: online ? mqim.v1.EventType.EVENT_TYPE_USER_ONLINE : mqim.v1.EventType.EVENT_TYPE_USER_OFFLINE,
      actorUserId: conn.userId,
      presence: {
        userId: conn.userId,
        gateId: this.gateId,
        connId: conn.id,
        clientType: conn.clientType,
        ...(online
          ? {}
          : {
              reason: conn.closeReason || 'closed by the client',
              onlineMs: conn.loggedInAt ? Math.max(0, Date.now() - conn.loggedInAt) : 0,
            }),
      },
    };
    this.events
      .publish(event)
      .catch((err: Error) =>
        this.log.warn({ err: err.message, event: event.eventId }, 'presence event lost'),
      );
  }
}
