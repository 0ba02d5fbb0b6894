/* mvitc command line: parses arguments, runs one job, prints the diagnostic and sets the exit
 * status. The only place that exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codegen/codegen.h"
#include "codegen/compile.h"
#include "report/report_run.h"
#include "weights/weights.h"

static void usage(FILE *f)
{
    char bar[128], comma[128];
    mvit_target_names("|", bar, sizeof bar);
    mvit_target_names(",", comma, sizeof comma);
    fprintf(f,
            "usage: mvitc compile MODEL.yaml --weights FILE [--target %s]\n"
            "                     [--precision fp32|int8] [--name NAME] -o DIR\n"
            "                     [--calib DATA] [--calib-method minmax|percentile|mse]\n"
            "                     [--calib-images N] [--keep-fp32 LAYER,...]\n"
            "                     [--weights-layout auto|timm|cvnets] [--resolution R|HxW,...]\n"
            "                     [--max-threads N] [--no-fusion] [--dump-ir]\n"
            "                     [--ranges FILE]\n"
            "       mvitc calibrate MODEL.yaml --weights FILE --calib DATA -o FILE.ranges\n"
            "                       [--calib-method M] [--calib-images N] [--resolution R|HxW]\n"
            "                       [--weights-layout auto|timm|cvnets]\n"
            "       mvitc report MODEL.yaml --weights FILE -o DIR [--targets %s]\n"
            "                    [--precision fp32,int8] [--resolution R|HxW,...]\n"
            "                    [--calib DATA] [--calib-images N] [--cores CORE,...] [--runs N]\n"
            "       mvitc targets [--tsv | --builds]\n"
            "       mvitc --version\n"
            "\n"
            "Compiles a MobileViT description (docs/model-format.md) and its weights\n"
            "(safetensors, or a torch.save checkpoint; timm or ml-cvnets names, chosen\n"
            "automatically unless --weights-layout says) into DIR/NAME.c and DIR/NAME.h:\n"
            "standalone C with no dependencies. NAME defaults to the description's name.\n"
            "\n"
            "--precision int8 calibrates on DATA (a directory of PNG images, an IDX image\n"
            "file, optionally .gz, or a .f32 file of normalised float32 NHWC images) and\n"
            "emits integer-only code, bit-identical on every target (docs/int8.md).\n"
            "--calib-method defaults to percentile; --calib-images caps the images used.\n"
            "--keep-fp32 keeps the named layers in float (names as in the generated file).\n"
            "calibrate writes the ranges that calibration finds to FILE.ranges; compile\n"
            "--precision int8 --ranges FILE.ranges uses them instead of --calib, so one\n"
            "calibration serves every target (same output bytes as calibrating there).\n"
            "--resolution 224,256,192x256 emits NAME_run_224, NAME_run_256,\n"
            "NAME_run_192x256 in one file, for inputs of those sizes (R for R x R, or HxW,\n"
            "height x width; each side 32..4096), sharing one copy of the weights (fp32;\n"
            "int8 takes one size and calibrates at it).\n"
            "\n"
            "report builds the model for each target x precision x resolution (R for R x R,\n"
            "or HxW, height x width; each side 32..4096; int8 only at the description's\n"
            "size) and writes DIR/report.md, report.json and report.html: MACs, constant,\n"
            "code and arena bytes, host latency (median, per layer), output hash and\n"
            "difference from the generic fp32 build (ARM under qemu-user), and llvm-mca\n"
            "estimates per core (default haswell,znver3,cortex-a55,cortex-a76,apple-a14).\n"
            "Builds: DIR/builds.\n"
            "\n"
            "targets lists the targets (name, CPUs, the triple and flags the report uses,\n"
            "where it runs here, description); --tsv prints them tab-separated, for scripts;\n"
            "--builds: how the tests build and run each (target, build, compiler, flags, host\n"
            "CPU flags needed, qemu-user).\n",
            bar, comma);
}

static const char *or_dash(const char *s) { return s[0] ? s : "-"; }

/* `mvitc targets --builds`: how the tests build and run each target's file, tab-separated
 * (an empty field is "-", so that shells' read keeps the columns): target, build, compiler,
 * flags, host CPU flags needed, qemu-user ("-" = the host). */
static void print_builds(void)
{
    for (int i = 0; mvit_targets[i]; i++)
        for (int k = 0; k < MVIT_MAX_TARGET_BUILDS && mvit_targets[i]->builds[k].name; k++) {
            const mvit_target_build *b = &mvit_targets[i]->builds[k];
            printf("%s\t%s\t%s\t%s\t%s\t%s\n", mvit_targets[i]->name, b->name, b->cc,
                   or_dash(b->cflags), or_dash(b->cpu), or_dash(b->emulator));
        }
}

/* `mvitc targets`: the target registry, for people (a table) and scripts (--tsv). */
static int cmd_targets(int argc, char **argv)
{
    const int tsv = argc == 3 && !strcmp(argv[2], "--tsv");
    const int builds = argc == 3 && !strcmp(argv[2], "--builds");
    if (argc > 3 || (argc == 3 && !tsv && !builds)) {
        usage(stderr);
        return 2;
    }
    if (builds) {
        print_builds();
        return 0;
    }
    if (!tsv)
        printf("%-8s %-7s %-18s %-13s %-13s %s\n", "target", "cpus", "triple", "flags", "runs here",
               "description");
    for (int i = 0; mvit_targets[i]; i++) {
        const mvit_target *t = mvit_targets[i];
        const char *runs = t->emulator ? t->emulator : "host";
        if (tsv)
            printf("%s\t%s\t%s\t%s\t%s\t%s\n", t->name, t->arch, t->triple, t->cflags, runs,
                   t->help);
        else
            printf("%-8s %-7s %-18s %-13s %-13s %s\n", t->name, t->arch, t->triple,
                   t->cflags[0] ? t->cflags : "-", runs, t->help);
    }
    return 0;
}

/* The command as recorded in generated files: program base name + arguments. */
static char *command_line(int argc, char **argv)
{
    size_t len = 8;
    for (int i = 1; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    strcpy(s, "mvitc");
    for (int i = 1; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static int need_value(int i, int argc, const char *flag)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "mvitc: error: %s needs a value\n", flag);
        return 0;
    }
    return 1;
}

/* An option whose value is kept as given. */
typedef struct string_option {
    const char *flag;
    const char **value;
} string_option;

/* If argv[*i] is one of the options, stores its value and steps past it: 1; not one: 0;
 * missing value: -1 (message printed). */
static int take_string(const string_option *opts, size_t n, int *i, int argc, char **argv)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(argv[*i], opts[k].flag))
            continue;
        if (!need_value(*i, argc, argv[*i]))
            return -1;
        *opts[k].value = argv[++*i];
        return 1;
    }
    return 0;
}

/* The one positional argument, MODEL.yaml; 0 (message printed) for an unknown option or a
 * second positional argument. */
static int take_description(const char *a, const char **desc_path)
{
    if (a[0] == '-') {
        fprintf(stderr, "mvitc: error: unknown option '%s'\n", a);
        usage(stderr);
        return 0;
    }
    if (*desc_path) {
        fprintf(stderr, "mvitc: error: unexpected argument '%s'\n", a);
        return 0;
    }
    *desc_path = a;
    return 1;
}

static int cmd_compile(int argc, char **argv)
{
    mvit_compile_options opt = {.target = "generic", .precision = "fp32", .max_threads = 4};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const string_option strings[] = {
            {"--weights", &opt.weights_path}, {"--target", &opt.target},
            {"--precision", &opt.precision},  {"--name", &opt.name},
            {"-o", &opt.out_dir},             {"--calib", &opt.calib_path},
            {"--calib-method", &opt.calib_method}, {"--keep-fp32", &opt.keep_fp32},
            {"--resolution", &opt.resolutions}, {"--ranges", &opt.ranges_path},
        };
        const int taken = take_string(strings, sizeof strings / sizeof *strings, &i, argc, argv);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (!strcmp(a, "--max-threads")) {
            char *end;
            if (!need_value(i, argc, a))
                return 2;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 256) {
                fprintf(stderr, "mvitc: error: --max-threads must be an integer in 1..256\n");
                return 2;
            }
            opt.max_threads = (int)v;
        } else if (!strcmp(a, "--calib-images")) {
            char *end;
            if (!need_value(i, argc, a))
                return 2;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 100000000) {
                fprintf(stderr, "mvitc: error: --calib-images must be a positive integer\n");
                return 2;
            }
            opt.calib_images = v;
        } else if (!strcmp(a, "--weights-layout")) {
            mvit_weights_layout layout;
            if (!need_value(i, argc, a))
                return 2;
            if (mvit_weights_layout_parse(argv[++i], &layout) < 0) {
                fprintf(stderr, "mvitc: error: --weights-layout must be auto, timm or cvnets\n");
                return 2;
            }
            opt.weights_layout = (int)layout;
        } else if (!strcmp(a, "--no-fusion")) {
            opt.no_fusion = 1;
        } else if (!strcmp(a, "--dump-ir")) {
            opt.dump_ir = 1;
        } else if (!take_description(a, &opt.desc_path)) {
            return 2;
        }
    }
    const int calibrate = !strcmp(argv[1], "calibrate");
    if (!opt.desc_path || !opt.weights_path || !opt.out_dir) {
        fprintf(stderr, "mvitc: error: %s needs MODEL.yaml, --weights FILE and -o %s\n", argv[1],
                calibrate ? "FILE" : "DIR");
        usage(stderr);
        return 2;
    }
    if (calibrate && (strcmp(opt.target, "generic") || strcmp(opt.precision, "fp32"))) {
        fprintf(stderr, "mvitc: error: calibrate takes no --target or --precision (the ranges "
                        "serve every target's int8 build)\n");
        return 2;
    }
    if (calibrate && (opt.ranges_path || opt.keep_fp32 || opt.name)) {
        fprintf(stderr, "mvitc: error: calibrate takes no --ranges, --keep-fp32 or --name\n");
        return 2;
    }
    char *cmd = command_line(argc, argv);
    opt.command_line = cmd;
    mvit_diag d = {{0}};
    int rc = calibrate ? mvit_calibrate(&opt, opt.out_dir, &d) : mvit_compile(&opt, &d);
    free(cmd);
    if (rc < 0) {
        fprintf(stderr, "%s\n", d.msg[0] ? d.msg : "mvitc: error: compilation failed");
        return 1;
    }
    return 0;
}

static int cmd_report(int argc, char **argv)
{
    mvit_report_options opt = {.runs = 30};
    const char *out_dir = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const string_option strings[] = {
            {"--weights", &opt.weights_path}, {"--targets", &opt.targets},
            {"--precision", &opt.precisions}, {"--resolution", &opt.resolutions},
            {"--calib", &opt.calib_path},     {"--cores", &opt.cores},
            {"-o", &out_dir},
        };
        const int taken = take_string(strings, sizeof strings / sizeof *strings, &i, argc, argv);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (!strcmp(a, "--calib-images") || !strcmp(a, "--runs") ||
            !strcmp(a, "--weights-layout")) {
            if (!need_value(i, argc, a))
                return 2;
            const char *v = argv[++i];
            char *end;
            if (!strcmp(a, "--weights-layout")) {
                mvit_weights_layout layout;
                if (mvit_weights_layout_parse(v, &layout) < 0) {
                    fprintf(stderr, "mvitc: error: --weights-layout must be auto, timm or cvnets\n");
                    return 2;
                }
                opt.weights_layout = (int)layout;
            } else {
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 100000) {
                    fprintf(stderr, "mvitc: error: %s must be a positive integer\n", a);
                    return 2;
                }
                if (!strcmp(a, "--runs"))
                    opt.runs = (int)n;
                else
                    opt.calib_images = n;
            }
        } else if (!take_description(a, &opt.desc_path)) {
            return 2;
        }
    }
    if (!opt.desc_path || !opt.weights_path || !out_dir) {
        fprintf(stderr, "mvitc: error: report needs MODEL.yaml, --weights FILE and -o DIR\n");
        usage(stderr);
        return 2;
    }
    char *cmd = command_line(argc, argv);
    size_t len = strlen(out_dir) + 16;
    char *builds = malloc(len);
    if (!cmd || !builds) {
        free(cmd);
        free(builds);
        return 1;
    }
    snprintf(builds, len, "%s/builds", out_dir);
    opt.work_dir = builds;
    opt.command_line = cmd;
    mvit_diag d = {{0}};
    mvit_report r;
    memset(&r, 0, sizeof r);
    int rc = mvit_make_dirs(out_dir);
    if (rc < 0)
        snprintf(d.msg, sizeof d.msg, "%s: error: cannot create the output directory", out_dir);
    if (rc == 0)
        rc = mvit_report_build(&opt, &r, &d);
    if (rc == 0)
        rc = mvit_report_write_files(&r, out_dir, &d);
    if (rc == 0)
        fprintf(stderr, "mvitc report: wrote %s/report.md, report.json, report.html\n", out_dir);
    else
        fprintf(stderr, "%s\n", d.msg[0] ? d.msg : "mvitc: error: report failed");
    mvit_report_free(&r);
    free(cmd);
    free(builds);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "compile") || !strcmp(argv[1], "calibrate")))
        return cmd_compile(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "report"))
        return cmd_report(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "targets"))
        return cmd_targets(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("mvitc %s\n", MVIT_VERSION);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
