/*
 * voiceclone check-golden CASE_DIR...: runs golden cases (nn/golden.h). Each case's
 * config.json picks its model runner by content. Prints one line per compared tensor and ends
 * with `golden: N passed, M failed`; exits 0 only when nothing failed.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "models/f5tts/f5tts_golden.h"
#include "models/rvc/rvc_golden.h"
#include "models/whisper/whisper_golden.h"

/* One runner per model; a model appears here once its engine exists. */
static const golden_model *const MODELS[] = {&f5tts_golden_model, &rvc_golden_model, &whisper_golden_model};

static const golden_model *model_for(const json_t *config)
{
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++)
        if (MODELS[i]->matches(config)) return MODELS[i];
    return NULL;
}

/* Exit status 3: the case is of a model this build has no engine for (not a pass). */
enum { EXIT_NO_ENGINE = 3 };

static int run_case(golden_report *r, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t jerr;
    json_t *config = json_load_file(path, 0, &jerr);
    const golden_model *m = config ? model_for(config) : NULL;
    vc_error err = {0};
    printf("# case %s (%s)\n", dir, m ? m->name : "?");
    if (!config) golden_missing(r, dir, "config.json missing or not JSON");
    else if (!m) printf("%s: no engine in this build runs this model's cases (NOT RUN)\n", dir);
    else if (m->run(r, dir, config, &err) != 0) golden_missing(r, dir, err.message);
    json_decref(config);
    return config && !m;
}

int cmd_check_golden(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: voiceclone check-golden CASE_DIR...\n");
        return 2;
    }
    golden_report r = {.out = stdout};
    int not_run = 0;
    for (int i = 1; i < argc; i++) not_run += run_case(&r, argv[i]);
    printf("golden: %d passed, %d failed\n", r.passed, r.failed);
    if (r.failed) return 1;
    return not_run ? EXIT_NO_ENGINE : 0;
}
