import {
  ClientCapability,
  CIM,
  CimErrorCode,
  CommandId,
  encodeFrame,
  encodeMessageFrame,
  toId,
  type Frame,
} from '@mqim/protocol';
import type { ConnectionEvents, LoadConnection } from './load.connection';
import { openTcpLink, openWsLink, type FrameLink } from './frame.link';
import type { UserSpec } from './worker.protocol';

interface Pending {
  expect: number;
  resolve(frame: Frame): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A CIM client on the bare codec: login, send, receipts, heartbeats and group creation, nothing
 * else (no SDK: its bookkeeping would make the generator, not the server, the bottleneck).
 * Also drives the bare ws relay, which forwards the same frames without login or ack.
 */
export class CimConnection implements LoadConnection {
  receipts = false;
  private link: FrameLink | null = null;
  private open_ = false;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly viaRelay: boolean;

  constructor(
    readonly user: UserSpec,
    private readonly events: ConnectionEvents,
  ) {
    this.viaRelay = user.endpoint.kind === 'relay-ws';
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.link?.close();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      let opened = false;
      const handlers = {
        onOpen: () => {
          opened = true;
          this.open_ = true;
          clearTimeout(timer);
          resolve();
        },
        onFrame: (frame: Frame) => this.onFrame(frame),
        onClose: (reason: string) => {
          clearTimeout(timer);
          const wasOpen = this.open_;
          this.open_ = false;
          for (const p of this.pending.values()) {
            clearTimeout(p.timer);
            p.reject(new Error(reason));
          }
          this.pending.clear();
          if (!opened) reject(new Error(reason));
          else if (wasOpen) this.events.onClose(reason);
        },
      };
      const ep = this.user.endpoint;
      if (ep.kind === 'cim-tcp') this.link = openTcpLink(ep.host, ep.port, this.user.localAddress, handlers);
      else if (ep.kind === 'cim-ws' || ep.kind === 'relay-ws') {
        const url =
          ep.kind === 'relay-ws' ? `${ep.url}?id=${this.user.userId}&peer=${this.user.peerId}` : ep.url;
        this.link = openWsLink(url, this.user.localAddress, handlers);
      } else throw new Error(`CimConnection cannot speak ${ep.kind}`);
    });
    if (this.viaRelay) return;
    // Announced like the SDK does (ADR 0012): without it the gate takes this for a CoffeeChat client
    // and keeps refused sends' 0x0302 from it, so the bench would count refusals as unacked.
    this.link?.write(
      encodeMessageFrame(CommandId.CLIENT_CAPABILITIES_REQ, this.nextSeq(), {
        flags: ClientCapability.SELF_SYNC | ClientCapability.REFUSED_SEND_ACK,
      }),
    );
    const rsp = await this.request(
      CommandId.LOGIN_AUTH_REQ,
      CommandId.LOGIN_AUTH_RSP,
      CIM.Login.CIMAuthReq.encode({
        userName: this.user.userName,
        userPwd: this.user.pwdMd5,
        clientType: CIM.Def.CIMClientType.CLIENT_TYPE_DEFAULT,
        clientVersion: 'mqim-bench/1',
      }).finish(),
      timeoutMs,
    );
    const auth = CIM.Login.CIMAuthRsp.decode(rsp.body);
    if (auth.resultCode !== CimErrorCode.SUCCESS) {
      this.close();
      throw new Error(`login refused: ${auth.resultCode} ${auth.resultString}`);
    }
  }

  sendChat(toId_: number, sessionType: 1 | 2, clientMsgId: string, payload: Buffer): void {
    this.link?.write(
      encodeMessageFrame(CommandId.MSG_DATA, this.nextSeq(), {
        fromUserId: this.user.userId,
        toSessionId: toId_,
        clientMsgId,
        msgType: CIM.Def.CIMMsgType.MSG_TYPE_TEXT,
        sessionType,
        msgData: payload,
      }),
    );
  }

  heartbeat(): void {
    this.link?.write(encodeFrame(CommandId.LOGIN_HEARTBEAT, this.nextSeq()));
  }

  async createGroup(name: string, memberIds: number[], timeoutMs: number): Promise<number> {
    const rsp = await this.request(
      CommandId.GROUP_CREATE_DEFAULT_REQ,
      CommandId.GROUP_CREATE_DEFAULT_RSP,
      CIM.Group.CIMGroupCreateReq.encode({
        userId: this.user.userId,
        groupName: name,
        memberIdList: memberIds,
      }).finish(),
      timeoutMs,
    );
    const body = CIM.Group.CIMGroupCreateRsp.decode(rsp.body);
    if (body.resultCode !== CimErrorCode.SUCCESS || !body.groupInfo)
      throw new Error(`group create refused: ${body.resultCode}`);
    return toId(body.groupInfo.groupId ?? 0);
  }

  close(): void {
    this.open_ = false;
    this.link?.close();
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0xffff ? 1 : this.seq + 1;
    return this.seq;
  }

  private request(cmd: number, expect: number, body: Uint8Array, timeoutMs: number): Promise<Frame> {
    const seq = this.nextSeq();
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`no answer to 0x${cmd.toString(16)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, { expect, resolve, reject, timer });
      this.link?.write(encodeFrame(cmd, seq, body));
    });
  }

  private onFrame(frame: Frame): void {
    const waiting = this.pending.get(frame.seq);
    if (waiting && waiting.expect === frame.commandId) {
      this.pending.delete(frame.seq);
      clearTimeout(waiting.timer);
      waiting.resolve(frame);
      return;
    }
    switch (frame.commandId) {
      case CommandId.MSG_DATA:
        return this.onDelivery(frame);
      case CommandId.MSG_DATA_ACK: {
        const ack = CIM.Message.CIMMsgDataAck.decode(frame.body);
        this.events.onAck(ack.clientMsgId, ack.resCode === CIM.Def.CIMResCode.RES_CODE_OK);
        return;
      }
      case CommandId.LOGIN_HEARTBEAT:
        this.events.onHeartbeatReply();
        return;
      case CommandId.ERROR_NOTIFY: {
        const e = CIM.Ext.MqimErrorNotify.decode(frame.body);
        this.events.onErrorNotice(e.errorName);
        return;
      }
      case CommandId.KICK_OUT_NOTIFY: {
        const k = CIM.Ext.MqimKickOutNotify.decode(frame.body);
        this.events.onErrorNotice(`kicked: ${k.text}`);
        return;
      }
    }
  }

  private onDelivery(frame: Frame): void {
    const msg = CIM.Message.CIMMsgData.decode(frame.body);
    this.events.onDeliver(this.user.userId, msg.clientMsgId, msg.sessionType, msg.msgData);
    if (!this.receipts || this.viaRelay) return;
    this.link?.write(
      encodeMessageFrame(CommandId.MSG_DATA_ACK, this.nextSeq(), {
        fromUserId: this.user.userId,
        toSessionId:
          msg.sessionType === CIM.Def.CIMSessionType.SESSION_TYPE_GROUP ? msg.toSessionId : msg.fromUserId,
        clientMsgId: msg.clientMsgId,
        serverMsgId: msg.serverMsgId,
        resCode: CIM.Def.CIMResCode.RES_CODE_OK,
        sessionType: msg.sessionType,
      }),
    );
  }
}
