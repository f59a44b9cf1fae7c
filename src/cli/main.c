/*
 * voiceclone: the single binary of VoiceClone Studio. main() checks the CPU, takes the global
 * options and dispatches to a verb.
 *
 * This file alone is compiled for the baseline x86-64 ISA (Makefile): the rest of our code is
 * built for x86-64-v3 (AVX2 + FMA), so a machine without them gets a message here instead of
 * an illegal instruction later. oneDNN picks its own kernels (AVX2 … AVX-512/BF16/AMX) at run time.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef struct verb {
    const char *name;
    cli_verb_fn run;
    const char *usage;
} verb;

static const verb VERBS[] = {
    {"serve", cmd_serve, "serve [--host H] [--port P] [--data DIR] [--database URL] [--no-workers]"},
    {"worker", cmd_worker, "worker --database URL [--data DIR] [--lanes train=1,convert=2,cpu=N] [--name NAME]"},
    {"analyze", cmd_analyze, "analyze FILE [--json]"},
    {"tts", cmd_tts, "tts --ref REF.wav --ref-text TEXT --text TEXT -o OUT.wav [--nfe 32] [--cfg 2] [--sway -1] [--speed 1] [--seed N]"},
    {"convert", cmd_convert, "convert --model M.pth [--index M.index] (IN | --text TEXT --ref SAMPLE.wav [--ref-text TEXT] [--nfe N]) -o OUT.wav [--pitch N] [--index-rate R] [--protect P] [--rms-mix R]"},
    {"train", cmd_train, "train --name NAME --consent AUDIO [--epochs N] [--sample-rate 32000|40000|48000] [--version v1|v2] [--no-f0]"},
    {"models", cmd_models, "models pull f5tts|rvc|rvc-pretrained|whisper [--size S]|all | list | import FILE --to FOLDER | import VOICE.pth|.zip [--index F] [--name N] [--data DIR]"},
    {"keys", cmd_keys, "keys create|list|revoke ..."},
    {"clone", cmd_clone, "clone --ref SAMPLE.wav (--target SPEECH.wav | --text TEXT) -o OUT.wav [--ref-text TEXT] [--whisper-size base] [--nfe 32] [--seed N] [--weights DIR]"},
    {"transcribe", cmd_transcribe, "transcribe AUDIO [--size base] [--weights DIR] [--model M.pt --vocab V.tiktoken] [--language auto|CODE] [--task transcribe|translate] [--no-timestamps] [--greedy-only] [--prompt TEXT] [--json]"},
    {"check-golden", cmd_check_golden, "check-golden CASE_DIR..."},
    {"inspect", cmd_inspect, "inspect FILE [--json]"},
    {"bench", cmd_bench, "bench gemm|f5tts|jobs|all"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "VoiceClone Studio\n\nusage: voiceclone [--precision fp32|bf16|auto] COMMAND ...\n");
    for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++) fprintf(out, "  voiceclone %s\n", VERBS[i].usage);
}

static int cpu_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* --precision P (or --precision=P) before the command: the engine's compute precision, the same
 * as VCS_PRECISION (docs/ENGINE.md). Removes the option from argv; returns -1 on a bad value. */
static int take_precision(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        int used = 0;
        if (!strcmp(argv[i], "--precision") && i + 1 < *argc) v = argv[i + 1], used = 2;
        else if (!strncmp(argv[i], "--precision=", 12)) v = argv[i] + 12, used = 1;
        if (!used) continue;
        if (strcmp(v, "fp32") && strcmp(v, "bf16") && strcmp(v, "auto")) {
            fprintf(stderr, "voiceclone: --precision takes fp32, bf16 or auto (got '%s')\n", v);
            return -1;
        }
        setenv("VCS_PRECISION", v, 1);
        memmove(argv + i, argv + i + used, sizeof(char *) * (size_t)(*argc - i - used + 1));
        *argc -= used;
        return 0;
    }
    return 0;
}

/* Models and the training tape allocate and free buffers of tens of megabytes on every call and
 * step. With glibc's defaults every block above 128 KB is its own mmap, so every call pays again
 * for fresh zeroed pages (a 10 s conversion: 8.6 s instead of 7.3 s on a Zen 5 machine, warm).
 * Keeping freed blocks up to 32 MB (glibc's maximum) in the heap lets the next call reuse them.
 * A process-wide allocator setting, so it is the program's to make: it changes when memory goes
 * back to the system, never what a program computes. */
static void keep_freed_memory_for_reuse(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int main(int argc, char **argv)
{
    keep_freed_memory_for_reuse();
    if (!cpu_supported()) {
        fprintf(stderr, "voiceclone: this CPU lacks AVX2/FMA, which VoiceClone Studio needs (x86-64-v3: Intel "
                        "Haswell, AMD Excavator/Zen or newer). Run it on such a machine.\n");
        return 1;
    }
    if (take_precision(&argc, argv)) return 2;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++)
        if (!strcmp(argv[1], VERBS[i].name)) return VERBS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "voiceclone: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
