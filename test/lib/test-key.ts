// A fixed Ed25519 key for tests and benchmarks only (its seed is public, in this file): a
// fixed key keeps the signed firmware builds cached between runs. Never sign anything real with it.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { lockKeyOf } from "../../tools/cli/lock";

const SEED = "5173706962 6f6f742074657374206b6579206f6e6c793a206e6f7420736563726574".replace(/ /g, "").padEnd(64, "0");
const PKCS8_ED25519_PREFIX = "302e020100300506032b657004220420"; // RFC 8410 PrivateKeyInfo for a 32-byte seed

export const TEST_PRIVATE_KEY: KeyObject = createPrivateKey({ key: Buffer.from(PKCS8_ED25519_PREFIX + SEED.slice(0, 64), "hex"), format: "der", type: "pkcs8" });
export const TEST_PUBLIC_KEY: Uint8Array = new Uint8Array(createPublicKey(TEST_PRIVATE_KEY).export({ format: "der", type: "spki" }).subarray(12));
/** The lock key of a locked board built for the test key (tools/cli/lock.ts derives it). */
export const TEST_LOCK_KEY: Uint8Array = lockKeyOf(TEST_PRIVATE_KEY);
