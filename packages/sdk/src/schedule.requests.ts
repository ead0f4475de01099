import { CommandId, type CIM } from '@mqim/protocol/client';
import { id } from './cim.mapper';
import type { RequestOptions, ScheduleInput, ScheduledMessage } from './im.types';
import { checkId, type Requester } from './requester';

// Scheduled messages (mqim extension 0x0860-0x0867, docs/protocol.md).

const TEXT = 1;

function toScheduled(s: CIM.Schedule.IMqimScheduledMsg | null | undefined): ScheduledMessage {
  const msgType = s?.msgType ?? 0;
  const data = new Uint8Array(s?.msgData ?? new Uint8Array(0));
  return {
    scheduleId: id(s?.scheduleId, 'schedule_id'),
    sessionType: s?.sessionType ?? 0,
    to: id(s?.toSessionId, 'to_session_id'),
    msgType,
    data,
    text: msgType === TEXT ? new TextDecoder().decode(data) : undefined,
    sendAt: id(s?.sendAtMs, 'send_at_ms'),
    status: (s?.status ?? 'pending') as ScheduledMessage['status'],
    version: s?.version ?? 0,
    serverMsgId: id(s?.serverMsgId, 'server_msg_id'),
  };
}

export async function scheduleMessage(
  rq: Requester,
  input: ScheduleInput,
  options?: RequestOptions,
): Promise<ScheduledMessage> {
  const data = input.data ?? new TextEncoder().encode(input.text ?? '');
  const { body } = await rq.call(
    CommandId.SCHEDULE_CREATE_REQ,
    () => ({
      sessionType: input.sessionType ?? 1,
      toSessionId: checkId(input.to, 'to'),
      msgType: input.msgType ?? TEXT,
      msgData: data,
      sendAtMs: checkId(input.sendAt, 'sendAt'),
    }),
    CommandId.SCHEDULE_CREATE_RSP,
    options,
  );
  return toScheduled(body.scheduled);
}

export async function scheduledMessages(
  rq: Requester,
  options?: RequestOptions,
): Promise<ScheduledMessage[]> {
  const { body } = await rq.call(
    CommandId.SCHEDULE_LIST_REQ,
    () => ({}),
    CommandId.SCHEDULE_LIST_RSP,
    options,
  );
  return body.scheduled.map(toScheduled);
}

export async function cancelScheduled(
  rq: Requester,
  scheduleId: number,
  options?: RequestOptions,
): Promise<void> {
  await rq.call(
    CommandId.SCHEDULE_CANCEL_REQ,
    () => ({ scheduleId: checkId(scheduleId, 'scheduleId') }),
    CommandId.SCHEDULE_CANCEL_RSP,
    options,
  );
}

export async function reschedule(
  rq: Requester,
  scheduleId: number,
  sendAt: number,
  options?: RequestOptions,
): Promise<ScheduledMessage> {
  const { body } = await rq.call(
    CommandId.SCHEDULE_UPDATE_REQ,
    () => ({ scheduleId: checkId(scheduleId, 'scheduleId'), sendAtMs: checkId(sendAt, 'sendAt') }),
    CommandId.SCHEDULE_UPDATE_RSP,
    options,
  );
  return toScheduled(body.scheduled);
}
