import { ALICE, BOB, CAROL, errorPathCases, parityCases, startHarness, type ClientHarness } from './testing';

/**
 * The error paths on the fake server. apps/standalone/src/sdk-real-server.e2e-spec.ts runs the
 * same cases on the real standalone: a code the fake answers differently fails there or here.
 */
describe('ImClient - error paths and parity calls on the fake server (the same cases run on the real one)', () => {
  let h: ClientHarness;
  beforeEach(async () => {
    h = await startHarness({
      groups: [{ groupId: 100, name: 'team', ownerId: ALICE.userId, memberIds: [BOB.userId] }],
    });
  });
  afterEach(() => h.close());

  const users = { a: ALICE, b: BOB, c: CAROL };
  it.each([...errorPathCases, ...parityCases])('%s', (_name, run) =>
    run({
      login: (who) => h.login(users[who]),
      wrongPassword: () => h.client().loginWithPassword(CAROL.userName, 'nope'),
      ids: {
        a: ALICE.userId,
        b: BOB.userId,
        c: CAROL.userId,
        group: 100,
        missingUser: 999,
        missingGroup: 998,
      },
      maxMsgDataBytes: 8 * 1024,
    }),
  );
});
