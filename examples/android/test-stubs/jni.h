/* TEST STUB, used only by tests/freestanding_triples.sh to compile-check jni/mobilevit_jni.c
 * for Android triples on a machine without the NDK. Not the NDK's jni.h: it declares just the
 * types and JNIEnv functions the wrapper uses. Apps build with the NDK's jni.h. */
#ifndef MVIT_TEST_STUB_JNI_H
#define MVIT_TEST_STUB_JNI_H

#include <stdint.h>

#define JNIEXPORT __attribute__((visibility("default")))
#define JNICALL
#define JNI_ABORT 2

typedef uint8_t jboolean;
typedef int8_t jbyte;
typedef uint16_t jchar;
typedef int16_t jshort;
typedef int32_t jint;
typedef int64_t jlong;
typedef float jfloat;
typedef double jdouble;
typedef jint jsize;

typedef void *jobject;
typedef jobject jclass;
typedef jobject jthrowable;
typedef jobject jarray;
typedef jarray jbyteArray;
typedef jarray jintArray;
typedef jarray jfloatArray;

struct JNINativeInterface;
typedef const struct JNINativeInterface *JNIEnv;

/* Only the functions the wrapper calls, with the signatures of the NDK's (and the JDK's) jni.h.
 * The member order is NOT the real function table's: this header is for compiling, never for
 * linking or running. */
struct JNINativeInterface {
    jclass (*FindClass)(JNIEnv *env, const char *name);
    jint (*ThrowNew)(JNIEnv *env, jclass clazz, const char *msg);
    jsize (*GetArrayLength)(JNIEnv *env, jarray array);
    jintArray (*NewIntArray)(JNIEnv *env, jsize length);
    jfloatArray (*NewFloatArray)(JNIEnv *env, jsize length);
    jbyte *(*GetByteArrayElements)(JNIEnv *env, jbyteArray array, jboolean *isCopy);
    void (*ReleaseByteArrayElements)(JNIEnv *env, jbyteArray array, jbyte *elems, jint mode);
    void (*GetFloatArrayRegion)(JNIEnv *env, jfloatArray array, jsize start, jsize len,
                                jfloat *buf);
    void (*SetIntArrayRegion)(JNIEnv *env, jintArray array, jsize start, jsize len,
                              const jint *buf);
    void (*SetFloatArrayRegion)(JNIEnv *env, jfloatArray array, jsize start, jsize len,
                                const jfloat *buf);
    void *(*GetDirectBufferAddress)(JNIEnv *env, jobject buf);
    jlong (*GetDirectBufferCapacity)(JNIEnv *env, jobject buf);
};

#endif
