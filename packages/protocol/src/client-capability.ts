/**
 * What a connection announced with 0x0803 (bits of `MqimClientCapabilitiesReq.flags`, the enum
 * `CIM.Compat.MqimClientCapability`). A connection that announced nothing is taken for one of
 * CoffeeChat's clients (docs/adr/0012). Plain numbers: the browser SDK imports this without the
 * server's generated module.
 */
export const ClientCapability = {
  /** Copies of the user's own sends from its other devices (0x0301, from_user_id = self). */
  SELF_SYNC: 1,
  /** A refused send is answered 0x0302 with res_code != OK before the 0x0802. */
  REFUSED_SEND_ACK: 2,
} as const;

/** Every flag this server applies; others a client names are ignored. */
export const SUPPORTED_CAPABILITIES = ClientCapability.SELF_SYNC | ClientCapability.REFUSED_SEND_ACK;
