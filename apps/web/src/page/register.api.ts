import { passwordMd5 } from '@mqim/sdk/browser';

/**
 * Creates an account through the CoffeeChat register endpoint (the password travels as its MD5,
 * as every CIM client sends it). Resolves when the account exists; rejects with the server's words.
 */
export async function registerUser(userName: string, password: string): Promise<void> {
  const res = await fetch('/user/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userName, userNickName: userName, userPwd: passwordMd5(password) }),
  });
  let answer: { error_code?: number; error_msg?: string } = {};
  try {
    answer = (await res.json()) as typeof answer;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (answer.error_code !== 200) {
    throw new Error(answer.error_msg || `registration failed (HTTP ${res.status})`);
  }
}
