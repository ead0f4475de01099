import { md5Hex } from './md5';

const MD5_HEX = /^[0-9a-fA-F]{32}$/;

/**
 * CIMAuthReq.user_pwd is the lower-case hex MD5 of the password. A 32-hex-digit input is taken as
 * that digest already (so callers may store digests rather than passwords); anything else is
 * hashed. A plain password that happens to be 32 hex digits must therefore be hashed by the caller.
 */
export function passwordMd5(passwordPlainOrMd5: string): string {
  if (MD5_HEX.test(passwordPlainOrMd5)) return passwordPlainOrMd5.toLowerCase();
  return md5Hex(passwordPlainOrMd5);
}
