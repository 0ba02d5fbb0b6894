/* Picks the header of the generated model that MVTModel.c compiles for the current
 * architecture (Xcode builds each architecture separately, so one target can hold both):
 *   arm64 (devices, Apple-silicon simulators)  -> neon/fmnist_xxs.h (generic/ until it exists)
 *   x86_64 (Intel-Mac simulators)               -> generic/fmnist_xxs.h
 * MVTCore.c and MVTClassifier.m include it, so they and MVTModel.c always agree on the model.
 * neon/ and generic/ sit next to this file (README.md). Another model? Replace fmnist_xxs
 * here and in MVTModel.c, and define MVIT_MODEL to its name. */
#ifndef MVT_MODEL_H
#define MVT_MODEL_H

#if defined(__aarch64__) && __has_include("neon/fmnist_xxs.h")
#include "neon/fmnist_xxs.h"
#else
#include "generic/fmnist_xxs.h"
#endif

#endif
