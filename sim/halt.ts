// Thrown through the Wasm frames by HAL calls that never return on hardware.
export class BoardHalt extends Error {
  constructor(readonly kind: "jump" | "reset" | "power", readonly vectors = 0) {
    super(`board halt: ${kind}${kind === "jump" ? " 0x" + vectors.toString(16) : ""}`);
  }
}
/** Thrown by the flash model when a test cuts power at a flash operation. */
export class PowerCut extends BoardHalt {
  constructor(readonly at: string) { super("power"); }
}
