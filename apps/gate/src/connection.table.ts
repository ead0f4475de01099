import type { Connection } from './connection';

/** The gate's local view: connections by id and by logged-in user (several devices per user). */
export class ConnectionTable {
  private readonly byId = new Map<string, Connection>();
  private readonly byUser = new Map<number, Set<Connection>>();

  get size(): number {
    return this.byId.size;
  }

  /** Distinct logged-in users. */
  get userCount(): number {
    return this.byUser.size;
  }

  add(conn: Connection): void {
    this.byId.set(conn.id, conn);
  }

  get(connId: string): Connection | undefined {
    return this.byId.get(connId);
  }

  bindUser(conn: Connection, userId: number): void {
    if (conn.userId && conn.userId !== userId) this.unbindUser(conn);
    conn.userId = userId;
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(conn);
  }

  userConnections(userId: number): ReadonlySet<Connection> | undefined {
    return this.byUser.get(userId);
  }

  remove(conn: Connection): void {
    this.byId.delete(conn.id);
    this.unbindUser(conn);
  }

  all(): IterableIterator<Connection> {
    return this.byId.values();
  }

  private unbindUser(conn: Connection): void {
    const set = this.byUser.get(conn.userId);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.byUser.delete(conn.userId);
  }
}
