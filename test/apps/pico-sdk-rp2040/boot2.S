/* What pico-sdk's boot2 library (bs2_default, linked into every flash build by
   pico_standard_link) contributes: 256 bytes in section .boot2. The recipe must keep it out. */
  .section .boot2, "ax"
  .global __boot2_entry_point
__boot2_entry_point:
  .fill 256, 1, 0xb2
