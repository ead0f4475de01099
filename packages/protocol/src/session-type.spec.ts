import { CIM } from './generated/proto';
import { SessionType, isSessionType } from './session-type';

describe("session type - one definition, the protocol's", () => {
  it('session type - agrees with CIMSessionType in the .proto files', () => {
    expect([SessionType.SINGLE, SessionType.GROUP]).toEqual([
      CIM.Def.CIMSessionType.SESSION_TYPE_SINGLE,
      CIM.Def.CIMSessionType.SESSION_TYPE_GROUP,
    ]);
    expect([1, 2, 0, 3, '1', undefined].map(isSessionType)).toEqual([true, true, false, false, false, false]);
  });
});
