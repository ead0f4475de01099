import { conversationKey } from './conversation';

describe('conversationKey', () => {
  it('conversation - both directions of a single chat share one key', () => {
    expect(conversationKey(1, 10001, 10002)).toBe('s:10001:10002');
    expect(conversationKey(1, 10002, 10001)).toBe('s:10001:10002');
  });

  it('conversation - ids compare as numbers, not strings', () => {
    expect(conversationKey(1, 9, 10)).toBe('s:9:10');
  });

  it('conversation - a group is keyed by the group alone', () => {
    expect(conversationKey(2, 10001, 7)).toBe('g:7');
    expect(conversationKey(2, 10002, 7)).toBe('g:7');
  });

  it('conversation - an invalid session type still gets a key, scoped to the user', () => {
    expect(conversationKey(0, 10001, 7)).toBe('u:10001');
    expect(conversationKey(9, 10001, 7)).toBe('u:10001');
  });
});
