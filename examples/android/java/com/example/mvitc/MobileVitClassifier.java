/* MobileVitClassifier: the Java face of libmobilevit.so (jni/mobilevit_jni.c), which holds one
 * mvitc-generated model, its arena (allocated once, here in the constructor) and an optional
 * thread pool. Inputs are one image at the model's size, HWC (inputHeight rows of inputWidth
 * pixels; the two may differ), in the channel order the model was trained with; resizing (e.g.
 * Bitmap.createScaledBitmap(b, inputWidth, inputHeight, true): width first) is the app's job.
 * Pure JDK: nothing here depends on android.*, so it also runs on a desktop JVM.
 * Moving it to another package? Pass -DMVIT_JNI_PACKAGE=your.package to CMake. */
package com.example.mvitc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

public final class MobileVitClassifier implements AutoCloseable {
    static {
        System.loadLibrary("mobilevit");
    }

    public final int inputHeight, inputWidth, inputChannels, numClasses;
    /** Threads a run uses (1 when the pool is disabled or could not start). */
    public final int threads;

    private long handle; // mvex_classifier *, 0 once closed

    /** threads: 1 runs on the calling thread; 2+ start a pool (at most the model's MAX_TASKS). */
    public MobileVitClassifier(int threads) {
        handle = create(threads);
        if (handle == 0) {
            throw new OutOfMemoryError("MobileVitClassifier: cannot allocate the model arena");
        }
        int[] i = info(handle);
        inputHeight = i[0];
        inputWidth = i[1];
        inputChannels = i[2];
        numClasses = i[3];
        this.threads = i[4];
    }

    public MobileVitClassifier() {
        this(1);
    }

    /** Number of values (floats, or bytes for classifyPixels) one input image has. */
    public int inputSize() {
        return inputHeight * inputWidth * inputChannels;
    }

    /** hwc: inputSize() floats, already normalised as (pixel / 255 - mean) / std. */
    public synchronized float[] classify(float[] hwc) {
        return classify(live(), hwc);
    }

    /**
     * A direct ByteBuffer in native byte order (ByteBuffer.allocateDirect(n * 4)
     * .order(ByteOrder.nativeOrder())) holding inputSize() normalised floats from position().
     * Read in place, without a copy, when the address is 4-byte aligned.
     */
    public synchronized float[] classify(ByteBuffer hwc) {
        if (!hwc.isDirect() || hwc.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException(
                    "MobileVitClassifier.classify: need a direct ByteBuffer in native byte order");
        }
        return classifyBuffer(live(), hwc, hwc.position());
    }

    /** hwc8: inputSize() 8-bit pixels (0..255); normalised natively with the model's mean/std. */
    public synchronized float[] classifyPixels(byte[] hwc8) {
        return classifyPixels(live(), hwc8);
    }

    /** Index of the largest logit. */
    public static int topClass(float[] logits) {
        int best = 0;
        for (int k = 1; k < logits.length; k++) {
            if (logits[k] > logits[best]) {
                best = k;
            }
        }
        return best;
    }

    /** Frees the arena and stops the pool's threads; the classifier is unusable afterwards. */
    @Override
    public synchronized void close() {
        if (handle != 0) {
            destroy(handle);
            handle = 0;
        }
    }

    private long live() {
        if (handle == 0) {
            throw new IllegalStateException("MobileVitClassifier is closed");
        }
        return handle;
    }

    private static native long create(int threads);
    private static native void destroy(long handle);
    private static native int[] info(long handle);
    private static native float[] classify(long handle, float[] hwc);
    private static native float[] classifyBuffer(long handle, ByteBuffer hwc, int offset);
    private static native float[] classifyPixels(long handle, byte[] hwc8);
}
