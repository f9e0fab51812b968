// What the Node-side USBDevice adapters throw when a transfer cannot end normally, with
// WebUSB's error names where WebUSB has one (the `usb` package's errors carry the same).
export class DeviceGone extends Error {
  constructor() { super("NotFoundError: the device has disconnected"); this.name = "NotFoundError"; }
}

/** The device answered, and stalled its device descriptor request (`request`, in words). */
export class DeviceStalled extends Error {
  constructor(where: string, request: string) {
    super(`${where} answered, but the device stalled the ${request} request (the first thing any host asks): ` +
      "it refuses to talk, so it cannot be flashed. Reset it, or restart the simulator");
  }
}

/** The simulator's socket closed in the middle of the session (the server was stopped or died). */
export class ConnectionClosed extends Error {
  constructor(path: string, when: string, cause?: Error) {
    super(`the simulator at ${path} closed the connection ${when}${cause ? ` (${cause.message})` : ""}: ` +
      "it was stopped or crashed. Start it again and repeat the command");
    this.name = "NetworkError";
  }
}
