/* Swift bridging header (Build Settings > Objective-C Bridging Header). */
#import "MVTClassifier.h"
