// Who calls whom across the layers, fixed when the core is built (as TinyUSB fixes its class
// driver table in its configuration): the USB device layer runs the class drivers that
// boot/functions.ts names (DFU; mass storage in a core with the UF2 drive) and
// gets its descriptors from boot/descriptors.ts; the DFU class hands manifestation to the
// update record code, leaving to the boot code, and its vendor requests to boot/vendor.ts.
// The lower layers import this file, never the modules above them by name. Direct calls
// instead of function references: no call table, no function objects in linear memory for a
// buffer overrun to redirect (the sector-CRC overrun of issue 14 trapped on exactly those).
export { classData, classDone } from "./dfu/dfu";
export { classSetup, classReset, classConfigure, classEndpoint, classHalt, classHalted, interfaceCount } from "./functions";
export { standardSetup, standardReset } from "./usb/standard";
export { getDescriptor, getVendorDescriptor, isDescriptorVendorRequest } from "./descriptors";
export { manifestStart, manifestPoll } from "./update";
export { leaveDfu } from "./boot";
export { vendorSetup } from "./vendor";
