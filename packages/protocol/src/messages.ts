import { bodyTypesOf } from './body-types';
import { CIM } from './generated/proto';

/** The server's registry, on the full generated module. */
export const bodyTypes = bodyTypesOf(CIM);

export type { AnyBody, BodyInput, BodyOf } from './body-types';
