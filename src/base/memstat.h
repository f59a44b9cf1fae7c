/*
 * The process's peak resident memory, for reports that give it per phase (bench rvc train,
 * voiceclone train, the training job's log).
 *
 * The kernel keeps one high-water mark per process (VmHWM); it only ever grows, so a reading
 * taken at the end of a phase is the peak of everything so far, not of that phase alone. Linux
 * (>= 4.0) lets a process reset it to the current RSS by writing 5 to /proc/self/clear_refs:
 * resetting at the start of each phase makes each reading that phase's own peak. Only a process
 * that owns its whole memory should reset (a CLI run); a server running other jobs beside it must
 * not, since their memory is in the same mark.
 */
#ifndef VC_BASE_MEMSTAT_H
#define VC_BASE_MEMSTAT_H

#include <stddef.h>

/* VmHWM of /proc/self/status in bytes; 0 when it cannot be read. */
size_t vc_rss_peak_bytes(void);
/* Resets the high-water mark to the current RSS: 0 on success, -1 when the kernel refuses (then
 * later readings stay "peak so far"). Also lowers getrusage's ru_maxrss. */
int vc_rss_peak_reset(void);

#endif
