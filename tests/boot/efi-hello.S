/*
 * A minimal riscv64 EFI application, for the U-Boot `bootefi` test: a PE32+
 * image (PE/COFF spec: MS-DOS stub with e_lfanew, COFF header, PE32+ optional
 * header, one section) whose entry prints a marker through the system table's
 * ConOut->OutputString and powers off through RuntimeServices->ResetSystem
 * (UEFI 2.10 §4.3 EFI_SYSTEM_TABLE, §12.4 SIMPLE_TEXT_OUTPUT, §8.5.1
 * ResetSystem). File offsets equal RVAs, so it is built as a flat binary at 0;
 * all code is pc-relative, so it needs no base relocations.
 */
	.section .text
	.globl _start
_start:
image:
	.ascii	"MZ"
	.skip	58
	.long	pe - image		/* e_lfanew */
pe:
	.ascii	"PE\0\0"
	.short	0x5064			/* IMAGE_FILE_MACHINE_RISCV64 */
	.short	1			/* NumberOfSections */
	.long	0, 0, 0			/* TimeDateStamp, PointerToSymbolTable, NumberOfSymbols */
	.short	opt_end - opt		/* SizeOfOptionalHeader */
	.short	0x0206			/* EXECUTABLE_IMAGE | LINE_NUMS_STRIPPED | DEBUG_STRIPPED */
opt:
	.short	0x020b			/* PE32+ */
	.byte	0, 0			/* linker version */
	.long	image_end - code	/* SizeOfCode */
	.long	0, 0			/* SizeOfInitializedData, SizeOfUninitializedData */
	.long	entry - image		/* AddressOfEntryPoint */
	.long	code - image		/* BaseOfCode */
	.quad	0			/* ImageBase */
	.long	0x200, 0x200		/* SectionAlignment, FileAlignment */
	.short	0, 0, 0, 0, 0, 0	/* OS, image and subsystem versions */
	.long	0			/* Win32VersionValue */
	.long	image_end - image	/* SizeOfImage */
	.long	code - image		/* SizeOfHeaders */
	.long	0			/* CheckSum */
	.short	10			/* IMAGE_SUBSYSTEM_EFI_APPLICATION */
	.short	0			/* DllCharacteristics */
	.quad	0, 0, 0, 0		/* stack and heap reserve/commit */
	.long	0			/* LoaderFlags */
	.long	6			/* NumberOfRvaAndSizes */
	.quad	0, 0, 0, 0, 0, 0	/* export, import, resource, exception, security, basereloc */
opt_end:
	.ascii	".text\0\0\0"
	.long	image_end - code	/* VirtualSize */
	.long	code - image		/* VirtualAddress */
	.long	image_end - code	/* SizeOfRawData */
	.long	code - image		/* PointerToRawData */
	.long	0, 0			/* PointerToRelocations, PointerToLinenumbers */
	.short	0, 0
	.long	0xe0000020		/* CNT_CODE | MEM_EXECUTE | MEM_READ | MEM_WRITE */
	.balign	0x200, 0
code:
entry:					/* a0 = ImageHandle, a1 = SystemTable */
	addi	sp, sp, -16
	sd	ra, 8(sp)
	sd	s0, 0(sp)
	mv	s0, a1
	ld	a0, 64(s0)		/* SystemTable->ConOut */
	ld	t0, 8(a0)		/* ->OutputString(This, String) */
	lla	a1, message
	jalr	t0
	ld	t0, 88(s0)		/* SystemTable->RuntimeServices */
	ld	t0, 104(t0)		/* ->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL) */
	li	a0, 2
	li	a1, 0
	li	a2, 0
	li	a3, 0
	jalr	t0
	ld	ra, 8(sp)		/* not reached; return EFI_SUCCESS if it is */
	ld	s0, 0(sp)
	addi	sp, sp, 16
	li	a0, 0
	ret
	.balign	2
message:				/* UCS-2 */
	/* "VMSUP-EFI-HELLO\r\n" */
	.short	86,77,83,85,80,45,69,70,73,45,72,69,76,76,79
	.short	13, 10, 0
	.balign	0x200, 0
image_end:
