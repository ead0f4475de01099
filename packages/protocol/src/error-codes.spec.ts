import { CIM } from './generated/proto';
import {
  CimErrorCode,
  CLIENT_FAULTS,
  errorNumberOf,
  isClientFault,
  FrameError,
  ImErrorNumber,
  MqimError,
  ProtocolError,
  toErrorNotify,
} from './error-codes';

describe('error codes', () => {
  it('error codes - CimErrorCode agrees with CIM.Def.CIMErrorCode in the .proto files', () => {
    const fromProto: Record<string, number> = {};
    for (const [name, value] of Object.entries(CIM.Def.CIMErrorCode)) {
      if (typeof value === 'number') fromProto[name.replace(/^ERR_/, '')] = value;
    }
    expect({ ...CimErrorCode }).toEqual(fromProto);
    expect(CimErrorCode.SUCCESS).toBe(200);
  });

  it('error codes - mqim numbers are unique, at least 10000, and named IM_ERR_*', () => {
    const numbers = Object.values(ImErrorNumber);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const [name, n] of Object.entries(ImErrorNumber)) {
      expect(name).toMatch(/^IM_ERR_[A-Z_]+$/);
      expect(n).toBeGreaterThanOrEqual(10000);
    }
  });

  it('error codes - the protocol codes have the numbers the docs list', () => {
    expect(ImErrorNumber.IM_ERR_FRAME_LENGTH).toBe(10001);
    expect(ImErrorNumber.IM_ERR_BAD_BODY).toBe(10003);
    expect(ImErrorNumber.IM_ERR_ID_OUT_OF_RANGE).toBe(10005);
  });

  it('error codes - errors are classes with a stable code and its number', () => {
    const err = new FrameError('IM_ERR_FRAME_LENGTH', 'frame length 3 outside 16..1048576');
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toBeInstanceOf(MqimError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('FrameError');
    expect(err.code).toBe('IM_ERR_FRAME_LENGTH');
    expect(err.errorNumber).toBe(10001);
  });

  it('error codes - unknown codes map to IM_ERR_UNKNOWN', () => {
    expect(errorNumberOf('IM_ERR_SOMETHING_NEW')).toBe(ImErrorNumber.IM_ERR_UNKNOWN);
  });

  it('error codes - a notify for an mqim error carries its code, name, text and the request', () => {
    const err = new MqimError('IM_ERR_FORBIDDEN', 'not a member of group 7');
    expect(toErrorNotify(err, { cmd: 0x0301, seq: 12 })).toEqual({
      errorCode: 10201,
      errorName: 'IM_ERR_FORBIDDEN',
      text: 'not a member of group 7',
      requestCmd: 0x0301,
      requestSeq: 12,
    });
  });

  it('error codes - a notify never leaks the message of an unexpected error', () => {
    const notify = toErrorNotify(new Error('connect ECONNREFUSED 10.0.0.5:3306'));
    expect(notify).toEqual({
      errorCode: ImErrorNumber.IM_ERR_INTERNAL,
      errorName: 'IM_ERR_INTERNAL',
      text: 'internal error',
      requestCmd: 0,
      requestSeq: 0,
    });
  });

  it("error codes - another package's IM_ERR_* code reaches the wire as IM_ERR_UNKNOWN, without its text", () => {
    const busError = Object.assign(new Error('proxy 10.0.0.9:8081 unreachable'), {
      code: 'IM_ERR_BUS_UNAVAILABLE',
    });
    // Only names of the registry are sent: a client cannot look up a name the docs do not list.
    expect(toErrorNotify(busError)).toMatchObject({
      errorCode: ImErrorNumber.IM_ERR_UNKNOWN,
      errorName: 'IM_ERR_UNKNOWN',
      text: 'internal error',
    });
  });

  it("fault - a decode or refusal code is the client's; a bug (TypeError, RangeError) or a dependency is ours", () => {
    expect(isClientFault(new ProtocolError('IM_ERR_BAD_BODY', 'bad'))).toBe(true);
    expect(isClientFault(new MqimError('IM_ERR_FORBIDDEN', 'no'))).toBe(true);
    // The store refusing a value from the request (StoreInvalidArgumentError) carries this code.
    expect(
      isClientFault(Object.assign(new Error('name too long'), { code: 'IM_ERR_INVALID_ARGUMENT' })),
    ).toBe(true);
    expect(isClientFault(new TypeError("Cannot read properties of undefined (reading 'groupId')"))).toBe(
      false,
    );
    expect(isClientFault(new RangeError('Invalid array length'))).toBe(false);
    expect(isClientFault(Object.assign(new Error('down'), { code: 'IM_ERR_STORE_UNAVAILABLE' }))).toBe(false);
    expect(isClientFault(new MqimError('IM_ERR_INTERNAL', 'bug'))).toBe(false);
    expect(isClientFault(new MqimError('IM_ERR_BUSY', 'full'))).toBe(false);
    expect(isClientFault(undefined)).toBe(false);
  });

  it('fault - every client-fault code is in a client group of the registry (100xx framing, 102xx the request)', () => {
    for (const code of CLIENT_FAULTS) {
      const group = Math.floor(ImErrorNumber[code] / 100);
      expect([100, 102]).toContain(group);
    }
  });

  it('error codes - the notify fields encode as a MqimErrorNotify', () => {
    const notify = toErrorNotify(new ProtocolError('IM_ERR_BAD_BODY', 'bad'), { cmd: 0x0205, seq: 2 });
    const back = CIM.Ext.MqimErrorNotify.decode(CIM.Ext.MqimErrorNotify.encode(notify).finish());
    expect(back).toMatchObject(notify);
  });
});
