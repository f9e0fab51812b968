// This device's descriptors: one configuration with the DFU-mode interface, strings, and a BOS
// with the WebUSB and Microsoft OS 2.0 platform capabilities (so Windows binds WinUSB and
// browsers may open the device without any driver install).
import { usbVid, usbPid, bcdDevice, boardNamePtr, webScheme, webUrlPtr, WEB_URL_MAX } from "./board";
import { chip_uid } from "./hal";
import { ctrlData, CTRL_STALL, wIndex, wLength, wValue, bRequest, bmRequestType } from "./usb/control";
import { stringDescriptor, hexAscii } from "./usb/strings";
import { layoutString } from "./dfu/layout";
import { TRANSFER_SIZE } from "./dfu/dfu";
import { flashUniqueId } from "./flash/engine";

export const VENDOR_WEBUSB: u32 = 0x01;
export const VENDOR_MSOS20: u32 = 0x02;
const MSOS20_DESCRIPTOR_INDEX: u32 = 7; // MS OS 2.0 spec, table 8
const BCD_DFU: u16 = 0x011a;            // DfuSe

// USB 2.0 table 9-8. bcdUSB 2.01 makes hosts ask for the BOS.
const device = memory.data<u8>([
  18, 1, 0x01, 0x02, 0, 0, 0, 64,
  0, 0, 0, 0, 0, 0,   // idVendor, idProduct, bcdDevice: set from BoardInfo
  1, 2, 3, 1,         // iManufacturer, iProduct, iSerialNumber, bNumConfigurations
]);

// Configuration (USB 2.0 table 9-10), interface in DFU mode (DFU 1.1 table 4.4: class FE,
// subclass 1, protocol 2), DFU functional descriptor (DFU 1.1 table 4.2).
// With the UF2 drive the configuration also has a mass-storage interface (USB MSC overview 2,
// BOT 4.3: class 08, SCSI transparent 06, bulk-only 50h) with a bulk OUT and a bulk IN
// endpoint (USB 2.0 table 9-13); no IAD: each function is a single interface.
const CONFIG_LEN: i32 = isDefined(QSPIBOOT_UF2) ? 50 : 27;
// @ts-ignore: decorator
@lazy const configDfu = memory.data<u8>([
  9, 2, 27, 0, 1, 1, 0, 0x80, 50,
  9, 4, 0, 0, 0, 0xfe, 1, 2, 4,
  // bmAttributes: bitCanDnload | bitCanUpload | bitManifestationTolerant | bitWillDetach
  9, 0x21, 0x0f, 0xff, 0x00, 0, 0, 0, 0, // wDetachTimeOut 255 ms, wTransferSize, bcdDFUVersion: set at init
]);
// @ts-ignore: decorator
@lazy const configComposite = memory.data<u8>([
  9, 2, 50, 0, 2, 1, 0, 0x80, 50,
  9, 4, 0, 0, 0, 0xfe, 1, 2, 4,
  9, 0x21, 0x0f, 0xff, 0x00, 0, 0, 0, 0,
  9, 4, 1, 0, 2, 0x08, 0x06, 0x50, 5,    // interface 1: mass storage, 2 endpoints, iInterface 5
  7, 5, 0x01, 0x02, 64, 0, 0,            // bulk OUT 1, 64 bytes
  7, 5, 0x81, 0x02, 64, 0, 0,            // bulk IN 1, 64 bytes
]);
const config: usize = isDefined(QSPIBOOT_UF2) ? configComposite : configDfu;

// BOS (USB 3.2 9.6.2) with two platform capabilities (type 0x10, 0x05).
const BOS_LEN: i32 = 57;
// In a composite device the WinUSB compatible ID and the GUID go in a function subset for
// interface 0 inside a configuration subset (MS OS 2.0 spec tables 11, 12), so Windows binds
// WinUSB to the DFU interface only and its own mass-storage driver to interface 1.
const MSOS20_SET_LEN: i32 = isDefined(QSPIBOOT_UF2) ? 178 : 162;
const bos = memory.data<u8>([
  5, 0x0f, 57, 0, 2,
  // WebUSB: UUID {3408B638-09A9-47A0-8BFD-A0768815B665}, version 1.0, vendor code, iLandingPage
  // (0: none; 1 when the build gives a URL, set at init)
  24, 0x10, 0x05, 0,
  0x38, 0xb6, 0x08, 0x34, 0xa9, 0x09, 0xa0, 0x47, 0x8b, 0xfd, 0xa0, 0x76, 0x88, 0x15, 0xb6, 0x65,
  0x00, 0x01, 0x01, 0,
  // MS OS 2.0: UUID {D8DD60DF-4589-4CC7-9CD2-659D9E648A9F}, Windows 8.1+, set length, vendor code
  28, 0x10, 0x05, 0,
  0xdf, 0x60, 0xdd, 0xd8, 0x89, 0x45, 0xc7, 0x4c, 0x9c, 0xd2, 0x65, 0x9d, 0x9e, 0x64, 0x8a, 0x9f,
  0x00, 0x00, 0x03, 0x06, 162, 0, 0x02, 0, // wMSOSDescriptorSetTotalLength: set at init with the drive
]);

// MS OS 2.0 descriptor set for a non-composite device: header, WINUSB compatible ID, and the
// DeviceInterfaceGUIDs registry property (MS OS 2.0 spec tables 10, 13, 14). The two UTF-16
// strings are expanded from ASCII at run time.
const msosHead = memory.data<u8>([
  10, 0, 0, 0, 0x00, 0x00, 0x03, 0x06, 162, 0,
  20, 0, 3, 0, 87, 73, 78, 85, 83, 66, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // "WINUSB"
  132, 0, 4, 0, 7, 0, 42, 0,
]);
// Composite: header (set length 178), configuration subset (index 0, length 168), function
// subset (interface 0, length 160), then the same compatible ID and registry property.
// @ts-ignore: decorator
@lazy const msosCompositeHead = memory.data<u8>([
  10, 0, 0, 0, 0x00, 0x00, 0x03, 0x06, 178, 0,
  8, 0, 1, 0, 0, 0, 168, 0,
  8, 0, 2, 0, 0, 0, 160, 0,
]);
// @ts-ignore: decorator
@lazy const MSC_NAME = memory.data<u8>([85, 70, 50, 32, 100, 114, 105, 118, 101]); // "UF2 drive"
const PROP_NAME = memory.data<u8>([ // "DeviceInterfaceGUIDs"
  68, 101, 118, 105, 99, 101, 73, 110, 116, 101, 114, 102, 97, 99, 101, 71, 85, 73, 68, 115,
]);
const GUID = memory.data<u8>([ // "{5C2C7C31-7B4E-4B8A-9B6B-71F3A2D04E51}": qspiboot's interface GUID
  123, 53, 67, 50, 67, 55, 67, 51, 49, 45, 55, 66, 52, 69, 45, 52, 66, 56, 65, 45, 57, 66, 54, 66,
  45, 55, 49, 70, 51, 65, 50, 68, 48, 52, 69, 53, 49, 125,
]);

const MANUFACTURER = memory.data<u8>([113, 115, 112, 105, 98, 111, 111, 116]); // "qspiboot"

// Strings are built here on request; the largest reply (the MS OS 2.0 set) is 162 bytes.
const scratch = memory.data(256);
const text = memory.data(96);
const serial = memory.data(32);
let serialLen: i32 = 0;

function ascii16(dst: usize, src: usize, n: i32): usize {
  for (let i = 0; i < n; i++) store<u16>(dst + 2 * i, load<u8>(src + i));
  store<u16>(dst + 2 * n, 0);
  return dst + 2 * n + 2;
}

function msos20Set(): i32 {
  let p: usize;
  if (isDefined(QSPIBOOT_UF2)) {
    memory.copy(scratch, msosCompositeHead, 26);
    memory.copy(scratch + 26, msosHead + 10, 28);
    p = ascii16(scratch + 54, PROP_NAME, 20);
  } else {
    memory.copy(scratch, msosHead, 38);
    p = ascii16(scratch + 38, PROP_NAME, 20);
  }
  store<u16>(p, 80);                 // wPropertyDataLength: GUID, NUL, NUL in UTF-16
  p = ascii16(p + 2, GUID, 38);
  store<u16>(p, 0);
  return MSOS20_SET_LEN;
}

function str(dst: usize, src: usize, n: i32): i32 {
  ctrlData(dst);
  return stringDescriptor(dst, src, n);
}

function stringFor(index: u32): i32 {
  if (index == 0) { store<u32>(scratch, 0x04090304); ctrlData(scratch); return 4; } // LANGID en-US
  if (index == 1) return str(scratch, MANUFACTURER, 8);
  if (index == 2) {
    // "qspiboot <board name>"
    memory.copy(text, MANUFACTURER, 8);
    store<u8>(text, 32, 8);
    let n = 0;
    while (n < 16 && load<u8>(boardNamePtr() + n) != 0) n++;
    memory.copy(text + 9, boardNamePtr(), n);
    return str(scratch, text, 9 + n);
  }
  if (index == 3) return str(scratch, serial, serialLen);
  if (index == 4) return str(scratch, text, layoutString(text));
  if (isDefined(QSPIBOOT_UF2)) { if (index == 5) return str(scratch, MSC_NAME, 9); }
  return CTRL_STALL;
}

export function getDescriptor(type: u32, index: u32): i32 {
  if (type == 1) { ctrlData(device); return 18; }
  if (type == 2 && index == 0) { ctrlData(config); return CONFIG_LEN; }
  if (type == 3) return stringFor(index);
  if (type == 15) { ctrlData(bos); return BOS_LEN; }
  return CTRL_STALL; // device qualifier (6) too: a full-speed-only device has none
}

const WEBUSB_GET_URL: u32 = 2; // WebUSB 1.0 table 3 (wIndex); the URL descriptor is type 3
const BOS_LANDING_PAGE: usize = 5 + 23; // the WebUSB capability's iLandingPage byte

function webUrlLength(): i32 {
  let n = 0;
  while (n < WEB_URL_MAX && load<u8>(webUrlPtr() + n) != 0) n++;
  return n;
}

// Vendor requests for descriptors: MS OS 2.0 set (wIndex 7) and WebUSB GET_URL for the landing
// page (URL descriptor 1, WebUSB 1.0 4.3.1; none built in: stall).
export function getVendorDescriptor(): i32 {
  if (bmRequestType() != 0xc0) return CTRL_STALL;
  if (bRequest() == VENDOR_MSOS20 && wIndex() == MSOS20_DESCRIPTOR_INDEX) {
    ctrlData(scratch);
    return msos20Set();
  }
  const n = webUrlLength();
  if (bRequest() == VENDOR_WEBUSB && wIndex() == WEBUSB_GET_URL && wValue() == 1 && n > 0) {
    store<u8>(scratch, <u8>(3 + n));
    store<u8>(scratch, 3, 1);
    store<u8>(scratch, webScheme(), 2);
    memory.copy(scratch + 3, webUrlPtr(), n);
    ctrlData(scratch);
    return 3 + n;
  }
  return CTRL_STALL;
}

export function isDescriptorVendorRequest(req: u32): bool {
  return req == VENDOR_MSOS20 || req == VENDOR_WEBUSB;
}

export function descriptorsInit(): void {
  store<u16>(device + 8, usbVid());
  store<u16>(device + 10, usbPid());
  store<u16>(device + 12, bcdDevice());
  store<u16>(config + 18 + 5, <u16>TRANSFER_SIZE);
  store<u16>(config + 18 + 7, BCD_DFU);
  // Locked mode: no bitCanUpload (boot/dfu/dfu.ts refuses every UPLOAD).
  if (isDefined(QSPIBOOT_LOCKED)) store<u8>(config + 18 + 2, 0x0d);
  if (isDefined(QSPIBOOT_UF2)) {
    store<u16>(bos + 5 + 24 + 24, <u16>MSOS20_SET_LEN);
  }
  if (webUrlLength() > 0) store<u8>(bos + BOS_LANDING_PAGE, 1);
  // Serial number: the MCU's unique ID where it has one, else the flash chip's (4Bh).
  let n = chip_uid(scratch);
  if (n <= 0) n = flashUniqueId(scratch);
  if (n > 16) n = 16;
  serialLen = n > 0 ? hexAscii(serial, scratch, n) : 0;
}
