import { MAX_EXPLICIT_USER_ID } from '@mqim/store';

// JSON schemas of every request the API takes, checked by fastify (Ajv) before a handler runs, so
// a wrong shape is a 400 naming the field, never a 500 or a hand-written check. The Ajv instance
// neither coerces types nor strips unknown properties (see api.app.ts): " 77 ", [5] and "0x10"
// are not user ids.

const ID_PATTERN = '^[1-9][0-9]{0,15}$';
const USER_NAME_PATTERN = '^[\\w.@-]{1,64}$';

/** Path ids are strings; the handler turns them into checked numbers (ADR 0002). */
export const userIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: ID_PATTERN } },
} as const;

export const receiptParams = {
  type: 'object',
  required: ['id', 'sessionType', 'sessionId'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    sessionType: { type: 'string', enum: ['1', '2'] },
    sessionId: { type: 'string', pattern: ID_PATTERN },
  },
} as const;

const nullableString = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const;

export const createUserBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    userName: { anyOf: [{ type: 'string', pattern: USER_NAME_PATTERN }, { const: '' }, { type: 'null' }] },
    nickName: nullableString(64),
    password: nullableString(256),
  },
} as const;

export const tokenIdParams = {
  type: 'object',
  required: ['id', 'tokenId'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    tokenId: { type: 'string', pattern: '^[0-9a-f]{16}$' },
  },
} as const;

export const issueTokenBody = {
  type: 'object',
  additionalProperties: false,
  properties: { keepExisting: { type: 'boolean' } },
} as const;

const platform = { type: 'string', enum: ['apns', 'fcm', 'webhook'] } as const;
const pushToken = { type: 'string', minLength: 1, maxLength: 4096 } as const;

export const registerDeviceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['platform', 'token'],
  properties: {
    platform,
    token: pushToken,
    clientType: { type: 'integer', minimum: 0, maximum: 65535 },
  },
} as const;

export const removeDeviceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['platform', 'token'],
  properties: { platform, token: pushToken },
} as const;

export const muteBody = {
  type: 'object',
  additionalProperties: false,
  required: ['sessionType', 'sessionId'],
  properties: {
    sessionType: { type: 'integer', enum: [1, 2] },
    sessionId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    muted: { type: 'boolean' },
  },
} as const;

export const kickBody = {
  type: 'object',
  additionalProperties: false,
  properties: { connId: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/**
 * CoffeeChat's `/user/register`, either shape: the legacy one (a business server picks the id and
 * the login token) when `user_id` or `user_token` is present, else name + MD5 password. Unknown
 * properties are allowed: CoffeeChat clients send more than we read.
 */
export const registerBody = {
  type: 'object',
  if: { anyOf: [{ required: ['user_id'] }, { required: ['user_token'] }] },
  then: {
    required: ['user_id', 'user_nick_name', 'user_token'],
    properties: {
      // A JSON integer or its plain decimal text; never padded, signed, hex or wrapped.
      user_id: {
        anyOf: [
          { type: 'integer', minimum: 1, maximum: MAX_EXPLICIT_USER_ID },
          { type: 'string', pattern: '^[1-9][0-9]{0,9}$' },
        ],
      },
      user_nick_name: { type: 'string', minLength: 1, maxLength: 64 },
      // CoffeeChat accepted 5..16 characters (its Flutter client sends 5..7); longer ones stay accepted.
      user_token: { type: 'string', minLength: 5, maxLength: 256 },
    },
  },
  else: {
    required: ['userName', 'userPwd'],
    properties: {
      userName: { type: 'string', pattern: USER_NAME_PATTERN },
      userNickName: { type: 'string', maxLength: 64 },
      userPwd: { type: 'string', pattern: '^[0-9a-f]{32}$' },
    },
  },
} as const;

// ---- ops: cluster status and online users (responses are serialized through these schemas) ----

const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;

export const clusterStatusResponse = {
  type: 'object',
  required: ['at', 'ok', 'gates', 'instances', 'onlineUsers', 'deadGates', 'dependencies', 'consumers'],
  properties: {
    at: int,
    ok: { type: 'boolean' },
    gates: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'address', 'connections', 'users', 'host', 'pid', 'version', 'startedAt', 'beatAt'],
        properties: {
          id: str,
          address: str,
          connections: int,
          users: int,
          host: str,
          pid: int,
          version: str,
          startedAt: int,
          beatAt: int,
        },
      },
    },
    instances: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role', 'id', 'host', 'pid', 'version', 'startedAt', 'beatAt'],
        properties: {
          role: str,
          id: str,
          host: str,
          pid: int,
          version: str,
          startedAt: int,
          beatAt: int,
          address: str,
        },
      },
    },
    onlineUsers: int,
    deadGates: { type: 'array', items: str },
    dependencies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'ok', 'kind', 'ms'],
        properties: { name: str, ok: { type: 'boolean' }, kind: str, ms: int, error: str },
      },
    },
    consumers: {
      type: 'object',
      required: ['source', 'groups'],
      properties: {
        source: { type: 'string', enum: ['broker', 'none'] },
        note: str,
        groups: {
          type: 'array',
          items: {
            type: 'object',
            required: ['group', 'topic', 'lag', 'lastConsumedAt'],
            properties: { group: str, topic: str, lag: int, lastConsumedAt: int, error: str },
          },
        },
      },
    },
  },
} as const;

/** Query strings are strings (no coercion, see api.app.ts): digits only, turned into numbers by the handler. */
/** `?consumerGroups=a,b`: analytics groups whose lag the status reports too (at most 20). */
export const clusterStatusQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    consumerGroups: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}(,[A-Za-z0-9_-]{1,100}){0,19}$' },
  },
} as const;

export const onlineQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$|^10000$' },
  },
} as const;

export const onlineResponse = {
  type: 'object',
  required: ['total', 'userIds', 'next'],
  properties: {
    total: int,
    userIds: { type: 'array', items: int },
    /** Pass as `after` for the next page; null on the last page. */
    next: { type: ['integer', 'null'] },
  },
} as const;

// ---- the send API ----

/** A client_msg_id: what the message path dedupes a sender's retries by (DESIGN invariant 2). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,64}$';

export const sendHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN } },
} as const;

/** The header every POST of /api/v1 accepts (idempotency.hook.ts). */
export const idempotencyKeyHeader = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        'a retry with the same key and request gets the first answer again (idempotent-replayed: true)',
    },
  },
} as const;

const positiveId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

/**
 * Exactly one content: `text` (a text message, type 1), `data` (base64 of any `msgType`'s
 * bytes), or `notification` (type 9, the JSON CoffeeChat clients read as a notification).
 */
export const sendMessageBody = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'sessionType', 'to'],
  properties: {
    from: positiveId,
    sessionType: { type: 'integer', enum: [1, 2] },
    to: positiveId,
    system: { type: 'boolean' },
    text: { type: 'string', minLength: 1 },
    msgType: { type: 'integer', minimum: 1, maximum: 65535 },
    data: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9+/]*={0,2}$' },
    notification: {
      type: 'object',
      additionalProperties: false,
      required: ['notificationType'],
      properties: {
        notificationType: { type: 'integer', minimum: 0, maximum: 65535 },
        data: { type: 'object' },
      },
    },
  },
  oneOf: [
    { required: ['text'], not: { anyOf: [{ required: ['data'] }, { required: ['notification'] }] } },
    {
      required: ['data', 'msgType'],
      not: { anyOf: [{ required: ['text'] }, { required: ['notification'] }] },
    },
    { required: ['notification'], not: { anyOf: [{ required: ['text'] }, { required: ['data'] }] } },
  ],
} as const;

export const sendMessageResponse = {
  type: 'object',
  required: ['serverMsgId', 'clientMsgId', 'from', 'sessionType', 'to', 'msgType', 'createTime'],
  properties: {
    serverMsgId: int,
    clientMsgId: str,
    from: int,
    sessionType: int,
    to: int,
    msgType: int,
    /** Unix seconds, as stored. */
    createTime: int,
  },
} as const;

// ---- responses every route documents (the OpenAPI document is built from these) ----

/** The error body, its `code` limited to the codes the route may send with that status. */
function errorBody(codes: readonly string[]) {
  return {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string', enum: [...codes] }, message: str },
      },
    },
  } as const;
}

/** What any /api/v1 route may answer besides its own: bad input, no key, too large, our failures. */
const COMMON_ERRORS: Record<number, readonly string[]> = {
  400: ['IM_ERR_INVALID_ARGUMENT'],
  401: ['IM_ERR_UNAUTHORIZED'],
  413: ['IM_ERR_PAYLOAD_TOO_LARGE'],
  500: ['IM_ERR_INTERNAL'],
  503: [
    'IM_ERR_UNAVAILABLE',
    'IM_ERR_STORE_UNAVAILABLE',
    'IM_ERR_CACHE_UNAVAILABLE',
    'IM_ERR_BUS_UNAVAILABLE',
    'IM_ERR_INFRA_UNAVAILABLE',
  ],
};

/** `response` with `codes` added to the error body of `status` (created if absent); a new map. */
export function addErrorCodes(
  response: Record<number, object>,
  status: number,
  codes: readonly string[],
): Record<number, object> {
  const current = response[status] as
    { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } | undefined;
  const had = current?.properties?.error?.properties?.code?.enum ?? [];
  return { ...response, [status]: errorBody([...new Set([...had, ...codes])]) };
}

/**
 * A route's `response` schemas: its successes plus every error status with the codes it may carry
 * (the common ones and `extra`). Fastify serializes replies through them; the OpenAPI document
 * lists them; a test checks that what is sent is what is listed.
 */
export function responses(
  success: Record<number, object | null>,
  extra: Record<number, readonly string[]> = {},
): Record<number, object> {
  const out: Record<number, object> = {};
  for (const [status, schema] of Object.entries(success))
    out[Number(status)] = schema ?? { type: 'null', description: 'no content' };
  const statuses = new Set([...Object.keys(COMMON_ERRORS), ...Object.keys(extra)].map(Number));
  for (const status of statuses)
    out[status] = errorBody([...(COMMON_ERRORS[status] ?? []), ...(extra[status] ?? [])]);
  return out;
}

export const userResponse = {
  type: 'object',
  required: ['userId', 'userName', 'nickName'],
  properties: { userId: int, userName: { type: ['string', 'null'] }, nickName: str, avatarUrl: str },
} as const;

export const tokenResponse = {
  type: 'object',
  required: ['userId', 'token', 'tokenId', 'expiresAt'],
  properties: { userId: int, token: str, tokenId: str, expiresAt: int },
} as const;

export const receiptResponse = {
  type: 'object',
  required: [
    'userId',
    'sessionType',
    'sessionId',
    'deliveredMsgId',
    'deliveredAtMs',
    'readMsgId',
    'readAtMs',
  ],
  properties: {
    userId: int,
    sessionType: int,
    sessionId: int,
    deliveredMsgId: int,
    deliveredAtMs: int,
    readMsgId: int,
    readAtMs: int,
  },
} as const;

export const kickResponse = {
  type: 'object',
  required: ['userId', 'kicked'],
  properties: { userId: int, kicked: int },
} as const;

export const userOnlineResponse = {
  type: 'object',
  required: ['userId', 'online', 'devices'],
  properties: {
    userId: int,
    online: { type: 'boolean' },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['gateId', 'connId', 'clientType', 'loginAt'],
        properties: { gateId: str, connId: str, clientType: int, loginAt: int },
      },
    },
  },
} as const;

export const okResponse = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' } },
} as const;

export const readyResponse = {
  type: 'object',
  required: ['ok', 'problems'],
  properties: { ok: { type: 'boolean' }, problems: { type: 'array', items: str } },
} as const;

/** CoffeeChat's register answer (sent as text/plain JSON). */
export const registerResponse = {
  type: 'object',
  required: ['error_code', 'error_msg'],
  properties: { error_code: int, error_msg: str },
} as const;

/** CoffeeChat's nickname answers (text/plain JSON), `/user/nickname/query` and `/generate`. */
export const nicknameResponse = {
  type: 'object',
  required: ['error_code', 'error_msg', 'nick_name'],
  properties: { error_code: int, error_msg: str, nick_name: str },
} as const;

// ---- group administration (the client's group commands, as the acting user) ----

const memberIds = { type: 'array', minItems: 1, maxItems: 10_000, items: positiveId } as const;

export const groupIdParams = {
  type: 'object',
  required: ['groupId'],
  properties: { groupId: { type: 'string', pattern: ID_PATTERN } },
} as const;

export const groupCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['owner', 'name'],
  properties: {
    owner: positiveId,
    name: { type: 'string', minLength: 1, maxLength: 64 },
    members: { type: 'array', maxItems: 10_000, items: positiveId },
  },
} as const;

export const groupCreateResponse = {
  type: 'object',
  required: ['groupId', 'name', 'ownerId', 'memberIds'],
  properties: { groupId: int, name: str, ownerId: int, memberIds: { type: 'array', items: int } },
} as const;

/** `by`: the acting user (owner or member, as the client command requires). */
export const groupChangeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'members'],
  properties: { by: positiveId, members: memberIds },
} as const;

export const groupDisbandBody = {
  type: 'object',
  additionalProperties: false,
  required: ['by'],
  properties: { by: positiveId },
} as const;

// ---- broadcasts and bots (issue 13, ADR 0016) ----

/** `POST /broadcasts`: a notification (type 9, default) or a text to all users or everyone online. */
export const broadcastBody = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'audience'],
  properties: {
    from: positiveId,
    audience: { type: 'string', enum: ['all', 'online'] },
    text: { type: 'string', minLength: 1, maxLength: 4096 },
    notification: sendMessageBody.properties.notification,
  },
  oneOf: [
    { required: ['text'], not: { required: ['notification'] } },
    { required: ['notification'], not: { required: ['text'] } },
  ],
} as const;

export const broadcastResponse = {
  type: 'object',
  required: ['broadcastId', 'audience', 'state', 'recipients', 'pages', 'createdAt'],
  properties: {
    broadcastId: str,
    audience: { type: 'string', enum: ['all', 'online'] },
    state: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
    recipients: int,
    pages: int,
    /** Unix ms. */
    createdAt: int,
    finishedAt: int,
    error: str,
  },
} as const;

export const broadcastIdParams = {
  type: 'object',
  required: ['broadcastId'],
  properties: { broadcastId: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
} as const;

/** `PUT /users/:id/bot`: flags the user as a bot whose conversations go to `webhookUrl`. */
export const botBody = {
  type: 'object',
  additionalProperties: false,
  required: ['webhookUrl'],
  properties: {
    webhookUrl: { type: 'string', maxLength: 512, pattern: '^https?://[\\x21-\\x7e]{1,500}$' },
  },
} as const;

/** The bot's signing secret: only in the answer that created it or rotated it (never readable later). */
const botSecret = { type: 'string', minLength: 16, maxLength: 128 } as const;

export const botResponse = {
  type: 'object',
  required: ['userId', 'webhookUrl', 'hasOwnSecret', 'createdAt', 'updatedAt'],
  properties: {
    userId: int,
    webhookUrl: str,
    /** False: a bot older than its secret (migration 0007), signed with MQIM_HOOK_SECRET until rotated. */
    hasOwnSecret: { type: 'boolean' },
    /** Only when this request created the bot. */
    secret: botSecret,
    createdAt: int,
    updatedAt: int,
  },
} as const;

/** `POST /users/:id/bot/secret`: the bot's new signing secret, shown once. */
export const botSecretResponse = {
  type: 'object',
  required: ['userId', 'secret'],
  properties: { userId: int, secret: botSecret },
} as const;

/** At most this far ahead (30 days). */
export const SCHEDULE_MAX_AHEAD_MS = 30 * 24 * 60 * 60 * 1000;

/** `POST /scheduled-messages`: a send (as `POST /messages`) plus `sendAt` (unix ms). */
export const scheduleBody = {
  ...sendMessageBody,
  required: [...sendMessageBody.required, 'sendAt'],
  properties: {
    ...sendMessageBody.properties,
    sendAt: {
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'unix ms, within 30 days',
    },
  },
} as const;

export const rescheduleBody = {
  type: 'object',
  additionalProperties: false,
  required: ['sendAt'],
  properties: { sendAt: scheduleBody.properties.sendAt },
} as const;

export const scheduleIdParams = {
  type: 'object',
  required: ['scheduleId'],
  properties: { scheduleId: { type: 'string', pattern: ID_PATTERN } },
} as const;

export const scheduledMessageResponse = {
  type: 'object',
  required: [
    'scheduleId',
    'from',
    'sessionType',
    'to',
    'msgType',
    'sendAt',
    'status',
    'version',
    'serverMsgId',
    'clientMsgId',
  ],
  properties: {
    scheduleId: int,
    from: int,
    sessionType: int,
    to: int,
    msgType: int,
    sendAt: int,
    status: { type: 'string', enum: ['pending', 'firing', 'sent', 'cancelled', 'failed'] },
    version: int,
    /** Once sent. */
    serverMsgId: int,
    /** What the message is sent with (`sch-<scheduleId>`). */
    clientMsgId: str,
    /** Once failed: the refusal's code. */
    error: str,
  },
} as const;

export const scheduledListResponse = {
  type: 'object',
  required: ['scheduled'],
  properties: { scheduled: { type: 'array', items: scheduledMessageResponse } },
} as const;
