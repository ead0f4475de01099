import { CIM } from '@mqim/protocol';
import type { MessageRecord, SessionRecord, UserRecord } from '@mqim/store';

export function toUserInfo(u: UserRecord): CIM.Def.ICIMUserInfo {
  return {
    userId: u.userId,
    nickName: u.nickName,
    nickNameSpell: u.nickNameSpell ?? '',
    phone: u.phone ?? '',
    avatarUrl: u.avatarUrl ?? '',
    attachInfo: u.attachInfo ?? '',
  };
}

export function toMsgInfo(m: MessageRecord): CIM.Def.ICIMMsgInfo {
  return {
    clientMsgId: m.clientMsgId,
    serverMsgId: m.serverMsgId,
    msgResCode: CIM.Def.CIMResCode.RES_CODE_OK,
    msgFeature: CIM.Def.CIMMsgFeature.MSG_FEATURE_DEFAULT,
    sessionType: m.sessionType,
    fromUserId: m.fromUserId,
    toSessionId: m.toSessionId,
    createTime: m.createTime,
    msgType: m.msgType,
    // A recalled message reads as SEND_CANCEL with no body (docs/adr/0013).
    msgStatus: m.recalled
      ? CIM.Def.CIMMsgStatus.MSG_STATUS_SEND_CANCEL
      : CIM.Def.CIMMsgStatus.MSG_STATUS_SENT,
    msgData: m.msgData,
    attach: m.attach ?? '',
    senderClientType: m.senderClientType,
  };
}

export function toContactSession(s: SessionRecord): CIM.Def.ICIMContactSessionInfo {
  return {
    sessionId: s.sessionId,
    sessionType: s.sessionType,
    sessionStatus: CIM.Def.CIMSessionStatusType.SESSION_STATUS_OK,
    unreadCnt: s.unreadCnt,
    updatedTime: s.updatedTime,
    msgId: s.lastMessage.clientMsgId,
    serverMsgId: s.lastMessage.serverMsgId,
    msgTimeStamp: s.lastMessage.createTime,
    msgData: s.lastMessage.msgData,
    msgType: s.lastMessage.msgType,
    msgFromUserId: s.lastMessage.fromUserId,
    msgStatus: CIM.Def.CIMMsgStatus.MSG_STATUS_SENT,
    msgAttach: s.lastMessage.attach,
    extendData: '',
    isRobotSession: false,
  };
}
