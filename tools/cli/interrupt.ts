// Ctrl-C in the middle of a command: what state the board is left in, in words a person can act
// on. The bootloader invalidates its update record before the first change to flash in a download
// (boot/dfu/dfu.ts beginChange), so a flash stopped half way leaves an image the board will not
// start; reads change nothing.

export type Command = "flash" | "verify" | "read" | "erase" | "boot" | "info";

/** How far a command got on one board: its last progress phase and the bytes written so far. */
export interface Where { phase: string; written: number }

export function interruptedState(command: Command, at: Where): string {
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  switch (command) {
    case "flash":
      if (at.phase === "open" || at.phase === "check") {
        return "interrupted before anything was written: the board stays in DFU mode with the image it had; run flash again";
      }
      if (at.phase === "manifest") {
        return "interrupted while the board checked and recorded the image: it records it only if all of it arrived " +
          "(flash.ts info shows the record); run flash again to be sure, nothing it holds is sent twice";
      }
      return `interrupted while writing (${kib(at.written)} written): the board stays in DFU mode and its image is not recorded, ` +
        "so it will not start a half-written image; run flash again: only the sectors that differ are sent";
    case "erase":
      return "interrupted: the board stays in DFU mode; if the erase had begun, no image is recorded any more (the record goes " +
        "first) and part of the application region may still hold data: run erase again";
    case "verify":
    case "read":
    case "info":
      return "interrupted: reading changes nothing on the board; it stays in DFU mode";
    case "boot":
      return "interrupted: the board may or may not have started its application (flash.ts list shows whether it is still in DFU mode)";
  }
}

/** Run `handler` on the first SIGINT or SIGTERM until the returned function is called. */
export function onInterrupt(handler: () => void): () => void {
  const h = () => handler();
  process.once("SIGINT", h);
  process.once("SIGTERM", h);
  return () => { process.off("SIGINT", h); process.off("SIGTERM", h); };
}
