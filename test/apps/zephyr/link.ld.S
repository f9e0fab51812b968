/* The part of Zephyr's Cortex-M linker script (include/zephyr/arch/arm/cortex_m/scripts/linker.ld)
   that places an XIP image, written here from its contract: like Zephyr's, it is run through the C
   preprocessor with the Kconfig values, FLASH at CONFIG_FLASH_BASE_ADDRESS +
   CONFIG_FLASH_LOAD_OFFSET, CONFIG_FLASH_LOAD_SIZE long (USE_DT_CODE_PARTITION: the code
   partition's reg); rom_start first (the vector table, ROM_START_OFFSET 0 without MCUboot), then
   text and rodata; .data in RAM loaded from FLASH, .bss and .noinit (the stacks) in RAM. Symbol
   names are Zephyr's, as its start-up code uses them. */
MEMORY
{
  FLASH (rx) : ORIGIN = CONFIG_FLASH_BASE_ADDRESS + CONFIG_FLASH_LOAD_OFFSET, LENGTH = CONFIG_FLASH_LOAD_SIZE
  RAM (wx)   : ORIGIN = CONFIG_SRAM_BASE_ADDRESS, LENGTH = CONFIG_SRAM_SIZE * 1024
}
ENTRY(__start)
SECTIONS
{
  __rom_region_start = ORIGIN(FLASH);
  rom_start : {
    _vector_start = .;
    KEEP(*(.exc_vector_table))
    KEEP(*(".exc_vector_table.*"))
    _vector_end = .;
  } > FLASH
  text : { *(.text) *(".text.*") . = ALIGN(4); } > FLASH
  rodata : { *(.rodata) *(".rodata.*") . = ALIGN(4); } > FLASH
  __rom_region_end = .;
  datas : {
    __data_region_start = .;
    *(.data) *(".data.*")
    . = ALIGN(4);
    __data_region_end = .;
  } > RAM AT > FLASH
  __data_region_load_start = LOADADDR(datas);
  bss (NOLOAD) : {
    . = ALIGN(4);
    __bss_start = .;
    *(.bss) *(".bss.*") *(COMMON)
    __bss_end = ALIGN(4);
  } > RAM
  noinit (NOLOAD) : { *(.noinit) *(".noinit.*") } > RAM
  end = ALIGN(8);                 /* newlib's heap start (snprintf in the stand-ins) */
  /DISCARD/ : { *(.ARM.exidx*) *(.ARM.attributes) *(.comment) }
}
