import { CIM, CommandId, MqimError, SessionType, conversationKey, decodeBody, toId } from '@mqim/protocol';
import type { RatePolicy } from '@mqim/cache';
import { MAX_CONTACTS } from './contact.handlers';
import type { LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';

/**
 * Presence and typing (issue 12, docs/adr/0014). Nothing here is stored: presence is read from the
 * route table (a user is online while any of their connections has a live route, on any gate),
 * and typing notices ride the job's delivery path without a push check, so an offline peer simply
 * never sees them.
 */

/** User ids one presence query may list. */
export const MAX_PRESENCE_QUERY = 200;
/** Typing notices per user across all connections and gates (the gate also limits each connection). */
export const TYPING_PER_USER: RatePolicy = { perSecond: 5, burst: 20 };

function presenceOf(userIds: readonly number[], routes: Map<number, unknown[]>): CIM.Social.IMqimPresence[] {
  return userIds.map((userId) => {
    const devices = routes.get(userId)?.length ?? 0;
    return { userId, online: devices > 0, devices };
  });
}

/**
 * 0x0822: online state of the listed users, answered for the caller and their contacts only;
 * other ids are left out of the answer (presence is not public).
 */
export async function handlePresenceQuery(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.PRESENCE_QUERY_REQ, ctx.req.body);
  if (req.userIds.length > MAX_PRESENCE_QUERY)
    throw new MqimError('IM_ERR_PAYLOAD_TOO_LARGE', `at most ${MAX_PRESENCE_QUERY} user ids per query`);
  const asked = [...new Set(req.userIds.map((id) => toId(id, 'user_ids')))].filter((id) => id > 0);
  const others = asked.filter((id) => id !== ctx.userId);
  const friends = new Set(others.length ? await deps.store.contacts.friendsAmong(ctx.userId, others) : []);
  const visible = asked.filter((id) => id === ctx.userId || friends.has(id));
  const routes = visible.length ? await deps.cache.routes.lookup(visible) : new Map();
  await ctx.reply(
    CommandId.PRESENCE_QUERY_RSP,
    CIM.Social.MqimPresenceQueryRsp.encode({ presenceList: presenceOf(visible, routes) }).finish(),
  );
}

/**
 * 0x0824: the gate has already marked the connection (notices 0x0826 go to marked connections
 * only); this answers with the contacts' current state, so the client starts from a full picture.
 */
export async function handlePresenceSubscribe(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.PRESENCE_SUBSCRIBE_REQ, ctx.req.body);
  let presenceList: CIM.Social.IMqimPresence[] = [];
  if (req.subscribe) {
    const friends = await deps.store.contacts.friendIds(ctx.userId, MAX_CONTACTS);
    presenceList = presenceOf(friends, friends.length ? await deps.cache.routes.lookup(friends) : new Map());
  }
  await ctx.reply(
    CommandId.PRESENCE_SUBSCRIBE_RSP,
    CIM.Social.MqimPresenceSubscribeRsp.encode({ subscribed: req.subscribe, presenceList }).finish(),
  );
}

/**
 * 0x083F (from a gate, never from a client): a connection of the user logged in or went away.
 * The contacts get the user's state as the route table has it now, so a user with several devices
 * stays online until the last one goes. Repeats (a second device logging in) are harmless: the
 * notice carries the state, not a transition.
 */
export async function handlePresenceChanged(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const me = ctx.userId;
  const friends = await deps.store.contacts.friendIds(me, MAX_CONTACTS);
  if (friends.length === 0) return;
  const [presence] = presenceOf([me], await deps.cache.routes.lookup([me]));
  await deps.intents.publish(
    {
      userIds: friends,
      cmd: CommandId.PRESENCE_NOTIFY,
      body: CIM.Social.MqimPresenceNotify.encode({ presence }).finish(),
      originAtMs: ctx.receivedAtMs,
    },
    `u:${me}`,
  );
}

/**
 * 0x0820: "typing" to one peer, who must be a contact or have a conversation with the caller, and
 * must not block them. Never stored; refusals are 0x0802 (the client may just stop sending).
 */
export async function handleTyping(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.TYPING, ctx.req.body);
  const me = ctx.userId;
  const peer = toId(req.peerUserId, 'peer_user_id');
  if (peer === 0 || peer === me)
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'peer_user_id must be another user');
  if (req.state > 1)
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'state must be 0 (stopped) or 1 (typing)');
  if ((await deps.cache.rates.take(`typing:${me}`, 1, TYPING_PER_USER)) < 1)
    throw new MqimError('IM_ERR_TYPING_RATE_LIMITED', 'too many typing notices; slow down');
  if (await deps.store.contacts.isBlocked(peer, me))
    throw new MqimError('IM_ERR_BLOCKED', `user ${peer} does not accept your notices`);
  const allowed =
    (await deps.store.contacts.friendsAmong(me, [peer])).length > 0 ||
    (await deps.store.sessions.get(me, SessionType.SINGLE, peer)) !== null;
  if (!allowed)
    throw new MqimError('IM_ERR_FORBIDDEN', 'typing goes to contacts and conversation peers only');
  await deps.intents.publish(
    {
      userIds: [peer],
      cmd: CommandId.TYPING_NOTIFY,
      body: CIM.Social.MqimTypingNotify.encode({ fromUserId: me, state: req.state }).finish(),
      originAtMs: ctx.receivedAtMs,
    },
    conversationKey(SessionType.SINGLE, me, peer),
  );
}
