// usb_poll event codes: the same numbers as boot/hal.ts.
export const EV_NONE = 0;
export const EV_RESET = 1;
export const EV_SETUP = 2;
export const EV_OUT = 3;
export const EV_IN = 4;
export const EV_EP_IN = 5;
export const EV_EP_OUT = 6;
