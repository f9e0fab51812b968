// Full-speed USB timing, in simulated microseconds. One place for every number the host model
// charges, so benchmarks can say exactly what they assume.
export interface UsbTiming {
  /** Host software cost of one synchronous control transfer (libusb on Linux: about 1 ms). */
  transferOverheadUs: number;
  /** Time between retries of a NAKed transaction (the host controller retries within a frame). */
  nakRetryUs: number;
  /** Host cost of one bulk transfer (an URB of a mass-storage driver, which queues them without
   *  waiting for the program: one 125 us microframe of the host controller's schedule). */
  bulkOverheadUs: number;
}

export const DEFAULT_USB_TIMING: UsbTiming = { transferOverheadUs: 1000, nakRetryUs: 1, bulkOverheadUs: 125 };

const BIT_US = 1 / 12; // 12 Mbit/s
// Token (SYNC+PID+ADDR/ENDP+CRC5+EOP = 35 bits) + data packet (SYNC+PID+CRC16+EOP = 43 bits
// around the payload) + handshake (SYNC+PID+EOP = 19 bits) + inter-packet gaps (~2 x 8 bits).
const OVERHEAD_BITS = 35 + 43 + 19 + 16;

/** Bus time of one transaction carrying `bytes` of payload, with worst-case bit stuffing (7/6). */
export function transactionUs(bytes: number): number {
  return (OVERHEAD_BITS + (bytes * 8 * 7) / 6) * BIT_US;
}
