/* MVTClassifier: Objective-C (and, through a bridging header, Swift) access to one
 * mvitc-generated model. -init allocates the model's arena once and, for threads >= 2, starts
 * a runtime/mvrt_pool; -classify... runs one image and returns the logits. The C work is in
 * examples/common/mvex_classifier.c; this header exposes no C types, so Swift sees only it. */
#import <Foundation/Foundation.h>

NS_ASSUME_NONNULL_BEGIN

extern NSErrorDomain const MVTClassifierErrorDomain;

@interface MVTClassifier : NSObject

@property(nonatomic, readonly) NSInteger inputHeight;
@property(nonatomic, readonly) NSInteger inputWidth;
@property(nonatomic, readonly) NSInteger inputChannels;
/** inputHeight * inputWidth * inputChannels: floats (or bytes) of one HWC image */
@property(nonatomic, readonly) NSInteger inputCount;
@property(nonatomic, readonly) NSInteger numClasses;
/** threads a run uses (1 if the pool is off or could not start) */
@property(nonatomic, readonly) NSInteger threads;

/** threads: 1 runs on the calling thread, 2+ starts a pool (capped at the model's MAX_TASKS).
 *  Returns nil when the arena cannot be allocated. */
- (nullable instancetype)initWithThreads:(NSInteger)threads NS_DESIGNATED_INITIALIZER;
/** One thread. */
- (nullable instancetype)init;

/** hwc: count == inputCount floats, HWC, normalised as (pixel / 255 - mean) / std.
 *  Returns numClasses logits, or nil (and *error) for a wrong count. Serialised per object:
 *  safe to call from any queue. In Swift: try classifier.classify(pixels, count: pixels.count) */
- (nullable NSArray<NSNumber *> *)classify:(const float *)hwc
                                     count:(NSInteger)count
                                     error:(NSError **)error;

/** hwc8: count == inputCount 8-bit pixels at the model's size (inputHeight rows of inputWidth
 *  pixels; the two may differ) and channel order; normalised with the model's mean/std.
 *  In Swift: try classifier.classifyPixels(bytes, count: bytes.count) */
- (nullable NSArray<NSNumber *> *)classifyPixels:(const uint8_t *)hwc8
                                           count:(NSInteger)count
                                           error:(NSError **)error;

/** Index of the largest logit (-1 for an empty array). In Swift: MVTClassifier.topClass(of:) */
+ (NSInteger)topClassOf:(NSArray<NSNumber *> *)logits;

@end

NS_ASSUME_NONNULL_END
