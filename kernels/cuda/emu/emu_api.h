// The C interface of the kernel emulator (emu.cpp) that emu.go calls.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Device memory: host memory with guard bytes on each side.
uintptr_t emu_malloc(uint64_t n);
void emu_free(uintptr_t p);
void emu_copy_in(uintptr_t dst, const void* src, uint64_t n);
void emu_copy_out(void* dst, uintptr_t src, uint64_t n);
void emu_copy(uintptr_t dst, uintptr_t src, uint64_t n);
void emu_memset16(uintptr_t dst, uint16_t v, uint64_t n);
// emu_check_guards reports (in msg) the first allocation whose guard bytes
// were written; 0 when none.
int emu_check_guards(char* msg, int len);

// Pinned host memory.
void* emu_host_alloc(uint64_t n);
void emu_host_free(void* p);

// emu_kernel is the id of an emulated kernel (-1: not emulated) and sets
// *nargs to its parameter count.
int emu_kernel(const char* name, int* nargs);
// emu_launch runs kernel id over the grid; vals holds one 8-byte slot per
// parameter (scalars in the low bytes). It returns 0, or 1 with the first
// error in msg.
int emu_launch(int id, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned smem,
               const uint64_t* vals, char* msg, int len);

#ifdef __cplusplus
}
#endif
