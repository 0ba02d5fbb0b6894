/* MVTClassifier over the platform-neutral core examples/common/mvex_classifier.c: the core
 * owns the arena and the pool; this file only converts Objective-C arguments and results and
 * serialises calls (one arena = one run at a time). Compile with ARC. */
#import "MVTClassifier.h"

#include <string.h>

#define MVIT_MODEL_HEADER "MVTModel.h" /* as in MVTCore.c */
#include "mvex_classifier.h"

NSErrorDomain const MVTClassifierErrorDomain = @"MVTClassifierErrorDomain";

@implementation MVTClassifier {
    mvex_classifier *_core;
}

- (nullable instancetype)initWithThreads:(NSInteger)threads
{
    self = [super init];
    if (!self)
        return nil;
    _core = mvex_classifier_create(threads > 64 ? 64 : (int)threads);
    if (!_core)
        return nil;
    _inputHeight = MVEX_INPUT_HEIGHT;
    _inputWidth = MVEX_INPUT_WIDTH;
    _inputChannels = MVEX_INPUT_CHANNELS;
    _inputCount = MVEX_INPUT_ELEMS;
    _numClasses = MVEX_NUM_CLASSES;
    _threads = mvex_classifier_threads(_core);
    return self;
}

- (nullable instancetype)init
{
    return [self initWithThreads:1];
}

- (void)dealloc
{
    mvex_classifier_destroy(_core);
}

static BOOL check_count(NSInteger count, NSString *what, NSError **error)
{
    if (count == MVEX_INPUT_ELEMS)
        return YES;
    if (error) {
        NSString *msg = [NSString stringWithFormat:@"expected %d %@ (%dx%dx%d HWC), got %ld",
                                                   (int)MVEX_INPUT_ELEMS, what,
                                                   (int)MVEX_INPUT_HEIGHT, (int)MVEX_INPUT_WIDTH,
                                                   (int)MVEX_INPUT_CHANNELS, (long)count];
        *error = [NSError errorWithDomain:MVTClassifierErrorDomain
                                     code:1
                                 userInfo:@{NSLocalizedDescriptionKey : msg}];
    }
    return NO;
}

/* runs the core on its own input buffer; the caller holds the lock */
- (nullable NSArray<NSNumber *> *)runInput:(NSError **)error
{
    float logits[MVEX_NUM_CLASSES];
    if (mvex_classifier_run(_core, mvex_classifier_input(_core), logits) != 0) {
        if (error)
            *error = [NSError errorWithDomain:MVTClassifierErrorDomain code:2 userInfo:nil];
        return nil;
    }
    NSMutableArray<NSNumber *> *out = [NSMutableArray arrayWithCapacity:MVEX_NUM_CLASSES];
    for (int k = 0; k < MVEX_NUM_CLASSES; k++)
        [out addObject:@(logits[k])];
    return out;
}

- (nullable NSArray<NSNumber *> *)classify:(const float *)hwc
                                     count:(NSInteger)count
                                     error:(NSError **)error
{
    if (!check_count(hwc ? count : -1, @"floats", error))
        return nil;
    @synchronized(self) {
        memcpy(mvex_classifier_input(_core), hwc, sizeof(float) * MVEX_INPUT_ELEMS);
        return [self runInput:error];
    }
}

- (nullable NSArray<NSNumber *> *)classifyPixels:(const uint8_t *)hwc8
                                           count:(NSInteger)count
                                           error:(NSError **)error
{
    if (!check_count(hwc8 ? count : -1, @"bytes", error))
        return nil;
    @synchronized(self) {
        mvex_normalize_u8(hwc8, mvex_classifier_input(_core));
        return [self runInput:error];
    }
}

+ (NSInteger)topClassOf:(NSArray<NSNumber *> *)logits
{
    NSInteger best = -1;
    float max = 0;
    for (NSUInteger k = 0; k < logits.count; k++)
        if (best < 0 || logits[k].floatValue > max) {
            best = (NSInteger)k;
            max = logits[k].floatValue;
        }
    return best;
}

@end
