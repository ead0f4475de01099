import { EventPublisher, type MessageBus } from '@mqim/bus';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, type MqNames, mqim, presenceEventId } from '@mqim/protocol';
import type { Connection } from './connection';
import type { UpstreamPublisher } from './upstream.publisher';

/**
 * USER_ONLINE / USER_OFFLINE on the event stream: online once a login's route is registered,
 * offline once a logged-in connection is gone and its route withdrawn. Both are batched with
 * everything else this gate reports within a few ms (one publish per batch, not per login).
 *
 * Nothing upstream waits on these (a connection is not held open for its event), so a publish
 * that fails is logged and lost: presence is at least once while the broker is up, and a data
 * team computing actives from it must treat a gap (an ONLINE without an OFFLINE) as "until the
 * gate's next heartbeat" — see docs/analytics.md.
 *
 * Each change is also handed to logic as a PRESENCE_CHANGED request (issue 12), which tells the
 * user's contacts (0x0826) what the route table says now; it goes out after the route was
 * registered or withdrawn, so logic reads the new state. Lost like the events if the broker is
 * down: a contact then sees the change at its next presence query or subscription.
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
    private readonly upstream?: UpstreamPublisher,
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
    this.tellContacts(conn, online);
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

  private tellContacts(conn: Connection, online: boolean): void {
    if (!this.upstream || !conn.userId) return;
    this.upstream
      .publish({
        gateId: this.gateId,
        connId: conn.id,
        userId: conn.userId,
        clientType: conn.clientType,
        cmd: CommandId.PRESENCE_CHANGED,
        seq: 0,
        body: CIM.Social.MqimPresenceChanged.encode({ online }).finish(),
        receivedAtMs: Date.now(),
        orderKey: `u${conn.userId}`,
      })
      .catch((err: Error) =>
        this.log.warn({ err: err.message, conn: conn.id }, 'presence change for contacts lost'),
      );
  }
}
