/* The one compiled copy of the generated model, chosen per architecture like MVTModel.h (a
 * #include keeps both generated files out of "Compile Sources", so no build setting has to
 * exclude one per architecture). Give this file the per-file flag -O2 (README.md). */
#if defined(__aarch64__) && __has_include("neon/fmnist_xxs.c")
#include "neon/fmnist_xxs.c"
#else
#if defined(__aarch64__)
#pragma message("generated/neon/fmnist_xxs.c not found: arm64 uses the portable generic C")
#endif
#include "generic/fmnist_xxs.c"
#endif
