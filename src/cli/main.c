/*
 * voiceclone: the single binary of VoiceClone Studio. main() only dispatches to a verb.
 */
#include <stdio.h>
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
    {"convert", cmd_convert, "convert --model M.pth [--index M.index] IN -o OUT.wav [--pitch N] [--index-rate R] [--protect P] [--rms-mix R]"},
    {"train", cmd_train, "train --name NAME AUDIO... [--epochs N]"},
    {"models", cmd_models, "models pull f5tts|rvc|rvc-pretrained|all | list | import FILE --to FOLDER | import VOICE.pth|.zip [--index F] [--name N] [--data DIR]"},
    {"keys", cmd_keys, "keys create|list|revoke ..."},
    {"check-golden", cmd_check_golden, "check-golden CASE_DIR..."},
    {"inspect", cmd_inspect, "inspect FILE [--json]"},
    {"bench", cmd_bench, "bench gemm|f5tts|jobs|all"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "VoiceClone Studio\n\nusage:\n");
    for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++) fprintf(out, "  voiceclone %s\n", VERBS[i].usage);
}

int main(int argc, char **argv)
{
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
