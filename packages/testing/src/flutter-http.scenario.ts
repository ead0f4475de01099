import { createImClient } from '@mqim/sdk';

export interface FlutterHttpOptions {
  /** The api's base URL (http://host:port). */
  apiUrl: string;
  /** A gate the registered user logs in on (tcp://… or ws://…/ws). */
  gateUrl: string;
  /** A CoffeeChat-style user id no other test uses. */
  userId: number;
}

/**
 * Issue 12 #2 end to end: CoffeeChat's Flutter client registers with a short token (5-7
 * characters, refused before), logs in on a gate with it, and reads its nickname back and asks
 * for a generated one over the HTTP routes it calls — byte-exact legacy replies.
 */
export async function runFlutterHttpScenario(o: FlutterHttpOptions): Promise<void> {
  const token = 'tk6789';
  const reg = await fetch(`${o.apiUrl}/user/register`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ user_id: o.userId, user_nick_name: `Flu ${o.userId}`, user_token: token }),
  });
  expect(await reg.text()).toBe('{"error_code":0,"error_msg":"success"}');

  const client = createImClient({ url: o.gateUrl, reconnect: false, requestTimeoutMs: 15_000 });
  try {
    const login = await client.loginWithToken(o.userId, token);
    expect(login.user.userId).toBe(o.userId);
  } finally {
    await client.close();
  }

  const query = await fetch(`${o.apiUrl}/user/nickname/query?user_id=${o.userId}`);
  expect(await query.text()).toBe(`{"error_code":0,"error_msg":"success","nick_name":"Flu ${o.userId}"}`);
  const generated = (await (await fetch(`${o.apiUrl}/user/nickname/generate?version=1`)).json()) as {
    error_code: number;
    nick_name: string;
  };
  expect(generated.error_code).toBe(200);
  expect(generated.nick_name).toMatch(/^[A-Za-z]+[0-9]{1,2}$/);
}
