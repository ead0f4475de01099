// Test helpers for `Store` implementations; import from tests only (`@mqim/store/testing`).
export { runStoreContract, type RawPasswords, type StoreContractTarget } from './store.contract';
