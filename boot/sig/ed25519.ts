// Ed25519 signature verification, RFC 8032 section 5.1.7 (the cofactorless check [S]B = R + [k]A,
// which the RFC allows, with k reduced mod L as OpenSSL and Node do). Only public data passes
// through here (a signature, a public key, a signed header), so nothing needs to be constant time.
// Field elements mod p = 2^255 - 19 are 16 signed limbs of 16 bits in i64 (radix 2^16): a product
// of two limbs and the sum of sixteen stay far below 2^63 without intermediate carries.
// Points are extended twisted Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, added
// with the complete formula for a = -1 (Hisil, Wong, Carter, Dawson 2008, section 3.1), which
// also doubles.
import { sha512Init, sha512Update, sha512Final } from "./sha512";

const FE: usize = 128;       // one field element: 16 x i64
const PT: usize = 4 * FE;    // one point: X, Y, Z, T

// @ts-ignore: decorator
@lazy const consts = memory.data(3 * <i32>FE);  // d, 2d, sqrt(-1)
// @ts-ignore: decorator
@lazy const tmp = memory.data(16 * <i32>FE);    // field temporaries
// @ts-ignore: decorator
@lazy const prod = memory.data(31 * 8);           // a product before reduction
// @ts-ignore: decorator
@lazy const pts = memory.data(5 * <i32>PT);     // B, -A, B - A, the sum, scratch
// @ts-ignore: decorator
@lazy const bytes = memory.data(64);              // encodings, the hash
// @ts-ignore: decorator
@lazy const k = memory.data(36);                  // SHA-512(R || A || M) mod L, u32 limbs
// Constants as 16-bit limbs (computed from their definitions, RFC 8032 5.1): d = -121665/121666,
// 2d, sqrt(-1) = 2^((p-1)/4), and the base point B (y = 4/5, x even) with t = xy.
// @ts-ignore: decorator
@lazy const K16 = memory.data<u16>([
  0x78a3, 0x1359, 0x4dca, 0x75eb, 0xd8ab, 0x4141, 0x0a4d, 0x0070, 0xe898, 0x7779, 0x4079, 0x8cc7, 0xfe73, 0x2b6f, 0x6cee, 0x5203,
  0xf159, 0x26b2, 0x9b94, 0xebd6, 0xb156, 0x8283, 0x149a, 0x00e0, 0xd130, 0xeef3, 0x80f2, 0x198e, 0xfce7, 0x56df, 0xd9dc, 0x2406,
  0xa0b0, 0x4a0e, 0x1b27, 0xc4ee, 0xe478, 0xad2f, 0x1806, 0x2f43, 0xd7a7, 0x3dfb, 0x0099, 0x2b4d, 0xdf0b, 0x4fc1, 0x2480, 0x2b83,
  0xd51a, 0x8f25, 0x2d60, 0xc956, 0xa7b2, 0x9525, 0xc760, 0x692c, 0xdc5c, 0xfdd6, 0xe231, 0xc0a4, 0x53fe, 0xcd6e, 0x36d3, 0x2169,
  0x6658, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666,
  0xdda3, 0xa5b7, 0x8ab3, 0x6dde, 0x52f5, 0x7751, 0x9f80, 0x20f0, 0xe37d, 0x64ab, 0x4e8e, 0x66ea, 0x7665, 0xd78b, 0x5f0f, 0x6787,
]);
// L = 2^252 + 27742317777372353535851937790883648493, the order of B, as u32 limbs.
// @ts-ignore: decorator
@lazy const L = memory.data<u32>([0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de, 0, 0, 0, 0x10000000]);
let ready = false;

// @ts-ignore: decorator
@inline function D(): usize { return consts; }
// @ts-ignore: decorator
@inline function D2(): usize { return consts + FE; }
// @ts-ignore: decorator
@inline function SQRTM1(): usize { return consts + 2 * FE; }
// @ts-ignore: decorator
@inline function T(i: usize): usize { return tmp + i * FE; }
// @ts-ignore: decorator
@inline function get(a: usize, i: usize): i64 { return load<i64>(a + (i << 3)); }
// @ts-ignore: decorator
@inline function put(a: usize, i: usize, v: i64): void { store<i64>(a + (i << 3), v); }

function fcopy(o: usize, a: usize): void { memory.copy(o, a, FE); }
function fsmall(o: usize, v: i64): void { memory.fill(o, 0, FE); put(o, 0, v); }
function fadd(o: usize, a: usize, b: usize): void { for (let i: usize = 0; i < 16; i++) put(o, i, get(a, i) + get(b, i)); }
function fsub(o: usize, a: usize, b: usize): void { for (let i: usize = 0; i < 16; i++) put(o, i, get(a, i) - get(b, i)); }

// Bring every limb into [0, 2^16), the carry out of the top folding back as 38 (2^256 = 38 mod p).
function carry(o: usize): void {
  for (let i: usize = 0; i < 16; i++) {
    const v = get(o, i);
    const c = v >> 16;
    put(o, i, v - (c << 16));
    if (i < 15) put(o, i + 1, get(o, i + 1) + c);
    else put(o, 0, get(o, 0) + 38 * c);
  }
}

// Limbs of a and b brought into [0, 2^16) first, so that each limb product fits 32 bits: the
// Cortex-M0+ multiplies 32 x 32 -> 32 in one instruction, while a 64-bit product is a library call.
// @ts-ignore: decorator
@lazy const na = memory.data(16 * 4);
// @ts-ignore: decorator
@lazy const nb = memory.data(16 * 4);

// @ts-ignore: decorator
@lazy const wide = memory.data(16 * 8);

function normalize(dst: usize, a: usize): void {
  memory.copy(wide, a, FE);
  for (let pass = 0; pass < 8; pass++) {
    let c: i64 = 0;
    for (let i: usize = 0; i < 16; i++) {
      const v = get(wide, i) + c;
      c = v >> 16;
      put(wide, i, v & 0xffff);
    }
    if (c == 0) break;
    put(wide, 0, get(wide, 0) + 38 * c); // 2^256 = 38 (mod p); a borrow comes back the same way
  }
  for (let i: usize = 0; i < 16; i++) store<u32>(dst + (i << 2), <u32>get(wide, i));
}

function fmul(o: usize, a: usize, b: usize): void {
  normalize(na, a);
  normalize(nb, b);
  // Column by column, the sum in a local: one store per column instead of one per product.
  for (let k: usize = 0; k < 31; k++) {
    let acc: u64 = 0;
    const lo: usize = k < 16 ? 0 : k - 15, hi: usize = k < 16 ? k : 15;
    for (let i = lo; i <= hi; i++) acc += <u64>(load<u32>(na + (i << 2)) * load<u32>(nb + ((k - i) << 2)));
    put(prod, k, <i64>acc);
  }
  for (let i: usize = 0; i < 15; i++) put(o, i, get(prod, i) + 38 * get(prod, i + 16));
  put(o, 15, get(prod, 15));
  carry(o);
  carry(o);
}

// a^(2^255 - 21) = 1/a (Fermat). The exponent is 255 ones but for bits 2 and 4.
function finv(o: usize, a: usize): void {
  const c = T(15);
  fcopy(c, a);
  for (let i = 253; i >= 0; i--) { fmul(c, c, c); if (i != 2 && i != 4) fmul(c, c, a); }
  fcopy(o, c);
}

// a^(2^252 - 3) = a^((p - 5) / 8), for the square root in decoding (RFC 8032 5.1.3).
function fpow2523(o: usize, a: usize): void {
  const c = T(15);
  fcopy(c, a);
  for (let i = 250; i >= 0; i--) { fmul(c, c, c); if (i != 1) fmul(c, c, a); }
  fcopy(o, c);
}

// The canonical 32-byte little-endian encoding of a (value reduced below p).
function fpack(out: usize, a: usize): void {
  const t = T(13), m = T(14);
  fcopy(t, a);
  carry(t); carry(t); carry(t);
  for (let j = 0; j < 2; j++) {
    put(m, 0, get(t, 0) - 0xffed);
    for (let i: usize = 1; i < 15; i++) {
      put(m, i, get(t, i) - 0xffff - ((get(m, i - 1) >> 16) & 1));
      put(m, i - 1, get(m, i - 1) & 0xffff);
    }
    put(m, 15, get(t, 15) - 0x7fff - ((get(m, 14) >> 16) & 1));
    const borrow = (get(m, 15) >> 16) & 1;
    put(m, 14, get(m, 14) & 0xffff);
    if (borrow == 0) fcopy(t, m);
  }
  for (let i: usize = 0; i < 16; i++) {
    const v = get(t, i);
    store<u8>(out + 2 * i, <u8>(v & 0xff));
    store<u8>(out + 2 * i + 1, <u8>((v >> 8) & 0xff));
  }
}

function funpack(o: usize, p: usize): void {
  for (let i: usize = 0; i < 16; i++) put(o, i, <i64>load<u8>(p + 2 * i) | (<i64>load<u8>(p + 2 * i + 1) << 8));
  put(o, 15, get(o, 15) & 0x7fff);
}

function fequal(a: usize, b: usize): bool {
  fpack(bytes, a);
  fpack(bytes + 32, b);
  for (let i: usize = 0; i < 32; i++) if (load<u8>(bytes + i) != load<u8>(bytes + 32 + i)) return false;
  return true;
}

function fparity(a: usize): u32 { fpack(bytes, a); return load<u8>(bytes) & 1; }

// ---- points ----
// @ts-ignore: decorator
@inline function X(p: usize): usize { return p; }
// @ts-ignore: decorator
@inline function Y(p: usize): usize { return p + FE; }
// @ts-ignore: decorator
@inline function Z(p: usize): usize { return p + 2 * FE; }
// @ts-ignore: decorator
@inline function TT(p: usize): usize { return p + 3 * FE; }

function neutral(p: usize): void { fsmall(X(p), 0); fsmall(Y(p), 1); fsmall(Z(p), 1); fsmall(TT(p), 0); }

// p = p + q (q may be p).
function padd(p: usize, q: usize): void {
  const a = T(0), b = T(1), c = T(2), d = T(3), e = T(4), f = T(5), g = T(6), h = T(7);
  fsub(a, Y(p), X(p)); fsub(h, Y(q), X(q)); fmul(a, a, h);
  fadd(b, Y(p), X(p)); fadd(h, Y(q), X(q)); fmul(b, b, h);
  fmul(c, TT(p), TT(q)); fmul(c, c, D2());
  fmul(d, Z(p), Z(q)); fadd(d, d, d);
  fsub(e, b, a); fsub(f, d, c); fadd(g, d, c); fadd(h, b, a);
  fmul(X(p), e, f); fmul(Y(p), h, g); fmul(Z(p), g, f); fmul(TT(p), e, h);
}

// p = 2p (dbl-2008-hwcd for a = -1: 4 multiplications and 4 squarings instead of 9 products).
function pdbl(p: usize): void {
  const a = T(0), b = T(1), c = T(2), e = T(4), f = T(5), g = T(6), h = T(7);
  fmul(a, X(p), X(p));
  fmul(b, Y(p), Y(p));
  fmul(c, Z(p), Z(p)); fadd(c, c, c);
  fadd(e, X(p), Y(p)); fmul(e, e, e); fsub(e, e, a); fsub(e, e, b);  // 2xy
  fsub(g, b, a);       // G = D + B with D = -A
  fsub(f, g, c);
  fsmall(h, 0); fsub(h, h, a); fsub(h, h, b); // H = D - B
  fmul(X(p), e, f); fmul(Y(p), g, h); fmul(TT(p), e, h); fmul(Z(p), f, g);
}

// Decode a 32-byte encoding (RFC 8032 5.1.3) into p; false when it is not a point's canonical encoding.
function decode(p: usize, enc: usize): bool {
  const y = Y(p), x = X(p), u = T(8), v = T(9), v3 = T(10), t = T(11), chk = T(12);
  funpack(y, enc);
  fpack(bytes, y);
  for (let i: usize = 0; i < 31; i++) if (load<u8>(bytes + i) != load<u8>(enc + i)) return false; // y >= p
  if (load<u8>(bytes + 31) != (load<u8>(enc + 31) & 0x7f)) return false;
  fsmall(Z(p), 1);
  fmul(u, y, y);                 // u = y^2 - 1, v = d y^2 + 1
  fmul(v, u, D());
  fsub(u, u, Z(p));
  fadd(v, v, Z(p));
  fmul(v3, v, v); fmul(v3, v3, v);          // v^3
  fmul(t, v3, v3); fmul(t, t, v); fmul(t, t, u); // u v^7
  fpow2523(t, t);
  fmul(x, t, u); fmul(x, x, v3);            // x = u v^3 (u v^7)^((p-5)/8)
  fmul(chk, x, x); fmul(chk, chk, v);
  if (!fequal(chk, u)) {
    fsmall(t, 0);
    fsub(t, t, u);
    if (!fequal(chk, t)) return false;      // no square root: not a point
    fmul(x, x, SQRTM1());
  }
  const sign = <u32>(load<u8>(enc + 31) >> 7);
  fsmall(t, 0);
  if (sign == 1 && fequal(x, t)) return false; // x = 0 has no negative
  if (fparity(x) != sign) fsub(x, t, x);
  fmul(TT(p), x, y);
  return true;
}

function encode(out: usize, p: usize): void {
  const zi = T(8), x = T(9), y = T(10);
  finv(zi, Z(p));
  fmul(x, X(p), zi);
  fmul(y, Y(p), zi);
  const par = fparity(x);
  fpack(out, y);
  store<u8>(out + 31, load<u8>(out + 31) ^ <u8>(par << 7));
}

function fromK16(o: usize, k: usize): void {
  for (let i: usize = 0; i < 16; i++) put(o, i, <i64>load<u16>(K16 + ((k * 16 + i) << 1)));
}

function init(): void {
  fromK16(D(), 0);
  fromK16(D2(), 1);
  fromK16(SQRTM1(), 2);
  ready = true;
}

// ---- scalars ----
function scalarBelowL(s: usize): bool {
  for (let i = 7; i >= 0; i--) {
    const a = load<u32>(s + (<usize>i << 2)), b = load<u32>(L + (<usize>i << 2));
    if (a != b) return a < b;
  }
  return false;
}

// k = the 64-byte little-endian number at h, mod L: one bit at a time (r = 2r + bit, minus L
// when it reaches L), simple and fast enough for once per verification.
function reduceModL(h: usize): void {
  memory.fill(k, 0, 36);
  for (let bit = 511; bit >= 0; bit--) {
    let c: u32 = (load<u8>(h + (bit >> 3)) >> <u8>(bit & 7)) & 1;
    for (let i: usize = 0; i < 9; i++) {
      const v = load<u32>(k + (i << 2));
      store<u32>(k + (i << 2), (v << 1) | c);
      c = v >>> 31;
    }
    if (load<u32>(k, 32) != 0 || !scalarBelowL(k)) {
      let borrow: u64 = 0;
      for (let i: usize = 0; i < 8; i++) {
        const diff = <u64>load<u32>(k + (i << 2)) - <u64>load<u32>(L + (i << 2)) - borrow;
        store<u32>(k + (i << 2), <u32>diff);
        borrow = (diff >> 63) & 1;
      }
      store<u32>(k, 0, 32);
    }
  }
}

// @ts-ignore: decorator
@inline function bitOf(s: usize, i: i32): u32 { return (load<u8>(s + (i >> 3)) >> <u8>(i & 7)) & 1; }

/** RFC 8032 5.1.7: is the 64-byte `sig` a signature of the `len` bytes at `msg` by `pub`? */
export function ed25519Verify(sig: usize, pub: usize, msg: usize, len: u32): bool {
  if (!ready) init();
  const S = sig + 32;
  if (!scalarBelowL(S)) return false; // S must be below L (step 1)
  const base = pts, negA = pts + PT, bma = pts + 2 * PT, acc = pts + 3 * PT;
  if (!decode(negA, pub)) return false;
  fromK16(X(base), 3); fromK16(Y(base), 4); fsmall(Z(base), 1); fromK16(TT(base), 5);
  // -A: negate x and t.
  fsmall(T(8), 0);
  fsub(X(negA), T(8), X(negA));
  fsub(TT(negA), T(8), TT(negA));
  memory.copy(bma, base, PT);
  padd(bma, negA);
  // k = SHA-512(R || A || M) mod L (step 2).
  sha512Init();
  sha512Update(sig, 32);
  sha512Update(pub, 32);
  sha512Update(msg, len);
  sha512Final(bytes);
  reduceModL(bytes);
  // [S]B + [k](-A), one doubling per bit for both (Straus), then compare with R (step 3).
  neutral(acc);
  for (let i = 255; i >= 0; i--) {
    pdbl(acc);
    const s = bitOf(S, i), kb = bitOf(k, i);
    if (s != 0 && kb != 0) padd(acc, bma);
    else if (s != 0) padd(acc, base);
    else if (kb != 0) padd(acc, negA);
  }
  encode(bytes, acc);
  for (let i: usize = 0; i < 32; i++) if (load<u8>(bytes + i) != load<u8>(sig + i)) return false;
  return true;
}
