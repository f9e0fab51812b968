// A Wasm entry for tests only (test/ed25519.test.ts): the verifier and the hashes over a
// scratch buffer the test fills. Needs no HAL.
import { ed25519Verify } from "./ed25519";
import { sha256Init, sha256Update, sha256Final } from "./sha256";
import { sha512Init, sha512Update, sha512Final } from "./sha512";

const scratch = memory.data(8192);
export function buffer(): usize { return scratch; }
export function verify(sig: usize, pub: usize, msg: usize, len: u32): i32 { return ed25519Verify(sig, pub, msg, len) ? 1 : 0; }
// Hash n bytes at p in pieces of `piece` bytes (0: all at once).
export function sha256(p: usize, n: u32, out: usize, piece: u32): void {
  sha256Init();
  if (piece == 0) piece = n;
  for (let o: u32 = 0; o < n; o += piece) sha256Update(p + o, n - o < piece ? n - o : piece);
  sha256Final(out);
}
export function sha512(p: usize, n: u32, out: usize, piece: u32): void {
  sha512Init();
  if (piece == 0) piece = n;
  for (let o: u32 = 0; o < n; o += piece) sha512Update(p + o, n - o < piece ? n - o : piece);
  sha512Final(out);
}
