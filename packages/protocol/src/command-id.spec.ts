import {
  CommandId,
  commandName,
  describeCommand,
  isAllowedBeforeLogin,
  isExtensionCommand,
  isKnownCommand,
  responseCommandOf,
  type CommandName,
} from './command-id';
import { CIM } from './generated/proto';
import { bodyTypes } from './messages';

const entries = Object.entries(CommandId) as [CommandName, number][];

describe('command ids', () => {
  it('command ids - the quirky group ids are 0x0510 and 0x0514', () => {
    expect(CommandId.GROUP_INFO_RSP).toBe(0x0510);
    expect(CommandId.GROUP_KICK_OUT_MEMBER_RSP).toBe(0x0514);
    expect(CommandId.GROUP_MEMBER_CHANGED_NOTIFY).toBe(0x0515);
  });

  it('command ids - agree with CIM.Def.CIMCmdID and CIM.Ext.MqimCmdID in the .proto files', () => {
    const fromProto = new Map<string, number>();
    for (const [name, value] of Object.entries(CIM.Def.CIMCmdID)) {
      if (typeof value === 'number' && value !== 0) fromProto.set(name.replace(/^CID_/, ''), value);
    }
    for (const [name, value] of Object.entries(CIM.Ext.MqimCmdID)) {
      if (typeof value === 'number' && value !== 0) fromProto.set(name.replace(/^MQIM_CID_/, ''), value);
    }
    expect(new Map(entries)).toEqual(fromProto);
  });

  it('command ids - are unique 16-bit values', () => {
    const ids = entries.map(([, id]) => id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id > 0 && id <= 0xffff).toBe(true);
  });

  it('command ids - every command has a body type', () => {
    for (const [name, id] of entries)
      expect({ name, type: typeof bodyTypes[id as CommandId] }).toEqual({ name, type: 'function' });
  });

  it('command ids - only the two login requests are allowed before login', () => {
    const allowed = entries.filter(([, id]) => isAllowedBeforeLogin(id)).map(([name]) => name);
    expect(allowed.sort()).toEqual(['LOGIN_AUTH_REQ', 'LOGIN_AUTH_TOKEN_REQ']);
    expect(isAllowedBeforeLogin(0x0999)).toBe(false);
  });

  it('command ids - names for metrics collapse unknown ids into one label', () => {
    expect(commandName(0x0301)).toBe('MSG_DATA');
    expect(commandName(0x0802)).toBe('ERROR_NOTIFY');
    expect(commandName(0x050a)).toBe('UNKNOWN');
    expect(commandName(0x9999)).toBe('UNKNOWN');
  });

  it('command ids - log descriptions keep the raw id', () => {
    expect(describeCommand(0x0510)).toBe('GROUP_INFO_RSP(0x0510)');
    expect(describeCommand(0x0999)).toBe('UNKNOWN(0x0999)');
    expect(describeCommand(0x12)).toBe('UNKNOWN(0x0012)');
  });

  it('command ids - known and extension ranges', () => {
    expect(isKnownCommand(0x0105)).toBe(true);
    expect(isKnownCommand(0x0106)).toBe(false);
    expect(isExtensionCommand(0x0801)).toBe(true);
    expect(isExtensionCommand(0x08ff)).toBe(true);
    expect(isExtensionCommand(0x0900)).toBe(false);
    expect(isExtensionCommand(0x0601)).toBe(false);
  });

  it('command ids - responses: kick-out answers 0x0514, a send is answered by its ack, a read ack by nothing', () => {
    expect(responseCommandOf(CommandId.GROUP_KICK_OUT_MEMBER_REQ)).toBe(0x0514);
    expect(responseCommandOf(CommandId.GROUP_INFO_REQ)).toBe(0x0510);
    expect(responseCommandOf(CommandId.MSG_DATA)).toBe(CommandId.MSG_DATA_ACK);
    expect(responseCommandOf(CommandId.LOGIN_HEARTBEAT)).toBe(CommandId.LOGIN_HEARTBEAT);
    expect(responseCommandOf(CommandId.MSG_READ_ACK)).toBeUndefined();
    expect(responseCommandOf(CommandId.MSG_DATA_ACK)).toBeUndefined();
  });

  it('command ids - every *_REQ has a response, and it is the next *_RSP by name', () => {
    for (const [name, id] of entries) {
      if (!name.endsWith('_REQ')) continue;
      const rsp = responseCommandOf(id);
      expect({ name, rsp: rsp === undefined ? undefined : commandName(rsp) }).toEqual({
        name,
        rsp: name === 'VOIP_INVITE_REQ' ? 'VOIP_INVITE_REPLY' : name.replace(/_REQ$/, '_RSP'),
      });
    }
  });
});
