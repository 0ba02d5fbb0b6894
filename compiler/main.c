/* mvitc command line: parses arguments, runs one job, prints the diagnostic and sets the exit
 * status. The only place that exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "codegen/compile.h"
#include "weights/weights.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mvitc compile MODEL.yaml --weights FILE [--target generic|avx2|neon]\n"
            "                     [--precision fp32|int8] [--name NAME] -o DIR\n"
            "                     [--calib DATA] [--calib-method minmax|percentile|mse]\n"
            "                     [--calib-images N] [--keep-fp32 LAYER,...]\n"
            "                     [--weights-layout auto|timm|cvnets] [--resolution R,...]\n"
            "                     [--max-threads N] [--no-fusion] [--dump-ir]\n"
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
            "--resolution 64,128,... emits NAME_run_64, NAME_run_128, ... in one file, for\n"
            "square inputs of those sizes, sharing one copy of the weights (fp32).\n");
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

static int cmd_compile(int argc, char **argv)
{
    mvit_compile_options opt = {.target = "generic", .precision = "fp32", .max_threads = 4};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--weights") || !strcmp(a, "--target") || !strcmp(a, "--precision") ||
            !strcmp(a, "--name") || !strcmp(a, "-o") || !strcmp(a, "--calib") ||
            !strcmp(a, "--calib-method") || !strcmp(a, "--keep-fp32") ||
            !strcmp(a, "--resolution")) {
            if (!need_value(i, argc, a))
                return 2;
            const char *v = argv[++i];
            if (!strcmp(a, "--weights"))
                opt.weights_path = v;
            else if (!strcmp(a, "--target"))
                opt.target = v;
            else if (!strcmp(a, "--precision"))
                opt.precision = v;
            else if (!strcmp(a, "--name"))
                opt.name = v;
            else if (!strcmp(a, "--calib"))
                opt.calib_path = v;
            else if (!strcmp(a, "--calib-method"))
                opt.calib_method = v;
            else if (!strcmp(a, "--keep-fp32"))
                opt.keep_fp32 = v;
            else if (!strcmp(a, "--resolution"))
                opt.resolutions = v;
            else
                opt.out_dir = v;
        } else if (!strcmp(a, "--max-threads")) {
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
        } else if (a[0] == '-') {
            fprintf(stderr, "mvitc: error: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!opt.desc_path) {
            opt.desc_path = a;
        } else {
            fprintf(stderr, "mvitc: error: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!opt.desc_path || !opt.weights_path || !opt.out_dir) {
        fprintf(stderr, "mvitc: error: compile needs MODEL.yaml, --weights FILE and -o DIR\n");
        usage(stderr);
        return 2;
    }
    char *cmd = command_line(argc, argv);
    opt.command_line = cmd;
    mvit_diag d = {{0}};
    int rc = mvit_compile(&opt, &d);
    free(cmd);
    if (rc < 0) {
        fprintf(stderr, "%s\n", d.msg[0] ? d.msg : "mvitc: error: compilation failed");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "compile"))
        return cmd_compile(argc, argv);
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
