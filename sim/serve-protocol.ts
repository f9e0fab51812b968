// The simulator's USB socket protocol (../shared/notes/usb-socket.md): request frames in, one
// reply per request, in order. Frames carry no length: every length follows from the op.
import type { SimBoard } from "./board";
import type { SimUsbHost } from "./usb-host";

export const OP = { CONTROL: 1, RESET: 2, INFO: 3, READ_FLASH: 4, POWER_CYCLE: 5 } as const;
export const ERR = { INVALID_PARAM: -2, NO_DEVICE: -4, TIMEOUT: -7, PIPE: -9 } as const;

export interface ServedBoard {
  board: SimBoard;
  host: SimUsbHost;
  /** Bring simulated time up to wall time before acting (time runs at least as fast as the wall). */
  catchUp(): void;
  onFlashChanged(): void;
}

/** Bytes a request needs in total, or undefined when `buf` does not hold its header yet. */
export function requestLength(buf: Buffer): number | undefined | "bad" {
  if (buf.length < 1) return undefined;
  switch (buf[0]) {
    case OP.CONTROL: {
      if (buf.length < 13) return undefined;
      const bmRequestType = buf[1], wLength = buf.readUInt16LE(7);
      return 13 + (bmRequestType & 0x80 ? 0 : wLength);
    }
    case OP.RESET: case OP.INFO: return 1;
    case OP.READ_FLASH: return 9;
    case OP.POWER_CYCLE: return 2;
    default: return "bad";
  }
}

function reply(result: number, data?: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32LE(result);
  return data && data.length ? Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.length)]) : head;
}

export function handleRequest(s: ServedBoard, req: Buffer): Buffer {
  const { board, host } = s;
  s.catchUp();
  switch (req[0]) {
    case OP.CONTROL: {
      const setup = { bmRequestType: req[1], bRequest: req[2], wValue: req.readUInt16LE(3), wIndex: req.readUInt16LE(5), wLength: req.readUInt16LE(7) };
      const timeout = req.readUInt32LE(9);
      const isIn = (setup.bmRequestType & 0x80) !== 0;
      const r = host.control(setup, isIn ? undefined : new Uint8Array(req.subarray(13, 13 + setup.wLength)), timeout);
      if (!isIn) s.onFlashChanged();
      if (r.status === "ok") return isIn ? reply(r.data.length, r.data) : reply(setup.wLength);
      return reply(r.status === "stall" ? ERR.PIPE : r.status === "timeout" ? ERR.TIMEOUT : ERR.NO_DEVICE);
    }
    case OP.RESET: {
      if (!host.present()) return reply(ERR.NO_DEVICE);
      host.reset();
      s.onFlashChanged();
      return reply(host.present() ? 0 : ERR.NO_DEVICE);
    }
    case OP.INFO: {
      const info = {
        mode: board.mode === "app" ? "app" : "bootloader",
        board: board.facts.id,
        flashBase: board.facts.flashBase,
        flashSize: board.flash.data.length,
        appEntry: board.mode === "app" ? board.appEntry : null,
        chip: board.flash.chip.params.name,
        simulatedUs: Math.round(board.clock.now),
        flashStats: board.flash.stats(),
      };
      const body = Buffer.from(JSON.stringify(info));
      return reply(body.length, body);
    }
    case OP.READ_FLASH: {
      const off = req.readUInt32LE(1), len = req.readUInt32LE(5);
      if (off > board.flash.data.length || len > board.flash.data.length - off) return reply(ERR.INVALID_PARAM);
      return reply(len, board.flash.data.subarray(off, off + len));
    }
    case OP.POWER_CYCLE: {
      board.powerOn({ button: (req[1] & 1) !== 0 });
      if (host.present()) host.enumerate();
      s.onFlashChanged();
      return reply(0);
    }
  }
  throw new Error("unreachable");
}
