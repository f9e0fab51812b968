// String descriptors (USB 2.0 9.6.7) from ASCII: the core keeps text as bytes, never as AS strings.

// Write a string descriptor for `len` ASCII bytes at `src` into `dst`; returns its length.
export function stringDescriptor(dst: usize, src: usize, len: i32): i32 {
  if (len > 126) len = 126; // bLength is one byte
  const total = 2 + 2 * len;
  store<u8>(dst, <u8>total);
  store<u8>(dst, 3, 1);
  for (let i = 0; i < len; i++) store<u16>(dst + 2 + 2 * i, load<u8>(src + i));
  return total;
}

const HEX = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70]);

// Write `n` bytes at `src` as 2n upper-case hex digits at `dst`; returns 2n.
export function hexAscii(dst: usize, src: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const b = load<u8>(src + i);
    store<u8>(dst + 2 * i, load<u8>(HEX + (b >> 4)));
    store<u8>(dst + 2 * i + 1, load<u8>(HEX + (b & 15)));
  }
  return 2 * n;
}

// Write `value` as "0x" and 8 hex digits at `dst`; returns 10.
export function hex32(dst: usize, value: u32): i32 {
  store<u8>(dst, 48); store<u8>(dst, 120, 1);
  for (let i = 0; i < 8; i++) store<u8>(dst + 2 + i, load<u8>(HEX + ((value >> (28 - 4 * i)) & 15)));
  return 10;
}

// Write `value` in decimal at `dst`, at least `width` digits; returns the digit count.
export function decimal(dst: usize, value: u32, width: i32): i32 {
  let n = 0;
  let v = value;
  do { n++; v /= 10; } while (v != 0);
  if (n < width) n = width;
  for (let i = n - 1; i >= 0; i--) { store<u8>(dst + i, <u8>(48 + value % 10)); value /= 10; }
  return n;
}
