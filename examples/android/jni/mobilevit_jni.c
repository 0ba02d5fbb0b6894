/* JNI glue for MobileVitClassifier.java: a Java object holds a pointer (jlong handle) to one
 * mvex_classifier, which owns the arena (allocated once in create) and the optional thread
 * pool. Inputs: float[] or a direct ByteBuffer of normalised HWC floats, or byte[] of 8-bit
 * HWC pixels at the model's size; the result is a new float[NUM_CLASSES] of logits. Bad
 * arguments throw IllegalArgumentException (and return NULL), as Java code expects.
 *
 * MVIT_JNI_PACKAGE is the Java package in JNI-mangled form ('.' -> '_', '_' -> '_1');
 * CMakeLists.txt derives it from the dotted package name. */
#include <jni.h>
#include <stdint.h>
#include <string.h>

#include "mvex_classifier.h"

#ifndef MVIT_JNI_PACKAGE
#define MVIT_JNI_PACKAGE com_example_mvitc
#endif
/* JNI_FN(classify) is Java_com_example_mvitc_MobileVitClassifier_classify */
#define JNI_CAT_(a, b, c) a##b##c
#define JNI_CAT(a, b, c) JNI_CAT_(a, b, c)
#define JNI_FN(name) JNI_CAT(Java_, MVIT_JNI_PACKAGE, _MobileVitClassifier_##name)

static mvex_classifier *from_handle(jlong handle)
{
    return (mvex_classifier *)(intptr_t)handle;
}

static jobject throw_iae(JNIEnv *env, const char *msg)
{
    jclass cls = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
    if (cls)
        (*env)->ThrowNew(env, cls, msg);
    return NULL;
}

/* Runs the model on hwc and returns the logits as a new float[], or NULL with an exception. */
static jfloatArray run(JNIEnv *env, mvex_classifier *c, const float *hwc)
{
    float logits[MVEX_NUM_CLASSES];
    if (mvex_classifier_run(c, hwc, logits) != 0)
        return throw_iae(env, "MobileVitClassifier: the model rejected its arguments");
    jfloatArray out = (*env)->NewFloatArray(env, MVEX_NUM_CLASSES);
    if (out) /* else OutOfMemoryError is pending */
        (*env)->SetFloatArrayRegion(env, out, 0, MVEX_NUM_CLASSES, logits);
    return out;
}

/* static native long create(int threads) -- 0 when out of memory */
JNIEXPORT jlong JNICALL JNI_FN(create)(JNIEnv *env, jclass cls, jint threads)
{
    (void)env, (void)cls;
    return (jlong)(intptr_t)mvex_classifier_create((int)threads);
}

/* static native void destroy(long handle) */
JNIEXPORT void JNICALL JNI_FN(destroy)(JNIEnv *env, jclass cls, jlong handle)
{
    (void)env, (void)cls;
    mvex_classifier_destroy(from_handle(handle));
}

/* static native int[] info(long handle): {height, width, channels, classes, threads} */
JNIEXPORT jintArray JNICALL JNI_FN(info)(JNIEnv *env, jclass cls, jlong handle)
{
    (void)cls;
    const jint v[5] = {MVEX_INPUT_HEIGHT, MVEX_INPUT_WIDTH, MVEX_INPUT_CHANNELS, MVEX_NUM_CLASSES,
                       mvex_classifier_threads(from_handle(handle))};
    jintArray out = (*env)->NewIntArray(env, 5);
    if (out)
        (*env)->SetIntArrayRegion(env, out, 0, 5, v);
    return out;
}

/* static native float[] classify(long handle, float[] hwc) */
JNIEXPORT jfloatArray JNICALL JNI_FN(classify)(JNIEnv *env, jclass cls, jlong handle,
                                               jfloatArray hwc)
{
    (void)cls;
    mvex_classifier *c = from_handle(handle);
    if (!c || !hwc)
        return throw_iae(env, "MobileVitClassifier.classify: closed classifier or null input");
    if ((*env)->GetArrayLength(env, hwc) != MVEX_INPUT_ELEMS)
        return throw_iae(env, "MobileVitClassifier.classify: input must have "
                              "height * width * channels floats");
    /* a copy (not GetPrimitiveArrayCritical): the run takes milliseconds and would stall GC */
    float *in = mvex_classifier_input(c);
    (*env)->GetFloatArrayRegion(env, hwc, 0, MVEX_INPUT_ELEMS, in);
    return run(env, c, in);
}

/* static native float[] classifyBuffer(long handle, ByteBuffer direct, int offset): offset in
 * bytes; the floats are in native byte order (the Java side checks order() and isDirect()) */
JNIEXPORT jfloatArray JNICALL JNI_FN(classifyBuffer)(JNIEnv *env, jclass cls, jlong handle,
                                                     jobject buffer, jint offset)
{
    (void)cls;
    mvex_classifier *c = from_handle(handle);
    const size_t need = sizeof(float) * MVEX_INPUT_ELEMS;
    if (!c || !buffer || offset < 0)
        return throw_iae(env, "MobileVitClassifier.classify: closed classifier or null input");
    char *base = (*env)->GetDirectBufferAddress(env, buffer);
    const jlong capacity = (*env)->GetDirectBufferCapacity(env, buffer);
    if (!base || capacity < 0)
        return throw_iae(env, "MobileVitClassifier.classify: the ByteBuffer must be direct");
    if ((size_t)capacity < (size_t)offset || (size_t)capacity - (size_t)offset < need)
        return throw_iae(env, "MobileVitClassifier.classify: fewer than "
                              "height * width * channels floats remain in the buffer");
    const char *p = base + offset;
    if ((uintptr_t)p % sizeof(float) == 0)
        return run(env, c, (const float *)(const void *)p); /* zero copy */
    memcpy(mvex_classifier_input(c), p, need);
    return run(env, c, mvex_classifier_input(c));
}

/* static native float[] classifyPixels(long handle, byte[] hwc8): 8-bit pixels at the model's
 * size and channel order; normalised here with the header's INPUT_MEAN / INPUT_STD */
JNIEXPORT jfloatArray JNICALL JNI_FN(classifyPixels)(JNIEnv *env, jclass cls, jlong handle,
                                                     jbyteArray hwc8)
{
    (void)cls;
    mvex_classifier *c = from_handle(handle);
    if (!c || !hwc8)
        return throw_iae(env, "MobileVitClassifier.classify: closed classifier or null input");
    if ((*env)->GetArrayLength(env, hwc8) != MVEX_INPUT_ELEMS)
        return throw_iae(env, "MobileVitClassifier.classifyPixels: input must have "
                              "height * width * channels bytes");
    jbyte *px = (*env)->GetByteArrayElements(env, hwc8, NULL);
    if (!px)
        return NULL; /* OutOfMemoryError is pending */
    mvex_normalize_u8((const uint8_t *)px, mvex_classifier_input(c));
    (*env)->ReleaseByteArrayElements(env, hwc8, px, JNI_ABORT); /* read only: no copy back */
    return run(env, c, mvex_classifier_input(c));
}
