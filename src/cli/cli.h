/*
 * The voiceclone command line: one function per verb, each in src/cli/cmd_<verb>.c.
 * A verb gets argv with argv[0] = the verb name and returns the process exit status.
 */
#ifndef VC_CLI_H
#define VC_CLI_H

typedef int (*cli_verb_fn)(int argc, char **argv);

int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_tts(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_check_golden(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_transcribe(int argc, char **argv);
int cmd_clone(int argc, char **argv);

#endif
