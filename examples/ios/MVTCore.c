/* examples/common/mvex_classifier.c built against MVTModel.h, so that the core's idea of the
 * model (ARENA_BYTES, input size) always comes from the same target directory as the code
 * MVTModel.c compiles. MVTClassifier.m includes the core's header the same way. */
#define MVIT_MODEL_HEADER "MVTModel.h"
#include "mvex_classifier.c"
